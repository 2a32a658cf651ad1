package client_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/server/servertest"
	"github.com/claude-mem/claude-mem-server/sdk/client"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// export reads the team's whole export.
func export(t *testing.T, c *client.Client) []byte {
	t.Helper()
	rc := must(c.Export(t.Context()))(t)
	defer rc.Close()
	return must(io.ReadAll(rc))(t)
}

func TestExportImport(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c, team := newTeam(t)
	m := must(c.CreateMemory(ctx, client.CreateMemoryRequest{Project: "moved", Title: "Deploys", Text: "Deploys go out on Tuesdays."}))(t).Memory
	must(c.SupersedeMemory(ctx, m.ID, client.SupersedeRequest{Title: "Deploys", Text: "Deploys go out on Wednesdays."}))(t)
	must(c.PostEventBatch(ctx, []event.AgentEvent{
		{Type: event.TypeUserPrompt, ContentSessionID: team + "-x-1", Project: "moved", Text: "when do we deploy?"},
		{Type: event.TypeToolUse, ContentSessionID: team + "-x-1", Project: "moved", ToolName: "Read", ToolUseID: "r1", ToolInput: json.RawMessage(`{"file_path":"DEPLOY.md"}`)},
	}, &client.WriteOptions{NoGeneration: true}))(t)

	first := export(t, c)
	lines := strings.Split(strings.TrimSpace(string(first)), "\n")
	var header, end struct {
		Kind   string         `json:"kind"`
		Format string         `json:"format"`
		Counts map[string]int `json:"counts"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &header); err != nil || header.Kind != "header" {
		t.Fatalf("header %s (%v)", lines[0], err)
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &end); err != nil || end.Kind != "end" || end.Counts["observation"] != 2 || end.Counts["event"] != 2 {
		t.Fatalf("end %s (%v)", lines[len(lines)-1], err)
	}

	// Into a second, empty server: the same export comes back out.
	srv2 := servertest.Start(t, servertest.WithConfig(func(cfg *config.Config) { cfg.Auth.Mode = config.AuthAPIKey }))
	c2 := newClient(t, srv2.Base, rootKeyOf(t, srv2))
	rep := must(c2.Import(ctx, bytes.NewReader(first), nil))(t)
	if rep.Format != client.FormatClaudeMem || rep.Added == 0 || rep.Kinds["observation"].Imported != 2 || rep.Kinds["event"].Imported != 2 {
		t.Fatalf("import %+v", rep)
	}
	if second := export(t, c2); !bytes.Equal(first, second) {
		t.Fatalf("export after import differs:\n%s\nwant\n%s", second, first)
	}
	again := must(c2.Import(ctx, bytes.NewReader(first), &client.ImportOptions{Format: client.FormatClaudeMem}))(t)
	if again.Added != 0 || again.Kinds["observation"].Existing != 2 {
		t.Fatalf("import again %+v", again)
	}
	res := must(c2.Search(ctx, client.SearchRequest{Query: "Wednesdays"}))(t)
	if len(res.Hits) != 1 || res.Hits[0].Observation.Title != "Deploys" {
		t.Fatalf("search after import %+v", res)
	}

	// An MCP memory graph.
	graph := `{"type":"entity","name":"Billing API","entityType":"service","observations":["Owns invoices"]}` + "\n"
	rep = must(c2.Import(ctx, strings.NewReader(graph), &client.ImportOptions{Format: client.FormatMCPMemory, Project: "graph"}))(t)
	if rep.Format != client.FormatMCPMemory || rep.Added != 1 {
		t.Fatalf("mcp import %+v", rep)
	}
	res = must(c2.Search(ctx, client.SearchRequest{Query: "invoices", Filters: client.Filters{Projects: []string{"graph"}}}))(t)
	if len(res.Hits) != 1 || res.Hits[0].Observation.Title != "Billing API" {
		t.Fatalf("search the graph %+v", res)
	}

	_, err := c2.Import(ctx, strings.NewReader("not json\n"), nil)
	wantAPIError(t, err, http.StatusBadRequest, client.CodeInvalidLine)
	_, err = c2.Import(ctx, strings.NewReader(graph), &client.ImportOptions{Format: "csv"})
	wantAPIError(t, err, http.StatusBadRequest, client.CodeBadRequest)
}

func TestReindex(t *testing.T) {
	t.Parallel()
	c, _ := newTeam(t)
	must(c.CreateMemory(t.Context(), client.CreateMemoryRequest{Project: "idx", Text: "Reindexed memory about numbats."}))(t)
	rep := must(c.Reindex(t.Context()))(t)
	if !slices.Contains(rep.Indexes, "observations_fts") || rep.Rows["observations_fts"] == 0 || len(rep.Rows) != len(rep.Indexes) {
		t.Fatalf("reindex %+v", rep)
	}
	if res := must(c.Search(t.Context(), client.SearchRequest{Query: "numbats"}))(t); len(res.Hits) != 1 {
		t.Fatalf("search after reindex %+v", res)
	}
	writer := must(rootClient(t).CreateAPIKey(t.Context(), client.CreateKeyRequest{Scopes: []string{client.ScopeWrite}}))(t)
	_, err := newClient(t, serverURL, writer.Secret).Reindex(t.Context())
	wantAPIError(t, err, http.StatusForbidden, client.CodeForbidden)
}
