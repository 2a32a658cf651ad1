// Package adaptergeneric is the bundled adapter for agents without an
// adapter of their own: Codex, OpenCode and custom agents. It reads the
// generic event JSON, schema version 1, documented with examples in
// docs/generic-events.md; this comment is the short form.
//
// # Events
//
// A payload is one JSON object, or a JSON array of 1 to 500 of them (a
// batch, validated as a whole: one bad event rejects the batch). Field
// names are snake_case, and the camelCase spelling of each is accepted too;
// when both are present the snake_case one is used. Unknown fields are
// ignored, so that senders can add their own.
//
// The event's type comes from its "type" field, or else from the hook
// event named in the request (the {event} of /v1/hooks/generic/{event});
// "events" names none, for batches of mixed types. Types are matched
// without regard to case, "-" or "_", and claude-mem's and Claude Code's
// names are accepted as aliases:
//
//	type               aliases
//	session_start      context, SessionStart
//	user_prompt        session-init, UserPromptSubmit
//	pre_tool_use       file-context, PreToolUse
//	tool_use           observation, PostToolUse
//	file_edit          (a tool_use of tool "write_file", as claude-mem's file-edit handler)
//	assistant_message  summarize, Stop
//	session_end        session-complete, SessionEnd
//
// # Rejections
//
// A payload is rejected, with a reason naming the field, when it is not
// JSON, has no session id, names an unknown type or a type that contradicts
// the request's, has no tool_name on a tool event or no file_path on a file
// edit, or gives a field the wrong JSON type (string fields must be
// strings; tool_input and tool_response may be any JSON).
//
// # Platform source
//
// platform_source is normalized as claude-mem does (behaviour §1.8):
// trimmed, lower-cased, whitespace runs made "-"; "transcript" and anything
// containing "codex" become "codex", then "cursor" and "claude" likewise.
// Where claude-mem falls back to "claude", this adapter falls back to the
// request's source (normalized the same way), and then to "generic": an
// event of unknown origin must not pass for Claude Code's.
//
// # Replies
//
// RenderHookOutput returns {} or {"additionalContext":"<context>"}.
package adaptergeneric

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/adapter/payload"
	"github.com/claude-mem/claude-mem-server/sdk/event"
	"github.com/claude-mem/claude-mem-server/sdk/project"
)

// Source is the adapter's public name.
const Source = "generic"

// SchemaVersion is the version of the generic event JSON this adapter
// reads.
const SchemaVersion = 1

// MaxBatch is the most events one payload may hold, as for
// POST /v1/events/batch.
const MaxBatch = 500

// Bounds on identifying strings, so that a runaway sender cannot make keys
// and indexes arbitrarily large.
const (
	maxAgentField    = 128 // claude-mem's bound on agent_id and agent_type
	maxPlatformBytes = 64
)

// BatchEvent is the request event name that names no type: each event
// carries its own.
const BatchEvent = "events"

// kindOf is what an event name resolves to.
type kindOf struct {
	typ      event.Type
	fileEdit bool
}

// typeNames maps event names, folded by foldName, to what they mean.
var typeNames = map[string]kindOf{
	"sessionstart":     {typ: event.TypeSessionStart},
	"context":          {typ: event.TypeSessionStart},
	"userprompt":       {typ: event.TypeUserPrompt},
	"userpromptsubmit": {typ: event.TypeUserPrompt},
	"sessioninit":      {typ: event.TypeUserPrompt},
	"pretooluse":       {typ: event.TypePreToolUse},
	"filecontext":      {typ: event.TypePreToolUse},
	"tooluse":          {typ: event.TypeToolUse},
	"posttooluse":      {typ: event.TypeToolUse},
	"observation":      {typ: event.TypeToolUse},
	"fileedit":         {typ: event.TypeToolUse, fileEdit: true},
	"assistantmessage": {typ: event.TypeAssistantMessage},
	"stop":             {typ: event.TypeAssistantMessage},
	"summarize":        {typ: event.TypeAssistantMessage},
	"sessionend":       {typ: event.TypeSessionEnd},
	"sessioncomplete":  {typ: event.TypeSessionEnd},
}

// manifestEvents lists the names the adapter accepts in the request, in
// their usual spelling.
var manifestEvents = []string{
	"session_start", "user_prompt", "pre_tool_use", "tool_use", "file_edit", "assistant_message", "session_end",
	BatchEvent,
	"context", "session-init", "file-context", "observation", "file-edit", "summarize", "session-complete",
	"SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop", "SessionEnd",
}

