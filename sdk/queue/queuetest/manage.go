package queuetest

import (
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// testManage checks rule 6: counts, retry, cancel, clear lane.
func testManage(t *testing.T, h Harness) {
	t.Run("counts", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		delayed := newJob("c1", "lane-c")
		delayed.Backoff = time.Hour
		enqueue(ctx, t, e,
			newJob("a1", "lane-a"), newJob("a2", "lane-a"), newJob("a3", "lane-a"),
			newJob("b1", "lane-b"), newJob("b2", "lane-b"),
			delayed,
		)
		counts(ctx, t, e, "", queue.Counts{Waiting: 6})
		counts(ctx, t, e, "lane-a", queue.Counts{Waiting: 3})

		for _, l := range reserve(ctx, t, e, queue.ReserveRequest{Max: 10, Lock: longLock}) {
			switch l.Job.ID {
			case "a1":
				complete(ctx, t, e, l)
			case "b1":
				fail(ctx, t, e, l, queue.Failure{Reason: "bad"})
			case "c1":
				fail(ctx, t, e, l, queue.Failure{Reason: "later", Retryable: true})
			default:
				t.Fatalf("first Reserve leased %s, want the lane heads a1, b1, c1", l.Job.ID)
			}
		}
		if got := reserve(ctx, t, e, queue.ReserveRequest{Max: 10, Lock: longLock}); len(got) != 2 {
			t.Fatalf("second Reserve = %v, want [a2 b2]", leaseIDs(got))
		}
		counts(ctx, t, e, "lane-a", queue.Counts{Waiting: 1, Active: 1, Completed: 1})
		counts(ctx, t, e, "lane-b", queue.Counts{Active: 1, Failed: 1})
		counts(ctx, t, e, "lane-c", queue.Counts{Delayed: 1})
		counts(ctx, t, e, "lane-none", queue.Counts{})
		counts(ctx, t, e, "", queue.Counts{Waiting: 1, Active: 2, Delayed: 1, Completed: 1, Failed: 1})
	})

	t.Run("retry_failed", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		nj := newJob("j1", "lane-a")
		nj.MaxAttempts = 1
		enqueue(ctx, t, e, nj)
		l := reserveOne(ctx, t, e, longLock)
		fail(ctx, t, e, l, queue.Failure{Reason: "boom", Retryable: true})
		wantState(ctx, t, e, "j1", queue.StateFailed)

		if err := e.Retry(ctx, "j1"); err != nil {
			t.Fatalf("Retry of a failed job: %v", err)
		}
		j := wantState(ctx, t, e, "j1", queue.StateWaiting)
		if j.Attempts != 0 || !j.FinishedAt.IsZero() {
			t.Fatalf("retried job = %+v; want Attempts 0 and no FinishedAt", j)
		}
		counts(ctx, t, e, "", queue.Counts{Waiting: 1})
		l = reserveOne(ctx, t, e, longLock)
		if l.Job.ID != "j1" || l.Job.Attempts != 0 {
			t.Fatalf("after Retry Reserve = %s Attempts %d, want j1 with 0", l.Job.ID, l.Job.Attempts)
		}
		complete(ctx, t, e, l)
	})

	t.Run("retry_respects_lane", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		enqueue(ctx, t, e, newJob("j1", "lane-a"), newJob("j2", "lane-a"))
		fail(ctx, t, e, reserveOne(ctx, t, e, longLock), queue.Failure{Reason: "boom"})
		l2 := reserveOne(ctx, t, e, longLock)
		if l2.Job.ID != "j2" {
			t.Fatalf("after j1 failed Reserve = %q, want j2", l2.Job.ID)
		}
		if err := e.Retry(ctx, "j1"); err != nil {
			t.Fatalf("Retry: %v", err)
		}
		reserveNone(ctx, t, e, "j2 is active in the retried job's lane")
		complete(ctx, t, e, l2)
		if l := reserveOne(ctx, t, e, longLock); l.Job.ID != "j1" {
			t.Fatalf("after j2 completed Reserve = %q, want the retried j1", l.Job.ID)
		}
	})

	t.Run("retry_needs_failed", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		delayed := newJob("delayed", "lane-d")
		delayed.Backoff = time.Hour
		enqueue(ctx, t, e, newJob("active", "lane-a"), newJob("done", "lane-c"), delayed, newJob("waiting", "lane-a"))
		for _, l := range reserve(ctx, t, e, queue.ReserveRequest{Max: 10, Lock: longLock}) {
			switch l.Job.ID {
			case "done":
				complete(ctx, t, e, l)
			case "delayed":
				fail(ctx, t, e, l, queue.Failure{Reason: "later", Retryable: true})
			}
		}
		for id, want := range map[string]queue.State{
			"active": queue.StateActive, "done": queue.StateCompleted,
			"delayed": queue.StateDelayed, "waiting": queue.StateWaiting,
		} {
			err := e.Retry(ctx, id)
			wantErr(t, "Retry of a "+want.String()+" job", err, queue.ErrInvalidState)
			wantState(ctx, t, e, id, want)
		}
		wantErr(t, "Retry of an unknown job", e.Retry(ctx, "nope"), queue.ErrNotFound)
	})

	t.Run("cancel_waiting", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		enqueue(ctx, t, e, newJob("j1", "lane-a"), newJob("j2", "lane-a"), newJob("j3", "lane-a"))
		if err := e.Cancel(ctx, "j1"); err != nil {
			t.Fatalf("Cancel of the lane head: %v", err)
		}
		gone(ctx, t, e, "j1")
		if err := e.Cancel(ctx, "j3"); err != nil {
			t.Fatalf("Cancel of a queued job: %v", err)
		}
		gone(ctx, t, e, "j3")
		counts(ctx, t, e, "lane-a", queue.Counts{Waiting: 1})

		l := reserveOne(ctx, t, e, longLock)
		if l.Job.ID != "j2" {
			t.Fatalf("after cancelling the head Reserve = %q, want j2", l.Job.ID)
		}
		complete(ctx, t, e, l)
		reserveNone(ctx, t, e, "j3 was cancelled")

		// A removed ID is free again.
		if res := enqueue(ctx, t, e, newJob("j1", "lane-a")); !res[0].Created {
			t.Fatal("re-enqueue of a cancelled ID reported Created false")
		}
	})

	t.Run("cancel_delayed_frees_lane", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		first := newJob("j1", "lane-a")
		first.Backoff = time.Hour
		enqueue(ctx, t, e, first, newJob("j2", "lane-a"))
		fail(ctx, t, e, reserveOne(ctx, t, e, longLock), queue.Failure{Reason: "later", Retryable: true})
		reserveNone(ctx, t, e, "the delayed head holds the lane")
		if err := e.Cancel(ctx, "j1"); err != nil {
			t.Fatalf("Cancel of a delayed job: %v", err)
		}
		gone(ctx, t, e, "j1")
		if l := reserveOne(ctx, t, e, longLock); l.Job.ID != "j2" {
			t.Fatalf("after cancelling the delayed head Reserve = %q, want j2", l.Job.ID)
		}
	})

	t.Run("cancel_finished", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		enqueue(ctx, t, e, newJob("done", "lane-a"), newJob("failed", "lane-b"))
		for _, l := range reserve(ctx, t, e, queue.ReserveRequest{Max: 2, Lock: longLock}) {
			if l.Job.ID == "done" {
				complete(ctx, t, e, l)
			} else {
				fail(ctx, t, e, l, queue.Failure{Reason: "x"})
			}
		}
		for _, id := range []string{"done", "failed"} {
			if err := e.Cancel(ctx, id); err != nil {
				t.Fatalf("Cancel(%s): %v", id, err)
			}
			gone(ctx, t, e, id)
		}
		counts(ctx, t, e, "", queue.Counts{})
	})

	t.Run("cancel_active_refused", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		enqueue(ctx, t, e, newJob("j1", "lane-a"))
		l := reserveOne(ctx, t, e, longLock)
		wantErr(t, "Cancel of an active job", e.Cancel(ctx, "j1"), queue.ErrInvalidState)
		wantState(ctx, t, e, "j1", queue.StateActive)
		complete(ctx, t, e, l)
		wantErr(t, "Cancel of an unknown job", e.Cancel(ctx, "nope"), queue.ErrNotFound)
	})

	t.Run("clear_lane", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		enqueue(ctx, t, e, newJob("a0", "lane-a"), newJob("b1", "lane-b"), newJob("b2", "lane-b"))
		for _, l := range reserve(ctx, t, e, queue.ReserveRequest{Max: 2, Lock: longLock}) {
			if l.Job.ID == "a0" {
				complete(ctx, t, e, l)
			}
		}
		enqueue(ctx, t, e, newJob("a1", "lane-a"), newJob("a2", "lane-a"), newJob("a3", "lane-a"))
		active := reserveOne(ctx, t, e, longLock) // a1; b1 is still active
		if active.Job.ID != "a1" {
			t.Fatalf("Reserve = %q, want a1", active.Job.ID)
		}

		n, err := e.ClearLane(ctx, "lane-a")
		if err != nil {
			t.Fatalf("ClearLane: %v", err)
		}
		if n != 3 {
			t.Fatalf("ClearLane removed %d jobs, want 3 (a0 completed, a2 and a3 waiting)", n)
		}
		for _, id := range []string{"a0", "a2", "a3"} {
			gone(ctx, t, e, id)
		}
		wantState(ctx, t, e, "a1", queue.StateActive)
		counts(ctx, t, e, "lane-a", queue.Counts{Active: 1})
		counts(ctx, t, e, "lane-b", queue.Counts{Waiting: 1, Active: 1})

		if n, err := e.ClearLane(ctx, "lane-none"); err != nil || n != 0 {
			t.Fatalf("ClearLane of an empty lane = %d, %v; want 0, nil", n, err)
		}
		// The lane still works.
		complete(ctx, t, e, active)
		enqueue(ctx, t, e, newJob("a4", "lane-a"))
		if l := reserveOne(ctx, t, e, longLock); l.Job.ID != "a4" {
			t.Fatalf("after ClearLane Reserve = %q, want a4", l.Job.ID)
		}
	})
}
