// Package access is the host's side of authentication and all of its
// authorization.
//
// The auth provider plugin turns a credential into an auth.Principal
// (authentication). Everything else happens here (authorization): which
// scope a route needs (Policy, Routes), who a request acts as in local
// mode, the verification cache, the per-key rate limit, and the helpers
// that handlers use to scope every row they read or write to the caller's
// team and, for a project-bound key, to its project (TeamOf, BoundProject,
// ProjectAllowed). Teams and projects live in the host store; the admin API
// (Admin, Mount) manages them and the provider's keys.
//
// Rows of another team are answered with 404, never 403, so that their
// existence does not leak.
package access

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// LocalTeam is the team of single-user mode; the store migration creates it.
const LocalTeam = "local"

// LocalActor is the actor of requests the local owner makes.
const LocalActor = "local"

// LocalOwner is who a request acts as in local mode when it comes straight
// from loopback without a key: the owner of the local team, with every
// scope. The CLI working on a stopped server's data dir acts as it too.
func LocalOwner() auth.Principal {
	return auth.Principal{SchemaVersion: auth.SchemaVersion, TeamID: LocalTeam, Scopes: []string{auth.ScopeAll}, Actor: LocalActor}
}

// ErrNoPrincipal is returned for a request that was not authenticated:
// the access middleware does not cover its route.
var ErrNoPrincipal = errors.New("access: the request has no authenticated principal")

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p auth.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal of ctx.
func PrincipalFrom(ctx context.Context) (auth.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(auth.Principal)
	return p, ok
}

// TeamOf returns the team a request acts for: its principal's. It fails
// closed: a request without a principal has no team. Its signature is
// pipeline.Options.Team.
func TeamOf(r *http.Request) (string, error) {
	p, ok := PrincipalFrom(r.Context())
	if !ok || p.TeamID == "" {
		return "", ErrNoPrincipal
	}
	return p.TeamID, nil
}

// BoundProject returns the project the caller's key is bound to, and
// whether it is bound. A binding that is not a project ID binds to no
// project at all (-1), so that it fails closed.
func BoundProject(ctx context.Context) (int64, bool) {
	p, _ := PrincipalFrom(ctx)
	return boundProject(p)
}

func boundProject(p auth.Principal) (int64, bool) {
	if p.ProjectID == "" {
		return 0, false
	}
	id, err := strconv.ParseInt(p.ProjectID, 10, 64)
	if err != nil || id <= 0 {
		return -1, true
	}
	return id, true
}

// ProjectAllowed reports whether the caller may see or write rows of the
// project (a projects.id of the caller's team): always, unless its key is
// bound to another project. A request without a principal may see none.
func ProjectAllowed(ctx context.Context, projectID int64) bool {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return false
	}
	bound, isBound := boundProject(p)
	return !isBound || bound == projectID
}

// ProjectFilter returns the projects a read must be narrowed to: nil for
// every project of the team, or the one project the key is bound to. Pass
// it to a search as its ProjectIDs.
func ProjectFilter(ctx context.Context) []int64 {
	if id, ok := BoundProject(ctx); ok {
		return []int64{id}
	}
	return nil
}
