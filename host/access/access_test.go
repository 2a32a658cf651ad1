package access_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/supervisor"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// fakeProvider authenticates a fixed set of credentials.
type fakeProvider struct {
	mu    sync.Mutex
	keys  map[string]auth.Principal
	calls atomic.Int64
	down  atomic.Bool
	delay time.Duration
}

func (f *fakeProvider) Authenticate(_ context.Context, cred string) (auth.Principal, error) {
	f.calls.Add(1)
	time.Sleep(f.delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.keys[cred]
	if !ok {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	return p, nil
}

func (f *fakeProvider) revoke(cred string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.keys, cred)
}

func (f *fakeProvider) CreateKey(context.Context, auth.KeySpec) (auth.Key, string, error) {
	return auth.Key{}, "", auth.ErrUnsupported
}
func (f *fakeProvider) ListKeys(context.Context, string) ([]auth.Key, error) { return nil, nil }
func (f *fakeProvider) RevokeKey(context.Context, string) error              { return nil }
func (f *fakeProvider) Close() error                                         { return nil }

var _ auth.Provider = (*fakeProvider)(nil)

const (
	readKey    = "cm_read"
	writeKey   = "cm_write"
	adminKey   = "cm_admin"
	allKey     = "cm_all"
	boundKey   = "cm_bound"
	expiredKey = "cm_expired"
	teamless   = "cm_teamless"
)

type testBundle struct {
	prov   *fakeProvider
	acc    *access.Access
	router chi.Router
	now    atomic.Pointer[time.Time]
}

func (b *testBundle) advance(d time.Duration) {
	t := b.now.Load().Add(d)
	b.now.Store(&t)
}

func setup(t *testing.T, mode string, mutate func(*access.Options)) *testBundle {
	t.Helper()
	b := &testBundle{prov: &fakeProvider{keys: map[string]auth.Principal{
		readKey:    {KeyID: "k-read", TeamID: "a", Scopes: []string{auth.ScopeRead}, Actor: "reader"},
		writeKey:   {KeyID: "k-write", TeamID: "a", Scopes: []string{auth.ScopeWrite}},
		adminKey:   {KeyID: "k-admin", TeamID: "a", Scopes: []string{auth.ScopeAdmin}},
		allKey:     {KeyID: "k-all", TeamID: "a", Scopes: []string{auth.ScopeAll}},
		boundKey:   {KeyID: "k-bound", TeamID: "a", ProjectID: "7", Scopes: []string{auth.ScopeRead}},
		expiredKey: {KeyID: "k-exp", TeamID: "a", Scopes: []string{auth.ScopeRead}, ExpiresAt: time.Unix(1000, 0)},
		teamless:   {KeyID: "k-none", Scopes: []string{auth.ScopeAll}},
	}}}
	start := time.Unix(1_800_000_000, 0)
	b.now.Store(&start)
	opts := access.Options{
		Mode: mode, Provider: func() (auth.Provider, error) {
			if b.prov.down.Load() {
				return nil, supervisor.ErrUnavailable
			}
			return b.prov, nil
		},
		Policy: access.NewPolicy(
			access.Rule{Method: http.MethodGet, Pattern: "/healthz", Scope: access.Public},
			access.Rule{Method: http.MethodGet, Pattern: "/r", Scope: auth.ScopeRead, ProjectAware: true},
			access.Rule{Method: http.MethodGet, Pattern: "/r/{id}", Scope: auth.ScopeRead},
			access.Rule{Method: http.MethodPost, Pattern: "/w", Scope: auth.ScopeWrite, ProjectAware: true},
			access.Rule{Method: http.MethodPost, Pattern: "/a", Scope: auth.ScopeAdmin, ProjectAware: true},
			access.Rule{Method: http.MethodGet, Pattern: "/i", Scope: access.Authenticated, ProjectAware: true},
		),
		Now: func() time.Time { return *b.now.Load() },
	}
	if mutate != nil {
		mutate(&opts)
	}
	acc, err := access.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	b.acc = acc
	r := httpapi.NewRouter(httpapi.Deps{Info: func(context.Context) httpapi.Info { return httpapi.Info{Status: "ok"} }, Middleware: []func(http.Handler) http.Handler{acc.Middleware}})
	echo := func(w http.ResponseWriter, r *http.Request) {
		p, _ := access.PrincipalFrom(r.Context())
		team, err := access.TeamOf(r)
		if err != nil {
			team = "none"
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{"key": p.KeyID, "team": team, "actor": p.Actor})
	}
	r.Get("/r", echo)
	r.Get("/r/{id}", echo)
	r.Post("/w", echo)
	r.Post("/a", echo)
	r.Get("/i", echo)
	r.Get("/undeclared", echo)
	b.router = r
	return b
}

type reply struct {
	status int
	body   map[string]any
	header http.Header
}

// do serves a request from a loopback peer to a loopback Host unless
// mutate says otherwise.
func (b *testBundle) do(t *testing.T, method, path string, mutate func(*http.Request)) reply {
	t.Helper()
	req := httptest.NewRequest(method, "http://127.0.0.1:37700"+path, nil)
	req.RemoteAddr = "127.0.0.1:50000"
	if mutate != nil {
		mutate(req)
	}
	rec := httptest.NewRecorder()
	b.router.ServeHTTP(rec, req)
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return reply{status: rec.Code, body: body, header: rec.Header()}
}

func key(k string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+k) }
}

