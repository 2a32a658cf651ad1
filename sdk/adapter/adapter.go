// Package adapter is the contract between the claude-mem host and an agent
// adapter plugin (protocol claudemem.adapter.v1).
//
// An adapter knows one agent's hooks. It turns the raw payload of a hook
// into AgentEvents (or rejects it with a reason), and renders what the agent
// expects to read back from that hook. Third parties ship adapters as their
// own binaries; see examples/ for one built against this package alone.
package adapter

import (
	"context"
	"errors"

	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// ProtocolVersion is the major version of claudemem.adapter.v1.
const ProtocolVersion = 1

// Manifest says which agent an adapter serves.
type Manifest struct {
	// Source is the adapter's public name, used in /v1/hooks/{source}/{event}
	// and `claude-mem hook {source} {event}`, e.g. "claude-code".
	Source string
	// Events lists the agent's own hook event names the adapter accepts.
	Events []string
}

// NormalizeRequest is one raw hook payload.
type NormalizeRequest struct {
	Source string
	// Event is the agent's own name for the hook, e.g. "PostToolUse".
	Event string
	Raw   []byte
}

// NormalizeResult holds the events a payload became, or why it was
// rejected. A rejection is an answer, not an error: the host reports it to
// the caller as bad input.
type NormalizeResult struct {
	Events    []event.AgentEvent
	Rejection string
}

// RenderRequest asks for the output of a hook.
type RenderRequest struct {
	Event      string
	AgentEvent event.AgentEvent
	// Context is memory the host wants the agent to see, if any.
	Context string
}

// Adapter is an agent adapter. Every method may be called concurrently.
type Adapter interface {
	Manifest(ctx context.Context) (Manifest, error)
	Normalize(ctx context.Context, req NormalizeRequest) (NormalizeResult, error)
	// RenderHookOutput returns the bytes the agent expects from the hook,
	// on stdout for a command hook or as the body of an HTTP hook's reply.
	RenderHookOutput(ctx context.Context, req RenderRequest) ([]byte, error)
}

// ErrUnknownEvent is returned for a hook event the adapter does not know.
var ErrUnknownEvent = errors.New("adapter: unknown hook event")
