package access_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/store/storetest"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/store"
	authapikey "github.com/claude-mem/claude-mem-server/plugins/auth-apikey"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

type adminBundle struct {
	adm     *access.Admin
	prov    *authapikey.Provider
	revoked []string
	owner   auth.Principal
}

func setupAdmin(t *testing.T) *adminBundle {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st := storetest.Open(t, filepath.Join(dir, store.FileName))
	prov, err := authapikey.Open(ctx, filepath.Join(dir, authapikey.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prov.Close() })
	b := &adminBundle{prov: prov, owner: access.LocalOwner()}
	b.adm = &access.Admin{Store: st, Provider: func() (auth.Provider, error) { return prov, nil }, Revoked: func(id string) { b.revoked = append(b.revoked, id) }}
	return b
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestAdminTeamsAndProjects(t *testing.T) {
	t.Parallel()
	b := setupAdmin(t)
	ctx := context.Background()
	teamAdmin := auth.Principal{KeyID: "k", TeamID: "alpha", Scopes: []string{auth.ScopeAdmin}}

	if _, err := b.adm.CreateTeam(ctx, teamAdmin, access.CreateTeamRequest{ID: "gamma"}); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("a team admin created a team: %v", err)
	}
	alpha := must[access.Team](t)(b.adm.CreateTeam(ctx, b.owner, access.CreateTeamRequest{Name: "Alpha Team!"}))
	if alpha.ID != "alpha-team" || alpha.Name != "Alpha Team!" {
		t.Fatalf("team %+v", alpha)
	}
	must[access.Team](t)(b.adm.CreateTeam(ctx, b.owner, access.CreateTeamRequest{ID: "alpha"}))
	must[access.Team](t)(b.adm.CreateTeam(ctx, b.owner, access.CreateTeamRequest{ID: "beta"}))
	if _, err := b.adm.CreateTeam(ctx, b.owner, access.CreateTeamRequest{ID: "beta"}); !errors.Is(err, access.ErrConflict) {
		t.Fatalf("duplicate team: %v", err)
	}
	if _, err := b.adm.CreateTeam(ctx, b.owner, access.CreateTeamRequest{ID: "Bad Id"}); !errors.Is(err, access.ErrInvalid) {
		t.Fatalf("bad id: %v", err)
	}
	if got := must[[]access.Team](t)(b.adm.Teams(ctx, b.owner)); len(got) != 4 { // + local
		t.Fatalf("owner sees %d teams: %+v", len(got), got)
	}
	if got := must[[]access.Team](t)(b.adm.Teams(ctx, teamAdmin)); len(got) != 1 || got[0].ID != "alpha" {
		t.Fatalf("team admin sees %+v", got)
	}

	p1, created, err := b.adm.CreateProject(ctx, teamAdmin, access.CreateProjectRequest{Name: "p1"})
	if err != nil || !created || p1.TeamID != "alpha" {
		t.Fatalf("project: %+v %v %v", p1, created, err)
	}
	if again, created, err := b.adm.CreateProject(ctx, teamAdmin, access.CreateProjectRequest{Name: "p1"}); err != nil || created || again.ID != p1.ID {
		t.Fatalf("existing project: %+v %v %v", again, created, err)
	}
	must[access.Project](t)(func() (access.Project, error) {
		p, _, err := b.adm.CreateProject(ctx, teamAdmin, access.CreateProjectRequest{Name: "p2"})
		return p, err
	}())
	if _, _, err := b.adm.CreateProject(ctx, teamAdmin, access.CreateProjectRequest{Team: "beta", Name: "x"}); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("project in another team: %v", err)
	}
	if _, _, err := b.adm.CreateProject(ctx, b.owner, access.CreateProjectRequest{Team: "nope", Name: "x"}); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("project in a missing team: %v", err)
	}
	if _, err := b.adm.Projects(ctx, teamAdmin, "beta"); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("another team's projects: %v", err)
	}
	if got := must[[]access.Project](t)(b.adm.Projects(ctx, teamAdmin, "")); len(got) != 2 {
		t.Fatalf("projects %+v", got)
	}
	bound := teamAdmin
	bound.ProjectID = strconv.FormatInt(p1.ID, 10)
	if got := must[[]access.Project](t)(b.adm.Projects(ctx, bound, "")); len(got) != 1 || got[0].ID != p1.ID {
		t.Fatalf("bound caller sees %+v", got)
	}
	if _, _, err := b.adm.CreateProject(ctx, bound, access.CreateProjectRequest{Name: "p3"}); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("bound caller created a project: %v", err)
	}
}

