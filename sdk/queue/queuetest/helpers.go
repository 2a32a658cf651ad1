package queuetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// Durations the cases share.
const (
	// longLock is a lock that never expires during a case.
	longLock = 30 * time.Second
	// slack absorbs the millisecond rounding of stored and wire times in
	// lower bounds, which are otherwise exact.
	slack = 5 * time.Millisecond
	// patience bounds waits for something that should happen promptly; it
	// is far above the contract so that a slow -race run does not flake.
	patience = 3 * time.Second
)

// testCtx bounds a case, so that a hung engine fails the case instead of
// the whole test binary.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// setup makes an engine and a context for one case.
func setup(t *testing.T, h Harness) (queue.Engine, context.Context) {
	t.Helper()
	return h.New(t), testCtx(t)
}

// newJob is a valid job with a payload that names it.
func newJob(id, lane string) queue.NewJob {
	return queue.NewJob{ID: id, Lane: lane, Kind: "test", Payload: []byte(`{"job":"` + id + `"}`)}
}

func enqueue(ctx context.Context, t *testing.T, e queue.Engine, jobs ...queue.NewJob) []queue.EnqueueResult {
	t.Helper()
	res, err := e.Enqueue(ctx, jobs)
	if err != nil {
		t.Fatalf("Enqueue(%d jobs): %v", len(jobs), err)
	}
	if len(res) != len(jobs) {
		t.Fatalf("Enqueue(%d jobs) returned %d results", len(jobs), len(res))
	}
	return res
}

func reserve(ctx context.Context, t *testing.T, e queue.Engine, req queue.ReserveRequest) []queue.Lease {
	t.Helper()
	leases, err := e.Reserve(ctx, req)
	if err != nil {
		t.Fatalf("Reserve(%+v): %v", req, err)
	}
	if leases == nil {
		t.Fatalf("Reserve(%+v) returned a nil slice; want an empty one", req)
	}
	return leases
}

// reserveOne waits up to patience for one job and fails the case if none
// comes.
func reserveOne(ctx context.Context, t *testing.T, e queue.Engine, lock time.Duration) queue.Lease {
	t.Helper()
	leases := reserve(ctx, t, e, queue.ReserveRequest{Max: 1, Lock: lock, Wait: patience, Worker: t.Name()})
	if len(leases) != 1 {
		t.Fatalf("Reserve(Max 1) returned %d leases, want 1", len(leases))
	}
	return leases[0]
}

// reserveNone checks that nothing is ready right now.
func reserveNone(ctx context.Context, t *testing.T, e queue.Engine, why string) {
	t.Helper()
	leases := reserve(ctx, t, e, queue.ReserveRequest{Max: queue.MaxBatch, Lock: longLock})
	if len(leases) != 0 {
		t.Fatalf("Reserve returned %v; want nothing (%s)", leaseIDs(leases), why)
	}
}

func get(ctx context.Context, t *testing.T, e queue.Engine, id string) queue.Job {
	t.Helper()
	j, err := e.Get(ctx, id)
	if err != nil {
		t.Fatalf("Get(%q): %v", id, err)
	}
	return j
}

// gone checks that id no longer exists.
func gone(ctx context.Context, t *testing.T, e queue.Engine, id string) {
	t.Helper()
	if j, err := e.Get(ctx, id); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Get(%q) = %+v, %v; want ErrNotFound", id, j, err)
	}
}

func counts(ctx context.Context, t *testing.T, e queue.Engine, lane string, want queue.Counts) {
	t.Helper()
	got, err := e.Counts(ctx, lane)
	if err != nil {
		t.Fatalf("Counts(%q): %v", lane, err)
	}
	if got != want {
		t.Fatalf("Counts(%q) = %+v, want %+v", lane, got, want)
	}
}

func complete(ctx context.Context, t *testing.T, e queue.Engine, l queue.Lease) {
	t.Helper()
	if err := e.Complete(ctx, l.Job.ID, l.Token); err != nil {
		t.Fatalf("Complete(%q): %v", l.Job.ID, err)
	}
}

func fail(ctx context.Context, t *testing.T, e queue.Engine, l queue.Lease, f queue.Failure) queue.FailResult {
	t.Helper()
	res, err := e.Fail(ctx, l.Job.ID, l.Token, f)
	if err != nil {
		t.Fatalf("Fail(%q, %+v): %v", l.Job.ID, f, err)
	}
	return res
}

// wantErr checks that err matches target with errors.Is.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}

func wantState(ctx context.Context, t *testing.T, e queue.Engine, id string, want queue.State) queue.Job {
	t.Helper()
	j := get(ctx, t, e, id)
	if j.State != want {
		t.Fatalf("job %q is %v, want %v (job %+v)", id, j.State, want, j)
	}
	return j
}

// within checks lo-slack ≤ got ≤ hi+slack.
func within(t *testing.T, what string, got, lo, hi time.Time) {
	t.Helper()
	if got.Before(lo.Add(-slack)) || got.After(hi.Add(slack)) {
		t.Fatalf("%s = %s, want within [%s, %s]", what, got.Format(time.StampMilli),
			lo.Format(time.StampMilli), hi.Format(time.StampMilli))
	}
}

// eventually polls cond every 10 ms until it is true or patience runs out.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %v", what, patience)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func leaseIDs(leases []queue.Lease) []string {
	ids := make([]string, len(leases))
	for i, l := range leases {
		ids[i] = l.Job.ID
	}
	return ids
}

// sameJob reports how got differs from want, ignoring the fields in skip
// (by name). Times compare at millisecond precision, the precision of the wire.
func sameJob(want, got queue.Job, skip ...string) string {
	var diffs []string
	check := func(name string, eq bool, w, g any) {
		if !eq && !slices.Contains(skip, name) {
			diffs = append(diffs, fmt.Sprintf("%s: got %v, want %v", name, g, w))
		}
	}
	ms := func(a, b time.Time) bool { return a.UnixMilli() == b.UnixMilli() && a.IsZero() == b.IsZero() }
	check("SchemaVersion", want.SchemaVersion == got.SchemaVersion, want.SchemaVersion, got.SchemaVersion)
	check("ID", want.ID == got.ID, want.ID, got.ID)
	check("Lane", want.Lane == got.Lane, want.Lane, got.Lane)
	check("Kind", want.Kind == got.Kind, want.Kind, got.Kind)
	check("Payload", bytes.Equal(want.Payload, got.Payload), string(want.Payload), string(got.Payload))
	check("State", want.State == got.State, want.State, got.State)
	check("Attempts", want.Attempts == got.Attempts, want.Attempts, got.Attempts)
	check("MaxAttempts", want.MaxAttempts == got.MaxAttempts, want.MaxAttempts, got.MaxAttempts)
	check("Backoff", want.Backoff == got.Backoff, want.Backoff, got.Backoff)
	check("CreatedAt", ms(want.CreatedAt, got.CreatedAt), want.CreatedAt, got.CreatedAt)
	check("AvailableAt", ms(want.AvailableAt, got.AvailableAt), want.AvailableAt, got.AvailableAt)
	check("FinishedAt", ms(want.FinishedAt, got.FinishedAt), want.FinishedAt, got.FinishedAt)
	check("LastError", want.LastError == got.LastError, want.LastError, got.LastError)
	return strings.Join(diffs, "; ")
}
