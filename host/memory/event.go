package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Event types, as in sdk/event.
const (
	EventToolUse          = "tool_use"
	EventUserPrompt       = "user_prompt"
	EventAssistantMessage = "assistant_message"
)

// Event is a row of agent_events: one thing an agent reported, stored
// privacy-stripped and redacted.
type Event struct {
	ID             int64  `json:"id"`
	IdempotencyKey string `json:"idempotency_key"`
	TeamID         string `json:"team_id"`
	ProjectID      int64  `json:"project_id"`
	SessionID      int64  `json:"session_id"`
	// SourceAdapter is what normalized the event: an adapter's public name
	// ("claude-code") or "api" for POST /v1/events.
	SourceAdapter string `json:"source_adapter"`
	// SourceEventID is the agent's own id for the event (tool_use_id).
	SourceEventID  string `json:"source_event_id,omitempty"`
	Type           string `json:"event_type"`
	HookEvent      string `json:"hook_event,omitempty"`
	PlatformSource string `json:"platform_source"`
	ToolName       string `json:"tool_name,omitempty"`
	PromptNumber   int    `json:"prompt_number"`
	// Payload is the normalized AgentEvent as JSON.
	Payload       json.RawMessage `json:"payload"`
	OccurredAt    time.Time       `json:"occurred_at"`
	ReceivedAt    time.Time       `json:"received_at"`
	JobID         string          `json:"job_id,omitempty"`
	ObservedByJob string          `json:"observed_by_job,omitempty"`
}

const eventColumns = `id, idempotency_key, team_id, project_id, session_id, source_adapter, COALESCE(source_event_id, ''), event_type,
	COALESCE(hook_event, ''), platform_source, COALESCE(tool_name, ''), prompt_number, payload, occurred_at_epoch, received_at_epoch,
	COALESCE(job_id, ''), COALESCE(observed_by_job, '')`

func scanEvent(row interface{ Scan(...any) error }) (Event, error) {
	var e Event
	var occurred, received int64
	var payload string
	err := row.Scan(&e.ID, &e.IdempotencyKey, &e.TeamID, &e.ProjectID, &e.SessionID, &e.SourceAdapter, &e.SourceEventID, &e.Type,
		&e.HookEvent, &e.PlatformSource, &e.ToolName, &e.PromptNumber, &payload, &occurred, &received, &e.JobID, &e.ObservedByJob)
	e.Payload = json.RawMessage(payload)
	e.OccurredAt, e.ReceivedAt = fromEpoch(occurred), fromEpoch(received)
	return e, err
}

// InsertEvent stores e and sets its ID. The idempotency key is unique: use
// EventByKey first to find a repeat.
func InsertEvent(ctx context.Context, q Querier, e *Event) error {
	occ, rec := e.OccurredAt.UTC(), e.ReceivedAt.UTC()
	res, err := q.ExecContext(ctx, `INSERT INTO agent_events (idempotency_key, team_id, project_id, session_id, source_adapter,
		source_event_id, event_type, hook_event, platform_source, tool_name, prompt_number, payload, occurred_at, occurred_at_epoch,
		received_at, received_at_epoch, job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.IdempotencyKey, e.TeamID, e.ProjectID, e.SessionID, e.SourceAdapter, nullString(e.SourceEventID), e.Type,
		nullString(e.HookEvent), e.PlatformSource, nullString(e.ToolName), e.PromptNumber, string(e.Payload),
		ISO(occ), occ.UnixMilli(), ISO(rec), rec.UnixMilli(), nullString(e.JobID))
	if err != nil {
		return fmt.Errorf("memory: insert %s event: %w", e.Type, err)
	}
	e.ID, err = res.LastInsertId()
	if err != nil {
		return fmt.Errorf("memory: insert %s event: %w", e.Type, err)
	}
	return nil
}

// EventByKey returns the event with an idempotency key.
func EventByKey(ctx context.Context, q Querier, key string) (Event, error) {
	e, err := scanEvent(q.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM agent_events WHERE idempotency_key = ?`, key))
	if err != nil {
		return Event{}, fmt.Errorf("memory: event by key: %w", notFound(err))
	}
	return e, nil
}

// GetEvent returns an event of the team by id.
func GetEvent(ctx context.Context, q Querier, teamID string, id int64) (Event, error) {
	e, err := scanEvent(q.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM agent_events WHERE id = ? AND team_id = ?`, id, teamID))
	if err != nil {
		return Event{}, fmt.Errorf("memory: event %d: %w", id, notFound(err))
	}
	return e, nil
}

func queryEvents(ctx context.Context, q Querier, where string, args ...any) ([]Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+eventColumns+` FROM agent_events WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("memory: events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("memory: events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("memory: events: %w", err)
	}
	return out, nil
}

// PendingToolEvents returns up to limit tool events of a session that have
// a generation job and have not been observed yet, oldest first, always
// including the event first (if it is still pending).
func PendingToolEvents(ctx context.Context, q Querier, sessionID, first int64, limit int) ([]Event, error) {
	if limit < 1 {
		limit = 1
	}
	head, err := queryEvents(ctx, q, `id = ? AND session_id = ? AND event_type = 'tool_use' AND observed_by_job IS NULL`, first, sessionID)
	if err != nil || len(head) == 0 || limit == 1 {
		return head, err
	}
	rest, err := queryEvents(ctx, q, `session_id = ? AND id != ? AND event_type = 'tool_use' AND observed_by_job IS NULL AND job_id IS NOT NULL
		ORDER BY id LIMIT ?`, sessionID, first, limit-1)
	if err != nil {
		return nil, err
	}
	out := append(head, rest...)
	// Keep the batch in the order the events happened.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// MarkObserved records that jobID observed the events. It fails if another
// job got to any of them first, so the caller's transaction rolls back.
func MarkObserved(ctx context.Context, q Querier, jobID string, ids []int64, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{jobID, now.UnixMilli()}
	for _, id := range ids {
		args = append(args, id)
	}
	res, err := q.ExecContext(ctx, `UPDATE agent_events SET observed_by_job = ?, observed_at_epoch = ?
		WHERE observed_by_job IS NULL AND id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return fmt.Errorf("memory: mark observed: %w", err)
	}
	if n, _ := res.RowsAffected(); n != int64(len(ids)) {
		return fmt.Errorf("memory: mark observed: %d of %d events were already observed by another job", int64(len(ids))-n, len(ids))
	}
	return nil
}

// TurnEvents returns the events of one type in one turn (prompt number) of
// a session, newest first, at most limit.
func TurnEvents(ctx context.Context, q Querier, sessionID int64, eventType string, promptNumber, limit int) ([]Event, error) {
	return queryEvents(ctx, q, `session_id = ? AND event_type = ? AND prompt_number = ? ORDER BY id DESC LIMIT ?`,
		sessionID, eventType, promptNumber, limit)
}

// SessionEvents returns every event of a session in order.
func SessionEvents(ctx context.Context, q Querier, sessionID int64) ([]Event, error) {
	return queryEvents(ctx, q, `session_id = ? ORDER BY id`, sessionID)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
