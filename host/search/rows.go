package search

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/memory"
)

// Observations and summaries are read with host/memory's columns and
// scanners; prompts carry the session facts a result needs.

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
	rows, err := q.QueryContext(ctx, `SELECT `+memory.ObservationColumns+` FROM observations o
		WHERE o.id IN (SELECT value FROM json_each(?)) AND +o.team_id = ?`, idList(ids), teamID)
	if err != nil {
		return nil, fmt.Errorf("search: load observations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		o, err := memory.ScanObservation(rows)
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
	rows, err := q.QueryContext(ctx, `SELECT `+memory.SummaryColumns+` FROM session_summaries s
		WHERE s.id IN (SELECT value FROM json_each(?)) AND +s.team_id = ?`, idList(ids), teamID)
	if err != nil {
		return nil, fmt.Errorf("search: load summaries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		s, err := memory.ScanSummary(rows)
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

func fromEpoch(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
