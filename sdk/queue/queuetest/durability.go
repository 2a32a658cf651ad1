package queuetest

import (
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// testDurability checks rule 8 as far as a test in one process can: every
// acknowledged job survives closing and reopening the storage in the state
// it was in, and a lease held when the engine went away is recovered once
// its lock expires.
func testDurability(t *testing.T, h Harness) {
	t.Run("reopen_keeps_state", func(t *testing.T) {
		t.Parallel()
		e, ctx := setup(t, h)
		retry := newJob("retry", "lane-b")
		retry.Backoff = time.Hour
		enqueue(ctx, t, e,
			newJob("done", "lane-a"), newJob("after-done", "lane-a"),
			retry,
			newJob("running", "lane-c"),
			newJob("broken", "lane-d"),
		)
		const lock = 500 * time.Millisecond
		leases := reserve(ctx, t, e, queue.ReserveRequest{Max: 10, Lock: lock})
		var running queue.Lease
		for _, l := range leases {
			switch l.Job.ID {
			case "done":
				complete(ctx, t, e, l)
			case "retry":
				fail(ctx, t, e, l, queue.Failure{Reason: "try later", Retryable: true})
			case "broken":
				fail(ctx, t, e, l, queue.Failure{Reason: "bad input"})
			case "running":
				running = l
			default:
				t.Fatalf("Reserve leased %s, want only lane heads", l.Job.ID)
			}
		}
		if running.Token == "" || len(leases) != 4 {
			t.Fatalf("Reserve = %v, want done, retry, running, broken", leaseIDs(leases))
		}
		enqueue(ctx, t, e, newJob("fresh", "lane-e"))

		ids := []string{"done", "after-done", "retry", "running", "broken", "fresh"}
		before := map[string]queue.Job{}
		for _, id := range ids {
			before[id] = get(ctx, t, e, id)
		}

		e = h.Reopen(t, e)

		for _, id := range ids {
			got := get(ctx, t, e, id)
			if id == "running" && got.State == queue.StateWaiting {
				// An engine may already have recovered the lease if the
				// reopen took longer than the lock.
				if got.Attempts != 1 {
					t.Fatalf("recovered lease of %s has Attempts %d, want 1", id, got.Attempts)
				}
				continue
			}
			if d := sameJob(before[id], got); d != "" {
				t.Fatalf("after reopen job %s: %s", id, d)
			}
		}
		if res := enqueue(ctx, t, e, newJob("done", "lane-a")); res[0].Created {
			t.Fatal("after reopen a completed ID was enqueued again")
		}

		// Leases: the waiting jobs at once; the running one once its lock,
		// taken before the reopen, has expired.
		got := map[string]queue.Lease{}
		deadline := time.Now().Add(patience)
		for got["running"].Token == "" && time.Now().Before(deadline) {
			for _, l := range reserve(ctx, t, e, queue.ReserveRequest{Max: 10, Lock: longLock, Wait: 500 * time.Millisecond}) {
				if _, dup := got[l.Job.ID]; dup {
					t.Fatalf("job %s leased twice", l.Job.ID)
				}
				got[l.Job.ID] = l
				if l.Job.ID == "running" && time.Now().Before(running.LockedUntil.Add(-slack)) {
					t.Fatalf("the running job was leased again before its lock from before the reopen expired")
				}
			}
		}
		for _, id := range []string{"after-done", "fresh", "running"} {
			if got[id].Token == "" {
				t.Fatalf("after reopen Reserve never returned %s (got %v)", id, mapKeys(got))
			}
		}
		if len(got) != 3 {
			t.Fatalf("after reopen Reserve returned %v, want after-done, fresh, running", mapKeys(got))
		}
		if r := got["running"]; r.Job.Attempts != 1 || r.Token == running.Token {
			t.Fatalf("recovered lease Attempts %d (same token: %v), want 1 and a new token", r.Job.Attempts, r.Token == running.Token)
		}
		wantErr(t, "Complete with the token from before the reopen", e.Complete(ctx, "running", running.Token), queue.ErrLeaseLost)
		complete(ctx, t, e, got["running"])
		counts(ctx, t, e, "", queue.Counts{Active: 2, Delayed: 1, Completed: 2, Failed: 1})
	})
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
