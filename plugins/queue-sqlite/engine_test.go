package queuesqlite

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
	"github.com/claude-mem/claude-mem-server/sdk/queue/queuetest"
)

func openTest(tb testing.TB, path string, opts Options) *Engine {
	tb.Helper()
	e, err := Open(context.Background(), path, opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := e.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return e
}

func TestConformance(t *testing.T) {
	t.Parallel()
	var (
		mu    sync.Mutex
		paths = map[queue.Engine]string{}
	)
	queuetest.Run(t, queuetest.Harness{
		New: func(t *testing.T) queue.Engine {
			path := filepath.Join(t.TempDir(), "queue.db")
			e := openTest(t, path, Options{})
			mu.Lock()
			paths[e] = path
			mu.Unlock()
			return e
		},
		Reopen: func(t *testing.T, old queue.Engine) queue.Engine {
			mu.Lock()
			path := paths[old]
			mu.Unlock()
			if err := old.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			e := openTest(t, path, Options{})
			mu.Lock()
			paths[e] = path
			mu.Unlock()
			return e
		},
	})
}

func TestReopenKeepsSchema(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "queue.db")
	// The test uses e.conn directly: keep the background sweep off it.
	opts := Options{manualPrune: true}
	e := openTest(t, path, opts)
	if _, err := e.Enqueue(ctx, []queue.NewJob{{ID: "j1", Lane: "l", Kind: "k"}}); err != nil {
		t.Fatal(err)
	}
	e.Close()

	// Opening an up-to-date file applies nothing and keeps the data.
	for range 2 {
		e = openTest(t, path, opts)
		var version int
		if err := e.conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
			t.Fatal(err)
		}
		if version != len(migrations) {
			t.Fatalf("user_version = %d, want %d", version, len(migrations))
		}
		if _, err := e.Get(ctx, "j1"); err != nil {
			t.Fatalf("Get after reopen: %v", err)
		}
		var mode string
		if err := e.conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
		}
		e.Close()
	}

	// A file from a newer engine is refused rather than misread.
	e = openTest(t, path, opts)
	if _, err := e.conn.ExecContext(ctx, "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	e.Close()
	if e2, err := Open(ctx, path, Options{}); err == nil {
		e2.Close()
		t.Fatal("Open of a file with a newer schema succeeded")
	}
}

