// Package adapterclaudecode is the bundled adapter for Claude Code hooks.
// It maps each hook payload onto an AgentEvent, and renders the JSON reply
// that Claude Code reads from a command hook's stdout or from an HTTP hook's
// response body.
//
// # Hooks
//
//	hook                event type         text / tool fields          metadata
//	SessionStart        session_start      -                           source, model
//	UserPromptSubmit    user_prompt        prompt                      skip, skip_reason, media_prompt
//	PreToolUse          pre_tool_use       tool_name/input/use_id      -
//	PostToolUse         tool_use           tool_name/input/response    -
//	PostToolUseFailure  tool_use           tool_name/input/use_id      error, is_interrupt
//	Stop                assistant_message  final answer                stop_hook_active, text_source, text_missing
//	SubagentStop        assistant_message  the subagent's answer       as Stop, plus subagent, agent_transcript_path
//	SessionEnd          session_end        -                           reason
//
// Every event carries the session id (session_id, else sessionId, else id),
// cwd, the project derived from cwd (see package sdk/project), transcript_path,
// agent_id and agent_type (each cut to 128 bytes), and platform source
// "claude", the name claude-mem stores for Claude Code, so that sessions
// imported from claude-mem and sessions recorded here are one source.
// A worktree's event also carries metadata project_parent.
//
// # What the adapter does not decide
//
// It strips nothing and skips nothing: privacy tags, excluded projects,
// skipped tools and subagent turns are the host's call. Where claude-mem
// would have dropped an event, the adapter says so in metadata instead:
// skip=true with skip_reason "task-notification" for a prompt that is only
// a <task-notification> block, and stop_hook_active=true for a Stop that
// follows a blocking Stop hook.
//
// # Stop without last_assistant_message
//
// Older Claude Code versions send no last_assistant_message. The adapter
// then reads the newest assistant text from transcript_path (for
// SubagentStop, agent_transcript_path), scanning at most the last 16 MiB.
// A missing, unreadable or lagging transcript yields an event without text
// and metadata text_missing saying why; it never fails the hook.
//
// # Idempotency
//
// Tool events are keyed "claude-code:<session>:<type>:<tool_use_id>", and
// a prompt with a prompt_id "claude-code:<session>:user_prompt:<prompt_id>",
// so a replayed payload is recognised. Other hooks carry no natural key.
//
// # Replies
//
// SessionStart and UserPromptSubmit reply with
// hookSpecificOutput.additionalContext when the host has context, and {}
// otherwise; PostToolUse likewise. PreToolUse replies with
// permissionDecision "allow" for the read-only tools (Read, Glob, Grep, LS,
// NotebookRead), plus additionalContext when given; for any other tool the
// decision is left out, because "allow" would bypass the user's permission
// prompt for that call. Every other hook replies {}. A reply never blocks or
// denies anything.
package adapterclaudecode

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/adapter/payload"
	"github.com/claude-mem/claude-mem-server/sdk/event"
	"github.com/claude-mem/claude-mem-server/sdk/project"
)

// Source is the adapter's public name.
const Source = "claude-code"

// PlatformSource is the platform source of every event this adapter
// produces: claude-mem's normalized name for Claude Code (behaviour §1.8
// maps "claude-code" to "claude").
const PlatformSource = "claude"

// maxAgentField is claude-mem's bound on agent_id and agent_type.
const maxAgentField = 128

// mediaPrompt stands in for an empty prompt (an image-only message), as in
// claude-mem's session-init handler.
const mediaPrompt = "[media prompt]"

// The Claude Code hooks this adapter knows, in Manifest order.
var hooks = []struct {
	name string
	typ  event.Type
}{
	{"SessionStart", event.TypeSessionStart},
	{"UserPromptSubmit", event.TypeUserPrompt},
	{"PreToolUse", event.TypePreToolUse},
	{"PostToolUse", event.TypeToolUse},
	{"PostToolUseFailure", event.TypeToolUse},
	{"Stop", event.TypeAssistantMessage},
	{"SubagentStop", event.TypeAssistantMessage},
	{"SessionEnd", event.TypeSessionEnd},
}

