package adaptergeneric

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

func TestManifestNamesResolve(t *testing.T) {
	t.Parallel()
	m, err := New().Manifest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m.Source != "generic" {
		t.Errorf("source %q", m.Source)
	}
	// Every advertised name must be accepted as a request event.
	for _, name := range m.Events {
		_, err := New().Normalize(context.Background(), adapter.NormalizeRequest{Event: name, Raw: []byte(`{}`)})
		if err != nil {
			t.Errorf("Normalize(%q): %v", name, err)
		}
	}
}

func TestEventNames(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]event.Type{
		"session_start": event.TypeSessionStart, "context": event.TypeSessionStart, "SessionStart": event.TypeSessionStart,
		"user_prompt": event.TypeUserPrompt, "session-init": event.TypeUserPrompt, "UserPromptSubmit": event.TypeUserPrompt, "User Prompt": event.TypeUserPrompt,
		"pre_tool_use": event.TypePreToolUse, "file-context": event.TypePreToolUse, "PreToolUse": event.TypePreToolUse,
		"tool_use": event.TypeToolUse, "observation": event.TypeToolUse, "PostToolUse": event.TypeToolUse, "TOOL-USE": event.TypeToolUse,
		"assistant_message": event.TypeAssistantMessage, "summarize": event.TypeAssistantMessage, "Stop": event.TypeAssistantMessage,
		"session_end": event.TypeSessionEnd, "session-complete": event.TypeSessionEnd, "SessionEnd": event.TypeSessionEnd,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw := `{"session_id":"s","tool_name":"t"}`
			res, err := New().Normalize(context.Background(), adapter.NormalizeRequest{Event: name, Raw: []byte(raw)})
			if err != nil || len(res.Events) != 1 {
				t.Fatalf("Normalize(%q) = %+v, %v", name, res, err)
			}
			if got := res.Events[0].Type; got != want {
				t.Errorf("type %q, want %q", got, want)
			}
			if got := res.Events[0].HookEvent; got != name {
				t.Errorf("hook event %q, want the request's %q", got, name)
			}
		})
	}
}

func TestUnknownRequestEvent(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Notification", "PreCompact", "thinking", "batchx"} {
		_, err := New().Normalize(context.Background(), adapter.NormalizeRequest{Event: name, Raw: []byte(`{"type":"user_prompt","session_id":"s"}`)})
		if !errors.Is(err, adapter.ErrUnknownEvent) {
			t.Errorf("Normalize(%q) error = %v, want ErrUnknownEvent", name, err)
		}
	}
	for _, name := range []string{"", "events", " Events "} {
		res, err := New().Normalize(context.Background(), adapter.NormalizeRequest{Event: name, Raw: []byte(`{"type":"user_prompt","session_id":"s"}`)})
		if err != nil || len(res.Events) != 1 || res.Events[0].HookEvent != "user_prompt" {
			t.Errorf("Normalize(%q) = %+v, %v; want one event named by its type", name, res, err)
		}
	}
}