func TestAdminKeys(t *testing.T) {
	t.Parallel()
	b := setupAdmin(t)
	ctx := context.Background()
	for _, id := range []string{"alpha", "beta"} {
		must[access.Team](t)(b.adm.CreateTeam(ctx, b.owner, access.CreateTeamRequest{ID: id}))
	}
	project := func(team, name string) access.Project {
		t.Helper()
		p, _, err := b.adm.CreateProject(ctx, b.owner, access.CreateProjectRequest{Team: team, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p1 := project("alpha", "p1")
	project("alpha", "p2")
	betaP := project("beta", "p1")

	admin := must[access.CreatedKey](t)(b.adm.CreateKey(ctx, b.owner, access.CreateKeyRequest{Team: "alpha", Scopes: []string{auth.ScopeAdmin}, Name: "ops"}))
	if admin.Key.TeamID != "alpha" || admin.Key.Actor != "ops" || admin.Key.Status != access.KeyActive || len(admin.Secret) < 40 {
		t.Fatalf("created %+v", admin)
	}
	caller := must[auth.Principal](t)(b.prov.Authenticate(ctx, admin.Secret))

	tests := map[string]struct {
		req  access.CreateKeyRequest
		want error
	}{
		"another team":           {access.CreateKeyRequest{Team: "beta", Scopes: []string{auth.ScopeRead}}, access.ErrNotFound},
		"grant *":                {access.CreateKeyRequest{Scopes: []string{auth.ScopeAll}}, access.ErrForbidden},
		"unknown scope":          {access.CreateKeyRequest{Scopes: []string{"memories:delete"}}, access.ErrInvalid},
		"no scope":               {access.CreateKeyRequest{}, access.ErrInvalid},
		"another team's project": {access.CreateKeyRequest{Project: strconv.FormatInt(betaP.ID, 10), Scopes: []string{auth.ScopeRead}}, access.ErrNotFound},
		"missing project":        {access.CreateKeyRequest{Project: "nope", Scopes: []string{auth.ScopeRead}}, access.ErrNotFound},
		"bad expiry":             {access.CreateKeyRequest{Scopes: []string{auth.ScopeRead}, ExpiresIn: "soon"}, access.ErrInvalid},
		"past expiry":            {access.CreateKeyRequest{Scopes: []string{auth.ScopeRead}, ExpiresAt: time.Now().Add(-time.Hour)}, access.ErrInvalid},
	}
	for name, tc := range tests {
		if _, err := b.adm.CreateKey(ctx, caller, tc.req); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}

	read := must[access.CreatedKey](t)(b.adm.CreateKey(ctx, caller, access.CreateKeyRequest{Project: "p1", Scopes: []string{auth.ScopeRead, auth.ScopeRead, auth.ScopeAdmin}, ExpiresIn: "30d"}))
	if read.Key.ProjectID != strconv.FormatInt(p1.ID, 10) || len(read.Key.Scopes) != 2 || time.Until(read.Key.ExpiresAt) < 29*24*time.Hour {
		t.Fatalf("project key %+v", read.Key)
	}
	// A bound admin mints keys of its own project only.
	boundCaller := must[auth.Principal](t)(b.prov.Authenticate(ctx, read.Secret))
	if k := must[access.CreatedKey](t)(b.adm.CreateKey(ctx, boundCaller, access.CreateKeyRequest{Scopes: []string{auth.ScopeRead}})); k.Key.ProjectID != read.Key.ProjectID {
		t.Fatalf("a bound admin minted an unbound key: %+v", k.Key)
	}
	if _, err := b.adm.CreateKey(ctx, boundCaller, access.CreateKeyRequest{Project: "p2", Scopes: []string{auth.ScopeRead}}); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("a bound admin minted a key of another project: %v", err)
	}
	beta := must[access.CreatedKey](t)(b.adm.CreateKey(ctx, b.owner, access.CreateKeyRequest{Team: "beta", Scopes: []string{auth.ScopeRead}}))

	if got := must[[]access.Key](t)(b.adm.Keys(ctx, caller, "")); len(got) != 3 {
		t.Fatalf("alpha admin sees %d keys: %+v", len(got), got)
	}
	if _, err := b.adm.Keys(ctx, caller, "beta"); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("alpha admin listed beta's keys: %v", err)
	}
	if got := must[[]access.Key](t)(b.adm.Keys(ctx, boundCaller, "")); len(got) != 2 {
		t.Fatalf("bound admin sees %d keys", len(got))
	}
	if got := must[[]access.Key](t)(b.adm.Keys(ctx, b.owner, "")); len(got) != 4 {
		t.Fatalf("owner sees %d keys", len(got))
	}

	if _, err := b.adm.RevokeKey(ctx, caller, beta.Key.ID); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("alpha admin revoked beta's key: %v", err)
	}
	if _, err := b.adm.RevokeKey(ctx, boundCaller, admin.Key.ID); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("bound admin revoked an unbound key: %v", err)
	}
	k := must[access.Key](t)(b.adm.RevokeKey(ctx, caller, read.Key.ID))
	if k.Status != access.KeyRevoked || k.RevokedAt.IsZero() || len(b.revoked) != 1 || b.revoked[0] != read.Key.ID {
		t.Fatalf("revoked %+v, callback %v", k, b.revoked)
	}
	if _, err := b.prov.Authenticate(ctx, read.Secret); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("revoked key authenticates: %v", err)
	}
	if _, err := b.prov.Authenticate(ctx, beta.Secret); err != nil {
		t.Fatalf("beta's key broke: %v", err)
	}
}

func TestParseExpiry(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "12h": 12 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := access.ParseExpiry(in); err != nil || got != want {
			t.Errorf("ParseExpiry(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0d", "-1h", "d", "1y", "99999999d"} {
		if _, err := access.ParseExpiry(in); err == nil {
			t.Errorf("ParseExpiry(%q) succeeded", in)
		}
	}
}
