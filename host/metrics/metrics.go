// Package metrics exposes the host's Prometheus metrics at GET /metrics.
//
// Everything lives in a registry of its own, never the process-global
// default, so that two servers in one process (tests) do not collide and
// nothing a dependency registers leaks into the exposition.
//
// What the host already knows is read at scrape time rather than
// mirrored: queue depth comes from the engine's Counts, the outbox's
// counts and oldest open job from the store, plugin restarts from the
// supervisor, provider spend from the token budget. What only happens in
// passing is counted as it happens: request latency (Middleware), requests
// turned away by host/access (AuthFailure) and failed job attempts
// (JobAttemptFailed, a jobs.Observer).
//
// docs/metrics.md lists every metric.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/claude-mem/claude-mem-server/host/jobs"
	"github.com/claude-mem/claude-mem-server/host/provider"
	"github.com/claude-mem/claude-mem-server/host/store"
	"github.com/claude-mem/claude-mem-server/host/supervisor"
	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// Path is where the metrics are served.
const Path = "/metrics"

// Namespace prefixes the host's own metrics.
const Namespace = "claude_mem"

// scrapeTimeout bounds the reads of one scrape.
const scrapeTimeout = 2 * time.Second

// Unmatched is the route label of a request that matched no route: the
// raw path is never a label, its values are unbounded.
const Unmatched = "unmatched"

// Sources are where the scrape-time collectors read. Every field is
// optional; a missing source is left out of the exposition.
type Sources struct {
	// Engine returns the queue engine, or an error while it is down.
	Engine func() (queue.Engine, error)
	// Outbox counts the outbox's jobs by status (jobs.Service.Counts).
	Outbox func(ctx context.Context) (map[string]int64, error)
	// Store is the host store, for the age of the oldest open jobs.
	Store *store.Store
	// Plugins reports the supervised plugins.
	Plugins func() []supervisor.Status
	// Budget reports the provider's spend; it may return ErrNoSource
	// until the provider is configured.
	Budget func(ctx context.Context) (provider.BudgetStatus, error)
}

// ErrNoSource is returned by a source that is not there (yet).
var ErrNoSource = errors.New("metrics: source not configured")

// Metrics holds the registry and the host's event-driven metrics.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.HistogramVec
	authFailures *prometheus.CounterVec
	jobRetries   *prometheus.CounterVec
	jobFailures  *prometheus.CounterVec
}

// Auth failure reasons: the error codes host/access answers with.
var authReasons = []string{"unauthenticated", "forbidden", "rate_limited"}

// New builds the registry: the Go and process collectors, the host's
// counters and histogram, and the scrape-time collector over src.
func New(src Sources) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Latency of HTTP requests, by method, chi route pattern and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "auth_failures_total",
			Help: "Requests turned away by authentication or authorization, by reason (unauthenticated, forbidden, rate_limited).",
		}, []string{"reason"}),
		jobRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "job_retries_total",
			Help: "Failed job attempts that were scheduled for a retry, by job kind.",
		}, []string{"kind"}),
		jobFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "job_failures_total",
			Help: "Jobs that failed for good (permanent error or attempts exhausted), by job kind.",
		}, []string{"kind"}),
	}
	for _, r := range authReasons {
		m.authFailures.WithLabelValues(r) // present at 0 from the start
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.authFailures, m.jobRetries, m.jobFailures,
		newStateCollector(src),
	)
	return m
}

// Registry is the registry the metrics are in; packages may add theirs.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the exposition, in the text or protobuf format the
// scraper negotiates.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}

// Mount serves GET /metrics on r. Its scope is declared in access.Routes.
func (m *Metrics) Mount(r chi.Router) { r.Method(http.MethodGet, Path, m.Handler()) }

// AuthFailure counts a request host/access turned away; reason is the
// error code it answered with. It fits access.Options.OnDenied.
func (m *Metrics) AuthFailure(reason string) { m.authFailures.WithLabelValues(reason).Inc() }