func TestLocalMode(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		mutate func(*http.Request)
		status int
		team   string
	}{
		"loopback, no key":          {nil, http.StatusOK, access.LocalTeam},
		"ipv6 loopback":             {func(r *http.Request) { r.RemoteAddr = "[::1]:5000"; r.Host = "[::1]:37700" }, http.StatusOK, access.LocalTeam},
		"localhost host":            {func(r *http.Request) { r.Host = "localhost:37700" }, http.StatusOK, access.LocalTeam},
		"key in local mode":         {key(readKey), http.StatusOK, "a"},
		"invalid key in local mode": {key("cm_nope"), http.StatusUnauthorized, ""},
		"forwarded for":             {func(r *http.Request) { r.Header.Set("X-Forwarded-For", "10.0.0.1") }, http.StatusUnauthorized, ""},
		"forwarded host":            {func(r *http.Request) { r.Header.Set("X-Forwarded-Host", "localhost") }, http.StatusUnauthorized, ""},
		"rfc 7239 forwarded":        {func(r *http.Request) { r.Header.Set("Forwarded", "for=10.0.0.1") }, http.StatusUnauthorized, ""},
		"x-real-ip":                 {func(r *http.Request) { r.Header.Set("X-Real-Ip", "10.0.0.1") }, http.StatusUnauthorized, ""},
		"foreign host header":       {func(r *http.Request) { r.Host = "evil.example:37700" }, http.StatusUnauthorized, ""},
		"rebinding host":            {func(r *http.Request) { r.Host = "127.0.0.1.evil.example" }, http.StatusUnauthorized, ""},
		"empty host":                {func(r *http.Request) { r.Host = "" }, http.StatusUnauthorized, ""},
		"remote peer":               {func(r *http.Request) { r.RemoteAddr = "192.168.1.5:5000" }, http.StatusUnauthorized, ""},
		"forwarded with key":        {func(r *http.Request) { key(readKey)(r); r.Header.Set("X-Forwarded-For", "10.0.0.1") }, http.StatusOK, "a"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, access.ModeLocal, nil)
			got := b.do(t, http.MethodGet, "/r", tc.mutate)
			if got.status != tc.status {
				t.Fatalf("status %d %v, want %d", got.status, got.body, tc.status)
			}
			if tc.team != "" && got.body["team"] != tc.team {
				t.Fatalf("acts for team %v, want %s", got.body["team"], tc.team)
			}
			if got.status == http.StatusUnauthorized && (got.body["code"] != access.CodeUnauthenticated || got.header.Get("WWW-Authenticate") == "") {
				t.Fatalf("401 without code or WWW-Authenticate: %v %v", got.body, got.header)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	type want map[string]int // key → status
	tests := map[string]struct {
		method, path string
		want         want
	}{
		"public": {http.MethodGet, "/healthz", want{"": 200, readKey: 200, "cm_garbage": 200}},
		"read": {http.MethodGet, "/r", want{"": 401, readKey: 200, writeKey: 403, adminKey: 403, allKey: 200, boundKey: 200,
			expiredKey: 401, teamless: 401, "cm_garbage": 401}},
		"read, not project-aware": {http.MethodGet, "/r/1", want{readKey: 200, boundKey: 403, allKey: 200}},
		"write":                   {http.MethodPost, "/w", want{"": 401, readKey: 403, writeKey: 200, adminKey: 403, allKey: 200}},
		"admin":                   {http.MethodPost, "/a", want{readKey: 403, writeKey: 403, adminKey: 200, allKey: 200}},
		"any valid key":           {http.MethodGet, "/i", want{"": 401, readKey: 200, writeKey: 200, adminKey: 200, boundKey: 200, expiredKey: 401, "cm_garbage": 401}},
		"undeclared":              {http.MethodGet, "/undeclared", want{"": 401, readKey: 403, adminKey: 403, allKey: 200}},
		"no route":                {http.MethodGet, "/nope", want{"": 401, readKey: 404, "cm_garbage": 401}},
		"wrong method":            {http.MethodDelete, "/r", want{"": 401, readKey: 405}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, access.ModeAPIKey, nil)
			for k, status := range tc.want {
				var m func(*http.Request)
				if k != "" {
					m = func(r *http.Request) { r.Header.Set("X-Api-Key", k) }
				}
				if got := b.do(t, tc.method, tc.path, m); got.status != status {
					t.Errorf("key %q: %s %s = %d %v, want %d", k, tc.method, tc.path, got.status, got.body, status)
				}
			}
		})
	}
}

