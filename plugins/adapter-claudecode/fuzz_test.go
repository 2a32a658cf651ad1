package adapterclaudecode

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// FuzzNormalize feeds arbitrary payloads to every hook. Normalize must not
// panic, and must answer with events or a rejection (with a reason), never
// both and never neither; the only error is ErrUnknownEvent. Every event
// must be complete and encodable, and must render. The corpus is seeded
// from the golden payloads.
func FuzzNormalize(f *testing.F) {
	ph := newPlaceholders(f, fixtureRepos(f))
	for _, tc := range goldenCases(f) {
		raw, err := os.ReadFile(tc.input)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tc.event, ph.expand(raw))
	}
	f.Add("Stop", []byte(`{"session_id":"s","cwd":"/","transcript_path":"/dev/zero"}`))
	f.Add("notahook", []byte(`{}`))

	a := New(WithClock(testClock))
	f.Fuzz(func(t *testing.T, hook string, raw []byte) {
		ctx := context.Background()
		res, err := a.Normalize(ctx, adapter.NormalizeRequest{Source: Source, Event: hook, Raw: raw})
		if err != nil {
			if !errors.Is(err, adapter.ErrUnknownEvent) {
				t.Fatalf("Normalize error %v, want nil or ErrUnknownEvent", err)
			}
			if len(res.Events) != 0 || res.Rejection != "" {
				t.Fatalf("Normalize returned an error and a result: %+v", res)
			}
			return
		}
		if (res.Rejection == "") == (len(res.Events) == 0) {
			t.Fatalf("Normalize = %d events and rejection %q; want exactly one of them", len(res.Events), res.Rejection)
		}
		for _, ev := range res.Events {
			checkEvent(t, ev)
			out, err := a.RenderHookOutput(ctx, adapter.RenderRequest{Event: hook, AgentEvent: ev, Context: string(raw)})
			if err != nil {
				t.Fatalf("RenderHookOutput for a normalized event: %v", err)
			}
			if !json.Valid(out) {
				t.Fatalf("RenderHookOutput = %q, not JSON", out)
			}
		}
	})
}

// checkEvent asserts what every normalized event promises the host.
func checkEvent(t *testing.T, ev event.AgentEvent) {
	t.Helper()
	switch {
	case ev.SchemaVersion != event.SchemaVersion:
		t.Fatalf("schema_version %d", ev.SchemaVersion)
	case !slices.Contains(event.Types, ev.Type):
		t.Fatalf("type %q", ev.Type)
	case ev.ContentSessionID == "" || ev.Cwd == "" || ev.Project == "":
		t.Fatalf("session %q cwd %q project %q", ev.ContentSessionID, ev.Cwd, ev.Project)
	case ev.PlatformSource != PlatformSource:
		t.Fatalf("platform source %q", ev.PlatformSource)
	case ev.OccurredAt.IsZero():
		t.Fatal("no occurred_at")
	case len(ev.AgentID) > maxAgentField || len(ev.AgentType) > maxAgentField:
		t.Fatalf("agent fields of %d and %d bytes", len(ev.AgentID), len(ev.AgentType))
	case ev.ToolInput != nil && !json.Valid(ev.ToolInput), ev.ToolResponse != nil && !json.Valid(ev.ToolResponse):
		t.Fatalf("tool input %q response %q", ev.ToolInput, ev.ToolResponse)
	}
	if (ev.Type == event.TypeToolUse || ev.Type == event.TypePreToolUse) && ev.ToolName == "" {
		t.Fatal("tool event without a tool name")
	}
	if _, err := json.Marshal(ev); err != nil {
		t.Fatalf("event does not encode: %v", err)
	}
}
