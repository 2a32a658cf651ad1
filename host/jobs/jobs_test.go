package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/store/storetest"

	"github.com/claude-mem/claude-mem-server/host/jobs"
	"github.com/claude-mem/claude-mem-server/host/store"
	"github.com/claude-mem/claude-mem-server/host/supervisor"
	queuesqlite "github.com/claude-mem/claude-mem-server/plugins/queue-sqlite"
	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

type bundle struct {
	dir   string
	store *store.Store
	// engine is what EngineFunc returns; nil means "plugin down".
	mu     sync.Mutex
	engine queue.Engine
}

func (b *bundle) engineFunc() (queue.Engine, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.engine == nil {
		return nil, fmt.Errorf("queue plugin is restarting: %w", supervisor.ErrUnavailable)
	}
	return b.engine, nil
}

func (b *bundle) setEngine(e queue.Engine) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.engine = e
}

func setup(t *testing.T) *bundle {
	t.Helper()
	dir := t.TempDir()
	st := storetest.Open(t, filepath.Join(dir, store.FileName))
	return &bundle{dir: dir, store: st}
}

func newEngine(t *testing.T, name string) queue.Engine {
	t.Helper()
	e, err := queuesqlite.Open(context.Background(), filepath.Join(t.TempDir(), name), queuesqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func start(t *testing.T, b *bundle, handlers map[string]jobs.Handler) *jobs.Service {
	t.Helper()
	svc := jobs.New(b.store, b.engineFunc, jobs.Options{Concurrency: 2, Lock: 2 * time.Second, ReconcileEvery: 50 * time.Millisecond})
	for k, h := range handlers {
		svc.Handle(k, h)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc.Start(ctx)
	t.Cleanup(func() { cancel(); svc.Wait() })
	return svc
}

func waitStatus(t *testing.T, svc *jobs.Service, id, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, _, err := svc.Status(context.Background(), id)
		if err == nil && st == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: status %q (%v), want %q", id, st, err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAcknowledgedWhileEngineDown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ran atomic.Int32
	svc := start(t, b, map[string]jobs.Handler{"k": func(context.Context, jobs.Job) error { ran.Add(1); return nil }})
	if err := svc.Submit(context.Background(), []jobs.Job{{ID: "j1", Lane: "s1", Kind: "k"}}); err != nil {
		t.Fatalf("submit while the engine is down must still acknowledge: %v", err)
	}
	if st, _, _ := svc.Status(context.Background(), "j1"); st != jobs.StatusQueued {
		t.Fatalf("status %q, want queued", st)
	}
	b.setEngine(newEngine(t, "q.db"))
	waitStatus(t, svc, "j1", jobs.StatusCompleted)
	if ran.Load() != 1 {
		t.Fatalf("handler ran %d times", ran.Load())
	}
}

func TestRetriesThenPermanentFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setEngine(newEngine(t, "q.db"))
	var flaky, doomed atomic.Int32
	svc := start(t, b, map[string]jobs.Handler{
		"flaky": func(context.Context, jobs.Job) error {
			if flaky.Add(1) < 3 {
				return errors.New("provider timed out")
			}
			return nil
		},
		"doomed": func(context.Context, jobs.Job) error {
			doomed.Add(1)
			return jobs.Permanent(errors.New("unparseable output"))
		},
	})
	err := svc.Submit(context.Background(), []jobs.Job{
		{ID: "f", Lane: "a", Kind: "flaky", MaxAttempts: 5, Backoff: 10 * time.Millisecond},
		{ID: "d", Lane: "b", Kind: "doomed", MaxAttempts: 5, Backoff: 10 * time.Millisecond},
		{ID: "u", Lane: "c", Kind: "unknown-kind"},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, svc, "f", jobs.StatusCompleted)
	waitStatus(t, svc, "d", jobs.StatusFailed)
	waitStatus(t, svc, "u", jobs.StatusFailed)
	if _, attempts, _ := svc.Status(context.Background(), "f"); attempts != 3 || flaky.Load() != 3 {
		t.Errorf("flaky: %d attempts recorded, %d runs, want 3", attempts, flaky.Load())
	}
	if doomed.Load() != 1 {
		t.Errorf("a permanent failure ran %d times, want once", doomed.Load())
	}
}

func TestDuplicateSubmitRunsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setEngine(newEngine(t, "q.db"))
	var ran atomic.Int32
	svc := start(t, b, map[string]jobs.Handler{"k": func(context.Context, jobs.Job) error { ran.Add(1); return nil }})
	for range 3 {
		if err := svc.Submit(context.Background(), []jobs.Job{{ID: "same", Lane: "s", Kind: "k"}}); err != nil {
			t.Fatal(err)
		}
	}
	waitStatus(t, svc, "same", jobs.StatusCompleted)
	time.Sleep(200 * time.Millisecond)
	if ran.Load() != 1 {
		t.Fatalf("handler ran %d times for one job ID", ran.Load())
	}
}

// TestSwitchingEnginesLosesNothing enqueues jobs on one engine that never
// runs them, then brings the host up on a fresh engine: the outbox must
// re-enqueue them all.
func TestSwitchingEnginesLosesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setEngine(newEngine(t, "old.db"))
	first := jobs.New(b.store, b.engineFunc, jobs.Options{})
	var batch []jobs.Job
	for i := range 30 {
		batch = append(batch, jobs.Job{ID: fmt.Sprintf("j%02d", i), Lane: fmt.Sprintf("s%d", i%3), Kind: "k"})
	}
	if err := first.Submit(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	b.setEngine(newEngine(t, "new.db"))
	var mu sync.Mutex
	order := map[string][]string{}
	svc := start(t, b, map[string]jobs.Handler{"k": func(_ context.Context, j jobs.Job) error {
		mu.Lock()
		defer mu.Unlock()
		order[j.Lane] = append(order[j.Lane], j.ID)
		return nil
	}})
	for _, j := range batch {
		waitStatus(t, svc, j.ID, jobs.StatusCompleted)
	}
	mu.Lock()
	defer mu.Unlock()
	for lane, ids := range order {
		for i := 1; i < len(ids); i++ {
			if ids[i-1] > ids[i] {
				t.Errorf("lane %s ran out of order: %v", lane, ids)
			}
		}
	}
}

// TestRetryRunsAFailedJobAgain: Retry re-runs a failed job, also when the
// engine still holds it as completed (the outbox was marked failed behind
// its back), and refuses jobs that have not failed or do not exist.
func TestRetryRunsAFailedJobAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.setEngine(newEngine(t, "q.db"))
	var ran atomic.Int32
	svc := start(t, b, map[string]jobs.Handler{"k": func(context.Context, jobs.Job) error { ran.Add(1); return nil }})
	ctx := context.Background()
	if err := svc.Submit(ctx, []jobs.Job{{ID: "r1", Lane: "s1", Kind: "k"}}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, svc, "r1", jobs.StatusCompleted)
	if err := svc.Retry(ctx, "r1"); !errors.Is(err, jobs.ErrNotFailed) {
		t.Fatalf("retry of a completed job: %v, want ErrNotFailed", err)
	}
	if _, err := b.store.Writer().Exec(`UPDATE generation_jobs SET status = 'failed', last_error = 'boom' WHERE id = 'r1'`); err != nil {
		t.Fatal(err)
	}
	if err := svc.Retry(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, svc, "r1", jobs.StatusCompleted)
	if ran.Load() != 2 {
		t.Fatalf("the handler ran %d times, want 2", ran.Load())
	}
	if err := svc.Retry(ctx, "no-such-job"); !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("retry of an unknown job: %v, want sql.ErrNoRows", err)
	}
}
