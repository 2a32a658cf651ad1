package queuevalkey

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/plugins/queue-valkey/valkeytest"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
	"github.com/claude-mem/claude-mem-server/sdk/queue"
	"github.com/claude-mem/claude-mem-server/sdk/queue/queuetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	url := sharedServer(t)
	queuetest.Run(t, queuetest.Harness{
		New: func(t *testing.T) queue.Engine {
			return open(t, url, randomPrefix())
		},
		Reopen: func(t *testing.T, e queue.Engine) queue.Engine {
			ve, ok := e.(*Engine)
			if !ok {
				t.Fatalf("Reopen got %T, want *Engine", e)
			}
			if err := ve.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			return open(t, url, ve.opts.Prefix)
		},
	})
}

func BenchmarkEngine(b *testing.B) {
	url := sharedServer(b)
	queuetest.Benchmark(b, func(b *testing.B) queue.Engine {
		return open(b, url, randomPrefix())
	})
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	// A port nobody listens on: bind one, then release it.
	srv := valkeytest.Start(t)
	url := "redis://:s3cret-pass@" + srv.Addr + "/0"
	srv.Stop()

	const timeout = 2 * time.Second
	start := time.Now()
	e, err := Open(t.Context(), Options{URL: url, ConnectTimeout: timeout})
	took := time.Since(start)
	if err == nil {
		_ = e.Close()
		t.Fatal("Open of a stopped server succeeded")
	}
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Open error %v is not ErrUnreachable", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "s3cret-pass") {
		t.Fatalf("error leaks the password: %s", msg)
	}
	for _, want := range []string{srv.Addr, "CLAUDE_MEM_REDIS_URL", "no fallback to SQLite"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if took > timeout+time.Second {
		t.Fatalf("Open took %v to give up, connect timeout %v", took, timeout)
	}
	t.Logf("error after %v: %s", took, msg)
}

func TestOpenEvictionPolicy(t *testing.T) {
	t.Parallel()
	srv := valkeytest.Start(t, "--maxmemory-policy", "allkeys-lru")
	e, err := Open(t.Context(), Options{URL: srv.URL()})
	if err == nil {
		_ = e.Close()
		t.Fatal("Open accepted a server with maxmemory-policy allkeys-lru")
	}
	if !errors.Is(err, ErrEvictionPolicy) {
		t.Fatalf("Open error %v is not ErrEvictionPolicy", err)
	}
	for _, want := range []string{"allkeys-lru", "noeviction", srv.Addr} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// SkipPolicyCheck is the documented escape hatch.
	e, err = Open(t.Context(), Options{URL: srv.URL(), SkipPolicyCheck: true})
	if err != nil {
		t.Fatalf("Open with SkipPolicyCheck: %v", err)
	}
	_ = e.Close()
}

func TestOpenConfigDisabled(t *testing.T) {
	t.Parallel()
	// Managed services often rename CONFIG away; the check must then fail
	// clearly rather than pass silently.
	srv := valkeytest.Start(t, "--rename-command", "CONFIG", "")
	_, err := Open(t.Context(), Options{URL: srv.URL()})
	if !errors.Is(err, ErrEvictionPolicy) || !strings.Contains(err.Error(), "SkipPolicyCheck") {
		t.Fatalf("Open without CONFIG = %v; want ErrEvictionPolicy naming SkipPolicyCheck", err)
	}
	e, err := Open(t.Context(), Options{URL: srv.URL(), SkipPolicyCheck: true})
	if err != nil {
		t.Fatalf("Open with SkipPolicyCheck: %v", err)
	}
	_ = e.Close()
}

