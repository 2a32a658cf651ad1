package queuetest

import (
	"fmt"
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// testBatch checks rule 7: up to MaxBatch jobs per Enqueue, atomically.
func testBatch(t *testing.T, h Harness) {
	batch := func(n int) []queue.NewJob {
		jobs := make([]queue.NewJob, n)
		for i := range jobs {
			jobs[i] = newJob(fmt.Sprintf("j%04d", i), fmt.Sprintf("lane-%02d", i%50))
		}
		return jobs
	}

	t.Run("max_batch", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		jobs := batch(queue.MaxBatch)
		res := enqueue(ctx, t, e, jobs...)
		for i, r := range res {
			if r.ID != jobs[i].ID || !r.Created {
				t.Fatalf("result %d = %+v, want {ID:%s Created:true}", i, r, jobs[i].ID)
			}
		}
		counts(ctx, t, e, "", queue.Counts{Waiting: queue.MaxBatch})
		counts(ctx, t, e, "lane-07", queue.Counts{Waiting: queue.MaxBatch / 50})

		// Re-sending the same batch plus new jobs: old ones are reported,
		// new ones created.
		jobs = append(batch(queue.MaxBatch-2), newJob("new1", "lane-x"), newJob("new2", "lane-x"))
		res = enqueue(ctx, t, e, jobs...)
		for i, r := range res {
			if want := i >= queue.MaxBatch-2; r.Created != want {
				t.Fatalf("result %d (%s) Created = %v, want %v", i, r.ID, r.Created, want)
			}
		}
		counts(ctx, t, e, "", queue.Counts{Waiting: queue.MaxBatch + 2})
	})

	t.Run("over_max_batch", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		_, err := e.Enqueue(ctx, batch(queue.MaxBatch+1))
		wantErr(t, fmt.Sprintf("Enqueue(%d jobs)", queue.MaxBatch+1), err, queue.ErrInvalidJob)
		gone(ctx, t, e, "j0000")
		counts(ctx, t, e, "", queue.Counts{})
	})

	t.Run("empty_batch", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		_, err := e.Enqueue(ctx, nil)
		wantErr(t, "Enqueue(no jobs)", err, queue.ErrInvalidJob)
	})

	t.Run("atomic", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		enqueue(ctx, t, e, newJob("existing", "lane-a"))
		jobs := batch(100)
		jobs[50].ID = "bad:id"
		jobs = append(jobs, newJob("existing", "lane-a"))
		_, err := e.Enqueue(ctx, jobs)
		wantErr(t, "Enqueue(batch with one invalid job)", err, queue.ErrInvalidJob)
		gone(ctx, t, e, "j0000")
		gone(ctx, t, e, "j0099")
		counts(ctx, t, e, "", queue.Counts{Waiting: 1})
	})
}
