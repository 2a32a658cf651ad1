package queuetest

import (
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// testEnqueue checks rule 1: storing jobs, deduplication by ID, validation.
func testEnqueue(t *testing.T, h Harness) {
	t.Run("stores_job_with_defaults", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		before := time.Now()
		res := enqueue(ctx, t, e,
			newJob("plain", "lane-a"),
			queue.NewJob{ID: "tuned", Lane: "lane-b", Kind: "summary", MaxAttempts: 7, Backoff: 250 * time.Millisecond},
		)
		after := time.Now()
		want := []queue.EnqueueResult{{ID: "plain", Created: true}, {ID: "tuned", Created: true}}
		for i := range want {
			if res[i] != want[i] {
				t.Fatalf("Enqueue results = %+v, want %+v", res, want)
			}
		}

		j := wantState(ctx, t, e, "plain", queue.StateWaiting)
		if d := sameJob(queue.Job{
			SchemaVersion: queue.SchemaVersion, ID: "plain", Lane: "lane-a", Kind: "test",
			Payload: []byte(`{"job":"plain"}`), State: queue.StateWaiting,
			MaxAttempts: queue.DefaultMaxAttempts, Backoff: queue.DefaultBackoff,
		}, j, "CreatedAt", "AvailableAt"); d != "" {
			t.Fatalf("Get(plain): %s", d)
		}
		within(t, "CreatedAt", j.CreatedAt, before, after)
		if !j.FinishedAt.IsZero() {
			t.Fatalf("a waiting job has FinishedAt %s", j.FinishedAt)
		}

		j = get(ctx, t, e, "tuned")
		if j.MaxAttempts != 7 || j.Backoff != 250*time.Millisecond || j.Kind != "summary" || len(j.Payload) != 0 {
			t.Fatalf("Get(tuned) = %+v; want MaxAttempts 7, Backoff 250ms, Kind summary, no payload", j)
		}
		counts(ctx, t, e, "", queue.Counts{Waiting: 2})
	})

	t.Run("dedupe_keeps_first", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		enqueue(ctx, t, e, newJob("j1", "lane-a"))
		first := get(ctx, t, e, "j1")

		again := queue.NewJob{ID: "j1", Lane: "lane-b", Kind: "other", Payload: []byte("changed"), MaxAttempts: 9}
		res := enqueue(ctx, t, e, again)
		if res[0] != (queue.EnqueueResult{ID: "j1", Created: false}) {
			t.Fatalf("second Enqueue(j1) = %+v, want Created false", res[0])
		}
		if d := sameJob(first, get(ctx, t, e, "j1")); d != "" {
			t.Fatalf("a duplicate enqueue changed the job: %s", d)
		}
		counts(ctx, t, e, "", queue.Counts{Waiting: 1})
		counts(ctx, t, e, "lane-b", queue.Counts{})
	})

	t.Run("dedupe_against_finished", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		enqueue(ctx, t, e, newJob("done", "lane-a"), newJob("broken", "lane-b"))
		leases := reserve(ctx, t, e, queue.ReserveRequest{Max: 2, Lock: longLock})
		if len(leases) != 2 {
			t.Fatalf("Reserve(Max 2) over two lanes = %v, want both jobs", leaseIDs(leases))
		}
		for _, l := range leases {
			if l.Job.ID == "done" {
				complete(ctx, t, e, l)
			} else {
				fail(ctx, t, e, l, queue.Failure{Reason: "boom"})
			}
		}
		res := enqueue(ctx, t, e, newJob("done", "lane-a"), newJob("broken", "lane-b"), newJob("fresh", "lane-a"))
		want := []queue.EnqueueResult{{ID: "done"}, {ID: "broken"}, {ID: "fresh", Created: true}}
		for i := range want {
			if res[i] != want[i] {
				t.Fatalf("re-enqueue of finished jobs = %+v, want %+v", res, want)
			}
		}
		wantState(ctx, t, e, "done", queue.StateCompleted)
		wantState(ctx, t, e, "broken", queue.StateFailed)
		counts(ctx, t, e, "", queue.Counts{Waiting: 1, Completed: 1, Failed: 1})
	})

	t.Run("dedupe_within_batch", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		dup := newJob("twice", "lane-a")
		dup.Payload = []byte("second")
		res := enqueue(ctx, t, e, newJob("twice", "lane-a"), newJob("other", "lane-a"), dup)
		want := []queue.EnqueueResult{{ID: "twice", Created: true}, {ID: "other", Created: true}, {ID: "twice"}}
		for i := range want {
			if res[i] != want[i] {
				t.Fatalf("Enqueue results = %+v, want %+v", res, want)
			}
		}
		if j := get(ctx, t, e, "twice"); string(j.Payload) != `{"job":"twice"}` {
			t.Fatalf("the second copy in the batch overwrote the first: payload %q", j.Payload)
		}
		counts(ctx, t, e, "lane-a", queue.Counts{Waiting: 2})
	})

	t.Run("id_of_200_bytes", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		id := strings.Repeat("x", 200)
		enqueue(ctx, t, e, newJob(id, "lane-a"))
		get(ctx, t, e, id)
	})

	t.Run("invalid_jobs", func(t *testing.T) {
		t.Parallel()
		cases := map[string]queue.NewJob{
			"empty_id":          {Lane: "l", Kind: "k"},
			"colon_in_id":       {ID: "a:b", Lane: "l", Kind: "k"},
			"id_over_200_bytes": {ID: strings.Repeat("x", 201), Lane: "l", Kind: "k"},
			"no_lane":           {ID: "j", Kind: "k"},
			"no_kind":           {ID: "j", Lane: "l"},
			"negative_attempts": {ID: "j", Lane: "l", Kind: "k", MaxAttempts: -1},
			"negative_backoff":  {ID: "j", Lane: "l", Kind: "k", Backoff: -time.Second},
		}
		for name, bad := range cases {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e, ctx := setup(t, h)
				// Alone, and in a batch after a valid job that must not be
				// stored either.
				_, err := e.Enqueue(ctx, []queue.NewJob{bad})
				wantErr(t, "Enqueue(invalid job)", err, queue.ErrInvalidJob)
				_, err = e.Enqueue(ctx, []queue.NewJob{newJob("valid", "lane-a"), bad})
				wantErr(t, "Enqueue(valid, invalid)", err, queue.ErrInvalidJob)
				gone(ctx, t, e, "valid")
				counts(ctx, t, e, "", queue.Counts{})
			})
		}
	})
}
