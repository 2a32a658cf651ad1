package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/jobs"
	"github.com/claude-mem/claude-mem-server/host/server"
	"github.com/claude-mem/claude-mem-server/host/server/servertest"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

func TestMain(m *testing.M) {
	code := m.Run()
	hosttest.Cleanup()
	os.Exit(code)
}

type host struct {
	srv  *server.Server
	base string
}

// start runs a real host (bundled plugins as subprocesses) in mode, with two extra job kinds: one that always fails for good, one
// that fails once and then succeeds.
func start(t *testing.T, mode string) *host {
	t.Helper()
	srv := servertest.Start(t, servertest.WithConfig(func(cfg *config.Config) {
		cfg.Auth.Mode = mode
		cfg.Auth.RateLimitPerMinute = 0
	}), servertest.BeforeServe(func(srv *server.Server) {
		srv.Handle("metrics-test-fail", func(context.Context, jobs.Job) error {
			return jobs.Permanent(errors.New("always fails"))
		})
		srv.Handle("metrics-test-flaky", func(_ context.Context, j jobs.Job) error {
			if j.Attempt == 1 {
				return errors.New("fails once")
			}
			return nil
		})
	}))
	return &host{srv: srv.Server, base: srv.Base}
}

func (h *host) key(t *testing.T, scopes ...string) string {
	t.Helper()
	k, err := h.srv.Admin().CreateKey(context.Background(), access.LocalOwner(), access.CreateKeyRequest{Scopes: scopes, Name: strings.Join(scopes, "+")})
	if err != nil {
		t.Fatal(err)
	}
	return k.Secret
}

func (h *host) call(t *testing.T, method, path, key, body string) (int, []byte, http.Header) {
	t.Helper()
	return servertest.Call(t, method, h.base+path, key, body)
}

func (h *host) must(t *testing.T, want int, method, path, key, body string) {
	t.Helper()
	if got, b, _ := h.call(t, method, path, key, body); got != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, got, b, want)
	}
}

