package access

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/hashicorp/go-hclog"

	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// Modes, as config.Auth.Mode spells them.
const (
	ModeLocal  = "local"
	ModeAPIKey = "api-key"
)

// Error codes of the middleware.
const (
	CodeUnauthenticated = "unauthenticated"
	CodeForbidden       = "forbidden"
	CodeRateLimited     = "rate_limited"
)

// MaxCacheTTL bounds how long a verified key is trusted without asking the
// provider again, so that a revoked key stops working within it.
const MaxCacheTTL = time.Second

// authenticateTimeout bounds one call to the provider.
const authenticateTimeout = 5 * time.Second

// Options configure an Access.
type Options struct {
	// Mode is ModeLocal or ModeAPIKey. Required.
	Mode string
	// Provider returns the auth provider; supervisor.ErrUnavailable while
	// its plugin restarts (answered with a 503). Required.
	Provider func() (auth.Provider, error)
	// Policy holds the routes' rules. Default: NewPolicy(Routes...).
	Policy *Policy
	// Audit, when set, receives an entry for every audited request.
	Audit *audit.Log
	// CacheTTL is how long a verification is reused: default and at most
	// MaxCacheTTL; negative disables the cache.
	CacheTTL time.Duration
	// RateLimitPerMinute is each key's token-bucket rate, and its burst.
	// 0 disables the limit. The local owner is not limited.
	RateLimitPerMinute int
	Logger             hclog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// OnDenied, when set, is called for every request the middleware
	// turns away, with the code it answers: CodeUnauthenticated,
	// CodeForbidden or CodeRateLimited (host/metrics counts them).
	OnDenied func(code string)
}

// Access authenticates and authorizes requests.
type Access struct {
	opts    Options
	log     hclog.Logger
	cache   *cache
	limiter *limiter
}

// New checks opts and returns an Access.
func New(opts Options) (*Access, error) {
	if opts.Mode != ModeLocal && opts.Mode != ModeAPIKey {
		return nil, fmt.Errorf("access: mode %q is not %s or %s", opts.Mode, ModeLocal, ModeAPIKey)
	}
	if opts.Provider == nil {
		return nil, errors.New("access: a provider is required")
	}
	if opts.Policy == nil {
		opts.Policy = NewPolicy(Routes...)
	}
	if opts.CacheTTL == 0 || opts.CacheTTL > MaxCacheTTL {
		opts.CacheTTL = MaxCacheTTL
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &Access{opts: opts, log: opts.Logger, cache: newCache(opts.CacheTTL)}
	if opts.RateLimitPerMinute > 0 {
		a.limiter = newLimiter(opts.RateLimitPerMinute)
	}
	return a, nil
}

// Policy is the route policy.
func (a *Access) Policy() *Policy { return a.opts.Policy }

// Mode is the authentication mode.
func (a *Access) Mode() string { return a.opts.Mode }

// Middleware authenticates every request, enforces its route's scope and
// rate limit, puts the principal in the request's context, and writes the
// audit entry of an audited route once the handler is done. Install it on
// the root router: it finds the route itself, before chi dispatches.
func (a *Access) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rule, routed := a.route(r)
		if routed && rule.Scope == Public {
			next.ServeHTTP(w, r)
			return
		}
		p, ok := a.authenticate(w, r)
		if !ok {
			return
		}
		ctx := WithPrincipal(r.Context(), p)
		if !routed {
			// No such route (404) or not with this method (405): the
			// router says so, to authenticated callers only. route uses
			// the tree and path chi dispatches on, so a request that
			// finds no pattern here reaches no route's handler there.
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		if rule.Scope != Authenticated && !p.Has(rule.Scope) {
			a.deny(r, p, CodeForbidden, "missing scope "+rule.Scope)
			a.recordDenied(r, p, r.Method+" "+rule.Pattern, 0)
			httpapi.WriteError(w, r, http.StatusForbidden, CodeForbidden,
				fmt.Sprintf("this key lacks the %s scope, which %s %s requires", rule.Scope, r.Method, rule.Pattern))
			return
		}
		if _, bound := boundProject(p); bound && !rule.ProjectAware {
			a.deny(r, p, CodeForbidden, "project-bound key on a route that is not project-aware")
			a.recordDenied(r, p, r.Method+" "+rule.Pattern, 0)
			httpapi.WriteError(w, r, http.StatusForbidden, CodeForbidden,
				fmt.Sprintf("%s %s cannot be limited to one project; use a key that is not bound to a project", r.Method, rule.Pattern))
			return
		}
		ctx, note := audit.WithNote(ctx)
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r.WithContext(ctx))
		a.record(r, p, rule, note, ww.Status())
	})
}