// JobAttemptFailed counts a failed job attempt: a retry, or a final
// failure. It makes Metrics a jobs.Observer.
func (m *Metrics) JobAttemptFailed(kind string, final bool) {
	if final {
		m.jobFailures.WithLabelValues(kind).Inc()
	} else {
		m.jobRetries.WithLabelValues(kind).Inc()
	}
}

var _ jobs.Observer = (*Metrics)(nil)

// Middleware times every request and records it under its chi route
// pattern. Install it on the root router, before host/access, so that
// requests turned away there are timed too.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		defer func() {
			status := ww.Status()
			if p := recover(); p != nil {
				m.observe(r, http.StatusInternalServerError, start)
				panic(p) // the recoverer outside answers it
			}
			if status == 0 {
				status = http.StatusOK
			}
			m.observe(r, status, start)
		}()
		next.ServeHTTP(ww, r)
	})
}

func (m *Metrics) observe(r *http.Request, status int, start time.Time) {
	m.requests.WithLabelValues(methodLabel(r.Method), routeOf(r), strconv.Itoa(status)).Observe(time.Since(start).Seconds())
}

// routeOf returns the chi pattern r was (or would have been) dispatched
// to, or Unmatched.
func routeOf(r *http.Request) string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return Unmatched
	}
	if p := rctx.RoutePattern(); p != "" && p != "/*" {
		return p
	}
	// Turned away before dispatch (401, 403, 429): find the pattern the
	// way chi would have, as host/access does.
	if rctx.Routes == nil {
		return Unmatched
	}
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	if path == "" {
		path = "/"
	}
	if p := rctx.Routes.Find(chi.NewRouteContext(), r.Method, path); p != "" {
		return p
	}
	return Unmatched
}

// methodLabel bounds the method label to the standard methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// stateCollector reads the host's live state at scrape time.
type stateCollector struct {
	src Sources

	sourceUp        *prometheus.Desc
	queueJobs       *prometheus.Desc
	outboxJobs      *prometheus.Desc
	outboxOldest    *prometheus.Desc
	pluginRestarts  *prometheus.Desc
	pluginUp        *prometheus.Desc
	tokensToday     *prometheus.Desc
	callsToday      *prometheus.Desc
	dailyBudget     *prometheus.Desc
	fallbackActive  *prometheus.Desc
	budgetFallbacks *prometheus.Desc
	budgetRefused   *prometheus.Desc
}

