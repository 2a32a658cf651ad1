// Package memory is the memory store: teams, projects, sessions, user
// prompts, agent events, observations and session summaries, in the host's
// SQLite database (migration 0002_memory.sql), with FTS5 indexes over
// observations, summaries and prompts kept in sync by triggers.
//
// The tables that claude-mem also has (sdk_sessions, user_prompts,
// observations, session_summaries) keep its columns and formats so that an
// existing claude-mem.db can be imported: times are ISO-8601 text next to
// epoch milliseconds, and list fields are JSON arrays stored as text.
//
// Every function takes a Querier, so the same query runs inside a write
// transaction (*sql.Tx from store.Tx) or on the reader pool (*sql.DB).
// Every row is scoped by a team; single-user mode uses LocalTeam.
package memory

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"
)

// LocalTeam is the team that owns everything in single-user mode. The
// migration creates it.
const LocalTeam = "local"

// Session statuses, as in claude-mem.
const (
	StatusActive    = "active"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("memory: not found")

// Querier is what both *sql.Tx and *sql.DB offer.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var (
	_ Querier = (*sql.Tx)(nil)
	_ Querier = (*sql.DB)(nil)
)

// isoLayout is JavaScript's Date.toISOString, which claude-mem stores.
const isoLayout = "2006-01-02T15:04:05.000Z"

// ISO formats t as claude-mem does.
func ISO(t time.Time) string { return t.UTC().Format(isoLayout) }

// fromEpoch turns epoch milliseconds back into a time; 0 stays zero.
func fromEpoch(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// ContentHash is claude-mem's observation content hash: the first 16 hex
// digits of sha256(memory_session_id \0 title \0 narrative).
func ContentHash(memorySessionID, title, narrative string) string {
	h := sha256.New()
	h.Write([]byte(memorySessionID))
	h.Write([]byte{0})
	h.Write([]byte(title))
	h.Write([]byte{0})
	h.Write([]byte(narrative))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// MemorySessionID is the memory session id of a content session. claude-mem
// uses the observer LLM's session id; this server has no long-lived observer
// session, so it derives a stable one, as claude-mem does for its Gemini and
// OpenRouter observers. The team is part of it because two teams may use
// the same content session id, and memory session ids are unique.
func MemorySessionID(teamID, platformSource, contentSessionID string) string {
	sum := sha256.Sum256([]byte(teamID + "\x00" + platformSource + "\x00" + contentSessionID))
	return "mem-" + hex.EncodeToString(sum[:])[:32]
}

// jsonArray encodes a list as claude-mem's JSON array text; nil is "[]".
func jsonArray(list []string) string {
	if len(list) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(list)
	return string(b)
}

// parseArray decodes JSON array text; anything else is an empty list.
func parseArray(s sql.NullString) []string {
	var out []string
	if s.Valid && s.String != "" {
		_ = json.Unmarshal([]byte(s.String), &out)
	}
	return out
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func nullInt(n int64) sql.NullInt64 { return sql.NullInt64{Int64: n, Valid: n != 0} }

// notFound maps sql.ErrNoRows to ErrNotFound, keeping what was looked up.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