func TestPlatformSource(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ field, source, want string }{
		"given":                  {field: "opencode", want: "opencode"},
		"trim and lower":         {field: "  OpenCode  ", want: "opencode"},
		"spaces become dashes":   {field: "Antigravity \t CLI", want: "antigravity-cli"},
		"transcript is codex":    {field: "transcript", want: "codex"},
		"contains codex":         {field: "codex-cli", want: "codex"},
		"contains cursor":        {field: "Cursor IDE", want: "cursor"},
		"contains claude":        {field: "claude-code", want: "claude"},
		"codex wins over claude": {field: "claude-codex", want: "codex"},
		"empty uses the source":  {source: "My Agent", want: "my-agent"},
		"blank uses the source":  {field: "  ", source: "windsurf", want: "windsurf"},
		"else generic":           {want: "generic"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw := fmt.Sprintf(`{"type":"session_start","session_id":"s","platform_source":%q}`, tc.field)
			res, err := New().Normalize(context.Background(), adapter.NormalizeRequest{Source: tc.source, Raw: []byte(raw)})
			if err != nil || len(res.Events) != 1 {
				t.Fatalf("Normalize = %+v, %v", res, err)
			}
			if got := res.Events[0].PlatformSource; got != tc.want {
				t.Errorf("platform source %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOccurredAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)
	for name, tc := range map[string]struct {
		value  string
		want   time.Time
		reject string
	}{
		"absent is now":            {value: "", want: now},
		"null is now":              {value: `null`, want: now},
		"RFC 3339 UTC":             {value: `"2026-03-14T09:20:00Z"`, want: time.Date(2026, 3, 14, 9, 20, 0, 0, time.UTC)},
		"RFC 3339 offset":          {value: `"2026-03-14T10:20:00.1234567+01:00"`, want: time.Date(2026, 3, 14, 9, 20, 0, 123_000_000, time.UTC)},
		"unix ms":                  {value: `1773480003001`, want: time.UnixMilli(1773480003001).UTC()},
		"unix ms in exponent form": {value: `1.773480003001e12`, want: time.UnixMilli(1773480003001).UTC()},
		"fraction of a ms":         {value: `1773480003001.5`, reject: "not a whole number"},
		"zero":                     {value: `0`, reject: "out of range"},
		"negative":                 {value: `-5`, reject: "out of range"},
		"beyond year 9999":         {value: `253402300800000`, reject: "out of range"},
		"huge":                     {value: `1e300`, reject: "not a whole number"},
		"not a time":               {value: `"yesterday"`, reject: "RFC 3339"},
		"date only":                {value: `"2026-03-14"`, reject: "RFC 3339"},
		"numeric string":           {value: `"1773480003001"`, reject: "RFC 3339"},
		"boolean":                  {value: `true`, reject: "got a boolean"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw := `{"type":"session_start","session_id":"s"}`
			if tc.value != "" {
				raw = `{"type":"session_start","session_id":"s","occurredAt":` + tc.value + `}`
			}
			res, err := New(WithClock(func() time.Time { return now.Add(123 * time.Microsecond) })).Normalize(context.Background(), adapter.NormalizeRequest{Raw: []byte(raw)})
			if err != nil {
				t.Fatal(err)
			}
			if tc.reject != "" {
				if !strings.Contains(res.Rejection, tc.reject) || !strings.Contains(res.Rejection, "occurredAt") {
					t.Errorf("rejection %q, want one naming occurredAt and containing %q", res.Rejection, tc.reject)
				}
				return
			}
			if len(res.Events) != 1 || !res.Events[0].OccurredAt.Equal(tc.want) || res.Events[0].OccurredAt.Location() != time.UTC {
				t.Errorf("Normalize = %+v, want occurred_at %v", res, tc.want)
			}
		})
	}
}

func TestRejections(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ event, raw, want string }{
		"empty":                   {"", ``, "event is empty"},
		"null":                    {"", `null`, "not a JSON object, got null"},
		"number":                  {"", `3`, "not a JSON object, got a number"},
		"batch of strings":        {"events", `["a"]`, "event 0 of the batch: event is not a JSON object, got a string"},
		"batch of 501":            {"events", "[" + strings.Repeat(`{"type":"session_end","session_id":"s"},`, 500) + `{"type":"session_end","session_id":"s"}]`, "batch holds 501 events, more than 500"},
		"camel session id number": {"user_prompt", `{"sessionId":1}`, "sessionId must be a string, got a number"},
		"blank session id":        {"user_prompt", `{"session_id":" "}`, "no session_id"},
		"unused field typed":      {"session_start", `{"session_id":"s","toolName":5}`, "toolName must be a string"},
		"schema version string":   {"session_start", `{"session_id":"s","schema_version":"1"}`, "schema_version must be a number"},
		"metadata array":          {"session_start", `{"session_id":"s","metadata":["a"]}`, "metadata must be an object of strings, got an array"},
		"metadata value":          {"session_start", `{"session_id":"s","metadata":{"n":null}}`, "metadata.n must be a string, got null"},
		"edits string":            {"file_edit", `{"session_id":"s","file_path":"/a","edits":"x"}`, "edits must be an array"},
		"long platform":           {"session_start", `{"session_id":"s","platform_source":"` + strings.Repeat("x", 65) + `"}`, "platform_source is longer than 64 bytes"},
		"pre tool without name":   {"pre_tool_use", `{"session_id":"s"}`, "pre_tool_use event has no tool_name"},
		"type conflicts":          {"Stop", `{"session_id":"s","type":"tool_use","tool_name":"x"}`, `type "tool_use" contradicts the event "Stop"`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res, err := New().Normalize(context.Background(), adapter.NormalizeRequest{Event: tc.event, Raw: []byte(tc.raw)})
			if err != nil {
				t.Fatalf("error %v, want a rejection", err)
			}
			if len(res.Events) != 0 || !strings.Contains(res.Rejection, tc.want) {
				t.Errorf("Normalize = %d events, rejection %q; want a rejection containing %q", len(res.Events), res.Rejection, tc.want)
			}
		})
	}
}

func TestBatchOf500(t *testing.T) {
	t.Parallel()
	raw := "[" + strings.Repeat(`{"type":"tool_use","session_id":"s","tool_name":"x"},`, 499) + `{"type":"session_end","session_id":"s"}]`
	res, err := New().Normalize(context.Background(), adapter.NormalizeRequest{Event: BatchEvent, Raw: []byte(raw)})
	if err != nil || res.Rejection != "" || len(res.Events) != 500 {
		t.Fatalf("Normalize = %d events, rejection %q, error %v; want 500 events", len(res.Events), res.Rejection, err)
	}
	if res.Events[499].Type != event.TypeSessionEnd {
		t.Errorf("last event %q, want the batch order kept", res.Events[499].Type)
	}
}

func TestSnakeCaseWins(t *testing.T) {
	t.Parallel()
	raw := `{"type":"tool_use","sessionId":"camel","session_id":"snake","toolName":"Camel","tool_name":"snake","toolInput":{"a":1},"tool_input":{"b":2},"toolUseId":"c","tool_use_id":"s"}`
	res, err := New().Normalize(context.Background(), adapter.NormalizeRequest{Raw: []byte(raw)})
	if err != nil || len(res.Events) != 1 {
		t.Fatalf("Normalize = %+v, %v", res, err)
	}
	ev := res.Events[0]
	if ev.ContentSessionID != "snake" || ev.ToolName != "snake" || string(ev.ToolInput) != `{"b":2}` || ev.ToolUseID != "s" {
		t.Errorf("event %+v, want the snake_case values", ev)
	}
	if ev.IdempotencyKey != "generic:snake:tool_use:s" {
		t.Errorf("key %q", ev.IdempotencyKey)
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		req  adapter.RenderRequest
		want string
	}{
		"no context":             {adapter.RenderRequest{Event: "session_start"}, `{}`},
		"context":                {adapter.RenderRequest{Event: "session_start", Context: "a <b> & c"}, `{"additionalContext":"a <b> & c"}`},
		"any event":              {adapter.RenderRequest{Event: "whatever", Context: "x"}, `{"additionalContext":"x"}`},
		"invalid UTF-8 repaired": {adapter.RenderRequest{Context: "a\xffb"}, `{"additionalContext":"a\ufffdb"}`},
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
