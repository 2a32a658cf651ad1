package access_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/bundled"
	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/supervisor"
	authapikey "github.com/claude-mem/claude-mem-server/plugins/auth-apikey"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
)

func TestMain(m *testing.M) {
	code := m.Run()
	hosttest.Cleanup()
	os.Exit(code)
}

// BenchmarkAuthOverhead measures what authentication and authorization add
// to a request, through the bundled auth-apikey plugin running as a
// subprocess: "none" is the same router without the middleware, "cached"
// reuses a verification (every request but one a second), "uncached" asks
// the plugin over gRPC on every request, and "plugin-call" is that call
// alone. Targets: ≤ 20 µs cached, ≤ 300 µs uncached.
func BenchmarkAuthOverhead(b *testing.B) {
	sup := supervisor.New(supervisor.Options{DataDir: b.TempDir(), StartTimeout: 10 * time.Second})
	defer sup.Stop()
	bp, err := bundled.Lookup(plugin.KindAuth, authapikey.Info.Name)
	if err != nil {
		b.Fatal(err)
	}
	p, err := sup.Start(context.Background(), supervisor.Spec{Kind: plugin.KindAuth, Name: bp.Name, Path: hosttest.Binary(b), Args: bp.Args()})
	if err != nil {
		b.Fatal(err)
	}
	provider := func() (auth.Provider, error) { return supervisor.Service[auth.Provider](p) }
	prov, err := provider()
	if err != nil {
		b.Fatal(err)
	}
	_, secret, err := prov.CreateKey(context.Background(), auth.KeySpec{TeamID: "bench", Scopes: []string{auth.ScopeRead}})
	if err != nil {
		b.Fatal(err)
	}
	noop := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }
	router := func(ttl time.Duration) http.Handler {
		r := chi.NewRouter()
		if ttl != 0 {
			acc, err := access.New(access.Options{Mode: access.ModeAPIKey, Provider: provider, CacheTTL: ttl, RateLimitPerMinute: 1 << 30})
			if err != nil {
				b.Fatal(err)
			}
			r.Use(acc.Middleware)
		}
		r.Get("/v1/info", noop)
		return r
	}
	for _, bc := range []struct {
		name string
		ttl  time.Duration
	}{{"none", 0}, {"cached", access.MaxCacheTTL}, {"uncached", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			h := router(bc.ttl)
			req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/v1/info", nil)
			req.RemoteAddr = "127.0.0.1:40000"
			req.Header.Set("Authorization", "Bearer "+secret)
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusNoContent {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N), "µs/op")
		})
	}
	// The floor of "uncached": one Authenticate call to the plugin.
	b.Run("plugin-call", func(b *testing.B) {
		for b.Loop() {
			if _, err := prov.Authenticate(context.Background(), secret); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N), "µs/op")
	})
}
