package adaptertest

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// CheckEvent asserts what every normalized event promises the host: the
// current schema version, a known type, a session and a platform source, a
// time, valid JSON in its tool fields, a tool name on tool events, and that
// it encodes.
func CheckEvent(t testing.TB, ev event.AgentEvent) {
	t.Helper()
	if ev.SchemaVersion != event.SchemaVersion {
		t.Errorf("event schema_version %d, want %d", ev.SchemaVersion, event.SchemaVersion)
	}
	if !slices.Contains(event.Types, ev.Type) {
		t.Errorf("event type %q is not one of %v", ev.Type, event.Types)
	}
	if ev.ContentSessionID == "" {
		t.Errorf("%s event has no content_session_id", ev.Type)
	}
	if ev.PlatformSource == "" {
		t.Errorf("%s event has no platform_source", ev.Type)
	}
	if ev.OccurredAt.IsZero() {
		t.Errorf("%s event has no occurred_at", ev.Type)
	}
	if ev.ToolInput != nil && !json.Valid(ev.ToolInput) {
		t.Errorf("%s event tool_input %q is not JSON", ev.Type, ev.ToolInput)
	}
	if ev.ToolResponse != nil && !json.Valid(ev.ToolResponse) {
		t.Errorf("%s event tool_response %q is not JSON", ev.Type, ev.ToolResponse)
	}
	if (ev.Type == event.TypeToolUse || ev.Type == event.TypePreToolUse) && ev.ToolName == "" {
		t.Errorf("%s event has no tool_name", ev.Type)
	}
	if _, err := json.Marshal(ev); err != nil {
		t.Errorf("%s event does not encode: %v", ev.Type, err)
	}
}

// checkAnswer asserts what every answer of Normalize to a known event
// promises: no error, and events or a rejection with a reason, never both
// and never neither. It reports whether the answer held events.
func checkAnswer(t testing.TB, req adapter.NormalizeRequest, res adapter.NormalizeResult, err error) bool {
	t.Helper()
	switch {
	case errors.Is(err, adapter.ErrUnknownEvent):
		t.Errorf("Normalize(%q, %q): %v; the event is in the manifest, so answer with events or a rejection", req.Event, req.Raw, err)
		return false
	case err != nil:
		t.Errorf("Normalize(%q, %q): %v; want events or a rejection, never an error", req.Event, req.Raw, err)
		return false
	case res.Rejection != "" && len(res.Events) > 0:
		t.Errorf("Normalize(%q, %q) = %d events and rejection %q; want one or the other", req.Event, req.Raw, len(res.Events), res.Rejection)
		return false
	case res.Rejection == "" && len(res.Events) == 0:
		t.Errorf("Normalize(%q, %q) = no events and no rejection", req.Event, req.Raw)
		return false
	case len(res.Events) == 0 && strings.TrimSpace(res.Rejection) == "":
		t.Errorf("Normalize(%q, %q) rejected with a blank reason %q", req.Event, req.Raw, res.Rejection)
		return false
	}
	for _, ev := range res.Events {
		CheckEvent(t, ev)
	}
	return len(res.Events) > 0
}

// checkReply asserts that a rendered reply is JSON.
func checkReply(t testing.TB, req adapter.RenderRequest, out []byte, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("RenderHookOutput(%q, context %q): %v", req.Event, req.Context, err)
		return
	}
	if !json.Valid(out) {
		t.Errorf("RenderHookOutput(%q, context %q) = %q, not JSON", req.Event, req.Context, out)
	}
}
