package queuetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// testLanes checks rule 2: one job in flight per lane, FIFO within a lane,
// retries holding the lane, lanes in parallel.
func testLanes(t *testing.T, h Harness) {
	t.Run("one_active_per_lane", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		for i := range 5 {
			enqueue(ctx, t, e, newJob(fmt.Sprintf("j%d", i), "lane-a"))
		}
		leases := reserve(ctx, t, e, queue.ReserveRequest{Max: 10, Lock: longLock})
		if len(leases) != 1 || leases[0].Job.ID != "j0" {
			t.Fatalf("Reserve(Max 10) on one lane of 5 jobs = %v, want [j0]", leaseIDs(leases))
		}
		reserveNone(ctx, t, e, "the lane's head is active")
		counts(ctx, t, e, "lane-a", queue.Counts{Waiting: 4, Active: 1})
	})

	t.Run("fifo_within_lane", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		var want []string
		for i := range 6 {
			id := fmt.Sprintf("j%d", i)
			want = append(want, id)
			// One call per job, so order comes from enqueue order, not from
			// the position in a batch.
			enqueue(ctx, t, e, newJob(id, "lane-a"))
		}
		var got []string
		for range want {
			l := reserveOne(ctx, t, e, longLock)
			got = append(got, l.Job.ID)
			complete(ctx, t, e, l)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("lane ran %v, want FIFO %v", got, want)
		}
		reserveNone(ctx, t, e, "every job completed")
	})

	t.Run("retry_holds_lane", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		first := newJob("first", "lane-a")
		first.Backoff = 200 * time.Millisecond
		enqueue(ctx, t, e, first, newJob("second", "lane-a"))

		l := reserveOne(ctx, t, e, longLock)
		res := fail(ctx, t, e, l, queue.Failure{Reason: "flaky", Retryable: true})
		if res.State != queue.StateDelayed {
			t.Fatalf("retryable Fail = %+v, want StateDelayed", res)
		}
		reserveNone(ctx, t, e, "the delayed head still holds its lane")

		again := reserveOne(ctx, t, e, longLock)
		if again.Job.ID != "first" {
			t.Fatalf("after the backoff Reserve = %q, want the retried job first", again.Job.ID)
		}
		if time.Now().Before(res.AvailableAt.Add(-slack)) {
			t.Fatalf("retry ran before its AvailableAt %s", res.AvailableAt.Format(time.StampMilli))
		}
		reserveNone(ctx, t, e, "the retried job is active")
		complete(ctx, t, e, again)
		if l := reserveOne(ctx, t, e, longLock); l.Job.ID != "second" {
			t.Fatalf("after the retry completed Reserve = %q, want second", l.Job.ID)
		}
	})

	t.Run("lanes_in_parallel", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		var jobs []queue.NewJob
		for i := range 3 {
			for _, lane := range []string{"a", "b", "c", "d", "e"} {
				jobs = append(jobs, newJob(fmt.Sprintf("%s%d", lane, i), lane))
			}
		}
		enqueue(ctx, t, e, jobs...)
		leases := reserve(ctx, t, e, queue.ReserveRequest{Max: 10, Lock: longLock})
		got := leaseIDs(leases)
		slices.Sort(got)
		if want := []string{"a0", "b0", "c0", "d0", "e0"}; !slices.Equal(got, want) {
			t.Fatalf("Reserve(Max 10) over 5 lanes = %v, want the head of each lane %v", got, want)
		}
		reserveNone(ctx, t, e, "every lane is busy")
		for _, l := range leases {
			complete(ctx, t, e, l)
		}
		got = leaseIDs(reserve(ctx, t, e, queue.ReserveRequest{Max: 3, Lock: longLock}))
		if len(got) != 3 {
			t.Fatalf("Reserve(Max 3) with 5 ready lanes = %v, want 3 jobs", got)
		}
		for _, id := range got {
			if id[1] != '1' {
				t.Fatalf("Reserve after the first round = %v, want second jobs of their lanes", got)
			}
		}
	})

	t.Run("max_zero_means_one", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		enqueue(ctx, t, e, newJob("a", "lane-a"), newJob("b", "lane-b"))
		if leases := reserve(ctx, t, e, queue.ReserveRequest{Lock: longLock}); len(leases) != 1 {
			t.Fatalf("Reserve(Max 0) = %v, want one job", leaseIDs(leases))
		}
	})

	t.Run("concurrent_stress", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		const lanes, perLane, workers = 20, 10, 6
		var jobs []queue.NewJob
		for i := range perLane {
			for l := range lanes {
				jobs = append(jobs, newJob(fmt.Sprintf("l%02d-%d", l, i), fmt.Sprintf("l%02d", l)))
			}
		}
		enqueue(ctx, t, e, jobs...)

		var (
			mu       sync.Mutex
			inFlight = map[string]int{}
			order    = map[string][]string{}
			runs     = map[string]int{}
			problems []string
			done     int
		)
		total := lanes * perLane
		finished := func() bool { mu.Lock(); defer mu.Unlock(); return done >= total || len(problems) > 0 }
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for !finished() && ctx.Err() == nil {
					leases, err := e.Reserve(ctx, queue.ReserveRequest{
						Max: 4, Lock: longLock, Wait: 50 * time.Millisecond, Worker: fmt.Sprintf("w%d", w),
					})
					if err != nil {
						mu.Lock()
						problems = append(problems, fmt.Sprintf("Reserve: %v", err))
						mu.Unlock()
						return
					}
					// A lease holds its lane from Reserve until just before
					// its Complete; leases of one call are worked in turn, so
					// the later ones are held for a while.
					mu.Lock()
					for _, l := range leases {
						inFlight[l.Job.Lane]++
						if n := inFlight[l.Job.Lane]; n > 1 {
							problems = append(problems, fmt.Sprintf("lane %s has %d jobs in flight", l.Job.Lane, n))
						}
						order[l.Job.Lane] = append(order[l.Job.Lane], l.Job.ID)
						runs[l.Job.ID]++
					}
					mu.Unlock()
					for _, l := range leases {
						time.Sleep(100 * time.Microsecond) // the "work"
						mu.Lock()
						inFlight[l.Job.Lane]--
						mu.Unlock()
						if err := e.Complete(ctx, l.Job.ID, l.Token); err != nil {
							mu.Lock()
							problems = append(problems, fmt.Sprintf("Complete(%s): %v", l.Job.ID, err))
							mu.Unlock()
						}
						mu.Lock()
						done++
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if len(problems) > 0 {
			t.Fatalf("%d problems, first: %s", len(problems), problems[0])
		}
		if done != total {
			t.Fatalf("completed %d jobs, want %d", done, total)
		}
		for l := range lanes {
			lane := fmt.Sprintf("l%02d", l)
			var want []string
			for i := range perLane {
				want = append(want, fmt.Sprintf("%s-%d", lane, i))
			}
			if !slices.Equal(order[lane], want) {
				t.Errorf("lane %s ran %v, want %v", lane, order[lane], want)
			}
		}
		for _, j := range jobs {
			if runs[j.ID] != 1 {
				t.Errorf("job %s ran %d times, want once", j.ID, runs[j.ID])
			}
		}
		counts(ctx, t, e, "", queue.Counts{Completed: int64(total)})
	})
}