func TestOpenWarnsWithoutFsync(t *testing.T) {
	t.Parallel()
	srv := valkeytest.Start(t, "--appendfsync", "everysec")
	var buf syncBuffer
	e, err := Open(t.Context(), Options{URL: srv.URL(), Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	mustNil(t, err)
	_ = e.Close()
	if !strings.Contains(buf.String(), "appendfsync=everysec") {
		t.Fatalf("no durability warning; log: %s", buf.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the engine's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestOpenBadPrefix(t *testing.T) {
	t.Parallel()
	if _, err := Open(t.Context(), Options{URL: "redis://127.0.0.1:1/0", Prefix: "a{b}"}); err == nil {
		t.Fatal("Open accepted a prefix with braces")
	}
}

// TestKeysShareHashTag exercises every kind of key and checks that all of
// them carry the queue's hash tag, and that payloads appear only in job
// hashes.
func TestKeysShareHashTag(t *testing.T) {
	t.Parallel()
	url := sharedServer(t)
	prefix := randomPrefix()
	e := open(t, url, prefix)
	ctx := t.Context()
	payload := "routing-" + prefix
	var jobs []queue.NewJob
	for i := range 6 {
		jobs = append(jobs, queue.NewJob{ID: fmt.Sprintf("j%d", i), Lane: fmt.Sprintf("lane:{odd}%d", i%3), Kind: "k",
			Payload: []byte(payload), MaxAttempts: 2, Backoff: time.Hour})
	}
	mustEnqueue(t, e, jobs...)
	leases, err := e.Reserve(ctx, queue.ReserveRequest{Max: 3, Lock: time.Minute})
	if err != nil || len(leases) != 3 {
		t.Fatalf("Reserve = %d, %v", len(leases), err)
	}
	mustNil(t, e.Complete(ctx, leases[0].Job.ID, leases[0].Token))
	_, err = e.Fail(ctx, leases[1].Job.ID, leases[1].Token, queue.Failure{Reason: "r", Retryable: true})
	mustNil(t, err)
	_, err = e.Fail(ctx, leases[2].Job.ID, leases[2].Token, queue.Failure{Reason: "r"})
	mustNil(t, err)

	keys, err := e.rdb.Keys(ctx, prefix+"*").Result()
	mustNil(t, err)
	if len(keys) < 10 {
		t.Fatalf("only %d keys: %v", len(keys), keys)
	}
	tag := prefix + ":{" + prefix + "}:"
	for _, k := range keys {
		if !strings.HasPrefix(k, tag) {
			t.Errorf("key %q does not start with %q", k, tag)
		}
		typ, err := e.rdb.Type(ctx, k).Result()
		mustNil(t, err)
		if strings.HasPrefix(k, tag+"job:") || typ != "string" && typ != "list" && typ != "zset" && typ != "hash" && typ != "stream" {
			continue
		}
		// Outside job hashes, no structure may hold the payload.
		if dump, _ := e.rdb.Dump(ctx, k).Result(); strings.Contains(dump, payload) {
			t.Errorf("key %q (%s) contains a payload", k, typ)
		}
	}
	t.Logf("%d keys, all under %q", len(keys), tag)
}

func TestStatsAndEvents(t *testing.T) {
	t.Parallel()
	url := sharedServer(t)
	e := open(t, url, randomPrefix())
	ctx := t.Context()
	mustEnqueue(t, e, queue.NewJob{ID: "a", Lane: "l", Kind: "k"}, queue.NewJob{ID: "b", Lane: "m", Kind: "k", MaxAttempts: 1})
	mustEnqueue(t, e, queue.NewJob{ID: "a", Lane: "l", Kind: "k"}) // duplicate: not counted
	leases, err := e.Reserve(ctx, queue.ReserveRequest{Max: 2, Lock: 50 * time.Millisecond})
	if err != nil || len(leases) != 2 {
		t.Fatalf("Reserve = %d, %v", len(leases), err)
	}
	for _, l := range leases {
		if l.Job.ID == "a" {
			mustNil(t, e.Complete(ctx, l.Job.ID, l.Token))
		}
	}
	time.Sleep(60 * time.Millisecond) // b's lease expires; its only attempt stalls
	if got, _ := e.Reserve(ctx, queue.ReserveRequest{Lock: time.Minute}); len(got) != 0 {
		t.Fatalf("Reserve after the stall = %v", got)
	}
	st, err := e.Stats(ctx)
	mustNil(t, err)
	if want := (Stats{Enqueued: 2, Completed: 1, Failed: 1, Stalls: 1}); st != want {
		t.Fatalf("Stats = %+v, want %+v", st, want)
	}
	evs, err := e.Events(ctx, 100)
	mustNil(t, err)
	var types []string
	for i := len(evs) - 1; i >= 0; i-- {
		types = append(types, evs[i].Type+":"+evs[i].JobID)
		if evs[i].Time.IsZero() || time.Since(evs[i].Time) > time.Minute {
			t.Errorf("event %+v has a bad time", evs[i])
		}
	}
	want := "enqueued:a enqueued:b active:a active:b completed:a stalled:b failed:b"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("events = %s\nwant      %s", got, want)
	}
	j, err := e.Get(ctx, "b")
	mustNil(t, err)
	if j.State != queue.StateFailed || !strings.Contains(j.LastError, "stalled") {
		t.Fatalf("stalled job = %+v", j)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	url := sharedServer(t)
	e := open(t, url, randomPrefix())
	if h := e.Health(t.Context()); h.Status != plugin.HealthOK {
		t.Fatalf("Health = %+v", h)
	}
	_ = e.Close()
	if h := e.Health(t.Context()); h.Status != plugin.HealthDegraded {
		t.Fatalf("Health after Close = %+v", h)
	}
	if _, err := e.Counts(t.Context(), ""); !errors.Is(err, queue.ErrClosed) {
		t.Fatalf("Counts after Close = %v, want ErrClosed", err)
	}
	if _, err := e.Reserve(t.Context(), queue.ReserveRequest{Lock: time.Second}); !errors.Is(err, queue.ErrClosed) {
		t.Fatalf("Reserve after Close = %v, want ErrClosed", err)
	}
}

// TestRetention checks that finished jobs older than the retention are
// pruned (amortised over later finishes) and their IDs become free.
func TestRetention(t *testing.T) {
	t.Parallel()
	url := sharedServer(t)
	ctx := t.Context()
	prefix := randomPrefix()
	e, err := Open(ctx, Options{URL: url, Prefix: prefix, CompletedRetention: 50 * time.Millisecond, FailedRetention: -1})
	mustNil(t, err)
	t.Cleanup(func() { _ = e.Close() })
	finish := func(id string, ok bool) {
		t.Helper()
		mustEnqueue(t, e, queue.NewJob{ID: id, Lane: id, Kind: "k", MaxAttempts: 1})
		ls, err := e.Reserve(ctx, queue.ReserveRequest{Lock: time.Minute})
		if err != nil || len(ls) != 1 {
			t.Fatalf("Reserve = %v, %v", ls, err)
		}
		if ok {
			mustNil(t, e.Complete(ctx, ls[0].Job.ID, ls[0].Token))
		} else {
			_, err := e.Fail(ctx, ls[0].Job.ID, ls[0].Token, queue.Failure{Reason: "x"})
			mustNil(t, err)
		}
	}
	finish("old-ok", true)
	finish("old-bad", false)
	time.Sleep(100 * time.Millisecond)
	finish("new-ok", true)
	finish("new-bad", false)
	if _, err := e.Get(ctx, "old-ok"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("old completed job not pruned: %v", err)
	}
	if _, err := e.Get(ctx, "old-bad"); err != nil {
		t.Fatalf("failed job pruned despite FailedRetention -1: %v", err)
	}
	c, err := e.Counts(ctx, "")
	mustNil(t, err)
	if c != (queue.Counts{Completed: 1, Failed: 2}) {
		t.Fatalf("Counts = %+v", c)
	}
	if c, _ := e.Counts(ctx, "old-ok"); c != (queue.Counts{}) {
		t.Fatalf("lane counts of the pruned job = %+v", c)
	}
	if res, _ := e.Enqueue(ctx, []queue.NewJob{{ID: "old-ok", Lane: "x", Kind: "k"}}); !res[0].Created {
		t.Fatal("a pruned ID is still deduplicated")
	}
}

// TestRetryDelayMatchesContract checks the Lua backoff against
// queue.RetryDelay, including the cap.
func TestRetryDelayMatchesContract(t *testing.T) {
	t.Parallel()
	url := sharedServer(t)
	e := open(t, url, randomPrefix())
	ctx := t.Context()
	for _, tc := range []struct {
		backoff  time.Duration
		attempts int
	}{{time.Second, 1}, {1500 * time.Microsecond, 3}, {10 * time.Minute, 4}, {90 * time.Minute, 2}} {
		id := fmt.Sprintf("j-%d-%d", tc.backoff, tc.attempts)
		// Start the job with attempts-1 failures by stepping Fail in place:
		// set att directly, which is what failing would have left.
		mustEnqueue(t, e, queue.NewJob{ID: id, Lane: id, Kind: "k", MaxAttempts: 10, Backoff: tc.backoff})
		mustNil(t, e.rdb.HSet(ctx, e.base+"job:"+id, "att", tc.attempts-1).Err())
		ls, err := e.Reserve(ctx, queue.ReserveRequest{Lock: time.Minute})
		if err != nil || len(ls) != 1 || ls[0].Job.ID != id {
			t.Fatalf("Reserve = %v, %v; want %s", ls, err, id)
		}
		before := time.Now()
		res, err := e.Fail(ctx, id, ls[0].Token, queue.Failure{Reason: "x", Retryable: true})
		mustNil(t, err)
		want := queue.RetryDelay(tc.backoff, tc.attempts)
		got := res.AvailableAt.Sub(before)
		if got < want-5*time.Millisecond || got > want+time.Second {
			t.Errorf("backoff %v after %d attempts: delay %v, want %v", tc.backoff, tc.attempts, got, want)
		}
		// Out of the way, so that its retry cannot be reserved by the next
		// round.
		mustNil(t, e.Cancel(ctx, id))
	}
}

func mustEnqueue(t testing.TB, e *Engine, jobs ...queue.NewJob) {
	t.Helper()
	if _, err := e.Enqueue(context.Background(), jobs); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
}

func mustNil(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestOutOfMemory fills a server to maxmemory: Enqueue is refused whole
// (nothing half-stored), while the scripts that do not grow the data keep
// working, so workers can finish jobs and ClearLane can make room.
func TestOutOfMemory(t *testing.T) {
	t.Parallel()
	srv := valkeytest.Start(t, "--maxmemory", "3mb")
	e := open(t, srv.URL(), randomPrefix())
	ctx := t.Context()
	payload := []byte(strings.Repeat("r", 200))
	var stored int64
	var oom error
	for b := 0; b < 200 && oom == nil; b++ {
		jobs := make([]queue.NewJob, 100)
		for i := range jobs {
			jobs[i] = queue.NewJob{ID: fmt.Sprintf("b%d-%d", b, i), Lane: fmt.Sprintf("lane-%d", b%4), Kind: "k", Payload: payload}
		}
		if _, err := e.Enqueue(ctx, jobs); err != nil {
			oom = err
		} else {
			stored += int64(len(jobs))
		}
	}
	if oom == nil || !strings.Contains(oom.Error(), "OOM") {
		t.Fatalf("after %d jobs Enqueue error = %v; want an OOM refusal", stored, oom)
	}
	t.Logf("refused after %d jobs: %v", stored, oom)
	c, err := e.Counts(ctx, "")
	mustNil(t, err)
	if c != (queue.Counts{Waiting: stored}) {
		t.Fatalf("Counts at maxmemory = %+v, want %d waiting (the refused batch must leave nothing)", c, stored)
	}
	ls, err := e.Reserve(ctx, queue.ReserveRequest{Max: 4, Lock: time.Minute})
	if err != nil || len(ls) != 4 {
		t.Fatalf("Reserve at maxmemory = %d leases, %v", len(ls), err)
	}
	for _, l := range ls {
		mustNil(t, e.Complete(ctx, l.Job.ID, l.Token))
	}
	for lane := range 4 {
		_, err := e.ClearLane(ctx, fmt.Sprintf("lane-%d", lane))
		mustNil(t, err)
	}
	mustEnqueue(t, e, queue.NewJob{ID: "after", Lane: "x", Kind: "k"})
}
