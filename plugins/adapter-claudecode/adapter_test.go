package adapterclaudecode

import (
	"context"
	"encoding/json"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

func TestManifest(t *testing.T) {
	t.Parallel()
	m, err := New().Manifest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := adapter.Manifest{Source: "claude-code", Events: []string{
		"SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolUseFailure", "Stop", "SubagentStop", "SessionEnd",
	}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("Manifest = %+v, want %+v", m, want)
	}
}

// normalizeOne normalizes a payload that must become exactly one event.
func normalizeOne(t *testing.T, a *Adapter, hook, raw string) event.AgentEvent {
	t.Helper()
	res, err := a.Normalize(context.Background(), adapter.NormalizeRequest{Source: Source, Event: hook, Raw: []byte(raw)})
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if res.Rejection != "" || len(res.Events) != 1 {
		t.Fatalf("Normalize = %d events, rejection %q; want one event", len(res.Events), res.Rejection)
	}
	return res.Events[0]
}

func TestNormalizeFields(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 100) // 200 bytes
	for name, tc := range map[string]struct {
		hook  string
		raw   string
		check func(t *testing.T, ev event.AgentEvent)
	}{
		"hook names ignore case": {
			hook: "posttooluse",
			raw:  `{"session_id":"s","cwd":"/nowhere/p","tool_name":"Bash"}`,
			check: func(t *testing.T, ev event.AgentEvent) {
				if ev.HookEvent != "PostToolUse" || ev.Type != event.TypeToolUse {
					t.Errorf("hook %q type %q, want PostToolUse tool_use", ev.HookEvent, ev.Type)
				}
			},
		},
		"session_id wins over sessionId and id": {
			hook: "SessionEnd",
			raw:  `{"id":"c","sessionId":"b","session_id":"a","cwd":"/nowhere/p"}`,
			check: func(t *testing.T, ev event.AgentEvent) {
				if ev.ContentSessionID != "a" {
					t.Errorf("session %q, want a", ev.ContentSessionID)
				}
			},
		},
		"sessionId wins over id": {
			hook: "SessionEnd",
			raw:  `{"id":"c","sessionId":"b","cwd":"/nowhere/p"}`,
			check: func(t *testing.T, ev event.AgentEvent) {
				if ev.ContentSessionID != "b" {
					t.Errorf("session %q, want b", ev.ContentSessionID)
				}
			},
		},
		"id is the last fallback, null is absent": {
			hook: "SessionEnd",
			raw:  `{"session_id":null,"id":"c","cwd":"/nowhere/p"}`,
			check: func(t *testing.T, ev event.AgentEvent) {
				if ev.ContentSessionID != "c" {
					t.Errorf("session %q, want c", ev.ContentSessionID)
				}
			},
		},
		"agent fields are cut to 128 bytes on a rune boundary": {
			hook: "PostToolUse",
			raw:  `{"session_id":"s","cwd":"/nowhere/p","tool_name":"Bash","agent_id":"` + long + `","agent_type":"Explore"}`,
			check: func(t *testing.T, ev event.AgentEvent) {
				if ev.AgentID != strings.Repeat("é", 64) || ev.AgentType != "Explore" {
					t.Errorf("agent %q (%d bytes) type %q", ev.AgentID, len(ev.AgentID), ev.AgentType)
				}
			},
		},
		"null tool input is absent, pretty input is compacted": {
			hook: "PostToolUse",
			raw:  `{"session_id":"s","cwd":"/nowhere/p","tool_name":"Bash","tool_input":null,"tool_response":{ "stdout" : "ok" }}`,
			check: func(t *testing.T, ev event.AgentEvent) {
				if ev.ToolInput != nil || string(ev.ToolResponse) != `{"stdout":"ok"}` {
					t.Errorf("input %q response %q", ev.ToolInput, ev.ToolResponse)
				}
			},
		},
		"invalid UTF-8 in tool output is repaired": {
			hook: "PostToolUse",
			raw:  "{\"session_id\":\"s\",\"cwd\":\"/nowhere/p\",\"tool_name\":\"Bash\",\"tool_response\":{\"stdout\":\"a\xffb\"}}",
			check: func(t *testing.T, ev event.AgentEvent) {
				if string(ev.ToolResponse) != `{"stdout":"a`+"\uFFFD"+`b"}` {
					t.Errorf("response %q", ev.ToolResponse)
				}
			},
		},
		"a wrongly typed decoration is ignored": {
			hook: "SessionStart",
			raw:  `{"session_id":"s","cwd":"/nowhere/p","source":5,"model":{"id":"m"},"agent_id":7}`,
			check: func(t *testing.T, ev event.AgentEvent) {
				if ev.Metadata != nil || ev.AgentID != "" {
					t.Errorf("metadata %v agent %q, want none", ev.Metadata, ev.AgentID)
				}
			},
		},
		"an unknown hook_event_name defers to the named hook": {
			hook: "SessionEnd",
			raw:  `{"session_id":"s","cwd":"/nowhere/p","hook_event_name":"SessionEndV2","reason":"logout"}`,
			check: func(t *testing.T, ev event.AgentEvent) {
				if ev.HookEvent != "SessionEnd" || ev.Metadata["reason"] != "logout" {
					t.Errorf("hook %q metadata %v", ev.HookEvent, ev.Metadata)
				}
			},
		},
		"whitespace prompt is a media prompt": {
			hook: "UserPromptSubmit",
			raw:  `{"session_id":"s","cwd":"/nowhere/p","prompt":" \n "}`,
			check: func(t *testing.T, ev event.AgentEvent) {
				if ev.Text != mediaPrompt || ev.Metadata["media_prompt"] != "true" {
					t.Errorf("text %q metadata %v", ev.Text, ev.Metadata)
				}
			},
		},
		"prompt without prompt_id has no idempotency key": {
			hook: "UserPromptSubmit",
			raw:  `{"session_id":"s","cwd":"/nowhere/p","prompt":"hi"}`,
			check: func(t *testing.T, ev event.AgentEvent) {
				if ev.IdempotencyKey != "" {
					t.Errorf("key %q", ev.IdempotencyKey)
				}
			},
		},
		"tool key separates pre and post": {
			hook: "PreToolUse",
			raw:  `{"session_id":"s","cwd":"/nowhere/p","tool_name":"Read","tool_use_id":"toolu_1"}`,
			check: func(t *testing.T, ev event.AgentEvent) {
				if ev.IdempotencyKey != "claude-code:s:pre_tool_use:toolu_1" {
					t.Errorf("key %q", ev.IdempotencyKey)
				}
			},
		},
		"failure without a message still says it failed": {
			hook: "PostToolUseFailure",
			raw:  `{"session_id":"s","cwd":"/nowhere/p","tool_name":"Bash","tool_use_id":"t","error":""}`,
			check: func(t *testing.T, ev event.AgentEvent) {
				if ev.Metadata["error"] != "tool failed" || ev.ToolResponse != nil || ev.IdempotencyKey != "claude-code:s:tool_use:t" {
					t.Errorf("metadata %v response %q key %q", ev.Metadata, ev.ToolResponse, ev.IdempotencyKey)
				}
			},
		},
		"stop without message or transcript": {
			hook: "Stop",
			raw:  `{"session_id":"s","cwd":"/nowhere/p","stop_hook_active":false}`,
			check: func(t *testing.T, ev event.AgentEvent) {
				want := map[string]string{"text_missing": missingNoTranscript}
				if ev.Text != "" || !maps.Equal(ev.Metadata, want) {
					t.Errorf("text %q metadata %v, want %v", ev.Text, ev.Metadata, want)
				}
			},
		},
		"stop with a directory for a transcript": {
			hook: "Stop",
			raw:  `{"session_id":"s","cwd":"/nowhere/p","transcript_path":` + jsonQuote(t, mustAbs(t, "testdata")) + `}`,
			check: func(t *testing.T, ev event.AgentEvent) {
				if ev.Metadata["text_missing"] != missingUnreadable {
					t.Errorf("metadata %v", ev.Metadata)
				}
			},
		},
		"subagent stop never reads the main transcript": {
			hook: "SubagentStop",
			raw:  `{"session_id":"s","cwd":"/nowhere/p","agent_id":"a1","transcript_path":` + jsonQuote(t, mustAbs(t, "testdata/transcripts/final-text.jsonl")) + `}`,
			check: func(t *testing.T, ev event.AgentEvent) {
				if ev.Text != "" || ev.Metadata["text_missing"] != missingNoTranscript || ev.Metadata["subagent"] != "true" {
					t.Errorf("text %q metadata %v", ev.Text, ev.Metadata)
				}
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tc.check(t, normalizeOne(t, New(WithClock(testClock)), tc.hook, tc.raw))
		})
	}
}

func TestTranscriptReadingCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	raw := `{"session_id":"s","cwd":"/nowhere/p","transcript_path":` + jsonQuote(t, mustAbs(t, "testdata/transcripts/final-text.jsonl")) + `}`
	ev := normalizeOne(t, New(WithTranscriptReading(false)), "Stop", raw)
	if ev.Text != "" || ev.Metadata["text_missing"] != missingDisabled {
		t.Errorf("text %q metadata %v", ev.Text, ev.Metadata)
	}
	ev = normalizeOne(t, New(), "Stop", raw)
	if !strings.HasPrefix(ev.Text, "Fixed:") || ev.Metadata["text_source"] != "transcript" {
		t.Errorf("text %q metadata %v", ev.Text, ev.Metadata)
	}
}

func TestRejections(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		hook, raw, want string
	}{
		"empty body":          {"Stop", "  ", "payload is empty"},
		"JSON null":           {"Stop", "null", "not a JSON object"},
		"a string":            {"Stop", `"hi"`, "not a JSON object, got a string"},
		"trailing garbage":    {"Stop", `{"session_id":"s","cwd":"/p"} x`, "not valid JSON"},
		"blank session id":    {"Stop", `{"session_id":"  ","cwd":"/p"}`, "no session_id"},
		"sessionId object":    {"Stop", `{"sessionId":{},"cwd":"/p"}`, "sessionId must be a string, got an object"},
		"cwd number":          {"Stop", `{"session_id":"s","cwd":1}`, "cwd must be a string, got a number"},
		"tool_name bool":      {"PreToolUse", `{"session_id":"s","cwd":"/p","tool_name":true}`, "tool_name must be a string, got a boolean"},
		"blank tool_name":     {"PostToolUseFailure", `{"session_id":"s","cwd":"/p","tool_name":" "}`, "PostToolUseFailure payload has no tool_name"},
		"wrong hook":          {"Stop", `{"session_id":"s","cwd":"/p","hook_event_name":"SubagentStop"}`, "is a SubagentStop hook but was posted as Stop"},
		"no hook at all":      {"", `{"session_id":"s","cwd":"/p"}`, "no hook_event_name"},
		"prompt object":       {"UserPromptSubmit", `{"session_id":"s","cwd":"/p","prompt":{}}`, "prompt must be a string"},
		"session before cwd":  {"Stop", `{}`, "no session_id"},
		"array, not a object": {"Stop", `[{"session_id":"s","cwd":"/p"}]`, "not a JSON object, got an array"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res, err := New().Normalize(context.Background(), adapter.NormalizeRequest{Source: Source, Event: tc.hook, Raw: []byte(tc.raw)})
			if err != nil {
				t.Fatalf("Normalize error %v, want a rejection", err)
			}
			if len(res.Events) != 0 || !strings.Contains(res.Rejection, tc.want) {
				t.Errorf("Normalize = %d events, rejection %q; want rejection containing %q", len(res.Events), res.Rejection, tc.want)
			}
		})
	}
}

