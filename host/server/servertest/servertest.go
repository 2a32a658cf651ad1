// Package servertest starts a real claude-mem host for tests: the bundled
// plugins run as subprocesses of the binary hosttest builds, and the HTTP
// API listens on a loopback port of its own.
package servertest

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/jobs"
	"github.com/claude-mem/claude-mem-server/host/server"
)

// Server is a running host.
type Server struct {
	*server.Server
	// Base is the API's URL, http://127.0.0.1:<port>.
	Base    string
	DataDir string
	// Stop drains and stops the host; the test's cleanup calls it too.
	Stop func()
}

// Option adjusts a test host.
type Option func(*options)

type options struct {
	configure   []func(*config.Config)
	beforeServe []func(*server.Server)
	logger      hclog.Logger
}

// WithLogger sends the host's log, and its plugins', to l.
func WithLogger(l hclog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithConfig changes the configuration before the host starts.
func WithConfig(fn func(*config.Config)) Option {
	return func(o *options) { o.configure = append(o.configure, fn) }
}

// BeforeServe runs fn between Start and Serve, for job handlers.
func BeforeServe(fn func(*server.Server)) Option {
	return func(o *options) { o.beforeServe = append(o.beforeServe, fn) }
}

// Start starts a host on fresh data and config directories. Its defaults
// suit tests: a 2 s job lease, so that abandoned jobs come back quickly.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cfg := config.Default(t.TempDir())
	cfg.DataDir = t.TempDir()
	cfg.Queue.LockDuration = 2 * time.Second
	for _, fn := range o.configure {
		fn(&cfg)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(context.Background(), server.Options{Config: cfg, Self: hosttest.Binary(t), Listener: l, Logger: o.logger})
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range o.beforeServe {
		fn(srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	var once sync.Once
	s := &Server{Server: srv, Base: "http://" + l.Addr().String(), DataDir: cfg.DataDir}
	s.Stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("servertest: serve: %v", err)
			}
		})
	}
	t.Cleanup(s.Stop)
	return s
}

// WaitIdle waits until no generation job is open and returns the outbox
// counts. A failed job fails the test, naming one with its error.
func (s *Server) WaitIdle(t testing.TB) map[string]int64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		counts, err := s.Jobs().Counts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		open := counts[jobs.StatusQueued] + counts[jobs.StatusEnqueued] + counts[jobs.StatusProcessing] + counts[jobs.StatusRetryScheduled]
		if open == 0 {
			if counts[jobs.StatusFailed] > 0 {
				var detail string
				_ = s.Store().Reader().QueryRow(`SELECT id || ': ' || last_error FROM generation_jobs WHERE status = 'failed' LIMIT 1`).Scan(&detail)
				t.Fatalf("servertest: %d jobs failed, e.g. %s", counts[jobs.StatusFailed], detail)
			}
			return counts
		}
		if time.Now().After(deadline) {
			t.Fatalf("servertest: jobs still open after 30s: %v", counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Call sends one request to url with key as a bearer token ("" for none)
// and body as JSON ("" for none), and returns the status, body and headers.
func Call(t testing.TB, method, url, key, body string) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out, resp.Header
}
