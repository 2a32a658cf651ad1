package client_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/server/servertest"
	"github.com/claude-mem/claude-mem-server/sdk/client"
)

func TestNew(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		base    string
		wantErr bool
		want    string
	}{
		"plain":          {base: "http://127.0.0.1:37700", want: "http://127.0.0.1:37700"},
		"trailing slash": {base: "https://mem.example.com/", want: "https://mem.example.com"},
		"path prefix":    {base: "https://example.com/mem/", want: "https://example.com/mem"},
		"no scheme":      {base: "127.0.0.1:37700", wantErr: true},
		"other scheme":   {base: "ftp://example.com", wantErr: true},
		"query":          {base: "http://example.com/?a=b", wantErr: true},
		"empty":          {base: "", wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := client.New(tt.base)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("New(%q) = %v, want an error", tt.base, c.BaseURL())
				}
				return
			}
			if err != nil || c.BaseURL() != tt.want {
				t.Fatalf("New(%q) = %v, %v; want %s", tt.base, c, err, tt.want)
			}
		})
	}
}

func TestHealthInfoOpenAPI(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// /healthz needs no key.
	anon := newClient(t, serverURL, "")
	h := must(anon.Health(ctx))(t)
	if h.Status != "ok" || h.Runtime == "" {
		t.Fatalf("health %+v", h)
	}
	info := must(rootClient(t).Info(ctx))(t)
	if info.Name != "claude-mem-server" || info.AuthMode != config.AuthAPIKey || info.Status != "ok" || len(info.Plugins) == 0 || info.Outbox == nil ||
		info.Queue == nil || info.StartedAt.IsZero() || info.StartedAt.After(time.Now()) {
		t.Fatalf("info %+v", info)
	}
	for _, p := range info.Plugins {
		if p.Name == "" || p.PID == 0 {
			t.Fatalf("plugin %+v", p)
		}
	}
	_, err := anon.Info(ctx)
	if !client.IsUnauthorized(err) {
		t.Fatalf("info without a key: %v, want 401", err)
	}

	// GET /v1/openapi.json is served without a key once it is mounted.
	doc, err := anon.OpenAPI(ctx)
	if client.IsNotFound(err) || client.IsUnauthorized(err) {
		t.Skipf("the server does not serve /v1/openapi.json yet: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var openapi struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(doc, &openapi); err != nil || openapi.OpenAPI == "" || len(openapi.Paths) == 0 {
		t.Fatalf("openapi document (%v): %.200s", err, doc)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c, _ := newTeam(t)

	// 404, 400 (bad input), 400 (bad path parameter), 401 (wrong key).
	_, err := c.GetProject(ctx, 1<<40)
	e := wantAPIError(t, err, http.StatusNotFound, client.CodeNotFound)
	if !client.IsNotFound(err) || client.IsBadRequest(err) || client.StatusCode(err) != http.StatusNotFound ||
		e.Method != http.MethodGet || e.Path != "/v1/projects/1099511627776" || !strings.Contains(e.Error(), "not_found") {
		t.Fatalf("404: %+v (%v)", e, err)
	}
	_, err = c.CreateMemory(ctx, client.CreateMemoryRequest{Text: "no project"})
	wantAPIError(t, err, http.StatusBadRequest, client.CodeInvalidRequest)
	if !client.IsBadRequest(err) {
		t.Fatalf("IsBadRequest(%v) = false", err)
	}
	_, err = c.GetEvent(ctx, 0)
	wantAPIError(t, err, http.StatusBadRequest, client.CodeBadRequest)

	_, err = newClient(t, serverURL, "cm_wrong").ListProjects(ctx)
	wantAPIError(t, err, http.StatusUnauthorized, client.CodeUnauthenticated)
	if !client.IsUnauthorized(err) {
		t.Fatalf("IsUnauthorized(%v) = false", err)
	}

	// A network error is not an *Error.
	dead := newClient(t, "http://127.0.0.1:1", "")
	if _, err := dead.Health(ctx); err == nil || client.StatusCode(err) != 0 {
		t.Fatalf("dead server: %v", err)
	}
}

// An answer that is not the server's JSON, from a proxy in front of it,
// still becomes an *Error, and a 2xx that is not JSON a decode error.
func TestErrorsFromAProxy(t *testing.T) {
	t.Parallel()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			_, _ = w.Write([]byte("<html>OK</html>"))
			return
		}
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("<html>upstream down</html>"))
	}))
	t.Cleanup(proxy.Close)
	c := newClient(t, proxy.URL, "")
	_, err := c.Info(t.Context())
	e, ok := errors.AsType[*client.Error](err)
	if !ok || e.StatusCode != http.StatusServiceUnavailable || e.Code != "" || e.Message != "<html>upstream down</html>" || e.RetryAfter != 7*time.Second {
		t.Fatalf("proxy error: %+v", err)
	}
	if _, err := c.Health(t.Context()); err == nil || client.StatusCode(err) != 0 || !strings.Contains(err.Error(), "decode") {
		t.Fatalf("a 200 that is not JSON: %v", err)
	}
}

func TestRateLimited(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.WithConfig(func(cfg *config.Config) {
		cfg.Auth.Mode = config.AuthAPIKey
		cfg.Auth.RateLimitPerMinute = 2
	}))
	k := rootKeyOf(t, srv)
	c := newClient(t, srv.Base, k)
	var err error
	for range 3 {
		if _, err = c.Info(t.Context()); err != nil {
			break
		}
	}
	e := wantAPIError(t, err, http.StatusTooManyRequests, client.CodeRateLimited)
	if !client.IsRateLimited(err) || e.RetryAfter < time.Second || e.RetryAfter > time.Minute {
		t.Fatalf("429: %+v", e)
	}
}

// The suite decodes strictly (export_test.go): an answer with a field a
// client type lacks, or that its type would not encode back the same, is
// an error here, where production decoding accepts it.
func TestStrictDecodingInTests(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		body string
		want string
	}{
		"unknown field": {body: `{"status":"ok","added_later":1}`, want: "unknown field"},
		"lossy":         {body: `{"status":"ok","runtime":""}`, want: "re-encoding"},
		"exact":         {body: `{"status":"ok","runtime":"go"}`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			_, err := newClient(t, srv.URL, "").Health(t.Context())
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Health on %s: %v, want %q", tt.body, err, tt.want)
			}
		})
	}
}
