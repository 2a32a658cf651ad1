package access

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// Public is the scope of a route that needs no credential at all, in any
// mode: /healthz, because a container healthcheck has no key, and the
// OpenAPI document, which holds no data and which tools fetch before they
// know about keys.
const Public = "public"

// Authenticated is the scope of a route that any valid key may call,
// whatever its scopes: /v1/info and the health routes, which hold no
// memory.
const Authenticated = "authenticated"

// UndeclaredScope is what a route that declares no scope requires: "*".
// An undeclared route therefore still works for the local owner and for
// "*" keys, and is closed to every other key until it is declared; the
// isolation matrix test fails until it is.
const UndeclaredScope = auth.ScopeAll

// Rule is what one route requires, and how it is audited.
type Rule struct {
	Method string
	// Pattern is the chi route pattern, as chi.Walk reports it.
	Pattern string
	// Scope is auth.ScopeRead, auth.ScopeWrite, auth.ScopeAdmin,
	// auth.ScopeAll, Authenticated or Public.
	Scope string
	// Action, when set, is written to the audit log for every request of
	// the route that succeeds (status < 400). Handlers can refine it (see
	// audit.Annotate).
	Action string
	// ProjectAware says that the route's handler keeps a key bound to a
	// project inside that project (ProjectAllowed, ProjectFilter). Keys
	// bound to a project are refused (403) on every other route, so that
	// a route that only scopes by team cannot widen their reach.
	ProjectAware bool
}

func (r Rule) key() string { return r.Method + " " + r.Pattern }

// Audit actions of the host's routes. Packages that mount routes may add
// their own; keep the noun.verb form.
const (
	ActionSessionStart  = "session.start"
	ActionSessionEnd    = "session.end"
	ActionEventWrite    = "event.write"
	ActionEventRead     = "event.read"
	ActionHook          = "hook.write"
	ActionSearch        = "search"
	ActionContext       = "context.served"
	ActionMemoryRead    = "memory.read"
	ActionMemoryWrite   = "memory.write"
	ActionForget        = "forget"
	ActionImport        = "import"
	ActionExport        = "export"
	ActionTeamCreate    = "team.create"
	ActionProjectCreate = "project.create"
	ActionKeyCreate     = "key.create"
	ActionKeyRevoke     = "key.revoke"
	// ActionDenied records a request refused (403) to a caller with a
	// valid key: a missing scope, a project-bound key out of its project.
	ActionDenied = "access.denied"
)

