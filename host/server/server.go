// Package server assembles the host: it opens the store, starts the
// plugins under supervision, runs the job workers and serves HTTP, and on
// shutdown drains in-flight requests and jobs before stopping the plugins.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/hashicorp/go-hclog"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/bundled"
	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/exchange"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/jobs"
	"github.com/claude-mem/claude-mem-server/host/mcpserver"
	"github.com/claude-mem/claude-mem-server/host/metrics"
	"github.com/claude-mem/claude-mem-server/host/openapi"
	"github.com/claude-mem/claude-mem-server/host/pipeline"
	"github.com/claude-mem/claude-mem-server/host/privacy"
	"github.com/claude-mem/claude-mem-server/host/provider"
	"github.com/claude-mem/claude-mem-server/host/restapi"
	"github.com/claude-mem/claude-mem-server/host/store"
	"github.com/claude-mem/claude-mem-server/host/supervisor"
	"github.com/claude-mem/claude-mem-server/host/version"
	queuesqlite "github.com/claude-mem/claude-mem-server/plugins/queue-sqlite"
	queuevalkey "github.com/claude-mem/claude-mem-server/plugins/queue-valkey"
	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// Options configure a Server.
type Options struct {
	Config config.Config
	// Self is the binary that serves the bundled plugins, normally the
	// running claude-mem executable.
	Self   string
	Logger hclog.Logger
	// Listener, when set, is used instead of listening on Config.Addr().
	Listener net.Listener
}

// Server is a running host.
type Server struct {
	opts      Options
	log       hclog.Logger
	store     *store.Store
	sup       *supervisor.Supervisor
	queue     *supervisor.Plugin
	adapters  map[string]*supervisor.Plugin // by public source name
	jobs      *jobs.Service
	router    chi.Router
	http      *http.Server
	listener  net.Listener
	startedAt time.Time

	budget  *provider.Budgeted
	metrics *metrics.Metrics

	auth   *supervisor.Plugin // the auth provider
	access *access.Access
	audit  *audit.Log

	workCancel context.CancelFunc
	stopOnce   sync.Once
}

// Start brings the host up: store, plugins, workers, HTTP. Any error is
// final and names what to fix; nothing falls back silently.
func Start(ctx context.Context, opts Options) (_ *Server, err error) {
	cfg := opts.Config
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	s := &Server{opts: opts, log: log, startedAt: time.Now()}
	defer func() {
		if err != nil {
			s.stop(context.Background())
		}
	}()
	if err := checkExposure(cfg, opts.Listener); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("server: data dir %s: %w", cfg.DataDir, err)
	}
	st, err := store.Open(ctx, filepath.Join(cfg.DataDir, store.FileName))
	if err != nil {
		return nil, err
	}
	s.store = st
	if applied, err := st.Migrate(ctx); err != nil {
		return nil, err
	} else if len(applied) > 0 {
		log.Info("applied store migrations", "count", len(applied), "latest", applied[len(applied)-1].Version)
	}

	s.sup = supervisor.New(supervisor.Options{
		DataDir: cfg.DataDir, StartTimeout: cfg.Plugins.StartTimeout, Logger: log.Named("plugin"),
		OnRestart: func(p *supervisor.Plugin) {
			if p.Kind() == plugin.KindQueue && s.jobs != nil {
				s.jobs.Kick(true) // the engine may have lost what it had not persisted
			}
		},
	})
	specs, err := s.pluginSpecs()
	if err != nil {
		return nil, err
	}
	for _, spec := range specs {
		p, err := s.sup.Start(ctx, spec)
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		switch spec.Kind {
		case plugin.KindQueue:
			s.queue = p
		case plugin.KindAuth:
			s.auth = p
		case plugin.KindAdapter:
			if err := s.addAdapter(ctx, p); err != nil {
				return nil, err
			}
		}
	}

	s.metrics = s.newMetrics()
	s.jobs = jobs.New(st, s.Engine, jobs.Options{
		Concurrency: cfg.Queue.Concurrency, Lock: cfg.Queue.LockDuration, Logger: log, Worker: hostname(), Observer: s.metrics,
	})
	if err := s.setupAccess(cfg); err != nil {
		return nil, err
	}
	s.router = httpapi.NewRouter(httpapi.Deps{Info: s.Info, Health: s.Health, MaxBodyBytes: cfg.Server.MaxBodyBytes, Logger: log.Named("http"), Middleware: append([]func(http.Handler) http.Handler{s.metrics.Middleware}, s.accessMiddleware()...)})
	s.mountAccess()
	s.metrics.Mount(s.router)
	if err := s.mountPipeline(cfg); err != nil {
		return nil, err
	}

	s.listener = opts.Listener
	if s.listener == nil {
		s.listener, err = net.Listen("tcp", cfg.Addr())
		if err != nil {
			return nil, fmt.Errorf("server: listen on %s: %w (is another server running? try `claude-mem server status`, or set CLAUDE_MEM_SERVER_PORT)", cfg.Addr(), err)
		}
	}
	return s, nil
}

