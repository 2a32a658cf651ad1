package server_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/jobs"
	"github.com/claude-mem/claude-mem-server/host/server"
	"github.com/claude-mem/claude-mem-server/host/server/servertest"
	"github.com/claude-mem/claude-mem-server/plugins/queue-valkey/valkeytest"
)

// TestValkeyOutage kills Valkey under a running host: the host keeps
// acknowledging work into its SQLite outbox and reports degraded; when
// Valkey comes back, everything acknowledged runs, each job once.
func TestValkeyOutage(t *testing.T) {
	t.Parallel()
	redis := valkeytest.Start(t)
	var (
		mu      sync.Mutex
		effects = map[string]int{}
	)
	host := servertest.Start(t, servertest.WithConfig(func(cfg *config.Config) {
		cfg.Queue.Engine = config.EngineValkey
		cfg.Queue.RedisURL = redis.URL()
		cfg.Queue.RedisPrefix = "outage"
	}), servertest.BeforeServe(func(srv *server.Server) {
		srv.Handle("test", func(_ context.Context, j jobs.Job) error {
			mu.Lock()
			defer mu.Unlock()
			effects[j.ID]++
			return nil
		})
	}))
	srv, base, ctx := host.Server, host.Base, context.Background()

	submit := func(from, to int) {
		t.Helper()
		var batch []jobs.Job
		for i := from; i < to; i++ {
			batch = append(batch, jobs.Job{ID: fmt.Sprintf("job-%03d", i), Lane: fmt.Sprintf("lane-%d", i%5), Kind: "test"})
		}
		if err := srv.Jobs().Submit(ctx, batch); err != nil {
			t.Fatalf("submit %d..%d: %v", from, to, err)
		}
	}
	submit(0, 50)
	waitFor(t, 20*time.Second, "first jobs done", func() bool {
		c, err := srv.Jobs().Counts(ctx)
		return err == nil && c[jobs.StatusCompleted] == 50
	})

	redis.Stop()
	waitFor(t, 15*time.Second, "degraded health", func() bool {
		var h httpapi.Health
		return getJSON(t, base+"/healthz", &h) == http.StatusOK && h.Status == "degraded"
	})
	var info httpapi.Info
	if getJSON(t, base+"/v1/info", &info); info.Status != "degraded" || info.StatusDetail == "" {
		t.Fatalf("/v1/info during the outage: status %q detail %q", info.Status, info.StatusDetail)
	}
	submit(50, 120) // acknowledged while Valkey is down

	redis.Restart(t)
	waitFor(t, 40*time.Second, "every acknowledged job done", func() bool {
		c, err := srv.Jobs().Counts(ctx)
		return err == nil && c[jobs.StatusCompleted] == 120
	})
	// Health is probed on its own connection; it turns ok once that
	// connection is re-established, which may trail the workers a little.
	waitFor(t, 10*time.Second, "ok health after recovery", func() bool {
		var h httpapi.Health
		return getJSON(t, base+"/healthz", &h) == http.StatusOK && h.Status == "ok"
	})
	mu.Lock()
	defer mu.Unlock()
	for i := range 120 {
		if n := effects[fmt.Sprintf("job-%03d", i)]; n != 1 {
			t.Errorf("job-%03d took effect %d times, want once", i, n)
		}
	}
}