// route finds the pattern of the route r will be dispatched to.
func (a *Access) route(r *http.Request) (Rule, bool) {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil || rctx.Routes == nil {
		return Rule{}, false
	}
	// The path chi's routeHTTP dispatches on.
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	if path == "" {
		path = "/"
	}
	pattern := rctx.Routes.Find(chi.NewRouteContext(), r.Method, path)
	if pattern == "" {
		return Rule{}, false
	}
	rule, _ := a.opts.Policy.Rule(r.Method, pattern)
	return rule, true
}

// authenticate returns the request's principal, or answers the request.
func (a *Access) authenticate(w http.ResponseWriter, r *http.Request) (auth.Principal, bool) {
	cred, err := Credential(r.Header)
	if err != nil {
		a.unauthenticated(w, r, err.Error())
		return auth.Principal{}, false
	}
	if cred == "" {
		if a.opts.Mode == ModeLocal {
			reason := localRequest(r)
			if reason == "" {
				return LocalOwner(), true
			}
			a.unauthenticated(w, r, "no API key; local mode trusts only direct loopback requests, and "+reason+
				"; send a key as `Authorization: Bearer <key>` or `X-Api-Key: <key>`")
			return auth.Principal{}, false
		}
		a.unauthenticated(w, r, "no API key; send one as `Authorization: Bearer <key>` or `X-Api-Key: <key>`")
		return auth.Principal{}, false
	}
	p, err := a.Verify(r.Context(), cred)
	switch {
	case errors.Is(err, auth.ErrUnauthenticated):
		a.unauthenticated(w, r, "the API key is invalid, expired or revoked")
		return auth.Principal{}, false
	case err != nil:
		a.log.Warn("the auth provider failed", "request_id", httpapi.RequestID(r.Context()), "error", err)
		httpapi.WriteErr(w, r, err)
		return auth.Principal{}, false
	}
	if a.limiter != nil {
		if wait, ok := a.limiter.allow(p.KeyID, a.opts.Now()); !ok {
			secs := max(1, int(math.Ceil(wait.Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			a.deny(r, p, CodeRateLimited, "rate limited")
			httpapi.WriteError(w, r, http.StatusTooManyRequests, CodeRateLimited,
				fmt.Sprintf("key %s is over its rate limit of %d requests a minute; retry in %ds", p.KeyID, a.opts.RateLimitPerMinute, secs))
			return auth.Principal{}, false
		}
	}
	return p, true
}

// Verify authenticates a credential through the provider, reusing a
// verification for at most the cache TTL, and checks the principal's team
// and expiry. Concurrent verifications of one credential share one call.
func (a *Access) Verify(ctx context.Context, cred string) (auth.Principal, error) {
	sum := sha256.Sum256([]byte(cred))
	now := a.opts.Now()
	if p, ok := a.cache.get(sum, now); ok {
		return p, nil
	}
	p, err := a.cache.do(sum, func() (auth.Principal, error) {
		prov, err := a.opts.Provider()
		if err != nil {
			return auth.Principal{}, err
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), authenticateTimeout)
		defer cancel()
		p, err := prov.Authenticate(ctx, cred)
		if err != nil {
			return auth.Principal{}, err
		}
		if p.TeamID == "" {
			return auth.Principal{}, fmt.Errorf("%w: the key is not bound to a team", auth.ErrUnauthenticated)
		}
		return p, nil
	}, a.opts.Now)
	if err != nil {
		return auth.Principal{}, err
	}
	if !p.ExpiresAt.IsZero() && !now.Before(p.ExpiresAt) {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	return p, nil
}

// Forget drops the cached verifications of a key, so that its revocation
// through this server takes effect at once.
func (a *Access) Forget(keyID string) { a.cache.forget(keyID) }

func (a *Access) unauthenticated(w http.ResponseWriter, r *http.Request, msg string) {
	a.denied(CodeUnauthenticated)
	a.log.Debug("request not authenticated", "request_id", httpapi.RequestID(r.Context()), "method", r.Method, "path", r.URL.Path, "reason", msg)
	w.Header().Set("WWW-Authenticate", `Bearer realm="claude-mem"`)
	httpapi.WriteError(w, r, http.StatusUnauthorized, CodeUnauthenticated, msg)
}

func (a *Access) deny(r *http.Request, p auth.Principal, code, why string) {
	a.denied(code)
	a.log.Debug("request denied", "request_id", httpapi.RequestID(r.Context()), "method", r.Method, "path", r.URL.Path,
		"key_id", p.KeyID, "team", p.TeamID, "reason", why)
}

func (a *Access) denied(code string) {
	if a.opts.OnDenied != nil {
		a.opts.OnDenied(code)
	}
}

// record writes the audit entry of a request that succeeded, or of one
// its handler refused with 403.
func (a *Access) record(r *http.Request, p auth.Principal, rule Rule, note *audit.Note, status int) {
	if a.opts.Audit == nil {
		return
	}
	if status == http.StatusForbidden {
		_, _, _, project, _ := note.Values()
		a.recordDenied(r, p, r.Method+" "+rule.Pattern, project)
		return
	}
	if status >= 400 {
		return
	}
	action, resource, team, project, ids := note.Values()
	if action == "" {
		action = rule.Action
	}
	if action == "" {
		return
	}
	if resource == "" {
		resource = r.Method + " " + r.URL.Path
	}
	if bound, ok := boundProject(p); ok && project == 0 {
		project = bound
	}
	if status == 0 {
		status = http.StatusOK
	}
	if team == "" {
		team = p.TeamID
	}
	a.opts.Audit.Record(audit.Entry{
		Actor: p.Actor, KeyID: p.KeyID, TeamID: team, ProjectID: project, Action: action, Resource: resource,
		RequestID: httpapi.RequestID(r.Context()), Status: status, MemoryIDs: ids,
	})
}

// recordDenied audits a request refused with 403 to a caller whose key is
// valid: who tried what. Requests without a valid key have no team to be
// filed under; host/metrics counts them instead.
func (a *Access) recordDenied(r *http.Request, p auth.Principal, route string, project int64) {
	if a.opts.Audit == nil {
		return
	}
	if bound, ok := boundProject(p); ok && project == 0 {
		project = bound
	}
	a.opts.Audit.Record(audit.Entry{
		Actor: p.Actor, KeyID: p.KeyID, TeamID: p.TeamID, ProjectID: project, Action: ActionDenied, Resource: route,
		RequestID: httpapi.RequestID(r.Context()), Status: http.StatusForbidden,
	})
}

// localRequest returns "" when r may act as the local owner: it comes from
// a loopback peer, names a loopback host, and passed no proxy. Otherwise
// it says why not.
func localRequest(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "the request does not come from a loopback address"
	}
	for name := range r.Header {
		if strings.HasPrefix(name, "X-Forwarded-") || name == "Forwarded" || name == "X-Real-Ip" {
			return "it carries the proxy header " + name
		}
	}
	if !LoopbackHost(r.Host) {
		return fmt.Sprintf("its Host header %q is not a loopback name", r.Host)
	}
	return ""
}

// LoopbackHost reports whether hostport (a Host header, or a listen
// address) names the loopback interface: localhost, 127.0.0.0/8 or ::1,
// with or without a port.
func LoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
