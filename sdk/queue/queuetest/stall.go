package queuetest

import (
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// shortLock is a lock the stall cases let expire.
const shortLock = 200 * time.Millisecond

// testStall checks rule 5: expired leases go back to waiting and count as
// attempts, up to MaxAttempts.
func testStall(t *testing.T, h Harness) {
	t.Run("expired_lease_is_retaken", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		enqueue(ctx, t, e, newJob("j1", "lane-a"), newJob("j2", "lane-a"))
		l1 := reserveOne(ctx, t, e, shortLock)

		// Nobody extends l1; a blocked Reserve must get j1 back (not j2:
		// the stalled job keeps its place at the head of its lane).
		l2 := reserveOne(ctx, t, e, longLock)
		if now := time.Now(); now.Before(l1.LockedUntil.Add(-slack)) {
			t.Fatalf("job retaken at %s, before its lock expired at %s",
				now.Format(time.StampMilli), l1.LockedUntil.Format(time.StampMilli))
		}
		if l2.Job.ID != "j1" || l2.Token == l1.Token || l2.Job.Attempts != 1 {
			t.Fatalf("after the stall Reserve = %s Attempts %d (same token: %v); want j1, Attempts 1, a new token",
				l2.Job.ID, l2.Job.Attempts, l2.Token == l1.Token)
		}

		err := e.Complete(ctx, "j1", l1.Token)
		wantErr(t, "Complete with the stalled token", err, queue.ErrLeaseLost)
		_, err = e.Extend(ctx, "j1", l1.Token, time.Minute)
		wantErr(t, "Extend with the stalled token", err, queue.ErrLeaseLost)
		_, err = e.Fail(ctx, "j1", l1.Token, queue.Failure{Reason: "late"})
		wantErr(t, "Fail with the stalled token", err, queue.ErrLeaseLost)

		complete(ctx, t, e, l2)
		if l := reserveOne(ctx, t, e, longLock); l.Job.ID != "j2" {
			t.Fatalf("after j1 completed Reserve = %q, want j2", l.Job.ID)
		}
	})

	t.Run("stalled_job_shows_waiting", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		enqueue(ctx, t, e, newJob("j1", "lane-a"))
		l := reserveOne(ctx, t, e, shortLock)
		wantState(ctx, t, e, "j1", queue.StateActive)

		time.Sleep(time.Until(l.LockedUntil))
		var j queue.Job
		eventually(t, "the stalled job showing as waiting", func() bool {
			j = get(ctx, t, e, "j1")
			return j.State == queue.StateWaiting
		})
		if j.Attempts != 1 {
			t.Fatalf("stalled job has Attempts %d, want 1", j.Attempts)
		}
		counts(ctx, t, e, "lane-a", queue.Counts{Waiting: 1})
		_, err := e.Extend(ctx, "j1", l.Token, time.Minute)
		wantErr(t, "Extend after the stall", err, queue.ErrLeaseLost)
	})

	t.Run("stalls_exhaust_attempts", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		nj := newJob("j1", "lane-a")
		nj.MaxAttempts = 2
		enqueue(ctx, t, e, nj, newJob("j2", "lane-a"))

		l1 := reserveOne(ctx, t, e, shortLock)
		l2 := reserveOne(ctx, t, e, shortLock)
		if l1.Job.ID != "j1" || l2.Job.ID != "j1" || l2.Job.Attempts != 1 {
			t.Fatalf("leases %s then %s (Attempts %d); want j1 twice, the second with Attempts 1",
				l1.Job.ID, l2.Job.ID, l2.Job.Attempts)
		}
		// The second stall uses up the attempts: j1 fails and frees its lane.
		l3 := reserveOne(ctx, t, e, longLock)
		if l3.Job.ID != "j2" {
			t.Fatalf("after j1 stalled twice Reserve = %q, want j2", l3.Job.ID)
		}
		j := wantState(ctx, t, e, "j1", queue.StateFailed)
		if j.Attempts != 2 || j.FinishedAt.IsZero() || !strings.Contains(strings.ToLower(j.LastError), "stall") {
			t.Fatalf("job failed by stalls = %+v; want Attempts 2, FinishedAt set, LastError mentioning the stall", j)
		}
		counts(ctx, t, e, "lane-a", queue.Counts{Active: 1, Failed: 1})
	})
}
