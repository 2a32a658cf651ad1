package queuevalkey

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// TestCompleteGroupCommit completes many leases at once, so that they share
// script calls, with a wrong token and a repeat among them: each call must
// still get its own answer, and the queue must end up as if the calls had
// run one by one.
func TestCompleteGroupCommit(t *testing.T) {
	t.Parallel()
	e := open(t, sharedServer(t), randomPrefix())
	ctx := t.Context()
	const n = 200
	jobs := make([]queue.NewJob, n)
	for i := range jobs {
		jobs[i] = queue.NewJob{ID: fmt.Sprintf("j%03d", i), Lane: fmt.Sprintf("l%d", i%50), Kind: "k"}
	}
	mustEnqueue(t, e, jobs...)
	leases, err := e.Reserve(ctx, queue.ReserveRequest{Max: n, Lock: time.Minute})
	if err != nil || len(leases) != 50 {
		t.Fatalf("Reserve = %d leases, %v; want one per lane", len(leases), err)
	}
	errs := make([]error, 2*len(leases))
	var wg sync.WaitGroup
	for i, l := range leases {
		token := l.Token
		if i%10 == 0 {
			token = "not-" + token
		}
		wg.Go(func() { errs[2*i] = e.Complete(ctx, l.Job.ID, token) })
		wg.Go(func() { errs[2*i+1] = e.Complete(ctx, l.Job.ID, l.Token) })
	}
	wg.Wait()
	for i, l := range leases {
		first, second := errs[2*i], errs[2*i+1]
		if i%10 == 0 {
			if !errors.Is(first, queue.ErrLeaseLost) || second != nil {
				t.Errorf("%s: wrong token = %v, right token = %v; want ErrLeaseLost and nil", l.Job.ID, first, second)
			}
			continue
		}
		// The same lease completed twice at once: exactly one wins.
		if (first == nil) == (second == nil) || !errors.Is(errors.Join(first, second), queue.ErrLeaseLost) {
			t.Errorf("%s: two Completes = %v, %v; want one nil and one ErrLeaseLost", l.Job.ID, first, second)
		}
	}
	c, err := e.Counts(ctx, "")
	mustNil(t, err)
	if want := (queue.Counts{Waiting: n - 50, Active: 0, Completed: 50}); c != want {
		t.Fatalf("Counts = %+v, want %+v", c, want)
	}
	if err := e.Complete(ctx, "nope", "x"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Complete of an unknown job = %v, want ErrNotFound", err)
	}
}

// TestCompleteExpiredLease checks that a Complete that arrives after the lock
// expired, with no other call in between to sweep, loses the lease and puts
// the job back.
func TestCompleteExpiredLease(t *testing.T) {
	t.Parallel()
	e := open(t, sharedServer(t), randomPrefix())
	ctx := t.Context()
	mustEnqueue(t, e, queue.NewJob{ID: "a", Lane: "l", Kind: "k"})
	leases, err := e.Reserve(ctx, queue.ReserveRequest{Lock: 20 * time.Millisecond})
	if err != nil || len(leases) != 1 {
		t.Fatalf("Reserve = %d leases, %v", len(leases), err)
	}
	time.Sleep(40 * time.Millisecond)
	if err := e.Complete(ctx, "a", leases[0].Token); !errors.Is(err, queue.ErrLeaseLost) {
		t.Fatalf("late Complete = %v, want ErrLeaseLost", err)
	}
	st, err := e.Stats(ctx)
	mustNil(t, err)
	if st.Stalls != 1 || st.Completed != 0 {
		t.Fatalf("Stats = %+v, want the stall counted by the Complete", st)
	}
	j, err := e.Get(ctx, "a")
	mustNil(t, err)
	if j.State != queue.StateWaiting || j.Attempts != 1 {
		t.Fatalf("job after the late Complete = %+v, want waiting after one attempt", j)
	}
}