// mountPipeline wires the memory write path (its routes) and the
// generation worker (its job handlers), with the configured provider
// inside its token budgets.
func (s *Server) mountPipeline(cfg config.Config) error {
	filter, err := privacy.New(cfg.Privacy)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	prov, err := provider.NewWithBudget(cfg.Generation, s.store)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	pl, err := pipeline.New(pipeline.Options{
		Store: s.store, Jobs: s.jobs, Provider: prov, Privacy: filter, Generation: cfg.Generation, Logger: s.log.Named("pipeline"),
		Team: access.TeamOf, Project: access.ProjectAllowed, Context: s.hookContext,
		Adapter: func(source string) (adapter.Adapter, error) {
			a, err := s.Adapter(source)
			if errors.Is(err, ErrUnknownAdapter) {
				return nil, fmt.Errorf("%w: %w", pipeline.ErrUnknownAdapter, err)
			}
			return a, err
		},
	})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	pl.Mount(s.router)
	pl.Register(s.Handle)
	if err := s.mountLegacy(pl, filter); err != nil {
		return err
	}
	rest := restapi.New(restapi.Options{Store: s.store, Jobs: s.jobs, Privacy: filter, Logger: s.log.Named("restapi")})
	rest.Mount(s.router)
	mcpserver.Mount(s.router, mcpserver.Options{Store: s.store, REST: rest.Handler()})
	exchange.Mount(s.router, s.store, s.log.Named("exchange"))
	s.router.Get(openapi.Path, openapi.Handler())
	s.budget = prov
	return nil
}

// ErrUnknownAdapter is returned for a source no adapter serves.
var ErrUnknownAdapter = errors.New("no adapter for this source")

// addAdapter learns an adapter's public source name from its manifest.
func (s *Server) addAdapter(ctx context.Context, p *supervisor.Plugin) error {
	a, err := supervisor.Service[adapter.Adapter](p)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	m, err := a.Manifest(ctx)
	if err != nil {
		return fmt.Errorf("server: adapter %s: manifest: %w", p.Name(), err)
	}
	if s.adapters == nil {
		s.adapters = map[string]*supervisor.Plugin{}
	}
	if other, dup := s.adapters[m.Source]; dup {
		return fmt.Errorf("server: adapters %s and %s both serve source %q; remove one from plugins.external", other.Name(), p.Name(), m.Source)
	}
	s.adapters[m.Source] = p
	return nil
}

// Adapter returns the adapter serving source ("claude-code", "generic"…):
// ErrUnknownAdapter when none does, supervisor.ErrUnavailable while its
// plugin is restarting.
func (s *Server) Adapter(source string) (adapter.Adapter, error) {
	p, ok := s.adapters[source]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownAdapter, source)
	}
	return supervisor.Service[adapter.Adapter](p)
}

