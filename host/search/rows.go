package search

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/memory"
)

// The columns and scanners below read the rows that host/memory writes.

const observationColumns = `o.id, o.team_id, o.project_id, o.session_id, o.memory_session_id, o.project, o.type,
	COALESCE(o.title, ''), COALESCE(o.subtitle, ''), o.facts, COALESCE(o.narrative, ''), o.concepts, o.files_read,
	o.files_modified, COALESCE(o.prompt_number, 0), COALESCE(o.discovery_tokens, 0), COALESCE(o.content_hash, ''),
	COALESCE(o.generated_by_model, ''), COALESCE(o.agent_type, ''), COALESCE(o.agent_id, ''),
	COALESCE(o.generation_key, ''), COALESCE(o.job_id, ''), o.created_at_epoch`

func scanObservation(row interface{ Scan(...any) error }) (memory.Observation, error) {
	var o memory.Observation
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

const summaryColumns = `s.id, s.team_id, s.project_id, s.session_id, s.memory_session_id, s.project,
	COALESCE(s.request, ''), COALESCE(s.investigated, ''), COALESCE(s.learned, ''), COALESCE(s.completed, ''),
	COALESCE(s.next_steps, ''), COALESCE(s.notes, ''), s.files_read, s.files_edited, COALESCE(s.prompt_number, 0),
	COALESCE(s.discovery_tokens, 0), COALESCE(s.generated_by_model, ''), COALESCE(s.generation_key, ''),
	COALESCE(s.job_id, ''), s.created_at_epoch`

func scanSummary(row interface{ Scan(...any) error }) (memory.Summary, error) {
	var s memory.Summary
	var read, edited sql.NullString
	var at int64
	err := row.Scan(&s.ID, &s.TeamID, &s.ProjectID, &s.SessionID, &s.MemorySessionID, &s.Project, &s.Request,
		&s.Investigated, &s.Learned, &s.Completed, &s.NextSteps, &s.Notes, &read, &edited, &s.PromptNumber,
		&s.DiscoveryTokens, &s.GeneratedByModel, &s.GenerationKey, &s.JobID, &at)
	s.FilesRead, s.FilesEdited, s.CreatedAt = parseArray(read), parseArray(edited), fromEpoch(at)
	return s, err
}

// Prompt is a user prompt with the session facts a search result needs.
type Prompt struct {
	memory.Prompt
	TeamID         string `json:"team_id"`
	ProjectID      int64  `json:"project_id"`
	Project        string `json:"project"`
	PlatformSource string `json:"platform_source"`
}

const promptColumns = `p.id, p.session_db_id, p.content_session_id, p.prompt_number, p.prompt_text, p.is_private,
	COALESCE(p.agent_event_id, 0), p.created_at_epoch, ss.team_id, ss.project_id, ss.project, ss.platform_source`

func scanPrompt(row interface{ Scan(...any) error }) (Prompt, error) {
	var p Prompt
	var at int64
	err := row.Scan(&p.ID, &p.SessionID, &p.ContentSessionID, &p.Number, &p.Text, &p.Private, &p.AgentEventID, &at,
		&p.TeamID, &p.ProjectID, &p.Project, &p.PlatformSource)
	p.CreatedAt = fromEpoch(at)
	return p, err
}

// loadObservations, loadSummaries and loadPrompts read rows by id (scoped
// to the team), keyed by id. The unary + keeps SQLite, which has no
// statistics and takes an equality on an indexed column for a selective
// one, from walking the team's index instead of looking the ids up.
func loadObservations(ctx context.Context, q memory.Querier, teamID string, ids []int64) (map[int64]memory.Observation, error) {
	out := make(map[int64]memory.Observation, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT `+observationColumns+` FROM observations o
		WHERE o.id IN (SELECT value FROM json_each(?)) AND +o.team_id = ?`, idList(ids), teamID)
	if err != nil {
		return nil, fmt.Errorf("search: load observations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		o, err := scanObservation(rows)
		if err != nil {
			return nil, fmt.Errorf("search: load observations: %w", err)
		}
		out[o.ID] = o
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: load observations: %w", err)
	}
	return out, nil
}

func loadSummaries(ctx context.Context, q memory.Querier, teamID string, ids []int64) (map[int64]memory.Summary, error) {
	out := make(map[int64]memory.Summary, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT `+summaryColumns+` FROM session_summaries s
		WHERE s.id IN (SELECT value FROM json_each(?)) AND +s.team_id = ?`, idList(ids), teamID)
	if err != nil {
		return nil, fmt.Errorf("search: load summaries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		s, err := scanSummary(rows)
		if err != nil {
			return nil, fmt.Errorf("search: load summaries: %w", err)
		}
		out[s.ID] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: load summaries: %w", err)
	}
	return out, nil
}

func loadPrompts(ctx context.Context, q memory.Querier, teamID string, ids []int64) (map[int64]Prompt, error) {
	out := make(map[int64]Prompt, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT `+promptColumns+` FROM user_prompts p CROSS JOIN sdk_sessions ss ON ss.id = p.session_db_id
		WHERE p.id IN (SELECT value FROM json_each(?)) AND +ss.team_id = ?`, idList(ids), teamID)
	if err != nil {
		return nil, fmt.Errorf("search: load prompts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPrompt(rows)
		if err != nil {
			return nil, fmt.Errorf("search: load prompts: %w", err)
		}
		out[p.ID] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: load prompts: %w", err)
	}
	return out, nil
}

// idList is a JSON array of ids, for json_each: one bound parameter
// whatever the number of ids.
func idList(ids []int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte(']')
	return b.String()
}

func stringList(list []string) string {
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

func fromEpoch(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
