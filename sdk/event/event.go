// Package event defines AgentEvent, the versioned shape in which every agent
// adapter reports what happened in a session (schema claudemem.event.v1).
package event

import (
	"encoding/json"
	"time"
)

// SchemaVersion is the version of the AgentEvent shape.
const SchemaVersion = 1

// Type is what kind of thing happened.
type Type string

// The event types every adapter maps its agent's hooks onto.
const (
	TypeSessionStart     Type = "session_start"
	TypeUserPrompt       Type = "user_prompt"
	TypePreToolUse       Type = "pre_tool_use"
	TypeToolUse          Type = "tool_use"
	TypeAssistantMessage Type = "assistant_message"
	TypeSessionEnd       Type = "session_end"
)

// Types lists every event type.
var Types = []Type{TypeSessionStart, TypeUserPrompt, TypePreToolUse, TypeToolUse, TypeAssistantMessage, TypeSessionEnd}

// AgentEvent is one normalized thing that happened in an agent session.
type AgentEvent struct {
	SchemaVersion int  `json:"schema_version"`
	Type          Type `json:"type"`
	// HookEvent is the agent's own name for the hook, e.g. "PostToolUse".
	HookEvent string `json:"hook_event,omitempty"`
	// PlatformSource names the agent: "claude-code", "codex", "opencode"…
	PlatformSource   string `json:"platform_source"`
	ContentSessionID string `json:"content_session_id"`
	Cwd              string `json:"cwd,omitempty"`
	Project          string `json:"project,omitempty"`
	// Text is the prompt of a user_prompt, or the final answer of an
	// assistant_message.
	Text         string          `json:"text,omitempty"`
	ToolName     string          `json:"tool_name,omitempty"`
	ToolUseID    string          `json:"tool_use_id,omitempty"`
	ToolInput    json.RawMessage `json:"tool_input,omitempty"`
	ToolResponse json.RawMessage `json:"tool_response,omitempty"`
	OccurredAt   time.Time       `json:"occurred_at"`
	// IdempotencyKey makes a repeated post of the same event a no-op.
	IdempotencyKey string            `json:"idempotency_key,omitempty"`
	AgentID        string            `json:"agent_id,omitempty"`
	AgentType      string            `json:"agent_type,omitempty"`
	TranscriptPath string            `json:"transcript_path,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
}