// AdapterSources lists the sources the adapters serve.
func (s *Server) AdapterSources() []string {
	out := make([]string, 0, len(s.adapters))
	for src := range s.adapters {
		out = append(out, src)
	}
	slices.Sort(out)
	return out
}

// Handle registers a job handler; call before Serve.
func (s *Server) Handle(kind string, h jobs.Handler) { s.jobs.Handle(kind, h) }

// Router exposes the router so other packages can mount routes before Serve.
func (s *Server) Router() chi.Router { return s.router }

// Jobs is the job service.
func (s *Server) Jobs() *jobs.Service { return s.jobs }

// Supervisor is the plugin supervisor.
func (s *Server) Supervisor() *supervisor.Supervisor { return s.sup }

// Store is the host store.
func (s *Server) Store() *store.Store { return s.store }

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Engine returns the queue engine, or supervisor.ErrUnavailable while its
// plugin is down.
func (s *Server) Engine() (queue.Engine, error) { return supervisor.Service[queue.Engine](s.queue) }

// Serve runs the workers and HTTP until ctx ends, then drains and stops.
func (s *Server) Serve(ctx context.Context) error {
	workCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.workCancel = cancel
	s.jobs.Start(workCtx)
	go s.watchEngine(workCtx)
	s.http = &http.Server{Handler: s.router, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.listener) }()
	s.log.Info("server listening", "addr", s.listener.Addr().String(), "engine", s.opts.Config.EngineName(), "data_dir", s.opts.Config.DataDir)
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	shutdownCtx, done := context.WithTimeout(context.Background(), s.opts.Config.Server.ShutdownTimeout)
	defer done()
	s.stop(shutdownCtx)
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}

// engineCheckEvery is how often the queue engine's health is polled.
const engineCheckEvery = time.Second

// watchEngine notices when the queue engine recovers from an outage (Valkey
// back after a crash, say) and has the outbox re-enqueue every open job:
// whatever the engine lost while it was down is restored from SQLite.
func (s *Server) watchEngine(ctx context.Context) {
	t := time.NewTicker(engineCheckEvery)
	defer t.Stop()
	degraded := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		status, detail := s.engineHealth(hctx)
		cancel()
		now := status != plugin.HealthOK
		if degraded && !now {
			s.log.Info("queue engine recovered; re-enqueueing open jobs from the outbox")
			s.jobs.Kick(true)
		} else if !degraded && now {
			s.log.Warn("queue engine degraded; writes are kept in the outbox until it recovers", "detail", detail)
		}
		degraded = now
	}
}

// stop drains HTTP, then the workers, then stops the plugins and the store.
func (s *Server) stop(ctx context.Context) {
	s.stopOnce.Do(func() {
		if s.http != nil {
			if err := s.http.Shutdown(ctx); err != nil {
				s.log.Warn("http shutdown", "error", err)
			}
		} else if s.listener != nil {
			s.listener.Close()
		}
		if s.workCancel != nil {
			s.workCancel()
			s.jobs.Wait()
		}
		if s.audit != nil {
			s.audit.Close() // after the requests it records
		}
		if s.sup != nil {
			s.sup.Stop()
		}
		if s.store != nil {
			if err := s.store.Close(); err != nil {
				s.log.Warn("store close", "error", err)
			}
		}
		s.log.Info("server stopped")
	})
}

// pluginSpecs lists the plugins this server runs; see PluginSpecs.
func (s *Server) pluginSpecs() ([]supervisor.Spec, error) {
	return PluginSpecs(s.opts.Config, s.opts.Self)
}

