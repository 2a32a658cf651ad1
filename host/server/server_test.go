package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/jobs"
	"github.com/claude-mem/claude-mem-server/host/server"
	"github.com/claude-mem/claude-mem-server/host/server/servertest"
	"github.com/claude-mem/claude-mem-server/host/supervisor"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
)

func TestMain(m *testing.M) {
	code := m.Run()
	hosttest.Cleanup()
	os.Exit(code)
}

type bundle struct {
	srv  *server.Server
	base string
}

// setup starts a real host with the bundled plugins as subprocesses.
func setup(t *testing.T, register func(*server.Server)) *bundle {
	t.Helper()
	opts := []servertest.Option{servertest.WithConfig(func(cfg *config.Config) { cfg.Queue.Concurrency = 4 })}
	if register != nil {
		opts = append(opts, servertest.BeforeServe(register))
	}
	srv := servertest.Start(t, opts...)
	return &bundle{srv: srv.Server, base: srv.Base}
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode %s: %v", url, err)
	}
	return resp.StatusCode
}

func TestInfoListsRunningPlugins(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	var h httpapi.Health
	if code := getJSON(t, b.base+"/healthz", &h); code != http.StatusOK || h.Status != "ok" {
		t.Fatalf("/healthz = %d %+v", code, h)
	}
	var info httpapi.Info
	if code := getJSON(t, b.base+"/v1/info", &info); code != http.StatusOK {
		t.Fatalf("/v1/info = %d", code)
	}
	if info.Generation == nil || info.Generation.Provider != "heuristic" || info.Generation.FallbackActive {
		t.Fatalf("info: generation %+v", info.Generation)
	}
	if info.QueueEngine != "sqlite" || info.Queue == nil {
		t.Fatalf("info: engine %q queue %+v", info.QueueEngine, info.Queue)
	}
	want := map[string]plugin.Kind{"queue-sqlite": plugin.KindQueue, "auth-apikey": plugin.KindAuth, "adapter-claudecode": plugin.KindAdapter, "adapter-generic": plugin.KindAdapter}
	if len(info.Plugins) != len(want) {
		t.Fatalf("info lists %d plugins, want %d: %+v", len(info.Plugins), len(want), info.Plugins)
	}
	for _, p := range info.Plugins {
		if want[p.Name] != p.Kind || p.State != supervisor.StateRunning || p.Protocol != 1 || p.PID <= 0 {
			t.Errorf("plugin %+v", p)
		}
	}
}

func TestJSONErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/nope", http.StatusNotFound, httpapi.CodeNotFound},
		{http.MethodPost, "/healthz", http.StatusMethodNotAllowed, httpapi.CodeMethodNotAllowed},
	} {
		req, _ := http.NewRequest(tc.method, b.base+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body httpapi.ErrorBody
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v", tc.method, tc.path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || body.Code != tc.code || body.Error == "" || body.RequestID == "" {
			t.Errorf("%s %s = %d %+v", tc.method, tc.path, resp.StatusCode, body)
		}
	}
}

// TestKill9OfQueuePluginLosesNothing kills the queue engine's process while
// the host is working through acknowledged jobs, and checks that every job
// still completes, and that each job's effect happens once.
func TestKill9OfQueuePluginLosesNothing(t *testing.T) {
	t.Parallel()
	const total = 200
	var (
		mu      sync.Mutex
		effects = map[string]int{}
	)
	b := setup(t, func(s *server.Server) {
		s.Handle("test", func(ctx context.Context, j jobs.Job) error {
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			effects[j.ID]++
			return nil
		})
	})
	ctx := context.Background()
	var batch []jobs.Job
	for i := range total {
		batch = append(batch, jobs.Job{ID: fmt.Sprintf("job-%03d", i), Lane: fmt.Sprintf("lane-%d", i%8), Kind: "test"})
	}
	if err := b.srv.Jobs().Submit(ctx, batch); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "some jobs done", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(effects) >= 20
	})
	var queuePID int
	for _, st := range b.srv.Supervisor().Statuses() {
		if st.Kind == plugin.KindQueue {
			queuePID = st.PID
		}
	}
	if err := syscall.Kill(queuePID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "every job completed", func() bool {
		counts, err := b.srv.Jobs().Counts(ctx)
		return err == nil && counts[jobs.StatusCompleted] == total
	})
	mu.Lock()
	defer mu.Unlock()
	if len(effects) != total {
		t.Fatalf("%d jobs had effects, want %d", len(effects), total)
	}
	for id, n := range effects {
		if n != 1 {
			t.Errorf("job %s took effect %d times, want once", id, n)
		}
	}
	for _, st := range b.srv.Supervisor().Statuses() {
		if st.Kind == plugin.KindQueue && (st.Restarts != 1 || st.State != supervisor.StateRunning) {
			t.Fatalf("queue plugin after kill -9: %+v", st)
		}
	}
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAdaptersByPublicName(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	if got := strings.Join(b.srv.AdapterSources(), ","); got != "claude-code,generic" {
		t.Fatalf("adapter sources = %q", got)
	}
	a, err := b.srv.Adapter("claude-code")
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.Manifest(context.Background())
	if err != nil || m.Source != "claude-code" {
		t.Fatalf("manifest %+v, %v", m, err)
	}
	if _, err := b.srv.Adapter("nope"); !errors.Is(err, server.ErrUnknownAdapter) {
		t.Fatalf("unknown source: err = %v", err)
	}
}
