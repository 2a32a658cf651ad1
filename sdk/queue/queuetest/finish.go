package queuetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// testFinish checks rule 4: completion, retries with backoff, final failure.
func testFinish(t *testing.T, h Harness) {
	t.Run("complete", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		enqueue(ctx, t, e, newJob("j1", "lane-a"), newJob("j2", "lane-a"))
		l := reserveOne(ctx, t, e, longLock)
		before := time.Now()
		complete(ctx, t, e, l)
		after := time.Now()

		j := wantState(ctx, t, e, "j1", queue.StateCompleted)
		within(t, "FinishedAt", j.FinishedAt, before, after)
		if j.Attempts != 0 {
			t.Fatalf("a job completed on its first try has Attempts %d", j.Attempts)
		}
		counts(ctx, t, e, "lane-a", queue.Counts{Waiting: 1, Completed: 1})
		if l := reserveOne(ctx, t, e, longLock); l.Job.ID != "j2" {
			t.Fatalf("after Complete Reserve = %q, want j2", l.Job.ID)
		}
		counts(ctx, t, e, "", queue.Counts{Active: 1, Completed: 1})
	})

	t.Run("retryable_fail_backs_off", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		const backoff = 300 * time.Millisecond
		nj := newJob("j1", "lane-a")
		nj.MaxAttempts, nj.Backoff = 3, backoff
		enqueue(ctx, t, e, nj)

		l1 := reserveOne(ctx, t, e, longLock)
		before := time.Now()
		res := fail(ctx, t, e, l1, queue.Failure{Reason: "first failure", Retryable: true})
		after := time.Now()
		if res.State != queue.StateDelayed {
			t.Fatalf("Fail(retryable) with attempts left = %+v, want StateDelayed", res)
		}
		delay := queue.RetryDelay(backoff, 1)
		within(t, "AvailableAt", res.AvailableAt, before.Add(delay), after.Add(delay))

		j := wantState(ctx, t, e, "j1", queue.StateDelayed)
		if j.Attempts != 1 || j.LastError != "first failure" || !j.FinishedAt.IsZero() {
			t.Fatalf("delayed job = %+v; want Attempts 1, LastError %q, no FinishedAt", j, "first failure")
		}
		if !j.AvailableAt.Equal(res.AvailableAt) {
			t.Fatalf("Get AvailableAt %s, Fail said %s", j.AvailableAt.Format(time.StampMilli), res.AvailableAt.Format(time.StampMilli))
		}
		counts(ctx, t, e, "", queue.Counts{Delayed: 1})
		reserveNone(ctx, t, e, "the retry is not due yet")

		l2 := reserveOne(ctx, t, e, longLock)
		if now := time.Now(); now.Before(res.AvailableAt.Add(-slack)) {
			t.Fatalf("retry reserved at %s, before its AvailableAt %s", now.Format(time.StampMilli), res.AvailableAt.Format(time.StampMilli))
		}
		if l2.Job.ID != "j1" || l2.Job.Attempts != 1 || l2.Token == l1.Token {
			t.Fatalf("retry lease = %+v (token %q); want j1, Attempts 1, a new token", l2.Job, l2.Token)
		}

		// The second retry waits twice as long.
		before = time.Now()
		res = fail(ctx, t, e, l2, queue.Failure{Reason: "second failure", Retryable: true})
		after = time.Now()
		delay = queue.RetryDelay(backoff, 2)
		if res.State != queue.StateDelayed {
			t.Fatalf("second Fail(retryable) = %+v, want StateDelayed", res)
		}
		within(t, "second AvailableAt", res.AvailableAt, before.Add(delay), after.Add(delay))
		if j := get(ctx, t, e, "j1"); j.Attempts != 2 || j.LastError != "second failure" {
			t.Fatalf("after two failures job = %+v; want Attempts 2 and the latest reason", j)
		}
	})

	t.Run("attempts_exhausted", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		nj := newJob("j1", "lane-a")
		nj.MaxAttempts, nj.Backoff = 3, 20*time.Millisecond
		enqueue(ctx, t, e, nj, newJob("next", "lane-a"))
		for i := 1; i <= 3; i++ {
			l := reserveOne(ctx, t, e, longLock)
			if l.Job.ID != "j1" || l.Job.Attempts != i-1 {
				t.Fatalf("attempt %d leased %s with Attempts %d; want j1 with %d", i, l.Job.ID, l.Job.Attempts, i-1)
			}
			before := time.Now()
			res := fail(ctx, t, e, l, queue.Failure{Reason: fmt.Sprintf("failure %d", i), Retryable: true})
			after := time.Now()
			if i < 3 {
				if res.State != queue.StateDelayed {
					t.Fatalf("Fail %d of 3 = %+v, want StateDelayed", i, res)
				}
				continue
			}
			if res.State != queue.StateFailed {
				t.Fatalf("Fail 3 of 3 = %+v, want StateFailed", res)
			}
			j := wantState(ctx, t, e, "j1", queue.StateFailed)
			if j.Attempts != 3 || j.LastError != "failure 3" {
				t.Fatalf("failed job = %+v; want Attempts 3, LastError %q", j, "failure 3")
			}
			within(t, "FinishedAt", j.FinishedAt, before, after)
		}
		counts(ctx, t, e, "lane-a", queue.Counts{Waiting: 1, Failed: 1})
		if l := reserveOne(ctx, t, e, longLock); l.Job.ID != "next" {
			t.Fatalf("after the head failed Reserve = %q, want next", l.Job.ID)
		}
	})

	t.Run("non_retryable_fails_at_once", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		nj := newJob("j1", "lane-a")
		nj.MaxAttempts = 5
		enqueue(ctx, t, e, nj, newJob("next", "lane-a"))
		l := reserveOne(ctx, t, e, longLock)
		res := fail(ctx, t, e, l, queue.Failure{Reason: "bad input", Retryable: false})
		if res.State != queue.StateFailed {
			t.Fatalf("Fail(non-retryable) = %+v, want StateFailed", res)
		}
		j := wantState(ctx, t, e, "j1", queue.StateFailed)
		if j.Attempts != 1 || j.LastError != "bad input" || j.FinishedAt.IsZero() {
			t.Fatalf("failed job = %+v; want Attempts 1, LastError %q, FinishedAt set", j, "bad input")
		}
		if l := reserveOne(ctx, t, e, longLock); l.Job.ID != "next" {
			t.Fatalf("after the head failed Reserve = %q, want next", l.Job.ID)
		}
	})

	t.Run("finish_needs_a_lease", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		enqueue(ctx, t, e, newJob("waiting", "lane-a"), newJob("done", "lane-b"), newJob("failed", "lane-c"))

		err := e.Complete(ctx, "waiting", "any")
		wantErr(t, "Complete of a waiting job", err, queue.ErrLeaseLost)
		_, err = e.Fail(ctx, "waiting", "any", queue.Failure{Reason: "x"})
		wantErr(t, "Fail of a waiting job", err, queue.ErrLeaseLost)
		_, err = e.Extend(ctx, "waiting", "any", time.Minute)
		wantErr(t, "Extend of a waiting job", err, queue.ErrLeaseLost)

		leases := reserve(ctx, t, e, queue.ReserveRequest{Max: 10, Lock: longLock})
		var done, failed queue.Lease
		for _, l := range leases {
			switch l.Job.ID {
			case "done":
				done = l
			case "failed":
				failed = l
			}
		}
		if done.Token == "" || failed.Token == "" {
			t.Fatalf("Reserve(Max 10) over three lanes = %v", leaseIDs(leases))
		}
		complete(ctx, t, e, done)
		fail(ctx, t, e, failed, queue.Failure{Reason: "x"})

		// A finished job's old token is no lease any more.
		err = e.Complete(ctx, "done", done.Token)
		wantErr(t, "second Complete", err, queue.ErrLeaseLost)
		_, err = e.Fail(ctx, "done", done.Token, queue.Failure{Reason: "x"})
		wantErr(t, "Fail after Complete", err, queue.ErrLeaseLost)
		err = e.Complete(ctx, "failed", failed.Token)
		wantErr(t, "Complete after a final Fail", err, queue.ErrLeaseLost)
		_, err = e.Extend(ctx, "failed", failed.Token, time.Minute)
		wantErr(t, "Extend after a final Fail", err, queue.ErrLeaseLost)
		wantState(ctx, t, e, "done", queue.StateCompleted)
		wantState(ctx, t, e, "failed", queue.StateFailed)
	})
}