func TestCacheRevocationAndOutage(t *testing.T) {
	t.Parallel()
	b := setup(t, access.ModeAPIKey, nil)
	for range 5 {
		if got := b.do(t, http.MethodGet, "/r", key(readKey)); got.status != http.StatusOK {
			t.Fatalf("status %d", got.status)
		}
	}
	if n := b.prov.calls.Load(); n != 1 {
		t.Fatalf("5 requests within the TTL asked the provider %d times, want 1", n)
	}
	// Revoked at the provider: still trusted until the TTL ends, never after.
	b.prov.revoke(readKey)
	b.advance(900 * time.Millisecond)
	if got := b.do(t, http.MethodGet, "/r", key(readKey)); got.status != http.StatusOK {
		t.Fatalf("within the TTL: %d", got.status)
	}
	b.advance(100 * time.Millisecond)
	if got := b.do(t, http.MethodGet, "/r", key(readKey)); got.status != http.StatusUnauthorized {
		t.Fatalf("a key revoked 1s ago still works: %d", got.status)
	}
	// Failures are not cached, Forget drops a key at once.
	b.do(t, http.MethodGet, "/r", key(writeKey))
	b.prov.revoke(writeKey)
	b.acc.Forget("k-write")
	if got := b.do(t, http.MethodPost, "/w", key(writeKey)); got.status != http.StatusUnauthorized {
		t.Fatalf("forgotten key: %d", got.status)
	}
	// A provider that is down is a 503, except for keys verified a moment ago.
	b.do(t, http.MethodPost, "/a", key(adminKey))
	b.prov.down.Store(true)
	if got := b.do(t, http.MethodPost, "/a", key(adminKey)); got.status != http.StatusOK {
		t.Fatalf("cached key during an outage: %d", got.status)
	}
	if got := b.do(t, http.MethodPost, "/w", key(allKey)); got.status != http.StatusServiceUnavailable || got.body["code"] != httpapi.CodeServiceUnavailable {
		t.Fatalf("uncached key during an outage: %d %v", got.status, got.body)
	}
}

func TestCacheTTLIsAtMostOneSecond(t *testing.T) {
	t.Parallel()
	b := setup(t, access.ModeAPIKey, func(o *access.Options) { o.CacheTTL = time.Hour })
	b.do(t, http.MethodGet, "/r", key(readKey))
	b.prov.revoke(readKey)
	b.advance(access.MaxCacheTTL)
	if got := b.do(t, http.MethodGet, "/r", key(readKey)); got.status != http.StatusUnauthorized {
		t.Fatalf("a TTL of an hour was not capped: %d", got.status)
	}
}