// readOnlyTools are the tools for which a PreToolUse reply may say "allow":
// approving them grants nothing beyond reading.
var readOnlyTools = map[string]bool{"Read": true, "Glob": true, "Grep": true, "LS": true, "NotebookRead": true}

// canonicalHook returns the hook's canonical name and event type. Names are
// matched without regard to case, so `claude-mem hook claude-code stop`
// works too.
func canonicalHook(name string) (string, event.Type, bool) {
	for _, h := range hooks {
		if strings.EqualFold(h.name, strings.TrimSpace(name)) {
			return h.name, h.typ, true
		}
	}
	return "", "", false
}

func hookNames() string {
	names := make([]string, len(hooks))
	for i, h := range hooks {
		names[i] = h.name
	}
	return strings.Join(names, ", ")
}

// Adapter implements adapter.Adapter for Claude Code. It is safe for
// concurrent use.
type Adapter struct {
	now             func() time.Time
	readTranscripts bool
	maxScan         int64
}

var _ adapter.Adapter = (*Adapter)(nil)

// Option configures an Adapter.
type Option func(*Adapter)

// WithClock sets the clock that stamps events; Claude Code payloads carry
// no time of their own. The default is time.Now.
func WithClock(now func() time.Time) Option { return func(a *Adapter) { a.now = now } }

// WithTranscriptReading turns the Stop fallback that reads transcript_path
// on or off (default on). Turn it off when the server does not share a
// filesystem with the agents it serves, or when the paths posted to it are
// not trusted: the adapter opens whatever file the payload names.
func WithTranscriptReading(on bool) Option { return func(a *Adapter) { a.readTranscripts = on } }