func TestPruneByRetention(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var (
		mu  sync.Mutex
		now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	e := openTest(t, filepath.Join(t.TempDir(), "queue.db"), Options{
		CompletedRetention: time.Hour,
		FailedRetention:    3 * time.Hour,
		Now:                clock,
		manualPrune:        true, // the test calls Prune itself
	})
	finish := func(ids ...string) {
		t.Helper()
		var jobs []queue.NewJob
		for _, id := range ids {
			jobs = append(jobs, queue.NewJob{ID: id, Lane: id, Kind: "k"})
		}
		if _, err := e.Enqueue(ctx, jobs); err != nil {
			t.Fatal(err)
		}
		leases, err := e.Reserve(ctx, queue.ReserveRequest{Max: len(ids), Lock: time.Minute})
		if err != nil || len(leases) != len(ids) {
			t.Fatalf("Reserve = %d, %v", len(leases), err)
		}
		for _, l := range leases {
			if l.Job.ID[0] == 'c' {
				err = e.Complete(ctx, l.Job.ID, l.Token)
			} else {
				_, err = e.Fail(ctx, l.Job.ID, l.Token, queue.Failure{Reason: "x"})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	finish("c-old", "f-old")
	advance(2 * time.Hour)
	finish("c-new", "f-new")
	if _, err := e.Enqueue(ctx, []queue.NewJob{{ID: "w", Lane: "w", Kind: "k"}}); err != nil {
		t.Fatal(err)
	}

	n, err := e.Prune(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want 1 (c-old)", n, err)
	}
	advance(2 * time.Hour) // f-old is 4 h old, c-new and f-new 2 h
	n, err = e.Prune(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2 (f-old, c-new)", n, err)
	}
	for id, want := range map[string]bool{"c-old": false, "f-old": false, "c-new": false, "f-new": true, "w": true} {
		_, err := e.Get(ctx, id)
		if exists := err == nil; exists != want {
			t.Errorf("after prune %s exists = %v (%v), want %v", id, exists, err, want)
		}
	}
	// A pruned ID is free again.
	res, err := e.Enqueue(ctx, []queue.NewJob{{ID: "c-old", Lane: "l", Kind: "k"}})
	if err != nil || !res[0].Created {
		t.Fatalf("re-enqueue of a pruned ID = %+v, %v; want created", res, err)
	}
}

func TestPruneDisabled(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var (
		mu  sync.Mutex
		now = time.Now()
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := openTest(t, filepath.Join(t.TempDir(), "queue.db"), Options{
		CompletedRetention: -1, FailedRetention: -1, Now: clock,
	})
	if _, err := e.Enqueue(ctx, []queue.NewJob{{ID: "j", Lane: "l", Kind: "k"}}); err != nil {
		t.Fatal(err)
	}
	leases, err := e.Reserve(ctx, queue.ReserveRequest{Lock: time.Minute})
	if err != nil || len(leases) != 1 {
		t.Fatalf("Reserve = %d, %v", len(leases), err)
	}
	if err := e.Complete(ctx, "j", leases[0].Token); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(10 * 365 * 24 * time.Hour)
	mu.Unlock()
	if n, err := e.Prune(ctx); err != nil || n != 0 {
		t.Fatalf("Prune with retention disabled = %d, %v; want 0", n, err)
	}
}

func TestClosed(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := openTest(t, filepath.Join(t.TempDir(), "queue.db"), Options{})
	done := make(chan error, 1)
	go func() {
		_, err := e.Reserve(ctx, queue.ReserveRequest{Lock: time.Minute, Wait: 10 * time.Second})
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, queue.ErrClosed) {
			t.Fatalf("blocked Reserve after Close = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release a blocked Reserve")
	}
	if _, err := e.Enqueue(ctx, []queue.NewJob{{ID: "j", Lane: "l", Kind: "k"}}); !errors.Is(err, queue.ErrClosed) {
		t.Fatalf("Enqueue after Close = %v, want ErrClosed", err)
	}
	if _, err := e.Get(ctx, "j"); !errors.Is(err, queue.ErrClosed) {
		t.Fatalf("Get after Close = %v, want ErrClosed", err)
	}
}

// TestCompleteMany checks the bulk path that Complete calls sharing a
// transaction take, which the conformance suite reaches only by chance.
func TestCompleteMany(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// The test calls runTx directly: keep the background sweep away.
	e := openTest(t, filepath.Join(t.TempDir(), "queue.db"), Options{manualPrune: true})
	var jobs []queue.NewJob
	for _, lane := range []string{"a", "b", "c"} {
		jobs = append(jobs, queue.NewJob{ID: lane + "1", Lane: lane, Kind: "k"}, queue.NewJob{ID: lane + "2", Lane: lane, Kind: "k"})
	}
	if _, err := e.Enqueue(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	leases, err := e.Reserve(ctx, queue.ReserveRequest{Max: 10, Lock: time.Minute})
	if err != nil || len(leases) != 3 {
		t.Fatalf("Reserve = %d leases, %v", len(leases), err)
	}
	token := map[string]string{}
	for _, l := range leases {
		token[l.Job.ID] = l.Token
	}

	mk := func(id, tok string) *op {
		return &op{ctx: ctx, done: make(chan error, 1), complete: &completeArgs{id, tok},
			fn: func(*txn) error { t.Error("the single-call path ran for a grouped Complete"); return nil }}
	}
	ops := []*op{
		mk("a1", token["a1"]),
		mk("a1", token["a1"]), // the same lease twice: one call wins
		mk("b1", "wrong"),
		mk("c1", token["c1"]),
		mk("nope", "x"),
	}
	errs, err := e.runTx(ops)
	if err != nil {
		t.Fatalf("runTx: %v", err)
	}
	want := []error{nil, queue.ErrLeaseLost, queue.ErrLeaseLost, nil, queue.ErrNotFound}
	for i := range want {
		if !errors.Is(errs[i], want[i]) || (want[i] == nil && errs[i] != nil) {
			t.Errorf("call %d (%s): err = %v, want %v", i, ops[i].complete.id, errs[i], want[i])
		}
	}
	for id, want := range map[string]queue.State{"a1": queue.StateCompleted, "b1": queue.StateActive, "c1": queue.StateCompleted} {
		if j, err := e.Get(ctx, id); err != nil || j.State != want {
			t.Errorf("%s: state %v, %v; want %v", id, j.State, err, want)
		}
	}
	// The completed heads' lanes moved on; b is still busy.
	leases, err = e.Reserve(ctx, queue.ReserveRequest{Max: 10, Lock: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range leases {
		got = append(got, l.Job.ID)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"a2", "c2"}) {
		t.Fatalf("after the bulk complete Reserve = %v, want [a2 c2]", got)
	}
}

func BenchmarkEngine(b *testing.B) {
	queuetest.Benchmark(b, func(b *testing.B) queue.Engine {
		return openTest(b, filepath.Join(b.TempDir(), "queue.db"), Options{})
	})
}
