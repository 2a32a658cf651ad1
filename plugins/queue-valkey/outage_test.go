package queuevalkey

import (
	"context"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/plugins/queue-valkey/valkeytest"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// TestRestartDurability kills the server with SIGKILL and restarts it: what
// the engine acknowledged survives (AOF, fsync always), and a job that was
// reserved but never finished stalls back once its lock expires.
func TestRestartDurability(t *testing.T) {
	t.Parallel()
	srv := valkeytest.Start(t)
	prefix := randomPrefix()
	ctx := t.Context()
	e := open(t, srv.URL(), prefix)
	mustEnqueue(t, e,
		queue.NewJob{ID: "a1", Lane: "a", Kind: "k"}, queue.NewJob{ID: "a2", Lane: "a", Kind: "k"},
		queue.NewJob{ID: "b1", Lane: "b", Kind: "k", Payload: []byte("route-b1")})
	leases, err := e.Reserve(ctx, queue.ReserveRequest{Max: 2, Lock: 700 * time.Millisecond})
	if err != nil || len(leases) != 2 {
		t.Fatalf("Reserve = %d leases, %v", len(leases), err)
	}
	var running queue.Lease
	for _, l := range leases {
		if l.Job.ID == "b1" {
			mustNil(t, e.Complete(ctx, l.Job.ID, l.Token))
		} else {
			running = l
		}
	}
	_ = e.Close()

	srv.Stop()
	srv.Restart(t)

	e2 := open(t, srv.URL(), prefix)
	for id, want := range map[string]queue.State{"a2": queue.StateWaiting, "b1": queue.StateCompleted} {
		j, err := e2.Get(ctx, id)
		if err != nil || j.State != want {
			t.Fatalf("after restart Get(%s) = %+v, %v; want %v", id, j, err, want)
		}
	}
	if j, _ := e2.Get(ctx, "b1"); string(j.Payload) != "route-b1" {
		t.Fatalf("payload after restart = %q", j.Payload)
	}
	ls, err := e2.Reserve(ctx, queue.ReserveRequest{Lock: time.Minute, Wait: 5 * time.Second})
	if err != nil || len(ls) != 1 {
		t.Fatalf("Reserve after restart = %d leases, %v", len(ls), err)
	}
	if ls[0].Job.ID != "a1" || ls[0].Job.Attempts != 1 {
		t.Fatalf("Reserve after restart = %s (Attempts %d), want the stalled a1 with 1", ls[0].Job.ID, ls[0].Job.Attempts)
	}
	if time.Now().Before(running.LockedUntil) {
		t.Fatalf("a1 was retaken before its lock expired at %s", running.LockedUntil.Format(time.StampMilli))
	}
	mustNil(t, e2.Complete(ctx, "a1", ls[0].Token))
	c, err := e2.Counts(ctx, "")
	mustNil(t, err)
	if c != (queue.Counts{Waiting: 1, Completed: 2}) {
		t.Fatalf("Counts after restart = %+v", c)
	}
}

// TestOutage stops the server under two open engines (two hosts): calls fail
// promptly, Health turns degraded, and after a restart everything works
// again, including a blocked Reserve woken by the other host's Enqueue,
// which needs the wake subscription to have come back.
func TestOutage(t *testing.T) {
	t.Parallel()
	srv := valkeytest.Start(t)
	prefix := randomPrefix()
	ctx := t.Context()
	a := open(t, srv.URL(), prefix)
	b := open(t, srv.URL(), prefix)
	mustEnqueue(t, b, queue.NewJob{ID: "before", Lane: "l", Kind: "k"})
	held, err := a.Reserve(ctx, queue.ReserveRequest{Lock: time.Minute})
	if err != nil || len(held) != 1 {
		t.Fatalf("Reserve = %v, %v", held, err)
	}

	// A Reserve blocked when the server goes away returns (empty or with an
	// error) instead of hanging.
	blocked := make(chan error, 1)
	go func() {
		ls, err := a.Reserve(ctx, queue.ReserveRequest{Lock: time.Minute, Wait: 1500 * time.Millisecond, Worker: "blocked"})
		if err == nil && len(ls) > 0 {
			t.Errorf("Reserve across the outage leased %v", ls)
		}
		blocked <- err
	}()
	time.Sleep(100 * time.Millisecond) // let it block
	srv.Stop()

	if h := a.Health(ctx); h.Status != plugin.HealthDegraded {
		t.Fatalf("Health during the outage = %+v", h)
	} else {
		t.Logf("health during the outage: %s", h.Detail)
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	start := time.Now()
	_, err = a.Counts(cctx, "")
	cancel()
	if err == nil {
		t.Fatal("Counts during the outage succeeded")
	}
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Fatalf("Counts during the outage took %v, beyond its ctx", took)
	}
	t.Logf("Counts during the outage failed after %v: %v", time.Since(start), err)
	if _, err := b.Enqueue(ctx, []queue.NewJob{{ID: "lost", Lane: "l", Kind: "k"}}); err == nil {
		t.Fatal("Enqueue during the outage succeeded")
	}
	select {
	case err := <-blocked:
		t.Logf("Reserve blocked across the outage returned: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("a Reserve blocked across the outage did not return")
	}

	srv.Restart(t)
	deadline := time.Now().Add(10 * time.Second)
	for a.Health(ctx).Status != plugin.HealthOK || b.Health(ctx).Status != plugin.HealthOK {
		if time.Now().After(deadline) {
			t.Fatalf("Health after restart: a %+v, b %+v", a.Health(ctx), b.Health(ctx))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The lease taken before the outage survived it.
	if j, err := a.Get(ctx, "before"); err != nil || j.State != queue.StateActive {
		t.Fatalf("Get after restart = %+v, %v; want the job still active", j, err)
	}
	mustNil(t, a.Complete(ctx, "before", held[0].Token))

	// A blocked Reserve on a wakes when b enqueues: that takes the wake
	// subscription, not a re-check (those run every 500 ms only while it
	// is down).
	type result struct {
		leases []queue.Lease
		err    error
		at     time.Time
	}
	ch := make(chan result, 1)
	go func() {
		ls, err := a.Reserve(ctx, queue.ReserveRequest{Lock: time.Minute, Wait: 5 * time.Second})
		ch <- result{ls, err, time.Now()}
	}()
	time.Sleep(100 * time.Millisecond)
	mustEnqueue(t, b, queue.NewJob{ID: "after", Lane: "m", Kind: "k"})
	enqueued := time.Now()
	r := <-ch
	if r.err != nil || len(r.leases) != 1 || r.leases[0].Job.ID != "after" {
		t.Fatalf("woken Reserve = %v, %v", r.leases, r.err)
	}
	lat := r.at.Sub(enqueued)
	t.Logf("cross-host wake-up after the restart: %v", lat)
	if lat > 250*time.Millisecond {
		t.Fatalf("cross-host wake-up after the restart took %v", lat)
	}
}

// TestCrossHostWake checks the wake-up latency between two engines, which
// only the pub/sub channel connects.
func TestCrossHostWake(t *testing.T) {
	t.Parallel()
	url := sharedServer(t)
	prefix := randomPrefix()
	a := open(t, url, prefix)
	b := open(t, url, prefix)
	ctx := t.Context()
	var worst time.Duration
	for i := range 5 {
		ch := make(chan time.Time, 1)
		go func() {
			ls, err := a.Reserve(ctx, queue.ReserveRequest{Lock: time.Minute, Wait: 5 * time.Second})
			if err != nil || len(ls) != 1 {
				t.Errorf("Reserve = %v, %v", ls, err)
			}
			ch <- time.Now()
		}()
		time.Sleep(50 * time.Millisecond)
		start := time.Now()
		mustEnqueue(t, b, queue.NewJob{ID: "j" + string(rune('0'+i)), Lane: "l" + string(rune('0'+i)), Kind: "k"})
		worst = max(worst, (<-ch).Sub(start))
	}
	t.Logf("worst cross-host wake-up: %v", worst)
	if worst > 250*time.Millisecond {
		t.Fatalf("cross-host wake-up took %v (contract: 50 ms)", worst)
	}
}
