package restapi

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/memory"
)

// Project is a project in an answer.
type Project struct {
	ID        int64     `json:"id"`
	TeamID    string    `json:"team_id"`
	Name      string    `json:"name"`
	RootPath  string    `json:"root_path,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// ProjectDetail is the answer to GET /v1/projects/{id}.
type ProjectDetail struct {
	Project Project `json:"project"`
	// Counts are the rows of the project: sessions, observations (current
	// ones), superseded (history), summaries, prompts, events.
	Counts map[string]int64 `json:"counts"`
}

// ProjectList is the answer to GET /v1/projects.
type ProjectList struct {
	Projects []Project `json:"projects"`
}

// CreateProjectRequest is the body of POST /v1/projects.
type CreateProjectRequest struct {
	Name     string `json:"name"`
	RootPath string `json:"root_path"`
}

// ProjectCreated is the answer to POST /v1/projects: 201 when it was
// created, 200 when the team already had it.
type ProjectCreated struct {
	Project Project `json:"project"`
	Created bool    `json:"created"`
}

const projectColumns = `id, team_id, name, COALESCE(root_path, ''), created_at_epoch`

func scanProject(row interface{ Scan(...any) error }) (Project, error) {
	var p Project
	var at int64
	err := row.Scan(&p.ID, &p.TeamID, &p.Name, &p.RootPath, &at)
	p.CreatedAt = time.UnixMilli(at).UTC()
	return p, err
}

// projectByID returns the team's project id, as the caller may see it:
// memory.ErrNotFound otherwise.
func projectByID(ctx context.Context, q memory.Querier, team string, id int64) (Project, error) {
	p, err := scanProject(q.QueryRowContext(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = ? AND team_id = ?`, id, team))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !access.ProjectAllowed(ctx, p.ID)) {
		return Project{}, memory.ErrNotFound
	}
	return p, err
}

// projectByName is projectByID by name.
func projectByName(ctx context.Context, q memory.Querier, team, name string) (Project, error) {
	p, err := scanProject(q.QueryRowContext(ctx, `SELECT `+projectColumns+` FROM projects WHERE name = ? AND team_id = ?`, name, team))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !access.ProjectAllowed(ctx, p.ID)) {
		return Project{}, memory.ErrNotFound
	}
	return p, err
}

