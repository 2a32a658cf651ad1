// Package adaptergeneric is the bundled adapter for agents without an
// adapter of their own (Codex, OpenCode, custom agents). It accepts a
// documented, versioned event JSON, in camelCase or snake_case.
package adaptergeneric

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// Source is the adapter's public name.
const Source = "generic"

// Adapter implements adapter.Adapter for the generic event JSON.
type Adapter struct {
	now func() time.Time
}

var _ adapter.Adapter = (*Adapter)(nil)

// New returns the adapter.
func New() *Adapter { return &Adapter{now: time.Now} }

// Manifest names the adapter and the event types it accepts.
func (a *Adapter) Manifest(context.Context) (adapter.Manifest, error) {
	m := adapter.Manifest{Source: Source}
	for _, t := range event.Types {
		m.Events = append(m.Events, string(t))
	}
	return m, nil
}

// Normalize accepts one generic event. Keys may be camelCase or snake_case;
// a field given both ways takes the snake_case value.
func (a *Adapter) Normalize(_ context.Context, req adapter.NormalizeRequest) (adapter.NormalizeResult, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(req.Raw, &raw); err != nil {
		return adapter.NormalizeResult{Rejection: "payload is not a JSON object: " + err.Error()}, nil
	}
	fields := make(map[string]json.RawMessage, len(raw))
	for k, v := range raw {
		fields[snake(k)] = v
	}
	for k, v := range raw {
		if snake(k) == k {
			fields[k] = v
		}
	}
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(fields[k], &s)
		return s
	}
	typ := event.Type(req.Event)
	if t := str("type"); t != "" {
		typ = event.Type(t)
	}
	known := false
	for _, t := range event.Types {
		known = known || t == typ
	}
	if !known {
		return adapter.NormalizeResult{}, fmt.Errorf("%w: %q", adapter.ErrUnknownEvent, typ)
	}
	ev := event.AgentEvent{
		SchemaVersion: event.SchemaVersion, Type: typ, HookEvent: req.Event,
		PlatformSource: str("platform_source"), ContentSessionID: str("session_id"), Cwd: str("cwd"),
		Project: str("project"), Text: str("text"), ToolName: str("tool_name"), ToolUseID: str("tool_use_id"),
		ToolInput: fields["tool_input"], ToolResponse: fields["tool_response"], OccurredAt: a.now().UTC(),
	}
	if ev.ContentSessionID == "" {
		return adapter.NormalizeResult{Rejection: "event has no session_id"}, nil
	}
	if ev.PlatformSource == "" {
		ev.PlatformSource = Source
	}
	if ev.ToolUseID != "" {
		ev.IdempotencyKey = fmt.Sprintf("%s/%s", ev.PlatformSource, ev.ToolUseID)
	}
	return adapter.NormalizeResult{Events: []event.AgentEvent{ev}}, nil
}

// RenderHookOutput returns the context, if any, as {"context": "..."}.
func (a *Adapter) RenderHookOutput(_ context.Context, req adapter.RenderRequest) ([]byte, error) {
	if req.Context == "" {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]string{"context": req.Context})
}

// snake turns sessionId into session_id.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