// foldName folds an event name so that "session-init", "session_init" and
// "SessionInit" are one.
func foldName(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', ' ', '\t':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

// Adapter implements adapter.Adapter for the generic event JSON. It is safe
// for concurrent use.
type Adapter struct {
	now func() time.Time
}

var _ adapter.Adapter = (*Adapter)(nil)

// Option configures an Adapter.
type Option func(*Adapter)

// WithClock sets the clock that stamps events sent without occurred_at.
// The default is time.Now.
func WithClock(now func() time.Time) Option { return func(a *Adapter) { a.now = now } }

// New returns the adapter.
func New(opts ...Option) *Adapter {
	a := &Adapter{now: time.Now}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Manifest names the adapter and the event names it accepts. Names are
// matched without regard to case, "-" or "_", so the list shows one
// spelling of each.
func (a *Adapter) Manifest(context.Context) (adapter.Manifest, error) {
	return adapter.Manifest{Source: Source, Events: append([]string(nil), manifestEvents...)}, nil
}

// Normalize turns one generic event, or a batch of them, into AgentEvents.
// req.Event is the type for events that carry none; "" or "events" names
// no type, and any other unknown name is adapter.ErrUnknownEvent.
// req.Source is the platform source for events that name none.
func (a *Adapter) Normalize(_ context.Context, req adapter.NormalizeRequest) (adapter.NormalizeResult, error) {
	n := normalizer{
		now:      a.now().UTC().Truncate(time.Millisecond),
		fallback: firstNonEmpty(normalizePlatform(req.Source), Source),
	}
	if name := foldName(req.Event); name != "" && name != BatchEvent {
		k, ok := typeNames[name]
		if !ok {
			return adapter.NormalizeResult{}, fmt.Errorf("%w: %q (generic event types: %s)", adapter.ErrUnknownEvent, req.Event, strings.Join(manifestEvents, ", "))
		}
		n.urlKind, n.urlEvent = &k, strings.TrimSpace(req.Event)
	}

	raw := bytes.TrimSpace(req.Raw)
	if len(raw) == 0 || raw[0] != '[' {
		ev, reason := n.one(raw)
		if reason != "" {
			return adapter.NormalizeResult{Rejection: reason}, nil
		}
		return adapter.NormalizeResult{Events: []event.AgentEvent{ev}}, nil
	}

	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return adapter.NormalizeResult{Rejection: "batch is not valid JSON: " + err.Error()}, nil
	}
	switch {
	case len(items) == 0:
		return adapter.NormalizeResult{Rejection: "batch is empty: send 1 to 500 events"}, nil
	case len(items) > MaxBatch:
		return adapter.NormalizeResult{Rejection: fmt.Sprintf("batch holds %d events, more than %d: split it", len(items), MaxBatch)}, nil
	}
	events := make([]event.AgentEvent, 0, len(items))
	for i, item := range items {
		ev, reason := n.one(item)
		if reason != "" {
			return adapter.NormalizeResult{Rejection: fmt.Sprintf("event %d of the batch: %s", i, reason)}, nil
		}
		events = append(events, ev)
	}
	return adapter.NormalizeResult{Events: events}, nil
}

// normalizer holds what the events of one request share.
type normalizer struct {
	now      time.Time
	urlKind  *kindOf // the type named by the request, if any
	urlEvent string  // and its name as sent
	fallback string  // platform source for events that name none
}

// stringFields are the fields that must be strings when present, each with
// its accepted spellings, snake_case first.
var stringFields = [][]string{
	{"type"},
	{"hook_event_name", "hookEventName"},
	{"session_id", "sessionId", "content_session_id", "contentSessionId"},
	{"platform_source", "platformSource"},
	{"cwd"},
	{"project"},
	{"prompt"},
	{"text"},
	{"last_assistant_message", "lastAssistantMessage"},
	{"tool_name", "toolName"},
	{"tool_use_id", "toolUseId"},
	{"agent_id", "agentId"},
	{"agent_type", "agentType"},
	{"transcript_path", "transcriptPath"},
	{"file_path", "filePath"},
	{"idempotency_key", "idempotencyKey"},
}

// one normalizes a single event object; the reason is empty on success.
func (n normalizer) one(raw []byte) (event.AgentEvent, string) {
	f, reason := payload.Parse(raw, "event")
	if reason != "" {
		return event.AgentEvent{}, reason
	}

	// Check every typed field first, so that a wrong type is reported even
	// on a field this event's type does not use.
	s := make(map[string]string, len(stringFields))
	for _, keys := range stringFields {
		v, reason := f.Str(keys...)
		if reason != "" {
			return event.AgentEvent{}, reason
		}
		s[keys[0]] = v
	}
	if v, k := f.Lookup("schema_version", "schemaVersion"); v != nil {
		if payload.Kind(v) != "a number" {
			return event.AgentEvent{}, fmt.Sprintf("%s must be a number, got %s", k, payload.Kind(v))
		}
		if fl, err := strconv.ParseFloat(string(v), 64); err != nil || fl != SchemaVersion {
			return event.AgentEvent{}, fmt.Sprintf("%s %s is not supported: this server reads generic events of schema version %d", k, v, SchemaVersion)
		}
	}
	stopHookActive, reason := f.Bool("stop_hook_active", "stopHookActive")
	if reason != "" {
		return event.AgentEvent{}, reason
	}
	occurredAt := n.now
	if v, k := f.Lookup("occurred_at", "occurredAt"); v != nil {
		if occurredAt, reason = parseTime(k, v); reason != "" {
			return event.AgentEvent{}, reason
		}
	}
	edits := f.JSON("edits")
	if edits != nil && edits[0] != '[' {
		return event.AgentEvent{}, "edits must be an array, got " + payload.Kind(edits)
	}
	meta, reason := metadata(f)
	if reason != "" {
		return event.AgentEvent{}, reason
	}

	k, hookEvent, reason := n.kind(s["type"], s["hook_event_name"])
	if reason != "" {
		return event.AgentEvent{}, reason
	}
	sessionID := s["session_id"]
	if strings.TrimSpace(sessionID) == "" {
		return event.AgentEvent{}, "event has no session_id (nor sessionId): it cannot be placed in a session"
	}
	platform := normalizePlatform(s["platform_source"])
	if len(platform) > maxPlatformBytes {
		return event.AgentEvent{}, fmt.Sprintf("platform_source is longer than %d bytes", maxPlatformBytes)
	}

	ev := event.AgentEvent{
		SchemaVersion:    event.SchemaVersion,
		Type:             k.typ,
		HookEvent:        hookEvent,
		PlatformSource:   firstNonEmpty(platform, n.fallback),
		ContentSessionID: sessionID,
		Cwd:              s["cwd"],
		Project:          strings.TrimSpace(s["project"]),
		ToolName:         s["tool_name"],
		ToolUseID:        s["tool_use_id"],
		ToolInput:        f.JSON("tool_input", "toolInput"),
		ToolResponse:     f.JSON("tool_response", "toolResponse"),
		OccurredAt:       occurredAt,
		AgentID:          payload.Truncate(s["agent_id"], maxAgentField),
		AgentType:        payload.Truncate(s["agent_type"], maxAgentField),
		TranscriptPath:   s["transcript_path"],
	}
	if ev.Project == "" && strings.TrimSpace(ev.Cwd) != "" {
		var parent string
		if ev.Project, parent = project.For(ev.Cwd); parent != "" {
			meta = setMeta(meta, "project_parent", parent)
		}
	}

	switch k.typ {
	case event.TypeUserPrompt:
		ev.Text = firstNonEmpty(s["prompt"], s["text"])
	case event.TypeAssistantMessage:
		ev.Text = firstNonEmpty(s["last_assistant_message"], s["text"])
	default:
		ev.Text = s["text"]
	}
	if stopHookActive {
		meta = setMeta(meta, "stop_hook_active", "true")
	}

	// A file edit, or a tool use that names a file and no tool, is
	// reported the way claude-mem's file-edit handler reports it.
	fileEdit := k.fileEdit || (k.typ == event.TypeToolUse && strings.TrimSpace(ev.ToolName) == "" && s["file_path"] != "")
	if fileEdit {
		if strings.TrimSpace(s["file_path"]) == "" {
			return event.AgentEvent{}, "file_edit event has no file_path"
		}
		ev.ToolName = "write_file"
		ev.ToolInput = fileEditInput(s["file_path"], edits)
		if ev.ToolResponse == nil {
			ev.ToolResponse = json.RawMessage(`{"success":true}`)
		}
	}
	if (k.typ == event.TypeToolUse || k.typ == event.TypePreToolUse) && strings.TrimSpace(ev.ToolName) == "" {
		return event.AgentEvent{}, fmt.Sprintf("%s event has no tool_name", k.typ)
	}

	switch {
	case s["idempotency_key"] != "":
		ev.IdempotencyKey = ev.PlatformSource + ":" + sessionID + ":key:" + s["idempotency_key"]
	case ev.ToolUseID != "" && (k.typ == event.TypeToolUse || k.typ == event.TypePreToolUse):
		ev.IdempotencyKey = ev.PlatformSource + ":" + sessionID + ":" + string(k.typ) + ":" + ev.ToolUseID
	}
	ev.Metadata = meta
	return ev, ""
}

// kind resolves the event's type from its type field, the request's event
// and its hook_event_name, in that order, and names the agent's own hook.
func (n normalizer) kind(typeField, hookEventName string) (kindOf, string, string) {
	hookEvent := firstNonEmpty(strings.TrimSpace(hookEventName), n.urlEvent, strings.TrimSpace(typeField))
	if strings.TrimSpace(typeField) != "" {
		k, ok := typeNames[foldName(typeField)]
		if !ok {
			return kindOf{}, "", fmt.Sprintf("unknown type %q: want one of %s", typeField, strings.Join(manifestEvents[:7], ", "))
		}
		if n.urlKind != nil && n.urlKind.typ != k.typ {
			return kindOf{}, "", fmt.Sprintf("type %q contradicts the event %q the payload was posted as", typeField, n.urlEvent)
		}
		if n.urlKind != nil {
			k.fileEdit = k.fileEdit || n.urlKind.fileEdit
		}
		return k, hookEvent, ""
	}
	if n.urlKind != nil {
		return *n.urlKind, hookEvent, ""
	}
	if k, ok := typeNames[foldName(hookEventName)]; ok {
		return k, hookEvent, ""
	}
	return kindOf{}, "", `event has no type: set "type", or post to /v1/hooks/generic/{type}`
}

// fileEditInput is the tool_input of a file edit: claude-mem's shape
// ({filePath, edits}), plus file_path, the key Claude Code's own write
// tools use, so that readers of either convention find the file.
func fileEditInput(path string, edits json.RawMessage) json.RawMessage {
	b, err := json.Marshal(struct {
		FilePath  string          `json:"file_path"`
		FilePath2 string          `json:"filePath"`
		Edits     json.RawMessage `json:"edits,omitempty"`
	}{path, path, edits})
	if err != nil {
		// Unreachable: a string and a compacted JSON value.
		return nil
	}
	return b
}

// metadata decodes the optional metadata object, whose values must be
// strings.
func metadata(f payload.Object) (map[string]string, string) {
	v, k := f.Lookup("metadata")
	if v == nil {
		return nil, ""
	}
	if payload.Kind(v) != "an object" {
		return nil, fmt.Sprintf("%s must be an object of strings, got %s", k, payload.Kind(v))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(v, &raw); err != nil {
		return nil, fmt.Sprintf("%s must be an object of strings: %v", k, err)
	}
	if len(raw) == 0 {
		return nil, ""
	}
	m := make(map[string]string, len(raw))
	for key, val := range raw {
		var s string
		if payload.Kind(val) != "a string" || json.Unmarshal(val, &s) != nil {
			return nil, fmt.Sprintf("%s.%s must be a string, got %s", k, key, payload.Kind(val))
		}
		m[key] = s
	}
	return m, ""
}

func setMeta(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}

// maxMillis is 9999-12-31T23:59:59.999Z, the last instant RFC 3339 can write.
const maxMillis = 253402300799999

// parseTime reads occurred_at: an RFC 3339 string or Unix milliseconds.
// Times keep millisecond precision, which is what the wire and the store
// keep.
func parseTime(key string, v json.RawMessage) (time.Time, string) {
	bad := fmt.Sprintf("%s must be an RFC 3339 time such as \"2026-03-14T09:26:53Z\", or Unix milliseconds", key)
	if payload.Kind(v) == "a string" {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return time.Time{}, bad
		}
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
		if err != nil {
			return time.Time{}, bad + ": " + err.Error()
		}
		return t.UTC().Truncate(time.Millisecond), ""
	}
	if payload.Kind(v) != "a number" {
		return time.Time{}, bad + ", got " + payload.Kind(v)
	}
	ms, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		// 1.7e12 is an integer too.
		fl, ferr := strconv.ParseFloat(string(v), 64)
		if ferr != nil || fl != math.Trunc(fl) || fl > maxMillis {
			return time.Time{}, bad + ": " + string(v) + " is not a whole number of milliseconds"
		}
		ms = int64(fl)
	}
	if ms <= 0 || ms > maxMillis {
		return time.Time{}, fmt.Sprintf("%s %d is out of range: want Unix milliseconds after 1970 (e.g. 1773480413589)", key, ms)
	}
	return time.UnixMilli(ms).UTC(), ""
}

// normalizePlatform normalizes a platform source as claude-mem's
// normalizePlatformSource does, except that empty stays empty so that the
// caller can choose the fallback.
func normalizePlatform(s string) string {
	s = strings.Join(strings.Fields(strings.ToLower(s)), "-")
	switch {
	case s == "transcript", strings.Contains(s, "codex"):
		return "codex"
	case strings.Contains(s, "cursor"):
		return "cursor"
	case strings.Contains(s, "claude"):
		return "claude"
	}
	return s
}

// firstNonEmpty returns the first of its arguments that is not empty.
func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// reply is the generic hook reply.
type reply struct {
	AdditionalContext string `json:"additionalContext,omitempty"`
}

// RenderHookOutput returns {"additionalContext":"<context>"}, or {} when
// there is no context, whatever the event.
func (a *Adapter) RenderHookOutput(_ context.Context, req adapter.RenderRequest) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Context is full of <, > and &; the agent reads JSON, not HTML.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(reply{AdditionalContext: req.Context}); err != nil {
		return nil, fmt.Errorf("render hook output: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