// listProjects is GET /v1/projects: the team's projects, or the one a
// bound key may see.
func (a *API) listProjects(w http.ResponseWriter, r *http.Request) {
	tm, ok := team(w, r)
	if !ok {
		return
	}
	rows, err := a.opts.Store.Reader().QueryContext(r.Context(), `SELECT `+projectColumns+` FROM projects WHERE team_id = ? ORDER BY name, id`, tm)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	defer rows.Close()
	out := ProjectList{Projects: []Project{}}
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			a.internal(w, r, err)
			return
		}
		if access.ProjectAllowed(r.Context(), p.ID) {
			out.Projects = append(out.Projects, p)
		}
	}
	if err := rows.Err(); err != nil {
		a.internal(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// createProject is POST /v1/projects. A key bound to a project cannot
// create others (403).
func (a *API) createProject(w http.ResponseWriter, r *http.Request) {
	tm, ok := team(w, r)
	if !ok {
		return
	}
	var body CreateProjectRequest
	if !httpapi.DecodeJSON(w, r, &body) {
		return
	}
	name := strings.TrimSpace(body.Name)
	if name == "" || len(name) > 200 || strings.ContainsAny(name, "\x00\n\r") {
		invalid(w, r, "name is required: 1 to 200 characters on one line")
		return
	}
	var p Project
	created := false
	err := a.opts.Store.Tx(r.Context(), func(tx *sql.Tx) error {
		old, err := scanProject(tx.QueryRowContext(r.Context(), `SELECT `+projectColumns+` FROM projects WHERE name = ? AND team_id = ?`, name, tm))
		if err == nil {
			p = old
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, bound := access.BoundProject(r.Context()); bound {
			return errBoundCreate
		}
		id, err := memory.EnsureProject(r.Context(), tx, tm, name, strings.TrimSpace(body.RootPath), a.now())
		if err != nil {
			return err
		}
		created = true
		p, err = scanProject(tx.QueryRowContext(r.Context(), `SELECT `+projectColumns+` FROM projects WHERE id = ?`, id))
		return err
	})
	switch {
	case errors.Is(err, errBoundCreate):
		httpapi.WriteError(w, r, http.StatusForbidden, CodeForbidden, "this key is bound to a project and cannot create others")
		return
	case err != nil:
		a.internal(w, r, err)
		return
	}
	if !access.ProjectAllowed(r.Context(), p.ID) {
		httpapi.WriteError(w, r, http.StatusForbidden, CodeForbidden, "this key is bound to another project")
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	audit.Annotate(r.Context(), audit.Resource("project:"+itoa(p.ID)), audit.Project(p.ID))
	httpapi.WriteJSON(w, status, ProjectCreated{Project: p, Created: created})
}

var errBoundCreate = errors.New("restapi: a bound key cannot create projects")

// getProject is GET /v1/projects/{id}.
func (a *API) getProject(w http.ResponseWriter, r *http.Request) {
	tm, id, ok := teamAndID(w, r, "project")
	if !ok {
		return
	}
	q := a.opts.Store.Reader()
	p, err := projectByID(r.Context(), q, tm, id)
	if errors.Is(err, memory.ErrNotFound) {
		notFound(w, r, "no project %d", id)
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	counts := map[string]int64{}
	for name, query := range map[string]string{
		"sessions":     `SELECT COUNT(*) FROM sdk_sessions WHERE project_id = ? AND team_id = ?`,
		"observations": `SELECT COUNT(*) FROM observations WHERE project_id = ? AND team_id = ? AND valid_to IS NULL`,
		"superseded":   `SELECT COUNT(*) FROM observations WHERE project_id = ? AND team_id = ? AND valid_to IS NOT NULL`,
		"summaries":    `SELECT COUNT(*) FROM session_summaries WHERE project_id = ? AND team_id = ?`,
		"prompts":      `SELECT COUNT(*) FROM user_prompts WHERE session_db_id IN (SELECT id FROM sdk_sessions WHERE project_id = ? AND team_id = ?)`,
		"events":       `SELECT COUNT(*) FROM agent_events WHERE project_id = ? AND team_id = ?`,
	} {
		var n int64
		if err := q.QueryRowContext(r.Context(), query, p.ID, tm).Scan(&n); err != nil {
			a.internal(w, r, err)
			return
		}
		counts[name] = n
	}
	audit.Annotate(r.Context(), audit.Resource("project:"+itoa(p.ID)), audit.Project(p.ID))
	httpapi.WriteJSON(w, http.StatusOK, ProjectDetail{Project: p, Counts: counts})
}

// SessionDetail is the answer to GET /v1/sessions/{id}.
type SessionDetail struct {
	Session        memory.Session   `json:"session"`
	Prompts        []memory.Prompt  `json:"prompts"`
	ObservationIDs []int64          `json:"observation_ids"`
	Summaries      []memory.Summary `json:"summaries"`
}

// getSession is GET /v1/sessions/{id}: the session, its prompts, the ids
// of its current observations, and its summaries.
func (a *API) getSession(w http.ResponseWriter, r *http.Request) {
	tm, id, ok := teamAndID(w, r, "session")
	if !ok {
		return
	}
	q := a.opts.Store.Reader()
	s, err := memory.GetSession(r.Context(), q, tm, id)
	if err == nil && !access.ProjectAllowed(r.Context(), s.ProjectID) {
		err = memory.ErrNotFound
	}
	if errors.Is(err, memory.ErrNotFound) {
		notFound(w, r, "no session %d", id)
		return
	}
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out := SessionDetail{Session: s, Prompts: []memory.Prompt{}, ObservationIDs: []int64{}, Summaries: []memory.Summary{}}
	prompts, err := memory.ListPrompts(r.Context(), q, s.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out.Prompts = append(out.Prompts, prompts...)
	rows, err := q.QueryContext(r.Context(), `SELECT id FROM observations WHERE session_id = ? AND valid_to IS NULL ORDER BY id`, s.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var oid int64
		if err := rows.Scan(&oid); err != nil {
			a.internal(w, r, err)
			return
		}
		out.ObservationIDs = append(out.ObservationIDs, oid)
	}
	if err := rows.Err(); err != nil {
		a.internal(w, r, err)
		return
	}
	sums, err := memory.ListSummaries(r.Context(), q, s.ID)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out.Summaries = append(out.Summaries, sums...)
	var recalled []string
	for _, p := range out.Prompts {
		recalled = append(recalled, audit.MemoryID(audit.KindPrompt, p.ID))
	}
	for _, o := range out.ObservationIDs {
		recalled = append(recalled, audit.MemoryID(audit.KindObservation, o))
	}
	for _, su := range out.Summaries {
		recalled = append(recalled, audit.MemoryID(audit.KindSummary, su.ID))
	}
	audit.Annotate(r.Context(), audit.Resource("session:"+itoa(s.ID)), audit.Project(s.ProjectID), audit.Memories(recalled...))
	httpapi.WriteJSON(w, http.StatusOK, out)
}