func newStateCollector(src Sources) *stateCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
	}
	return &stateCollector{
		src:             src,
		sourceUp:        d("metrics_source_up", "Whether the last scrape could read a source (queue, outbox, budget): 1 or 0.", "source"),
		queueJobs:       d("queue_jobs", "Jobs in the queue engine, by state (waiting, active, delayed, completed, failed).", "state"),
		outboxJobs:      d("outbox_jobs", "Jobs in the host outbox (generation_jobs), by status.", "status"),
		outboxOldest:    d("outbox_oldest_job_age_seconds", "Age of the oldest open outbox job, by status; 0 when there is none.", "status"),
		pluginRestarts:  d("plugin_restarts_total", "Times the supervisor restarted a plugin since the host started.", "plugin", "kind"),
		pluginUp:        d("plugin_up", "Whether a plugin is running (1) or starting, restarting or stopped (0).", "plugin", "kind"),
		tokensToday:     d("provider_tokens_today", "Provider tokens spent this UTC day, all projects, by type (input, output, total).", "provider", "type"),
		callsToday:      d("provider_calls_today", "Provider calls this UTC day, all projects.", "provider"),
		dailyBudget:     d("provider_daily_token_budget", "The daily token budget; 0 means none.", "provider"),
		fallbackActive:  d("provider_budget_fallback_active", "1 while calls are turned away by a token budget.", "provider"),
		budgetFallbacks: d("provider_budget_fallbacks_total", "Calls sent to the heuristic provider by a budget since the host started.", "provider"),
		budgetRefused:   d("provider_budget_refused_total", "Calls refused by a budget since the host started.", "provider"),
	}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.sourceUp, c.queueJobs, c.outboxJobs, c.outboxOldest, c.pluginRestarts, c.pluginUp,
		c.tokensToday, c.callsToday, c.dailyBudget, c.fallbackActive, c.budgetFallbacks, c.budgetRefused} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	up := func(source string, err error) bool {
		v := 1.0
		if err != nil {
			v = 0
		}
		gauge(c.sourceUp, v, source)
		return err == nil
	}

	if c.src.Engine != nil {
		counts, err := c.queueCounts(ctx)
		if up("queue", err) {
			for state, n := range map[string]int64{
				queue.StateWaiting.String(): counts.Waiting, queue.StateActive.String(): counts.Active,
				queue.StateDelayed.String(): counts.Delayed, queue.StateCompleted.String(): counts.Completed,
				queue.StateFailed.String(): counts.Failed,
			} {
				gauge(c.queueJobs, float64(n), state)
			}
		}
	}

	if c.src.Outbox != nil {
		counts, err := c.src.Outbox(ctx)
		if up("outbox", err) {
			for _, st := range outboxStatuses {
				gauge(c.outboxJobs, float64(counts[st]), st)
			}
		}
	}
	if c.src.Store != nil {
		ages, err := oldestOpen(ctx, c.src.Store, time.Now())
		if up("outbox_age", err) {
			for _, st := range openStatuses {
				gauge(c.outboxOldest, ages[st], st)
			}
		}
	}

	if c.src.Plugins != nil {
		for _, p := range c.src.Plugins() {
			counter(c.pluginRestarts, float64(p.Restarts), p.Name, string(p.Kind))
			v := 0.0
			if p.State == supervisor.StateRunning {
				v = 1
			}
			gauge(c.pluginUp, v, p.Name, string(p.Kind))
		}
	}

	if c.src.Budget != nil {
		st, err := c.src.Budget(ctx)
		if !errors.Is(err, ErrNoSource) && up("budget", err) {
			p := st.Provider
			gauge(c.tokensToday, float64(st.Today.InputTokens), p, "input")
			gauge(c.tokensToday, float64(st.Today.OutputTokens), p, "output")
			gauge(c.tokensToday, float64(st.Today.Tokens), p, "total")
			gauge(c.callsToday, float64(st.Today.Calls), p)
			gauge(c.dailyBudget, float64(st.DailyLimit), p)
			active := 0.0
			if st.FallbackActive {
				active = 1
			}
			gauge(c.fallbackActive, active, p)
			counter(c.budgetFallbacks, float64(st.Fallbacks), p)
			counter(c.budgetRefused, float64(st.Refused), p)
		}
	}
}

func (c *stateCollector) queueCounts(ctx context.Context) (queue.Counts, error) {
	eng, err := c.src.Engine()
	if err != nil {
		return queue.Counts{}, err
	}
	return eng.Counts(ctx, "")
}

// The outbox statuses, each reported even at 0.
var (
	openStatuses   = []string{jobs.StatusQueued, jobs.StatusEnqueued, jobs.StatusProcessing, jobs.StatusRetryScheduled}
	outboxStatuses = append(append([]string(nil), openStatuses...), jobs.StatusCompleted, jobs.StatusFailed, jobs.StatusCancelled)
)

// oldestOpen returns, per open status, the age in seconds of its oldest
// job (by created_at).
func oldestOpen(ctx context.Context, st *store.Store, now time.Time) (map[string]float64, error) {
	rows, err := st.Reader().QueryContext(ctx, `SELECT status, MIN(created_at) FROM generation_jobs
		WHERE status IN (?, ?, ?, ?) GROUP BY status`, openStatuses[0], openStatuses[1], openStatuses[2], openStatuses[3])
	if err != nil {
		return nil, fmt.Errorf("metrics: oldest open jobs: %w", err)
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var status string
		var created int64
		if err := rows.Scan(&status, &created); err != nil {
			return nil, fmt.Errorf("metrics: oldest open jobs: %w", err)
		}
		out[status] = max(0, now.Sub(time.UnixMilli(created)).Seconds())
	}
	return out, rows.Err()
}
