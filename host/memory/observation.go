package memory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Observation is a row of observations.
type Observation struct {
	ID              int64    `json:"id"`
	TeamID          string   `json:"team_id"`
	ProjectID       int64    `json:"project_id"`
	SessionID       int64    `json:"session_id"`
	MemorySessionID string   `json:"memory_session_id"`
	Project         string   `json:"project"`
	Type            string   `json:"type"`
	Title           string   `json:"title"`
	Subtitle        string   `json:"subtitle,omitempty"`
	Facts           []string `json:"facts"`
	Narrative       string   `json:"narrative,omitempty"`
	Concepts        []string `json:"concepts"`
	FilesRead       []string `json:"files_read"`
	FilesModified   []string `json:"files_modified"`
	PromptNumber    int      `json:"prompt_number"`
	// DiscoveryTokens is what generating this observation cost.
	DiscoveryTokens  int64  `json:"discovery_tokens"`
	ContentHash      string `json:"content_hash"`
	GeneratedByModel string `json:"generated_by_model"`
	AgentType        string `json:"agent_type,omitempty"`
	AgentID          string `json:"agent_id,omitempty"`
	// GenerationKey makes a retried job unable to store it twice.
	GenerationKey string    `json:"generation_key"`
	JobID         string    `json:"job_id,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	// SourceEventIDs are the agent events it came from (insert only).
	SourceEventIDs []int64 `json:"-"`
}

// InsertObservation stores o unless an observation with its generation key,
// or with its content hash in the same memory session, exists. It returns
// the id of the stored or existing observation and whether it stored it.
// ContentHash is computed when empty.
func InsertObservation(ctx context.Context, q Querier, o *Observation) (int64, bool, error) {
	if o.ContentHash == "" {
		o.ContentHash = ContentHash(o.MemorySessionID, o.Title, o.Narrative)
	}
	at := o.CreatedAt.UTC()
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO observations (memory_session_id, project, type, title, subtitle, facts, narrative,
		concepts, files_read, files_modified, prompt_number, discovery_tokens, content_hash, generated_by_model, agent_type, agent_id,
		created_at, created_at_epoch, team_id, project_id, session_id, generation_key, job_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING RETURNING id`,
		o.MemorySessionID, o.Project, o.Type, nullString(o.Title), nullString(o.Subtitle), jsonArray(o.Facts), nullString(o.Narrative),
		jsonArray(o.Concepts), jsonArray(o.FilesRead), jsonArray(o.FilesModified), o.PromptNumber, o.DiscoveryTokens, o.ContentHash,
		nullString(o.GeneratedByModel), nullString(o.AgentType), nullString(o.AgentID), ISO(at), at.UnixMilli(),
		o.TeamID, o.ProjectID, o.SessionID, nullString(o.GenerationKey), nullString(o.JobID)).Scan(&id)
	created := err == nil
	if errors.Is(err, sql.ErrNoRows) {
		err = q.QueryRowContext(ctx, `SELECT id FROM observations WHERE generation_key = ? OR (memory_session_id = ? AND content_hash = ?)
			ORDER BY id LIMIT 1`, o.GenerationKey, o.MemorySessionID, o.ContentHash).Scan(&id)
	}
	if err != nil {
		return 0, false, fmt.Errorf("memory: insert observation %q: %w", o.GenerationKey, err)
	}
	o.ID = id
	for _, ev := range o.SourceEventIDs {
		if _, err := q.ExecContext(ctx, `INSERT INTO observation_sources (observation_id, agent_event_id) VALUES (?, ?)
			ON CONFLICT DO NOTHING`, id, ev); err != nil {
			return 0, false, fmt.Errorf("memory: link observation %d to event %d: %w", id, ev, err)
		}
	}
	return id, created, nil
}

