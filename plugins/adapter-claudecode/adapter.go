// Package adapterclaudecode is the bundled adapter for Claude Code hooks. It
// maps each hook payload (SessionStart, UserPromptSubmit, PreToolUse,
// PostToolUse, Stop, SessionEnd) onto AgentEvents, and renders the JSON
// reply that Claude Code reads from a command hook's stdout or an HTTP
// hook's response body.
package adapterclaudecode

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// Source is the adapter's public name.
const Source = "claude-code"

// hookTypes maps Claude Code's hook names onto event types.
var hookTypes = map[string]event.Type{
	"SessionStart":     event.TypeSessionStart,
	"UserPromptSubmit": event.TypeUserPrompt,
	"PreToolUse":       event.TypePreToolUse,
	"PostToolUse":      event.TypeToolUse,
	"Stop":             event.TypeAssistantMessage,
	"SessionEnd":       event.TypeSessionEnd,
}

// Adapter implements adapter.Adapter for Claude Code.
type Adapter struct {
	now func() time.Time
}

var _ adapter.Adapter = (*Adapter)(nil)

// New returns the adapter.
func New() *Adapter { return &Adapter{now: time.Now} }

// Manifest names the adapter and its hooks.
func (a *Adapter) Manifest(context.Context) (adapter.Manifest, error) {
	m := adapter.Manifest{Source: Source}
	for _, name := range []string{"SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop", "SessionEnd"} {
		m.Events = append(m.Events, name)
	}
	return m, nil
}

// payload holds the fields of a Claude Code hook payload that matter.
type payload struct {
	SessionID            string          `json:"session_id"`
	TranscriptPath       string          `json:"transcript_path"`
	Cwd                  string          `json:"cwd"`
	HookEventName        string          `json:"hook_event_name"`
	Prompt               string          `json:"prompt"`
	ToolName             string          `json:"tool_name"`
	ToolInput            json.RawMessage `json:"tool_input"`
	ToolResponse         json.RawMessage `json:"tool_response"`
	ToolUseID            string          `json:"tool_use_id"`
	LastAssistantMessage string          `json:"last_assistant_message"`
	StopHookActive       bool            `json:"stop_hook_active"`
	Source               string          `json:"source"`
	Reason               string          `json:"reason"`
	AgentID              string          `json:"agent_id"`
	AgentType            string          `json:"agent_type"`
}

// Normalize turns one hook payload into an AgentEvent. Payloads without a
// session id or cwd are rejected: claude-mem cannot place them.
func (a *Adapter) Normalize(_ context.Context, req adapter.NormalizeRequest) (adapter.NormalizeResult, error) {
	typ, ok := hookTypes[req.Event]
	if !ok {
		return adapter.NormalizeResult{}, fmt.Errorf("%w: %q (want one of SessionStart, UserPromptSubmit, PreToolUse, PostToolUse, Stop, SessionEnd)", adapter.ErrUnknownEvent, req.Event)
	}
	var p payload
	if err := json.Unmarshal(req.Raw, &p); err != nil {
		return adapter.NormalizeResult{Rejection: "payload is not a JSON object: " + err.Error()}, nil
	}
	switch {
	case p.SessionID == "":
		return adapter.NormalizeResult{Rejection: "payload has no session_id"}, nil
	case p.Cwd == "":
		return adapter.NormalizeResult{Rejection: "payload has no cwd"}, nil
	}
	ev := event.AgentEvent{
		SchemaVersion: event.SchemaVersion, Type: typ, HookEvent: req.Event, PlatformSource: Source,
		ContentSessionID: p.SessionID, Cwd: p.Cwd, TranscriptPath: p.TranscriptPath,
		AgentID: truncate(p.AgentID, 128), AgentType: truncate(p.AgentType, 128), OccurredAt: a.now().UTC(),
	}
	switch typ {
	case event.TypeUserPrompt:
		ev.Text = p.Prompt
	case event.TypeToolUse, event.TypePreToolUse:
		ev.ToolName, ev.ToolUseID, ev.ToolInput, ev.ToolResponse = p.ToolName, p.ToolUseID, p.ToolInput, p.ToolResponse
		if p.ToolUseID != "" {
			ev.IdempotencyKey = fmt.Sprintf("%s/%s/%s", Source, req.Event, p.ToolUseID)
		}
	case event.TypeAssistantMessage:
		ev.Text = p.LastAssistantMessage
		if p.StopHookActive {
			ev.Metadata = map[string]string{"stop_hook_active": "true"}
		}
	case event.TypeSessionStart:
		ev.Metadata = map[string]string{"source": p.Source}
	case event.TypeSessionEnd:
		ev.Metadata = map[string]string{"reason": p.Reason}
	}
	return adapter.NormalizeResult{Events: []event.AgentEvent{ev}}, nil
}

// RenderHookOutput renders Claude Code's reply: additionalContext for
// SessionStart and UserPromptSubmit, an allow decision for PreToolUse, and
// {} where there is nothing to say. A memory hook never blocks the agent.
func (a *Adapter) RenderHookOutput(_ context.Context, req adapter.RenderRequest) ([]byte, error) {
	type specific struct {
		HookEventName      string `json:"hookEventName"`
		AdditionalContext  string `json:"additionalContext,omitempty"`
		PermissionDecision string `json:"permissionDecision,omitempty"`
	}
	type reply struct {
		HookSpecificOutput *specific `json:"hookSpecificOutput,omitempty"`
	}
	var r reply
	switch req.Event {
	case "SessionStart", "UserPromptSubmit":
		if req.Context != "" {
			r.HookSpecificOutput = &specific{HookEventName: req.Event, AdditionalContext: req.Context}
		}
	case "PreToolUse":
		r.HookSpecificOutput = &specific{HookEventName: req.Event, PermissionDecision: "allow", AdditionalContext: req.Context}
	case "PostToolUse", "Stop", "SessionEnd":
	default:
		return nil, fmt.Errorf("%w: %q", adapter.ErrUnknownEvent, req.Event)
	}
	return json.Marshal(r)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
