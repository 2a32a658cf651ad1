package client_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/client"
)

func TestProjects(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c, team := newTeam(t)

	created := must(c.CreateProject(ctx, client.CreateProjectRequest{Name: "shop", RootPath: "/src/shop"}))(t)
	p := created.Project
	if !created.Created || p.ID == 0 || p.TeamID != team || p.Name != "shop" || p.RootPath != "/src/shop" || p.CreatedAt.IsZero() {
		t.Fatalf("created %+v", created)
	}
	again := must(c.CreateProject(ctx, client.CreateProjectRequest{Name: "shop"}))(t)
	if again.Created || !reflect.DeepEqual(again.Project, p) {
		t.Fatalf("created again %+v, want %+v", again, p)
	}
	list := must(c.ListProjects(ctx))(t)
	if len(list.Projects) != 1 || !reflect.DeepEqual(list.Projects[0], p) {
		t.Fatalf("list %+v, want [%+v]", list, p)
	}
	detail := must(c.GetProject(ctx, p.ID))(t)
	if !reflect.DeepEqual(detail.Project, p) || len(detail.Counts) == 0 || detail.Counts["sessions"] != 0 {
		t.Fatalf("detail %+v", detail)
	}

	_, err := c.CreateProject(ctx, client.CreateProjectRequest{Name: " "})
	wantAPIError(t, err, http.StatusBadRequest, client.CodeInvalidRequest)
	// Another team's project is answered as if it did not exist.
	other, _ := newTeam(t)
	_, err = other.GetProject(ctx, p.ID)
	wantAPIError(t, err, http.StatusNotFound, client.CodeNotFound)
}