// ObservationColumns are the columns ScanObservation reads, of the table
// aliased o: host/search reads observations with them too.
const ObservationColumns = `o.id, o.team_id, o.project_id, o.session_id, o.memory_session_id, o.project, o.type,
	COALESCE(o.title, ''), COALESCE(o.subtitle, ''), o.facts, COALESCE(o.narrative, ''), o.concepts, o.files_read,
	o.files_modified, COALESCE(o.prompt_number, 0), COALESCE(o.discovery_tokens, 0), COALESCE(o.content_hash, ''),
	COALESCE(o.generated_by_model, ''), COALESCE(o.agent_type, ''), COALESCE(o.agent_id, ''),
	COALESCE(o.generation_key, ''), COALESCE(o.job_id, ''), o.created_at_epoch`

// ScanObservation reads a row of ObservationColumns.
func ScanObservation(row interface{ Scan(...any) error }) (Observation, error) {
	var o Observation
	var facts, concepts, read, modified sql.NullString
	var at int64
	err := row.Scan(&o.ID, &o.TeamID, &o.ProjectID, &o.SessionID, &o.MemorySessionID, &o.Project, &o.Type, &o.Title,
		&o.Subtitle, &facts, &o.Narrative, &concepts, &read, &modified, &o.PromptNumber,
		&o.DiscoveryTokens, &o.ContentHash, &o.GeneratedByModel, &o.AgentType,
		&o.AgentID, &o.GenerationKey, &o.JobID, &at)
	o.Facts, o.Concepts, o.FilesRead, o.FilesModified = parseArray(facts), parseArray(concepts), parseArray(read), parseArray(modified)
	o.CreatedAt = fromEpoch(at)
	return o, err
}

func queryObservations(ctx context.Context, q Querier, query string, args ...any) ([]Observation, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("memory: observations: %w", err)
	}
	defer rows.Close()
	var out []Observation
	for rows.Next() {
		o, err := ScanObservation(rows)
		if err != nil {
			return nil, fmt.Errorf("memory: observations: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("memory: observations: %w", err)
	}
	return out, nil
}

// ListObservations returns a session's observations in order.
func ListObservations(ctx context.Context, q Querier, sessionID int64) ([]Observation, error) {
	return queryObservations(ctx, q, `SELECT `+ObservationColumns+` FROM observations o WHERE session_id = ? ORDER BY id`, sessionID)
}

// TurnObservations returns the observations of one turn of a session.
func TurnObservations(ctx context.Context, q Querier, sessionID int64, promptNumber int) ([]Observation, error) {
	return queryObservations(ctx, q, `SELECT `+ObservationColumns+` FROM observations o WHERE session_id = ? AND prompt_number = ? ORDER BY id`,
		sessionID, promptNumber)
}

// EventObservations returns the observations made from an agent event.
func EventObservations(ctx context.Context, q Querier, eventID int64) ([]Observation, error) {
	return queryObservations(ctx, q, `SELECT `+ObservationColumns+` FROM observations o
		WHERE id IN (SELECT observation_id FROM observation_sources WHERE agent_event_id = ?) ORDER BY id`, eventID)
}

// SearchObservations runs an FTS5 query over the team's observations, best
// match first.
func SearchObservations(ctx context.Context, q Querier, teamID, match string, limit int) ([]Observation, error) {
	return queryObservations(ctx, q, `SELECT `+ObservationColumns+` FROM observations o
		JOIN (SELECT rowid AS fts_id, rank AS fts_rank FROM observations_fts WHERE observations_fts MATCH ?) ON fts_id = id
		WHERE team_id = ? ORDER BY fts_rank LIMIT ?`, match, teamID, limit)
}

// Summary is a row of session_summaries.
type Summary struct {
	ID               int64     `json:"id"`
	TeamID           string    `json:"team_id"`
	ProjectID        int64     `json:"project_id"`
	SessionID        int64     `json:"session_id"`
	MemorySessionID  string    `json:"memory_session_id"`
	Project          string    `json:"project"`
	Request          string    `json:"request,omitempty"`
	Investigated     string    `json:"investigated,omitempty"`
	Learned          string    `json:"learned,omitempty"`
	Completed        string    `json:"completed,omitempty"`
	NextSteps        string    `json:"next_steps,omitempty"`
	Notes            string    `json:"notes,omitempty"`
	FilesRead        []string  `json:"files_read"`
	FilesEdited      []string  `json:"files_edited"`
	PromptNumber     int       `json:"prompt_number"`
	DiscoveryTokens  int64     `json:"discovery_tokens"`
	GeneratedByModel string    `json:"generated_by_model"`
	GenerationKey    string    `json:"generation_key"`
	JobID            string    `json:"job_id,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
}

// InsertSummary stores s unless one with its generation key exists, and
// returns the id of the stored or existing summary and whether it stored it.
func InsertSummary(ctx context.Context, q Querier, s *Summary) (int64, bool, error) {
	at := s.CreatedAt.UTC()
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO session_summaries (memory_session_id, project, request, investigated, learned,
		completed, next_steps, files_read, files_edited, notes, prompt_number, discovery_tokens, created_at, created_at_epoch,
		team_id, project_id, session_id, generated_by_model, generation_key, job_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING RETURNING id`,
		s.MemorySessionID, s.Project, nullString(s.Request), nullString(s.Investigated), nullString(s.Learned),
		nullString(s.Completed), nullString(s.NextSteps), jsonArray(s.FilesRead), jsonArray(s.FilesEdited), nullString(s.Notes),
		s.PromptNumber, s.DiscoveryTokens, ISO(at), at.UnixMilli(), s.TeamID, s.ProjectID, s.SessionID,
		nullString(s.GeneratedByModel), nullString(s.GenerationKey), nullString(s.JobID)).Scan(&id)
	created := err == nil
	if errors.Is(err, sql.ErrNoRows) {
		err = q.QueryRowContext(ctx, `SELECT id FROM session_summaries WHERE generation_key = ?`, s.GenerationKey).Scan(&id)
	}
	if err != nil {
		return 0, false, fmt.Errorf("memory: insert summary %q: %w", s.GenerationKey, err)
	}
	s.ID = id
	return id, created, nil
}

