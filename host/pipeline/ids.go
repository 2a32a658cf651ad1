package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/event"
)

// Job kinds this package handles.
const (
	KindObserve   = "observe"
	KindSummarize = "summarize"
)

// IdempotencyKey derives the key that makes a repeated post of an event a
// no-op. It is scoped by team, platform source and content session, and
// comes from, in order:
//
//  1. the tool_use_id, with the event type (so a tool's PreToolUse and
//     PostToolUse differ);
//  2. the event's own idempotency_key (a client's source event id, or the
//     key an adapter set);
//  3. a hash of the source, the event type and either material, which for
//     a hook is its canonical raw payload and the event's index among the
//     events the adapter made of it (hooks carry no event time of their
//     own: the adapter's occurred_at is when it received the payload), or,
//     when material is nil, the occurred_at given by the client (if any)
//     and the canonical event JSON.
//
// The key hashes what the client sent, before stripping and redaction, so
// it stays the same when privacy settings change; only the hash is stored.
func IdempotencyKey(teamID, source, platform string, ev event.AgentEvent, material []byte) string {
	h := sha256.New()
	part := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	part("agent_event:v1")
	part(teamID)
	part(platform)
	part(ev.ContentSessionID)
	switch {
	case ev.ToolUseID != "":
		part("tool_use_id")
		part(string(ev.Type))
		part(ev.ToolUseID)
	case ev.IdempotencyKey != "":
		part("source_key")
		part(ev.IdempotencyKey)
	default:
		part("content")
		part(source)
		part(string(ev.Type))
		if material != nil {
			part("material")
			h.Write(material)
		} else {
			if !ev.OccurredAt.IsZero() {
				part(strconv.FormatInt(ev.OccurredAt.UnixMilli(), 10))
			}
			c := ev
			c.OccurredAt, c.IdempotencyKey = time.Time{}, ""
			b, _ := json.Marshal(c)
			h.Write(Canonical(b))
		}
	}
	return "agent_event:v1:" + hex.EncodeToString(h.Sum(nil))
}

// ObserveJobID is the ID of the observe job of an event: a colon-free hash
// of its idempotency key.
func ObserveJobID(idempotencyKey string) string {
	return "evt_" + shortHash(idempotencyKey)
}

// SummaryJobID is the ID of the summary job of a turn (prompt number) of a
// session. A Stop and a session end in the same turn share it, so the turn
// is summarized once.
func SummaryJobID(teamID string, sessionID int64, promptNumber int) string {
	return "sum_" + shortHash("summary:v1\x00"+teamID+"\x00"+strconv.FormatInt(sessionID, 10)+"\x00"+strconv.Itoa(promptNumber))
}

// GenerationKey is the unique key of the index-th observation (or summary)
// a job generated: a retry of the job computes the same key and cannot
// store a duplicate.
func GenerationKey(jobID string, index int, contentHash string) string {
	return "gen_" + jobID + "_" + strconv.Itoa(index) + "_" + contentHash
}

// Lane is the queue lane of a session: its jobs run one at a time, in order.
func Lane(sessionID int64) string { return "session_" + strconv.FormatInt(sessionID, 10) }

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:32]
}

// Canonical re-encodes a JSON document with sorted keys and no
// insignificant whitespace, so that the same document hashes the same
// however it was formatted. Invalid JSON is returned unchanged.
func Canonical(raw []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return raw
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return raw
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// NormalizePlatform maps a platform source onto claude-mem's names
// (behaviour §1.8): lower case, trimmed, spaces to dashes; empty is
// "claude"; transcript is codex; anything naming codex, cursor or claude
// is that. "claude-code" is therefore "claude", as in claude-mem's tables.
func NormalizePlatform(s string) string {
	s = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), " ", "-")
	switch {
	case s == "":
		return "claude"
	case s == "transcript", strings.Contains(s, "codex"):
		return "codex"
	case strings.Contains(s, "cursor"):
		return "cursor"
	case strings.Contains(s, "claude"):
		return "claude"
	}
	return s
}

// ProjectName is the project of an event: its own project, else the base
// name of its working directory, else "unknown-project".
func ProjectName(project, cwd string) string {
	if p := strings.TrimSpace(project); p != "" {
		return p
	}
	cwd = strings.TrimRight(strings.ReplaceAll(strings.TrimSpace(cwd), `\`, "/"), "/")
	if cwd == "" || cwd == "." {
		return "unknown-project"
	}
	if len(cwd) == 2 && cwd[1] == ':' {
		return "drive-" + strings.ToUpper(cwd[:1])
	}
	return path.Base(cwd)
}