func TestConcurrentVerificationsShareOneCall(t *testing.T) {
	t.Parallel()
	b := setup(t, access.ModeAPIKey, nil)
	b.prov.delay = 50 * time.Millisecond
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := b.acc.Verify(context.Background(), readKey); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := b.prov.calls.Load(); n != 1 {
		t.Fatalf("20 concurrent verifications made %d calls, want 1", n)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, access.ModeAPIKey, func(o *access.Options) { o.RateLimitPerMinute = 3 })
	for i := range 3 {
		if got := b.do(t, http.MethodGet, "/r", key(readKey)); got.status != http.StatusOK {
			t.Fatalf("request %d: %d", i, got.status)
		}
	}
	got := b.do(t, http.MethodGet, "/r", key(readKey))
	if got.status != http.StatusTooManyRequests || got.body["code"] != access.CodeRateLimited {
		t.Fatalf("4th request: %d %v", got.status, got.body)
	}
	if ra, err := strconv.Atoi(got.header.Get("Retry-After")); err != nil || ra != 20 {
		t.Fatalf("Retry-After %q, want 20 (one token at 3/min)", got.header.Get("Retry-After"))
	}
	// Another key has its own bucket; the local owner has none.
	if got := b.do(t, http.MethodGet, "/r", key(allKey)); got.status != http.StatusOK {
		t.Fatalf("another key: %d", got.status)
	}
	b.advance(20 * time.Second)
	if got := b.do(t, http.MethodGet, "/r", key(readKey)); got.status != http.StatusOK {
		t.Fatalf("after Retry-After: %d", got.status)
	}
	local := setup(t, access.ModeLocal, func(o *access.Options) { o.RateLimitPerMinute = 1 })
	for range 5 {
		if got := local.do(t, http.MethodGet, "/r", nil); got.status != http.StatusOK {
			t.Fatalf("local owner limited: %d", got.status)
		}
	}
}

func TestProjectHelpers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if access.ProjectAllowed(ctx, 1) {
		t.Error("no principal may see a project")
	}
	if _, err := access.TeamOf(httptest.NewRequest(http.MethodGet, "/", nil)); !errors.Is(err, access.ErrNoPrincipal) {
		t.Errorf("TeamOf without principal: %v", err)
	}
	free := access.WithPrincipal(ctx, auth.Principal{TeamID: "a"})
	bound := access.WithPrincipal(ctx, auth.Principal{TeamID: "a", ProjectID: "7"})
	odd := access.WithPrincipal(ctx, auth.Principal{TeamID: "a", ProjectID: "my-project"})
	switch {
	case !access.ProjectAllowed(free, 1), !access.ProjectAllowed(bound, 7), access.ProjectAllowed(bound, 8):
		t.Error("ProjectAllowed")
	case access.ProjectAllowed(odd, 7):
		t.Error("a binding that is not an ID must fail closed")
	case access.ProjectFilter(free) != nil, len(access.ProjectFilter(bound)) != 1 || access.ProjectFilter(bound)[0] != 7:
		t.Error("ProjectFilter")
	}
}

func TestLoopbackHost(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.0.0.1:80": true, "127.8.9.10": true, "localhost": true, "LOCALHOST:1": true, "::1": true, "[::1]:80": true,
		"0.0.0.0": false, "::": false, "": false, "10.0.0.1": false, "localhost.evil": false, "example.com": false, "[::]:80": false,
	} {
		if got := access.LoopbackHost(host); got != want {
			t.Errorf("LoopbackHost(%q) = %v", host, got)
		}
	}
}

func TestPolicy(t *testing.T) {
	t.Parallel()
	p := access.NewPolicy(access.Routes...)
	if r, ok := p.Rule(http.MethodGet, "/v1/events/{id}"); !ok || r.Scope != auth.ScopeRead {
		t.Fatalf("GET /v1/events/{id}: %+v %v", r, ok)
	}
	if r, ok := p.Rule(http.MethodGet, "/v1/not-declared"); ok || r.Scope != access.UndeclaredScope {
		t.Fatalf("undeclared: %+v %v", r, ok)
	}
	if err := p.Declare(access.Rule{Method: http.MethodGet, Pattern: "/v1/events/{id}", Scope: auth.ScopeWrite}); err == nil {
		t.Fatal("redeclaring a route with another scope must fail")
	}
	if err := p.Declare(access.Rule{Method: http.MethodGet, Pattern: "/x", Scope: "memories:delete"}); err == nil {
		t.Fatal("an unknown scope must fail")
	}
}
