package legacyapi

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/claude-mem/claude-mem-server/host/memory"
)

// The rows the legacy routes return are claude-mem's table rows, column for
// column: list fields are JSON-array text (files_read is "[\"a.go\"]", not
// an array), times are ISO text next to epoch milliseconds, and a NULL is
// null. claude-mem's hooks, MCP server and viewer read them that way.

// obsRow is a row of observations as claude-mem returns it.
type obsRow struct {
	ID                int64   `json:"id"`
	MemorySessionID   string  `json:"memory_session_id"`
	Project           string  `json:"project"`
	PlatformSource    string  `json:"platform_source"`
	Text              *string `json:"text"`
	Type              string  `json:"type"`
	Title             *string `json:"title"`
	Subtitle          *string `json:"subtitle"`
	Facts             *string `json:"facts"`
	Narrative         *string `json:"narrative"`
	Concepts          *string `json:"concepts"`
	FilesRead         *string `json:"files_read"`
	FilesModified     *string `json:"files_modified"`
	PromptNumber      *int64  `json:"prompt_number"`
	DiscoveryTokens   int64   `json:"discovery_tokens"`
	ContentHash       *string `json:"content_hash"`
	GeneratedByModel  *string `json:"generated_by_model"`
	RelevanceCount    int64   `json:"relevance_count"`
	MergedIntoProject *string `json:"merged_into_project"`
	AgentType         *string `json:"agent_type"`
	AgentID           *string `json:"agent_id"`
	CreatedAt         string  `json:"created_at"`
	CreatedAtEpoch    int64   `json:"created_at_epoch"`
}

const obsSelect = `SELECT o.id, o.memory_session_id, o.project, COALESCE(NULLIF(s.platform_source, ''), 'claude'), o.text, o.type,
	o.title, o.subtitle, o.facts, o.narrative, o.concepts, o.files_read, o.files_modified, o.prompt_number,
	COALESCE(o.discovery_tokens, 0), o.content_hash, o.generated_by_model, COALESCE(o.relevance_count, 0),
	o.merged_into_project, o.agent_type, o.agent_id, o.created_at, o.created_at_epoch
	FROM observations o JOIN sdk_sessions s ON s.id = o.session_id`

func scanObs(rows *sql.Rows) (obsRow, error) {
	var o obsRow
	var text, title, subtitle, facts, narrative, concepts, read, modified, hash, model, merged, agentType, agentID sql.NullString
	var prompt sql.NullInt64
	err := rows.Scan(&o.ID, &o.MemorySessionID, &o.Project, &o.PlatformSource, &text, &o.Type, &title, &subtitle, &facts, &narrative,
		&concepts, &read, &modified, &prompt, &o.DiscoveryTokens, &hash, &model, &o.RelevanceCount, &merged, &agentType, &agentID,
		&o.CreatedAt, &o.CreatedAtEpoch)
	o.Text, o.Title, o.Subtitle, o.Facts, o.Narrative = str(text), str(title), str(subtitle), str(facts), str(narrative)
	o.Concepts, o.FilesRead, o.FilesModified, o.ContentHash = str(concepts), str(read), str(modified), str(hash)
	o.GeneratedByModel, o.MergedIntoProject, o.AgentType, o.AgentID = str(model), str(merged), str(agentType), str(agentID)
	if prompt.Valid {
		o.PromptNumber = &prompt.Int64
	}
	return o, err
}

// summaryRow is a row of session_summaries as claude-mem returns it.
type summaryRow struct {
	ID                int64   `json:"id"`
	MemorySessionID   string  `json:"memory_session_id"`
	Project           string  `json:"project"`
	PlatformSource    string  `json:"platform_source"`
	Request           *string `json:"request"`
	Investigated      *string `json:"investigated"`
	Learned           *string `json:"learned"`
	Completed         *string `json:"completed"`
	NextSteps         *string `json:"next_steps"`
	FilesRead         *string `json:"files_read"`
	FilesEdited       *string `json:"files_edited"`
	Notes             *string `json:"notes"`
	PromptNumber      *int64  `json:"prompt_number"`
	DiscoveryTokens   int64   `json:"discovery_tokens"`
	MergedIntoProject *string `json:"merged_into_project"`
	CreatedAt         string  `json:"created_at"`
	CreatedAtEpoch    int64   `json:"created_at_epoch"`
}