// New returns the adapter.
func New(opts ...Option) *Adapter {
	a := &Adapter{now: time.Now, readTranscripts: true, maxScan: defaultTranscriptMaxScan}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Manifest names the adapter and its hooks.
func (a *Adapter) Manifest(context.Context) (adapter.Manifest, error) {
	m := adapter.Manifest{Source: Source, Events: make([]string, len(hooks))}
	for i, h := range hooks {
		m.Events[i] = h.name
	}
	return m, nil
}

func reject(format string, args ...any) (adapter.NormalizeResult, error) {
	return adapter.NormalizeResult{Rejection: fmt.Sprintf(format, args...)}, nil
}

// Normalize turns one hook payload into one AgentEvent. req.Event names the
// hook; when it is empty, the payload's hook_event_name does. ctx bounds
// the call, including the transcript read of the Stop fallback.
//
// An unknown hook is adapter.ErrUnknownEvent. A payload that is not a JSON
// object, has no session id or no cwd, or holds a field the event depends
// on with the wrong JSON type is a rejection with the reason.
func (a *Adapter) Normalize(ctx context.Context, req adapter.NormalizeRequest) (adapter.NormalizeResult, error) {
	var (
		hook string
		typ  event.Type
	)
	if strings.TrimSpace(req.Event) != "" {
		var ok bool
		if hook, typ, ok = canonicalHook(req.Event); !ok {
			return adapter.NormalizeResult{}, fmt.Errorf("%w: %q (Claude Code hooks: %s)", adapter.ErrUnknownEvent, req.Event, hookNames())
		}
	}
	f, reason := payload.Parse(req.Raw, "payload")
	if reason != "" {
		return reject("%s", reason)
	}

	// The payload names its own hook. A hook wired to the wrong URL or
	// command would otherwise be stored as something it is not.
	named := f.OptStr("hook_event_name")
	switch namedHook, namedType, known := canonicalHook(named); {
	case hook == "" && named == "":
		return reject("payload has no hook_event_name, and no hook was named: post to /v1/hooks/claude-code/{hook}, e.g. PostToolUse")
	case hook == "" && !known:
		return adapter.NormalizeResult{}, fmt.Errorf("%w: hook_event_name %q (Claude Code hooks: %s)", adapter.ErrUnknownEvent, named, hookNames())
	case hook == "":
		hook, typ = namedHook, namedType
	case known && namedHook != hook:
		return reject("payload is a %s hook but was posted as %s: check the hook's URL or command", namedHook, hook)
	}

	sessionID, reason := f.Str("session_id", "sessionId", "id")
	if reason != "" {
		return reject("%s", reason)
	}
	if strings.TrimSpace(sessionID) == "" {
		return reject("payload has no session_id (nor sessionId or id): the event cannot be placed in a session")
	}
	cwd, reason := f.Str("cwd")
	if reason != "" {
		return reject("%s", reason)
	}
	if strings.TrimSpace(cwd) == "" {
		return reject("payload has no cwd: the event cannot be placed in a project")
	}

	projectName, parent := project.For(cwd)
	ev := event.AgentEvent{
		SchemaVersion:    event.SchemaVersion,
		Type:             typ,
		HookEvent:        hook,
		PlatformSource:   PlatformSource,
		ContentSessionID: sessionID,
		Cwd:              cwd,
		Project:          projectName,
		TranscriptPath:   f.OptStr("transcript_path"),
		AgentID:          payload.Truncate(f.OptStr("agent_id"), maxAgentField),
		AgentType:        payload.Truncate(f.OptStr("agent_type"), maxAgentField),
		// Milliseconds are what the wire and the store keep.
		OccurredAt: a.now().UTC().Truncate(time.Millisecond),
	}
	meta := map[string]string{}
	if parent != "" {
		meta["project_parent"] = parent
	}

	switch hook {
	case "SessionStart":
		setIf(meta, "source", f.OptStr("source"))
		setIf(meta, "model", f.OptStr("model"))
	case "UserPromptSubmit":
		prompt, reason := f.Str("prompt")
		if reason != "" {
			return reject("%s", reason)
		}
		switch {
		case strings.TrimSpace(prompt) == "":
			prompt = mediaPrompt
			meta["media_prompt"] = "true"
		case onlyTaskNotifications(prompt):
			meta["skip"] = "true"
			meta["skip_reason"] = "task-notification"
		}
		ev.Text = prompt
		if id := f.OptStr("prompt_id"); id != "" {
			ev.IdempotencyKey = key(sessionID, typ, id)
		}
	case "PreToolUse", "PostToolUse", "PostToolUseFailure":
		name, reason := f.Str("tool_name")
		if reason != "" {
			return reject("%s", reason)
		}
		if strings.TrimSpace(name) == "" {
			return reject("%s payload has no tool_name", hook)
		}
		ev.ToolName = name
		ev.ToolInput = f.JSON("tool_input")
		ev.ToolUseID = f.OptStr("tool_use_id")
		if hook == "PostToolUse" {
			ev.ToolResponse = f.JSON("tool_response")
		}
		if hook == "PostToolUseFailure" {
			msg := f.OptStr("error")
			if strings.TrimSpace(msg) == "" {
				msg = "tool failed"
			}
			meta["error"] = msg
			if f.OptBool("is_interrupt") {
				meta["is_interrupt"] = "true"
			}
		}
		if ev.ToolUseID != "" {
			ev.IdempotencyKey = key(sessionID, typ, ev.ToolUseID)
		}
	case "Stop", "SubagentStop":
		if f.OptBool("stop_hook_active") {
			meta["stop_hook_active"] = "true"
		}
		path, sidechain := ev.TranscriptPath, false
		if hook == "SubagentStop" {
			// The session transcript holds the main agent's words; a
			// subagent's answer is only in its own transcript.
			path, sidechain = f.OptStr("agent_transcript_path"), true
			meta["subagent"] = "true"
			setIf(meta, "agent_transcript_path", path)
		}
		ev.Text = a.finalAnswer(ctx, f.OptStr("last_assistant_message"), path, sidechain, meta)
	case "SessionEnd":
		setIf(meta, "reason", f.OptStr("reason"))
	}
	if len(meta) > 0 {
		ev.Metadata = meta
	}
	return adapter.NormalizeResult{Events: []event.AgentEvent{ev}}, nil
}

// finalAnswer prefers the payload's last_assistant_message and falls back
// to the transcript, recording in meta where the text came from or why
// there is none.
func (a *Adapter) finalAnswer(ctx context.Context, last, path string, sidechain bool, meta map[string]string) string {
	if strings.TrimSpace(last) != "" {
		meta["text_source"] = "payload"
		return last
	}
	var text, missing string
	switch {
	case !a.readTranscripts:
		missing = missingDisabled
	case strings.TrimSpace(path) == "":
		missing = missingNoTranscript
	default:
		text, missing = lastAssistantText(ctx, path, a.maxScan, sidechain)
	}
	if missing != "" {
		meta["text_missing"] = missing
		return ""
	}
	meta["text_source"] = "transcript"
	return text
}

// key builds an idempotency key. Any stable string will do: the host
// hashes keys into job IDs.
func key(sessionID string, typ event.Type, id string) string {
	return Source + ":" + sessionID + ":" + string(typ) + ":" + id
}

func setIf(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// onlyTaskNotifications reports whether prompt consists of nothing but
// <task-notification>…</task-notification> blocks: Claude Code injects
// these when a background task finishes, and nobody typed them.
func onlyTaskNotifications(prompt string) bool {
	const openTag, closeTag = "<task-notification>", "</task-notification>"
	rest := strings.TrimSpace(prompt)
	if rest == "" {
		return false
	}
	for rest != "" {
		after, ok := strings.CutPrefix(rest, openTag)
		if !ok {
			return false
		}
		i := strings.Index(after, closeTag)
		if i < 0 {
			return false
		}
		rest = strings.TrimSpace(after[i+len(closeTag):])
	}
	return true
}

// hookReply is the JSON Claude Code reads back from a hook.
type hookReply struct {
	HookSpecificOutput *hookSpecific `json:"hookSpecificOutput,omitempty"`
}

type hookSpecific struct {
	HookEventName      string `json:"hookEventName"`
	PermissionDecision string `json:"permissionDecision,omitempty"`
	AdditionalContext  string `json:"additionalContext,omitempty"`
}

// RenderHookOutput renders Claude Code's reply to a hook; see the package
// doc for the shapes. req.Event names the hook, falling back to the event's
// HookEvent; an unknown hook is adapter.ErrUnknownEvent.
func (a *Adapter) RenderHookOutput(_ context.Context, req adapter.RenderRequest) ([]byte, error) {
	name := req.Event
	if strings.TrimSpace(name) == "" {
		name = req.AgentEvent.HookEvent
	}
	hook, _, ok := canonicalHook(name)
	if !ok {
		return nil, fmt.Errorf("%w: %q (Claude Code hooks: %s)", adapter.ErrUnknownEvent, name, hookNames())
	}
	var r hookReply
	switch hook {
	case "SessionStart", "UserPromptSubmit", "PostToolUse":
		if req.Context != "" {
			r.HookSpecificOutput = &hookSpecific{HookEventName: hook, AdditionalContext: req.Context}
		}
	case "PreToolUse":
		s := &hookSpecific{HookEventName: hook, AdditionalContext: req.Context}
		if readOnlyTools[req.AgentEvent.ToolName] {
			s.PermissionDecision = "allow"
		}
		if s.PermissionDecision != "" || s.AdditionalContext != "" {
			r.HookSpecificOutput = s
		}
	}
	return marshal(r)
}

// marshal encodes v without escaping <, > and &: context text is full of
// them, and Claude Code reads JSON, not HTML.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("render hook output: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