// PluginSpecs lists the plugins a server with cfg runs, in start order: the
// configured queue engine, the auth provider, every bundled adapter, then
// the external plugins. self is the binary that serves the bundled plugins.
// `claude-mem server doctor` launches the same list.
func PluginSpecs(cfg config.Config, self string) ([]supervisor.Spec, error) {
	engine := queuesqlite.Info.Name
	var settings map[string]string
	if cfg.EngineName() == config.EngineValkey {
		engine = queuevalkey.Info.Name
		settings = map[string]string{queuevalkey.SettingURL: cfg.Queue.RedisURL, queuevalkey.SettingPrefix: cfg.Queue.RedisPrefix}
	}
	var specs []supervisor.Spec
	add := func(kind plugin.Kind, name string, settings map[string]string) error {
		b, err := bundled.Lookup(kind, name)
		if err != nil {
			return fmt.Errorf("server: %w", err)
		}
		specs = append(specs, supervisor.Spec{Kind: kind, Name: name, Path: self, Args: b.Args(), Settings: settings})
		return nil
	}
	if err := add(plugin.KindQueue, engine, settings); err != nil {
		return nil, err
	}
	for _, b := range bundled.Plugins {
		if b.Kind == plugin.KindAuth || b.Kind == plugin.KindAdapter {
			if err := add(b.Kind, b.Name, nil); err != nil {
				return nil, err
			}
		}
	}
	for _, ext := range cfg.Plugins.External {
		path := ext.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(cfg.Plugins.Dir, path)
		}
		specs = append(specs, supervisor.Spec{Kind: plugin.Kind(ext.Kind), Name: ext.Name, Path: path, SHA256: ext.SHA256})
	}
	return specs, nil
}

// Health answers /healthz: ok, or degraded while the queue engine is down
// or unreachable. It costs one plugin call, nothing more.
func (s *Server) Health(ctx context.Context) httpapi.Health {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	status, _ := s.engineHealth(ctx)
	return httpapi.Health{Status: status, Runtime: version.Runtime}
}

// engineHealth is the queue engine's health, with a detail when degraded.
func (s *Server) engineHealth(ctx context.Context) (string, string) {
	h, err := s.queue.Health(ctx)
	switch {
	case err != nil:
		return plugin.HealthDegraded, err.Error()
	case h.Status != plugin.HealthOK:
		return plugin.HealthDegraded, h.Detail
	}
	return plugin.HealthOK, ""
}

// Info builds the /v1/info document.
func (s *Server) Info(ctx context.Context) httpapi.Info {
	cfg := s.opts.Config
	info := httpapi.Info{
		Name: "claude-mem-server", Runtime: version.Runtime, Version: version.Version, Status: plugin.HealthOK,
		PID: os.Getpid(), StartedAt: s.startedAt.UTC().Format(time.RFC3339), UptimeSeconds: int64(time.Since(s.startedAt).Seconds()),
		QueueEngine: cfg.EngineName(), AuthMode: cfg.Auth.Mode, Plugins: s.sup.Statuses(),
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	info.Status, info.StatusDetail = s.engineHealth(ctx)
	if eng, err := s.Engine(); err == nil && info.Status == plugin.HealthOK {
		if c, err := eng.Counts(ctx, ""); err == nil {
			info.Queue = &httpapi.QueueCounts{Waiting: c.Waiting, Active: c.Active, Delayed: c.Delayed, Completed: c.Completed, Failed: c.Failed}
		}
	}
	if counts, err := s.jobs.Counts(ctx); err == nil {
		info.Outbox = counts
	}
	if s.budget != nil {
		if st, err := s.budget.Status(ctx); err == nil {
			info.Generation = &st
		}
	}
	return info
}

// newMetrics builds the /metrics registry over the host's live state,
// read at scrape time (host/metrics).
func (s *Server) newMetrics() *metrics.Metrics {
	return metrics.New(metrics.Sources{
		Engine: s.Engine, Store: s.store, Plugins: s.sup.Statuses,
		Outbox: func(ctx context.Context) (map[string]int64, error) { return s.jobs.Counts(ctx) },
		Budget: func(ctx context.Context) (provider.BudgetStatus, error) {
			if s.budget == nil {
				return provider.BudgetStatus{}, metrics.ErrNoSource
			}
			return s.budget.Status(ctx)
		},
	})
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "host"
	}
	return h
}