func TestOnlyTaskNotifications(t *testing.T) {
	t.Parallel()
	for prompt, want := range map[string]bool{
		"<task-notification>done</task-notification>":                                        true,
		"\n <task-notification>\n<status>ok</status>\n</task-notification>\n":                true,
		"<task-notification>a</task-notification>\n<task-notification>b</task-notification>": true,
		"<task-notification>a</task-notification> and please also fix the tests":             false,
		"look: <task-notification>a</task-notification>":                                     false,
		"<task-notification>never closed":                                                    false,
		"<task-notification>a</task-notification>x<task-notification>b</task-notification>":  false,
		"":             false,
		"plain prompt": false,
		"<TASK-NOTIFICATION>a</TASK-NOTIFICATION>":                                             false,
		"<task-notification></task-notification>":                                              true,
		"<task-notification>a</task-notification>\n<task-notification>unterminated":            false,
		"<task-notification><task-notification>nested</task-notification></task-notification>": false,
	} {
		if got := onlyTaskNotifications(prompt); got != want {
			t.Errorf("onlyTaskNotifications(%q) = %v, want %v", prompt, got, want)
		}
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	const ctxText = "past work <b>&</b>"
	for name, tc := range map[string]struct {
		req  adapter.RenderRequest
		want string
	}{
		"session start, no context":       {adapter.RenderRequest{Event: "SessionStart"}, `{}`},
		"session start, context":          {adapter.RenderRequest{Event: "SessionStart", Context: ctxText}, `{"hookSpecificOutput":{"hookEventName":"SessionStart","additionalContext":"past work <b>&</b>"}}`},
		"prompt, context":                 {adapter.RenderRequest{Event: "UserPromptSubmit", Context: "x"}, `{"hookSpecificOutput":{"hookEventName":"UserPromptSubmit","additionalContext":"x"}}`},
		"prompt, no context":              {adapter.RenderRequest{Event: "UserPromptSubmit"}, `{}`},
		"read is allowed":                 {adapter.RenderRequest{Event: "PreToolUse", AgentEvent: event.AgentEvent{ToolName: "Read"}}, `{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"allow"}}`},
		"read with context":               {adapter.RenderRequest{Event: "PreToolUse", AgentEvent: event.AgentEvent{ToolName: "Read"}, Context: "x"}, `{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"allow","additionalContext":"x"}}`},
		"bash is not approved":            {adapter.RenderRequest{Event: "PreToolUse", AgentEvent: event.AgentEvent{ToolName: "Bash"}}, `{}`},
		"bash gets context, no decision":  {adapter.RenderRequest{Event: "PreToolUse", AgentEvent: event.AgentEvent{ToolName: "Bash"}, Context: "x"}, `{"hookSpecificOutput":{"hookEventName":"PreToolUse","additionalContext":"x"}}`},
		"unknown tool is not approved":    {adapter.RenderRequest{Event: "PreToolUse"}, `{}`},
		"post tool use, context":          {adapter.RenderRequest{Event: "PostToolUse", Context: "x"}, `{"hookSpecificOutput":{"hookEventName":"PostToolUse","additionalContext":"x"}}`},
		"failure ignores context":         {adapter.RenderRequest{Event: "PostToolUseFailure", Context: "x"}, `{}`},
		"stop ignores context":            {adapter.RenderRequest{Event: "Stop", Context: "x"}, `{}`},
		"subagent stop":                   {adapter.RenderRequest{Event: "SubagentStop"}, `{}`},
		"session end":                     {adapter.RenderRequest{Event: "SessionEnd", Context: "x"}, `{}`},
		"event falls back to hook_event":  {adapter.RenderRequest{AgentEvent: event.AgentEvent{HookEvent: "SessionStart"}, Context: "x"}, `{"hookSpecificOutput":{"hookEventName":"SessionStart","additionalContext":"x"}}`},
		"lower-case hook renders canonic": {adapter.RenderRequest{Event: "sessionstart", Context: "x"}, `{"hookSpecificOutput":{"hookEventName":"SessionStart","additionalContext":"x"}}`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := New().RenderHookOutput(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("RenderHookOutput = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestRenderNeverBlocks checks every hook, with and without context, for
// the keys that would block or stop Claude Code.
func TestRenderNeverBlocks(t *testing.T) {
	t.Parallel()
	m, err := New().Manifest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, hook := range m.Events {
		for _, tool := range []string{"", "Read", "Bash", "Edit"} {
			for _, ctxText := range []string{"", "ctx"} {
				out, err := New().RenderHookOutput(context.Background(), adapter.RenderRequest{Event: hook, AgentEvent: event.AgentEvent{ToolName: tool}, Context: ctxText})
				if err != nil {
					t.Fatalf("%s: %v", hook, err)
				}
				var reply map[string]any
				if err := json.Unmarshal(out, &reply); err != nil {
					t.Fatalf("%s: %v", hook, err)
				}
				for _, k := range []string{"decision", "continue", "stopReason"} {
					if _, ok := reply[k]; ok {
						t.Errorf("%s reply has %q: %s", hook, k, out)
					}
				}
				if hso, ok := reply["hookSpecificOutput"].(map[string]any); ok {
					if d, ok := hso["permissionDecision"]; ok && d != "allow" {
						t.Errorf("%s reply decides %v: %s", hook, d, out)
					}
					if hso["hookEventName"] != hook {
						t.Errorf("%s reply names %v", hook, hso["hookEventName"])
					}
				}
			}
		}
	}
}

func TestNormalizeIsConcurrent(t *testing.T) {
	t.Parallel()
	a := New(WithClock(testClock))
	raw := []byte(`{"session_id":"s","cwd":"/nowhere/p","transcript_path":` + jsonQuote(t, mustAbs(t, "testdata/transcripts/final-text.jsonl")) + `}`)
	events := make(chan event.AgentEvent, 16)
	for range cap(events) {
		go func() {
			res, _ := a.Normalize(context.Background(), adapter.NormalizeRequest{Event: "Stop", Raw: raw})
			if len(res.Events) == 1 {
				events <- res.Events[0]
			} else {
				events <- event.AgentEvent{}
			}
		}()
	}
	var texts []string
	for range cap(events) {
		texts = append(texts, (<-events).Text)
	}
	if texts = slices.Compact(texts); len(texts) != 1 || !strings.HasPrefix(texts[0], "Fixed:") {
		t.Errorf("concurrent Stop texts = %q", texts)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func jsonQuote(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
