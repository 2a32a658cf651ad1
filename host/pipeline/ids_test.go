package pipeline_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/pipeline"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

func TestIdempotencyKeys(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tool := event.AgentEvent{Type: event.TypeToolUse, ContentSessionID: "s1", ToolName: "Read", ToolUseID: "toolu_1", OccurredAt: at}
	key := pipeline.IdempotencyKey("local", "claude-code", "claude", tool, []byte("raw"))
	same := tool
	same.OccurredAt, same.ToolResponse = at.Add(time.Hour), []byte(`{"other":"response"}`)
	if pipeline.IdempotencyKey("local", "api", "claude", same, nil) != key {
		t.Error("a tool event's key must depend on its tool_use_id only")
	}
	pre := tool
	pre.Type = event.TypePreToolUse
	differ := map[string]string{
		"pre":      pipeline.IdempotencyKey("local", "claude-code", "claude", pre, nil),
		"team":     pipeline.IdempotencyKey("acme", "claude-code", "claude", tool, nil),
		"platform": pipeline.IdempotencyKey("local", "claude-code", "codex", tool, nil),
	}
	other := tool
	other.ContentSessionID = "s2"
	differ["session"] = pipeline.IdempotencyKey("local", "claude-code", "claude", other, nil)
	for name, k := range differ {
		if k == key {
			t.Errorf("%s: same key as the PostToolUse", name)
		}
	}

	prompt := event.AgentEvent{Type: event.TypeUserPrompt, ContentSessionID: "s1", Text: "hi", OccurredAt: at}
	p1 := pipeline.IdempotencyKey("local", "api", "claude", prompt, nil)
	later := prompt
	later.OccurredAt = at.Add(time.Second)
	if pipeline.IdempotencyKey("local", "api", "claude", later, nil) == p1 {
		t.Error("an API event without ids must be keyed by its occurred_at")
	}
	if pipeline.IdempotencyKey("local", "api", "claude", prompt, nil) != p1 {
		t.Error("the key is not deterministic")
	}
	// A hook's key comes from its raw payload, not from the time the
	// adapter stamped.
	h1 := pipeline.IdempotencyKey("local", "claude-code", "claude", prompt, pipeline.Canonical([]byte(`{"prompt":"hi", "session_id":"s1"}`)))
	h2 := pipeline.IdempotencyKey("local", "claude-code", "claude", later, pipeline.Canonical([]byte(`{ "session_id":"s1","prompt":"hi"}`)))
	if h1 != h2 {
		t.Error("the same hook payload, formatted differently, got two keys")
	}
	explicit := prompt
	explicit.IdempotencyKey = "client-1"
	if pipeline.IdempotencyKey("local", "api", "claude", explicit, nil) != pipeline.IdempotencyKey("local", "api", "claude", event.AgentEvent{Type: event.TypeUserPrompt, ContentSessionID: "s1", IdempotencyKey: "client-1"}, nil) {
		t.Error("a client's idempotency key must decide alone")
	}

	jobID := pipeline.ObserveJobID(key)
	if !regexp.MustCompile(`^evt_[0-9a-f]{32}$`).MatchString(jobID) || jobID != pipeline.ObserveJobID(key) {
		t.Errorf("observe job id %q", jobID)
	}
	sum := pipeline.SummaryJobID("local", 7, 3)
	if !regexp.MustCompile(`^sum_[0-9a-f]{32}$`).MatchString(sum) || sum == pipeline.SummaryJobID("local", 7, 4) || sum == pipeline.SummaryJobID("acme", 7, 3) {
		t.Errorf("summary job id %q", sum)
	}
	if g := pipeline.GenerationKey(jobID, 2, "0123456789abcdef"); g != "gen_"+jobID+"_2_0123456789abcdef" {
		t.Errorf("generation key %q", g)
	}
	if pipeline.Lane(7) != "session_7" {
		t.Errorf("lane %q", pipeline.Lane(7))
	}
}

func TestNormalizePlatformAndProject(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"": "claude", "claude-code": "claude", " Claude Code ": "claude", "transcript": "codex", "codex-cli": "codex",
		"Cursor": "cursor", "windsurf": "windsurf", "Antigravity CLI": "antigravity-cli", "generic": "generic",
	} {
		if got := pipeline.NormalizePlatform(in); got != want {
			t.Errorf("NormalizePlatform(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tc := range []struct{ project, cwd, want string }{
		{"given", "/x/y", "given"},
		{"", "/home/dev/src/shop", "shop"},
		{"", "/home/dev/src/shop/", "shop"},
		{"", `C:\Users\dev\shop`, "shop"},
		{"", "C:", "drive-C"},
		{"", "", "unknown-project"},
		{"", "/", "unknown-project"},
	} {
		if got := pipeline.ProjectName(tc.project, tc.cwd); got != tc.want {
			t.Errorf("ProjectName(%q, %q) = %q, want %q", tc.project, tc.cwd, got, tc.want)
		}
	}
	if got := string(pipeline.Canonical([]byte(`{"b":1, "a":[1,2,{"d":"<x>","c":null}]}`))); got != `{"a":[1,2,{"c":null,"d":"<x>"}],"b":1}` {
		t.Errorf("Canonical = %s", got)
	}
	if got := string(pipeline.Canonical([]byte(`{"a":1} trailing`))); got != `{"a":1} trailing` {
		t.Errorf("Canonical of invalid JSON = %s", got)
	}
}