// scrape fetches /metrics over HTTP and parses the text exposition.
func (h *host) scrape(t *testing.T, key string) map[string]*dto.MetricFamily {
	t.Helper()
	status, body, hdr := h.call(t, http.MethodGet, "/metrics", key, "")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics = %d %s", status, body)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type = %q, want the text exposition format", ct)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return fams
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// find returns the series of family name whose labels include want.
func find(fams map[string]*dto.MetricFamily, name string, want map[string]string) []*dto.Metric {
	var out []*dto.Metric
	for _, m := range fams[name].GetMetric() {
		ls := labels(m)
		ok := true
		for k, v := range want {
			if ls[k] != v {
				ok = false
			}
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	}
	return 0
}

func TestMetricsOverHTTP(t *testing.T) {
	t.Parallel()
	h := start(t, config.AuthAPIKey)
	root := h.key(t, auth.ScopeAll)
	admin := h.key(t, auth.ScopeAdmin)
	read := h.key(t, auth.ScopeRead)

	if _, _, err := h.srv.Admin().CreateProject(context.Background(), access.LocalOwner(), access.CreateProjectRequest{Name: "metrics-demo"}); err != nil {
		t.Fatal(err)
	}
	h.must(t, http.StatusCreated, http.MethodPost, "/v1/sessions/start", root, `{"content_session_id":"cs-metrics","project":"metrics-demo"}`)
	const events = 3
	for i := range events {
		h.must(t, http.StatusCreated, http.MethodPost, "/v1/events", root,
			fmt.Sprintf(`{"type":"user_prompt","content_session_id":"cs-metrics","project":"metrics-demo","text":"prompt %d"}`, i))
	}
	h.must(t, http.StatusUnauthorized, http.MethodPost, "/v1/events", "", `{}`)
	h.must(t, http.StatusUnauthorized, http.MethodGet, "/metrics", "", "")
	h.must(t, http.StatusForbidden, http.MethodGet, "/metrics", read, "")
	h.must(t, http.StatusForbidden, http.MethodPost, "/v1/events", read, `{}`)
	h.must(t, http.StatusNotFound, http.MethodGet, "/no/such/route/12345", root, "")

	err := h.srv.Jobs().Submit(context.Background(), []jobs.Job{
		{ID: "metrics-fail-1", Lane: "metrics", Kind: "metrics-test-fail", MaxAttempts: 3, Backoff: 10 * time.Millisecond},
		{ID: "metrics-flaky-1", Lane: "metrics", Kind: "metrics-test-flaky", MaxAttempts: 3, Backoff: 10 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}

	var fams map[string]*dto.MetricFamily
	deadline := time.Now().Add(20 * time.Second)
	for {
		fams = h.scrape(t, admin)
		fail := find(fams, "claude_mem_job_failures_total", map[string]string{"kind": "metrics-test-fail"})
		retry := find(fams, "claude_mem_job_retries_total", map[string]string{"kind": "metrics-test-flaky"})
		if len(fail) == 1 && value(fail[0]) == 1 && len(retry) == 1 && value(retry[0]) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job failure and retry counters never reached 1: failures %v, retries %v", fail, retry)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Request latency, by route pattern.
	if f := fams["http_request_duration_seconds"]; f.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("http_request_duration_seconds is %v, want a histogram", f.GetType())
	}
	ok := find(fams, "http_request_duration_seconds", map[string]string{"method": "POST", "route": "/v1/events", "status": "201"})
	if len(ok) != 1 || ok[0].GetHistogram().GetSampleCount() != events {
		t.Errorf("POST /v1/events 201 series = %v, want one with %d samples", ok, events)
	}
	if s := find(fams, "http_request_duration_seconds", map[string]string{"route": "/metrics", "status": "403"}); len(s) != 1 {
		t.Errorf("the denied scrape is not timed under route /metrics: %v", s)
	}
	if s := find(fams, "http_request_duration_seconds", map[string]string{"route": "unmatched", "status": "404"}); len(s) != 1 {
		t.Errorf("the unrouted request is not under route unmatched: %v", s)
	}
	for _, m := range fams["http_request_duration_seconds"].GetMetric() {
		if r := labels(m)["route"]; strings.Contains(r, "12345") || strings.Contains(r, "cs-metrics") {
			t.Errorf("a raw path leaked into the route label: %q", r)
		}
	}

	// Auth failures.
	for reason, atLeast := range map[string]float64{"unauthenticated": 2, "forbidden": 2, "rate_limited": 0} {
		s := find(fams, "claude_mem_auth_failures_total", map[string]string{"reason": reason})
		if len(s) != 1 || value(s[0]) < atLeast {
			t.Errorf("auth failures %s = %v, want ≥ %v", reason, s, atLeast)
		}
	}

	// Plugins: one restart counter and one up gauge per plugin.
	statuses := h.srv.Supervisor().Statuses()
	if len(statuses) == 0 {
		t.Fatal("no plugins")
	}
	for _, st := range statuses {
		want := map[string]string{"plugin": st.Name, "kind": string(st.Kind)}
		if s := find(fams, "claude_mem_plugin_restarts_total", want); len(s) != 1 || value(s[0]) != 0 {
			t.Errorf("plugin_restarts_total for %s = %v, want one series at 0", st.Name, s)
		}
		if s := find(fams, "claude_mem_plugin_up", want); len(s) != 1 || value(s[0]) != 1 {
			t.Errorf("plugin_up for %s = %v, want 1", st.Name, s)
		}
	}

	// Queue depth and job age, per state.
	for _, state := range []string{"waiting", "active", "delayed", "completed", "failed"} {
		if s := find(fams, "claude_mem_queue_jobs", map[string]string{"state": state}); len(s) != 1 {
			t.Errorf("queue_jobs{state=%q} missing", state)
		}
	}
	for _, st := range []string{jobs.StatusQueued, jobs.StatusEnqueued, jobs.StatusProcessing, jobs.StatusRetryScheduled} {
		if s := find(fams, "claude_mem_outbox_oldest_job_age_seconds", map[string]string{"status": st}); len(s) != 1 {
			t.Errorf("outbox_oldest_job_age_seconds{status=%q} missing", st)
		}
	}
	if s := find(fams, "claude_mem_outbox_jobs", map[string]string{"status": jobs.StatusFailed}); len(s) != 1 || value(s[0]) < 1 {
		t.Errorf("outbox_jobs{status=failed} = %v, want ≥ 1", s)
	}
	for _, src := range []string{"queue", "outbox", "outbox_age", "budget"} {
		if s := find(fams, "claude_mem_metrics_source_up", map[string]string{"source": src}); len(s) != 1 || value(s[0]) != 1 {
			t.Errorf("metrics_source_up{source=%q} = %v, want 1", src, s)
		}
	}

	// Provider spend.
	for _, typ := range []string{"input", "output", "total"} {
		if s := find(fams, "claude_mem_provider_tokens_today", map[string]string{"type": typ}); len(s) != 1 {
			t.Errorf("provider_tokens_today{type=%q} missing", typ)
		}
	}
	for _, name := range []string{"claude_mem_provider_calls_today", "claude_mem_provider_daily_token_budget", "go_goroutines", "process_open_fds"} {
		if fams[name] == nil {
			t.Errorf("family %s missing", name)
		}
	}
}

// In local mode a direct loopback request is the local owner, who may
// scrape without a key.
func TestMetricsLocalModeLoopback(t *testing.T) {
	t.Parallel()
	h := start(t, config.AuthLocal)
	fams := h.scrape(t, "")
	for _, name := range []string{"claude_mem_queue_jobs", "claude_mem_plugin_up", "claude_mem_auth_failures_total"} {
		if fams[name] == nil {
			t.Errorf("local scrape: family %s missing", name)
		}
	}
}