// SummaryColumns are the columns ScanSummary reads, of the table aliased s.
const SummaryColumns = `s.id, s.team_id, s.project_id, s.session_id, s.memory_session_id, s.project,
	COALESCE(s.request, ''), COALESCE(s.investigated, ''), COALESCE(s.learned, ''), COALESCE(s.completed, ''),
	COALESCE(s.next_steps, ''), COALESCE(s.notes, ''), s.files_read, s.files_edited, COALESCE(s.prompt_number, 0),
	COALESCE(s.discovery_tokens, 0), COALESCE(s.generated_by_model, ''), COALESCE(s.generation_key, ''),
	COALESCE(s.job_id, ''), s.created_at_epoch`

// ScanSummary reads a row of SummaryColumns.
func ScanSummary(row interface{ Scan(...any) error }) (Summary, error) {
	var s Summary
	var read, edited sql.NullString
	var at int64
	err := row.Scan(&s.ID, &s.TeamID, &s.ProjectID, &s.SessionID, &s.MemorySessionID, &s.Project, &s.Request,
		&s.Investigated, &s.Learned, &s.Completed, &s.NextSteps, &s.Notes, &read, &edited, &s.PromptNumber,
		&s.DiscoveryTokens, &s.GeneratedByModel, &s.GenerationKey, &s.JobID, &at)
	s.FilesRead, s.FilesEdited, s.CreatedAt = parseArray(read), parseArray(edited), fromEpoch(at)
	return s, err
}

// ListSummaries returns a session's summaries in order.
func ListSummaries(ctx context.Context, q Querier, sessionID int64) ([]Summary, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+SummaryColumns+` FROM session_summaries s WHERE session_id = ? ORDER BY id`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("memory: summaries: %w", err)
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		s, err := ScanSummary(rows)
		if err != nil {
			return nil, fmt.Errorf("memory: summaries: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Counts returns the number of rows of each memory table, for tests and
// diagnostics.
func Counts(ctx context.Context, q Querier) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range []string{"projects", "sdk_sessions", "user_prompts", "agent_events", "observations", "session_summaries"} {
		var n int64
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("memory: count %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}
