package mcpserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/mcpserver"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/server/servertest"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// bundle is a real server in api-key mode with teams a (projects a1, a2)
// and b, and keys: a and b (read and write), aro (a, read only) and ab
// (a, bound to a2).
type bundle struct {
	srv  *servertest.Server
	keys map[string]string
}

func setup(t *testing.T) *bundle {
	t.Helper()
	srv := servertest.Start(t, servertest.WithConfig(func(cfg *config.Config) {
		cfg.Auth.Mode = config.AuthAPIKey
		cfg.Auth.RateLimitPerMinute = 0
	}))
	ctx := context.Background()
	adm, owner := srv.Admin(), access.LocalOwner()
	b := &bundle{srv: srv, keys: map[string]string{}}
	key := func(name, team, project string, scopes ...string) {
		k, err := adm.CreateKey(ctx, owner, access.CreateKeyRequest{Team: team, Project: project, Scopes: scopes, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		b.keys[name] = k.Secret
	}
	for _, tm := range []string{"a", "b"} {
		if _, err := adm.CreateTeam(ctx, owner, access.CreateTeamRequest{ID: tm}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"a1", "a2"} {
		if _, _, err := adm.CreateProject(ctx, owner, access.CreateProjectRequest{Team: "a", Name: p}); err != nil {
			t.Fatal(err)
		}
	}
	key("a", "a", "", auth.ScopeRead, auth.ScopeWrite)
	key("b", "b", "", auth.ScopeRead, auth.ScopeWrite)
	key("aro", "a", "", auth.ScopeRead)
	key("ab", "a", "a2", auth.ScopeRead, auth.ScopeWrite)
	key("aadm", "a", "", auth.ScopeAdmin)
	return b
}

// session is an MCP session over streamable HTTP with key.
func (b *bundle) session(t *testing.T, key string) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "0"}, nil)
	s, err := c.Connect(ctx, mcpserver.ClientTransport(b.srv.Base, key), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// call calls a tool and returns its text and whether it is a tool error.
func call(t *testing.T, s *mcp.ClientSession, name string, args map[string]any) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var text strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	return text.String(), res.IsError
}

// mustCall fails unless the call succeeds.
func mustCall(t *testing.T, s *mcp.ClientSession, name string, args map[string]any) string {
	t.Helper()
	text, isErr := call(t, s, name, args)
	if isErr {
		t.Fatalf("%s(%v) is a tool error: %s", name, args, text)
	}
	return text
}

func listTools(t *testing.T, s *mcp.ClientSession) map[string]*mcp.Tool {
	t.Helper()
	out := map[string]*mcp.Tool{}
	for tool, err := range s.Tools(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		out[tool.Name] = tool
	}
	for _, name := range mcpserver.ToolNames {
		tool, ok := out[name]
		if !ok {
			t.Fatalf("tool %s is not listed: %v", name, out)
		}
		schema, _ := json.Marshal(tool.InputSchema)
		if !strings.Contains(string(schema), `"type":"object"`) {
			t.Fatalf("tool %s has input schema %s", name, schema)
		}
	}
	return out
}

func TestStreamableHTTP(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.session(t, b.keys["a"])

	tools := listTools(t, a)
	for name, props := range map[string][]string{
		"search":           {"query", "limit", "project", "platformSource", "type", "obs_type", "dateStart", "dateEnd", "offset", "orderBy"},
		"timeline":         {"anchor", "query", "depth_before", "depth_after", "project"},
		"get_observations": {"ids", "orderBy", "limit", "project"},
	} {
		schema, _ := json.Marshal(tools[name].InputSchema)
		for _, p := range props {
			if !strings.Contains(string(schema), fmt.Sprintf("%q", p)) {
				t.Errorf("%s's input schema lacks %s: %s", name, p, schema)
			}
		}
	}
	if schema, _ := json.Marshal(tools["get_observations"].InputSchema); !strings.Contains(string(schema), `"required":["ids"]`) {
		t.Errorf("get_observations does not require ids: %s", schema)
	}

	// memory_add and memory_record_decision write through REST's core.
	var added memory.Observation
	if err := json.Unmarshal([]byte(mustCall(t, a, "memory_add", map[string]any{"project": "a1",
		"text": "alphamarker zebra deployment checklist lives in ops/README"})), &added); err != nil {
		t.Fatal(err)
	}
	if added.ID == 0 || added.Type != "manual" || added.Project != "a1" {
		t.Fatalf("memory_add = %+v", added)
	}
	var decision memory.Observation
	if err := json.Unmarshal([]byte(mustCall(t, a, "memory_record_decision", map[string]any{"project": "a1",
		"text": "alphamarker we chose sqlite over postgres", "title": "Use SQLite"})), &decision); err != nil {
		t.Fatal(err)
	}
	if decision.Type != mcpserver.TypeDecision || decision.Title != "Use SQLite" {
		t.Fatalf("memory_record_decision = %+v", decision)
	}
	if _, isErr := call(t, a, "memory_add", map[string]any{"project": "a1", "text": "  "}); !isErr {
		t.Fatal("memory_add of empty text is no tool error")
	}

	ids := func(text string) []int64 {
		var obs []memory.Observation
		if err := json.Unmarshal([]byte(text), &obs); err != nil {
			t.Fatalf("%v in %s", err, text)
		}
		var out []int64
		for _, o := range obs {
			out = append(out, o.ID)
		}
		return out
	}
	if got := ids(mustCall(t, a, "memory_search", map[string]any{"query": "zebra"})); !slices.Equal(got, []int64{added.ID}) {
		t.Fatalf("memory_search zebra = %v, want [%d]", got, added.ID)
	}
	if got := ids(mustCall(t, a, "memory_list_recent", map[string]any{"project": "a1"})); !slices.Equal(got, []int64{decision.ID, added.ID}) {
		t.Fatalf("memory_list_recent = %v, want [%d %d]", got, decision.ID, added.ID)
	}
	if text := mustCall(t, a, "memory_context", map[string]any{"project": "a1"}); !strings.Contains(text, "Use SQLite") {
		t.Fatalf("memory_context lacks the decision:\n%s", text)
	}
	if text := mustCall(t, a, "search", map[string]any{"query": "zebra", "project": "a1"}); !strings.Contains(text, fmt.Sprint(added.ID)) {
		t.Fatalf("search lacks #%d:\n%s", added.ID, text)
	}
	if text := mustCall(t, a, "timeline", map[string]any{"anchor": added.ID, "depth_before": 2, "depth_after": 2}); !strings.Contains(text, "Use SQLite") {
		t.Fatalf("timeline around %d lacks the decision:\n%s", added.ID, text)
	}
	if text := mustCall(t, a, "get_observations", map[string]any{"ids": []int64{added.ID, decision.ID}, "orderBy": "date_desc"}); !slices.Equal(ids(text), []int64{decision.ID, added.ID}) {
		t.Fatalf("get_observations = %s", text)
	}

	// The audit log names the memories the tools returned.
	b.waitAudit(t, audit.MemoryID(audit.KindObservation, decision.ID))

	// Team b sees nothing of team a through any tool.
	bs := b.session(t, b.keys["b"])
	listTools(t, bs)
	for name, args := range map[string]map[string]any{
		"memory_search":      {"query": "zebra"},
		"memory_list_recent": {},
		"memory_context":     {},
		"search":             {"query": "zebra deployment"},
		"timeline":           {"anchor": added.ID},
		"get_observations":   {"ids": []int64{added.ID, decision.ID}},
		"memory_forget":      {"ids": []int64{added.ID}},
	} {
		text, _ := call(t, bs, name, args)
		if strings.Contains(text, "alphamarker") || strings.Contains(text, "Use SQLite") {
			t.Errorf("team b's %s leaks team a's memory: %s", name, text)
		}
	}
	// Nor does a key of team a bound to project a2.
	ab := b.session(t, b.keys["ab"])
	for name, args := range map[string]map[string]any{
		"memory_search":    {"query": "zebra"},
		"search":           {"query": "zebra deployment"},
		"timeline":         {"anchor": added.ID},
		"get_observations": {"ids": []int64{added.ID}},
	} {
		if text, _ := call(t, ab, name, args); strings.Contains(text, "alphamarker") {
			t.Errorf("a2-bound %s leaks project a1's memory: %s", name, text)
		}
	}
	if _, isErr := call(t, ab, "memory_add", map[string]any{"project": "a1", "text": "bound write"}); !isErr {
		t.Error("an a2-bound key wrote into a1")
	}

	// A read-only key reads, and is refused every write.
	ro := b.session(t, b.keys["aro"])
	mustCall(t, ro, "memory_search", map[string]any{"query": "zebra"})
	for name, args := range map[string]map[string]any{
		"memory_add":             {"project": "a1", "text": "read only"},
		"memory_record_decision": {"project": "a1", "text": "read only"},
		"memory_forget":          {"ids": []int64{added.ID}},
	} {
		if text, isErr := call(t, ro, name, args); !isErr || !strings.Contains(text, auth.ScopeWrite) {
			t.Errorf("read-only %s = %q (error %v), want a scope error", name, text, isErr)
		}
	}

	// memory_forget removes the memory: search no longer finds it.
	mustCall(t, a, "memory_forget", map[string]any{"ids": []int64{added.ID}})
	if got := ids(mustCall(t, a, "memory_search", map[string]any{"query": "zebra"})); len(got) != 0 {
		t.Fatalf("memory_search after forget = %v", got)
	}
	if text := mustCall(t, a, "search", map[string]any{"query": "zebra"}); strings.Contains(text, fmt.Sprintf("#%d ", added.ID)) {
		t.Fatalf("search after forget:\n%s", text)
	}
}

// TestStdio runs `claude-mem mcp` as agents do, through the SDK's
// CommandTransport, against a running server.
func TestStdio(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.session(t, b.keys["a"])
	mustCall(t, a, "memory_add", map[string]any{"project": "a1", "text": "stdiomarker the cache TTL is five minutes"})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.Command(hosttest.Binary(t), "mcp")
	cmd.Env = append(os.Environ(), "CLAUDE_MEM_SERVER_URL="+b.srv.Base, "CLAUDE_MEM_API_KEY="+b.keys["a"],
		"CLAUDE_MEM_CONFIG_DIR="+t.TempDir(), "CLAUDE_MEM_DATA_DIR="+t.TempDir())
	cmd.Stderr = os.Stderr
	c := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "0"}, nil)
	s, err := c.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	listTools(t, s)
	if text := mustCall(t, s, "memory_search", map[string]any{"query": "stdiomarker"}); !strings.Contains(text, "five minutes") {
		t.Fatalf("memory_search over stdio = %s", text)
	}
	// Team b's key, through the same binary, does not see it.
	cmdB := exec.Command(hosttest.Binary(t), "mcp", "--url", b.srv.Base)
	cmdB.Env = append(os.Environ(), "CLAUDE_MEM_API_KEY="+b.keys["b"], "CLAUDE_MEM_CONFIG_DIR="+t.TempDir())
	sb, err := c.Connect(ctx, &mcp.CommandTransport{Command: cmdB}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sb.Close() }()
	if text := mustCall(t, sb, "memory_search", map[string]any{"query": "stdiomarker"}); strings.Contains(text, "five minutes") {
		t.Fatalf("team b's memory_search over stdio leaks: %s", text)
	}
}

// waitAudit waits for an mcp.call entry of team a that returned memory.
func (b *bundle) waitAudit(t *testing.T, memoryID string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, err := http.NewRequest(http.MethodGet, b.srv.Base+"/v1/audit?action=mcp.call&limit=1000", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+b.keys["aadm"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page access.AuditPage
		err = json.NewDecoder(resp.Body).Decode(&page)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /v1/audit = %d, %v", resp.StatusCode, err)
		}
		for _, e := range page.Entries {
			if e.TeamID == "a" && slices.Contains(e.MemoryIDs, memoryID) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mcp.call audit entry returned %s: %+v", memoryID, page.Entries)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
