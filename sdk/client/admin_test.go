package client_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/client"
)

func TestAdmin(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	root := rootClient(t)
	id := fmt.Sprintf("admin-%d", time.Now().UnixNano())

	team := must(root.CreateTeam(ctx, client.CreateTeamRequest{ID: id, Name: "Admin test"}))(t)
	if team.ID != id || team.Name != "Admin test" || team.CreatedAt.IsZero() {
		t.Fatalf("team %+v", team)
	}
	teams := must(root.ListTeams(ctx))(t)
	if !slices.ContainsFunc(teams.Teams, func(tm client.Team) bool { return tm == *team }) {
		t.Fatalf("teams %+v lack %+v", teams, team)
	}
	_, err := root.CreateTeam(ctx, client.CreateTeamRequest{ID: id})
	wantAPIError(t, err, http.StatusConflict, client.CodeConflict)
	_, err = root.CreateTeam(ctx, client.CreateTeamRequest{ID: "Not A Slug!"})
	wantAPIError(t, err, http.StatusBadRequest, client.CodeBadRequest)

	p, created, err := root.CreateAdminProject(ctx, client.CreateAdminProjectRequest{Team: id, Name: "api", RootPath: "/src/api"})
	if err != nil || !created || p.TeamID != id || p.Name != "api" || p.RootPath != "/src/api" {
		t.Fatalf("admin project %+v %v %v", p, created, err)
	}
	p2, created, err := root.CreateAdminProject(ctx, client.CreateAdminProjectRequest{Team: id, Name: "api"})
	if err != nil || created || *p2 != *p {
		t.Fatalf("admin project again %+v %v %v", p2, created, err)
	}
	projects := must(root.ListAdminProjects(ctx, &client.AdminListOptions{Team: id}))(t)
	if len(projects.Projects) != 1 || projects.Projects[0] != *p {
		t.Fatalf("admin projects %+v", projects)
	}

	// A read-only key bound to the project: it reads, cannot write, and
	// is refused once revoked.
	key := must(root.CreateAPIKey(ctx, client.CreateKeyRequest{Team: id, Project: "api", Scopes: []string{client.ScopeRead}, Name: "reader",
		ExpiresIn: "1h"}))(t)
	k := key.Key
	if key.Secret == "" || k.ID == "" || k.TeamID != id || k.ProjectID != fmt.Sprint(p.ID) || k.Status != client.KeyActive ||
		!slices.Equal(k.Scopes, []string{client.ScopeRead}) || k.ExpiresAt.IsZero() || k.Actor != "reader" {
		t.Fatalf("key %+v", key)
	}
	reader := newClient(t, serverURL, key.Secret)
	mine := must(reader.ListProjects(ctx))(t)
	if len(mine.Projects) != 1 || mine.Projects[0] != *p {
		t.Fatalf("the reader lists %+v", mine)
	}
	_, err = reader.CreateMemory(ctx, client.CreateMemoryRequest{Project: "api", Text: "not allowed"})
	wantAPIError(t, err, http.StatusForbidden, client.CodeForbidden)
	if !client.IsForbidden(err) {
		t.Fatalf("IsForbidden(%v) = false", err)
	}
	keys := must(root.ListAPIKeys(ctx, &client.AdminListOptions{Team: id}))(t)
	if len(keys.Keys) != 1 || keys.Keys[0].ID != k.ID || keys.Keys[0].LastUsedAt.IsZero() {
		t.Fatalf("keys %+v", keys)
	}
	revoked := must(root.RevokeAPIKey(ctx, k.ID))(t)
	if revoked.ID != k.ID || revoked.Status != client.KeyRevoked || revoked.RevokedAt.IsZero() {
		t.Fatalf("revoked %+v", revoked)
	}
	_, err = reader.ListProjects(ctx)
	wantAPIError(t, err, http.StatusUnauthorized, client.CodeUnauthenticated)
	_, err = root.RevokeAPIKey(ctx, "no-such-key")
	wantAPIError(t, err, http.StatusNotFound, client.CodeNotFound)

	// A team's admin sees its own team only.
	admin, own := newTeam(t)
	if mineTeams := must(admin.ListTeams(ctx))(t); len(mineTeams.Teams) != 1 || mineTeams.Teams[0].ID != own {
		t.Fatalf("a team admin lists %+v", mineTeams)
	}
	_, err = admin.ListAPIKeys(ctx, &client.AdminListOptions{Team: id})
	if !client.IsNotFound(err) && !client.IsForbidden(err) {
		t.Fatalf("another team's keys: %v", err)
	}
}

func TestAudit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c, team := newTeam(t)
	m := must(c.CreateMemory(ctx, client.CreateMemoryRequest{Project: "audited", Text: "Audited memory about wombats."}))(t).Memory
	must(c.Search(ctx, client.SearchRequest{Query: "wombats"}))(t)
	must(c.GetMemory(ctx, m.ID, nil))(t)

	page := must(c.Audit(ctx, nil))(t)
	var actions []string
	for _, e := range page.Entries {
		if e.TeamID != team {
			t.Fatalf("team %s reads an entry of %s: %+v", team, e.TeamID, e)
		}
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"memory.write", "search", "memory.read"} {
		if !slices.Contains(actions, want) {
			t.Fatalf("audit actions %v lack %s", actions, want)
		}
	}
	search := must(c.Audit(ctx, &client.AuditQuery{Action: "search", Since: time.Now().Add(-time.Minute), Until: time.Now().Add(time.Minute)}))(t)
	obs := fmt.Sprintf("obs:%d", m.ID)
	if len(search.Entries) != 1 || search.Entries[0].Action != "search" || !slices.Contains(search.Entries[0].MemoryIDs, obs) ||
		search.Entries[0].Status != http.StatusOK || search.Entries[0].RequestID == "" {
		t.Fatalf("search entries %+v", search)
	}

	// Paging: one entry a page, newest first, until NextBefore is 0.
	var paged []int64
	q := &client.AuditQuery{Limit: 1}
	for range 20 {
		p := must(c.Audit(ctx, q))(t)
		for _, e := range p.Entries {
			paged = append(paged, e.ID)
		}
		if p.NextBefore == 0 {
			break
		}
		q.Before = p.NextBefore
	}
	var all []int64
	for _, e := range page.Entries {
		all = append(all, e.ID)
	}
	if len(paged) < len(all) || !slices.Equal(paged[len(paged)-len(all):], all) {
		t.Fatalf("paged %v, want it to end with %v", paged, all)
	}

	// Reading the audit log needs the admin scope.
	writer := must(rootClient(t).CreateAPIKey(ctx, client.CreateKeyRequest{Team: team, Scopes: []string{client.ScopeWrite}}))(t)
	_, err := newClient(t, serverURL, writer.Secret).Audit(ctx, nil)
	wantAPIError(t, err, http.StatusForbidden, client.CodeForbidden)
}