const summarySelect = `SELECT m.id, m.memory_session_id, m.project, COALESCE(NULLIF(s.platform_source, ''), 'claude'), m.request,
	m.investigated, m.learned, m.completed, m.next_steps, m.files_read, m.files_edited, m.notes, m.prompt_number,
	COALESCE(m.discovery_tokens, 0), m.merged_into_project, m.created_at, m.created_at_epoch
	FROM session_summaries m JOIN sdk_sessions s ON s.id = m.session_id`

func scanSummary(rows *sql.Rows) (summaryRow, error) {
	var m summaryRow
	var request, investigated, learned, completed, next, read, edited, notes, merged sql.NullString
	var prompt sql.NullInt64
	err := rows.Scan(&m.ID, &m.MemorySessionID, &m.Project, &m.PlatformSource, &request, &investigated, &learned, &completed, &next,
		&read, &edited, &notes, &prompt, &m.DiscoveryTokens, &merged, &m.CreatedAt, &m.CreatedAtEpoch)
	m.Request, m.Investigated, m.Learned, m.Completed, m.NextSteps = str(request), str(investigated), str(learned), str(completed), str(next)
	m.FilesRead, m.FilesEdited, m.Notes, m.MergedIntoProject = str(read), str(edited), str(notes), str(merged)
	if prompt.Valid {
		m.PromptNumber = &prompt.Int64
	}
	return m, err
}

// promptRow is a row of user_prompts with its session's project, as
// claude-mem's search returns it.
type promptRow struct {
	ID               int64  `json:"id"`
	ContentSessionID string `json:"content_session_id"`
	Project          string `json:"project"`
	PlatformSource   string `json:"platform_source"`
	PromptNumber     int64  `json:"prompt_number"`
	PromptText       string `json:"prompt_text"`
	CreatedAt        string `json:"created_at"`
	CreatedAtEpoch   int64  `json:"created_at_epoch"`
}

const promptSelect = `SELECT p.id, p.content_session_id, s.project, COALESCE(NULLIF(s.platform_source, ''), 'claude'), p.prompt_number,
	p.prompt_text, p.created_at, p.created_at_epoch
	FROM user_prompts p JOIN sdk_sessions s ON s.id = p.session_db_id`

func scanPrompt(rows *sql.Rows) (promptRow, error) {
	var p promptRow
	err := rows.Scan(&p.ID, &p.ContentSessionID, &p.Project, &p.PlatformSource, &p.PromptNumber, &p.PromptText, &p.CreatedAt, &p.CreatedAtEpoch)
	return p, err
}

func str(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

// query runs a select and scans every row with scan.
func query[T any](ctx context.Context, q memory.Querier, scan func(*sql.Rows) (T, error), sqlText string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("legacyapi: query: %w", err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("legacyapi: scan: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("legacyapi: query: %w", err)
	}
	return out, nil
}

// filter builds the WHERE clause of a read: team first, then optional
// conditions.
type filter struct {
	where []string
	args  []any
}

func (f *filter) add(cond string, args ...any) {
	f.where = append(f.where, cond)
	f.args = append(f.args, args...)
}

func (f *filter) sql() string {
	if len(f.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.where, " AND ")
}

// in adds "col IN (?, ?…)" for a non-empty list.
func (f *filter) in(col string, values []string) {
	if len(values) == 0 {
		return
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ")
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	f.add(col+" IN ("+ph+")", args...)
}

// projectIn keeps rows of these projects or merged into them, as
// claude-mem's readers do.
func (f *filter) projectIn(alias string, projects []string) {
	if len(projects) == 0 {
		return
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(projects)), ", ")
	args := make([]any, 0, 2*len(projects))
	for _, p := range projects {
		args = append(args, p)
	}
	cond := alias + ".project IN (" + ph + ")"
	if alias == "o" || alias == "m" {
		cond = "(" + cond + " OR " + alias + ".merged_into_project IN (" + ph + "))"
		for _, p := range projects {
			args = append(args, p)
		}
	}
	f.add(cond, args...)
}

// jsonArrayText is claude-mem's JSON-array text of a list.
func jsonArrayText(list []string) *string {
	if list == nil {
		list = []string{}
	}
	b, _ := json.Marshal(list)
	s := string(b)
	return &s
}