// Routes is the scope of every route the host serves, and of the routes
// its public surface is specified to serve (issues 6 and 7), so that they
// are covered the moment they are mounted. A package that mounts a route
// not listed here declares it with Policy.Declare.
var Routes = []Rule{
	{http.MethodGet, "/healthz", Public, "", true},
	{http.MethodGet, "/v1/openapi.json", Public, "", true},
	{http.MethodGet, "/v1/info", Authenticated, "", true},

	// The write path (host/pipeline).
	{http.MethodPost, "/v1/sessions/start", auth.ScopeWrite, ActionSessionStart, true},
	{http.MethodPost, "/v1/sessions/{id}/end", auth.ScopeWrite, ActionSessionEnd, true},
	{http.MethodPost, "/v1/events", auth.ScopeWrite, ActionEventWrite, true},
	{http.MethodPost, "/v1/events/batch", auth.ScopeWrite, ActionEventWrite, true},
	{http.MethodGet, "/v1/events/{id}", auth.ScopeRead, ActionEventRead, true},
	// A hook writes its event and may hand memory back to the agent.
	{http.MethodPost, "/v1/hooks/{adapter}/{event}", auth.ScopeWrite, ActionHook, true},

	// Administration (this package).
	{http.MethodGet, "/v1/admin/teams", auth.ScopeAdmin, "", true},
	{http.MethodPost, "/v1/admin/teams", auth.ScopeAll, ActionTeamCreate, true},
	{http.MethodGet, "/v1/admin/projects", auth.ScopeAdmin, "", true},
	{http.MethodPost, "/v1/admin/projects", auth.ScopeAdmin, ActionProjectCreate, true},
	{http.MethodGet, "/v1/admin/api-keys", auth.ScopeAdmin, "", true},
	{http.MethodPost, "/v1/admin/api-keys", auth.ScopeAdmin, ActionKeyCreate, true},
	{http.MethodPost, "/v1/admin/api-keys/{id}/revoke", auth.ScopeAdmin, ActionKeyRevoke, true},
	{http.MethodGet, "/v1/audit", auth.ScopeAdmin, "", true},
	// Prometheus metrics (host/metrics): host-wide aggregates, no team's
	// rows, so any admin key, but not one bound to a project.
	{http.MethodGet, "/metrics", auth.ScopeAdmin, "", false},

	// REST v1, read side and public surface (issues 6 and 7). The routes
	// host/restapi serves keep bound keys in their project; the others are
	// declared ahead, not yet project-aware.
	{http.MethodGet, "/v1/projects", auth.ScopeRead, "", true},
	{http.MethodPost, "/v1/projects", auth.ScopeWrite, ActionProjectCreate, true},
	{http.MethodGet, "/v1/projects/{id}", auth.ScopeRead, "", true},
	{http.MethodGet, "/v1/sessions/{id}", auth.ScopeRead, ActionMemoryRead, true},
	{http.MethodPost, "/v1/memories", auth.ScopeWrite, ActionMemoryWrite, true},
	{http.MethodGet, "/v1/memories/{id}", auth.ScopeRead, ActionMemoryRead, true},
	{http.MethodPatch, "/v1/memories/{id}", auth.ScopeWrite, ActionMemoryWrite, true},
	{http.MethodPost, "/v1/memories/{id}/supersede", auth.ScopeWrite, ActionMemoryWrite, true},
	{http.MethodPost, "/v1/forget", auth.ScopeWrite, ActionForget, true},
	{http.MethodPost, "/v1/search", auth.ScopeRead, ActionSearch, true},
	{http.MethodPost, "/v1/context", auth.ScopeRead, ActionContext, true},
	// Export and import (host/exchange): the caller's whole team. Export
	// needs admin; import adds rows to the caller's team like the write path.
	{http.MethodPost, "/v1/export", auth.ScopeAdmin, ActionExport, false},
	{http.MethodPost, "/v1/import", auth.ScopeWrite, ActionImport, false},
	{http.MethodPost, "/v1/reindex", auth.ScopeAdmin, "reindex", false},
	{http.MethodGet, "/v1/jobs/{id}", auth.ScopeRead, "", true},
	{http.MethodPost, "/v1/jobs/{id}/retry", auth.ScopeWrite, "job.retry", true},
	// MCP over streamable HTTP (host/mcpserver, stateless: POST only).
	// Tools that write check auth.ScopeWrite themselves.
	{http.MethodPost, "/v1/mcp", auth.ScopeRead, "mcp.call", true},

	// claude-mem's legacy /api routes (behaviour §12), which the
	// TypeScript hooks call. They scope by team (host/legacyapi), not by
	// project.
	{http.MethodGet, "/health", Authenticated, "", true},
	{http.MethodOptions, "/health", Public, "", true}, // a CORS preflight carries no key
	{http.MethodGet, "/api/health", Authenticated, "", true},
	{http.MethodGet, "/api/readiness", Authenticated, "", true},
	{http.MethodGet, "/api/version", Authenticated, "", true},
	{http.MethodPost, "/api/sessions/init", auth.ScopeWrite, ActionSessionStart, false},
	{http.MethodPost, "/api/sessions/observations", auth.ScopeWrite, ActionEventWrite, false},
	{http.MethodPost, "/api/sessions/summarize", auth.ScopeWrite, ActionEventWrite, false},
	{http.MethodGet, "/api/context/inject", auth.ScopeRead, ActionContext, false},
	{http.MethodPost, "/api/context/semantic", auth.ScopeRead, ActionContext, false},
	{http.MethodGet, "/api/observations/by-file", auth.ScopeRead, ActionMemoryRead, false},
	{http.MethodPost, "/api/observations/batch", auth.ScopeRead, ActionMemoryRead, false},
	{http.MethodGet, "/api/search", auth.ScopeRead, ActionSearch, false},
	{http.MethodGet, "/api/timeline", auth.ScopeRead, ActionMemoryRead, false},
	{http.MethodPost, "/api/memory/save", auth.ScopeWrite, ActionMemoryWrite, false},
	{http.MethodGet, "/api/projects", auth.ScopeRead, "", false},
	{http.MethodGet, "/api/stats", auth.ScopeRead, "", false},
}

// Policy maps routes to rules. It is safe for concurrent use; declare
// routes before the server serves.
type Policy struct {
	mu    sync.RWMutex
	rules map[string]Rule
}

// NewPolicy returns a policy holding rules.
func NewPolicy(rules ...Rule) *Policy {
	p := &Policy{rules: map[string]Rule{}}
	if err := p.Declare(rules...); err != nil {
		panic(err) // a programming error in a static table
	}
	return p
}

// Declare adds rules; redeclaring a route with another scope is an error.
func (p *Policy) Declare(rules ...Rule) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rules {
		if r.Method == "" || !strings.HasPrefix(r.Pattern, "/") {
			return fmt.Errorf("access: rule %q needs a method and a pattern starting with /", r.key())
		}
		if r.Scope != Public && r.Scope != Authenticated && !slices.Contains(auth.AllScopes, r.Scope) {
			return fmt.Errorf("access: rule %q: unknown scope %q", r.key(), r.Scope)
		}
		if old, ok := p.rules[r.key()]; ok && old.Scope != r.Scope {
			return fmt.Errorf("access: route %q is declared twice, with scopes %q and %q", r.key(), old.Scope, r.Scope)
		}
		p.rules[r.key()] = r
	}
	return nil
}

// Rule returns the rule of a route, and whether it is declared. A route
// that is not declared requires UndeclaredScope.
func (p *Policy) Rule(method, pattern string) (Rule, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	r, ok := p.rules[method+" "+pattern]
	if !ok {
		return Rule{Method: method, Pattern: pattern, Scope: UndeclaredScope}, false
	}
	return r, true
}
