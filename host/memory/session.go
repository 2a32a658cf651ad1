package memory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxPromptChars bounds sdk_sessions.user_prompt and user_prompts.prompt_text,
// as claude-mem does.
const MaxPromptChars = 4000

// Session is a row of sdk_sessions: one agent session.
type Session struct {
	ID               int64  `json:"id"`
	TeamID           string `json:"team_id"`
	ProjectID        int64  `json:"project_id"`
	Project          string `json:"project"`
	ContentSessionID string `json:"content_session_id"`
	MemorySessionID  string `json:"memory_session_id"`
	PlatformSource   string `json:"platform_source"`
	UserPrompt       string `json:"user_prompt,omitempty"`
	Cwd              string `json:"cwd,omitempty"`
	AgentID          string `json:"agent_id,omitempty"`
	AgentType        string `json:"agent_type,omitempty"`
	Status           string `json:"status"`
	PromptCounter    int    `json:"prompt_counter"`
	// CurrentPrompt is the turn the agent is in: the number of the latest
	// prompt received, a repeat included. Tool events belong to it.
	CurrentPrompt int       `json:"current_prompt_number"`
	StartedAt     time.Time `json:"started_at"`
	CompletedAt   time.Time `json:"completed_at,omitzero"`
}

// NewSession describes a session to create.
type NewSession struct {
	TeamID           string
	ProjectID        int64
	Project          string
	PlatformSource   string
	ContentSessionID string
	Cwd              string
	AgentID          string
	AgentType        string
	StartedAt        time.Time
}

// EnsureProject returns the id of the team's project called name, creating
// it. rootPath is recorded when the project is created.
func EnsureProject(ctx context.Context, q Querier, teamID, name, rootPath string, now time.Time) (int64, error) {
	ms := now.UnixMilli()
	if _, err := q.ExecContext(ctx, `INSERT INTO projects (team_id, name, root_path, created_at_epoch, updated_at_epoch)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT(team_id, name) DO NOTHING`, teamID, name, nullString(rootPath), ms, ms); err != nil {
		return 0, fmt.Errorf("memory: ensure project %q: %w", name, err)
	}
	var id int64
	if err := q.QueryRowContext(ctx, `SELECT id FROM projects WHERE team_id = ? AND name = ?`, teamID, name).Scan(&id); err != nil {
		return 0, fmt.Errorf("memory: ensure project %q: %w", name, err)
	}
	return id, nil
}

const sessionColumns = `id, team_id, project_id, project, content_session_id, COALESCE(memory_session_id, ''), platform_source,
	COALESCE(user_prompt, ''), COALESCE(cwd, ''), COALESCE(agent_id, ''), COALESCE(agent_type, ''), status, prompt_counter,
	current_prompt_number, COALESCE(started_at_epoch, 0), COALESCE(completed_at_epoch, 0)`

func scanSession(row interface{ Scan(...any) error }) (Session, error) {
	var s Session
	var started, completed int64
	err := row.Scan(&s.ID, &s.TeamID, &s.ProjectID, &s.Project, &s.ContentSessionID, &s.MemorySessionID, &s.PlatformSource,
		&s.UserPrompt, &s.Cwd, &s.AgentID, &s.AgentType, &s.Status, &s.PromptCounter, &s.CurrentPrompt, &started, &completed)
	s.StartedAt, s.CompletedAt = fromEpoch(started), fromEpoch(completed)
	return s, err
}

// GetSession returns a session of the team by id.
func GetSession(ctx context.Context, q Querier, teamID string, id int64) (Session, error) {
	s, err := scanSession(q.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sdk_sessions WHERE id = ?`, id))
	if err != nil {
		return Session{}, fmt.Errorf("memory: session %d: %w", id, notFound(err))
	}
	if s.TeamID != teamID {
		return Session{}, fmt.Errorf("memory: session %d: %w", id, ErrNotFound)
	}
	return s, nil
}

// FindSession returns the team's session of a platform source and content
// session id. Another team's session of the same ids is not found: each
// team has sessions of its own.
func FindSession(ctx context.Context, q Querier, teamID, platformSource, contentSessionID string) (Session, error) {
	s, err := scanSession(q.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sdk_sessions
		WHERE team_id = ? AND platform_source = ? AND content_session_id = ?`, teamID, platformSource, contentSessionID))
	if err != nil {
		return Session{}, fmt.Errorf("memory: session %s/%s: %w", platformSource, contentSessionID, notFound(err))
	}
	return s, nil
}

// EnsureSession returns the team's session of (platform source, content
// session id), creating it, and whether it created it.
func EnsureSession(ctx context.Context, q Querier, ns NewSession) (Session, bool, error) {
	s, err := FindSession(ctx, q, ns.TeamID, ns.PlatformSource, ns.ContentSessionID)
	switch {
	case err == nil:
		return s, false, nil
	case !errors.Is(err, ErrNotFound):
		return Session{}, false, err
	}
	at := ns.StartedAt.UTC()
	res, err := q.ExecContext(ctx, `INSERT INTO sdk_sessions (content_session_id, memory_session_id, project, platform_source,
		started_at, started_at_epoch, status, prompt_counter, team_id, project_id, cwd, agent_id, agent_type, updated_at_epoch)
		VALUES (?, ?, ?, ?, ?, ?, 'active', 0, ?, ?, ?, ?, ?, ?)`,
		ns.ContentSessionID, MemorySessionID(ns.TeamID, ns.PlatformSource, ns.ContentSessionID), ns.Project, ns.PlatformSource,
		ISO(at), at.UnixMilli(), ns.TeamID, ns.ProjectID, nullString(ns.Cwd), nullString(ns.AgentID), nullString(ns.AgentType), at.UnixMilli())
	if err != nil {
		return Session{}, false, fmt.Errorf("memory: create session %s/%s: %w", ns.PlatformSource, ns.ContentSessionID, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Session{}, false, fmt.Errorf("memory: create session: %w", err)
	}
	s, err = GetSession(ctx, q, ns.TeamID, id)
	return s, err == nil, err
}

// manualPlatform is the platform source of the sessions that hold manual
// memories: claude-mem's default, what the write path makes of none.
const manualPlatform = "claude"

// ManualSessionID is the content session id of the session holding a
// project's manual memories: claude-mem's manual-<project>. Another team's
// also names the team, as written when session ids were unique across
// teams, so that those sessions are found again.
func ManualSessionID(teamID, project string) string {
	if teamID == LocalTeam {
		return "manual-" + project
	}
	return "manual-" + teamID + "-" + project
}

// EnsureManualSession returns the session holding the project's manual
// memories (POST /v1/memories, /api/memory/save, MCP memory imports),
// creating it.
func EnsureManualSession(ctx context.Context, q Querier, teamID string, projectID int64, project string, at time.Time) (Session, error) {
	s, _, err := EnsureSession(ctx, q, NewSession{TeamID: teamID, ProjectID: projectID, Project: project,
		PlatformSource: manualPlatform, ContentSessionID: ManualSessionID(teamID, project), StartedAt: at})
	return s, err
}

// NextPrompt numbers a new user prompt of the session: it increments
// prompt_counter and returns the new value. text (already stripped) fills
// sdk_sessions.user_prompt if it is still empty.
func NextPrompt(ctx context.Context, q Querier, sessionID int64, text string, now time.Time) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `UPDATE sdk_sessions SET prompt_counter = prompt_counter + 1,
		current_prompt_number = prompt_counter + 1, user_prompt = COALESCE(NULLIF(user_prompt, ''), ?), updated_at_epoch = ?
		WHERE id = ? RETURNING prompt_counter`, nullString(Truncate(text, MaxPromptChars)), now.UnixMilli(), sessionID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("memory: number prompt of session %d: %w", sessionID, notFound(err))
	}
	return n, nil
}

// SetCurrentPrompt makes prompt n the session's current turn: a repeated
// prompt (a replay) moves the session back to its turn, so that the tool
// events that follow are judged (private or not) by the right prompt.
func SetCurrentPrompt(ctx context.Context, q Querier, sessionID int64, n int) error {
	if _, err := q.ExecContext(ctx, `UPDATE sdk_sessions SET current_prompt_number = ? WHERE id = ?`, n, sessionID); err != nil {
		return fmt.Errorf("memory: set current prompt of session %d: %w", sessionID, err)
	}
	return nil
}

// CompleteSession marks a session completed (once: the first completion
// time is kept) and returns it.
func CompleteSession(ctx context.Context, q Querier, teamID string, id int64, now time.Time) (Session, error) {
	if _, err := q.ExecContext(ctx, `UPDATE sdk_sessions SET status = 'completed', completed_at = ?, completed_at_epoch = ?, updated_at_epoch = ?
		WHERE id = ? AND team_id = ? AND status = 'active'`, ISO(now), now.UnixMilli(), now.UnixMilli(), id, teamID); err != nil {
		return Session{}, fmt.Errorf("memory: complete session %d: %w", id, err)
	}
	return GetSession(ctx, q, teamID, id)
}

// Prompt is a row of user_prompts.
type Prompt struct {
	ID               int64     `json:"id"`
	SessionID        int64     `json:"session_id"`
	ContentSessionID string    `json:"content_session_id"`
	Number           int       `json:"prompt_number"`
	Text             string    `json:"prompt_text"`
	Private          bool      `json:"private,omitempty"`
	AgentEventID     int64     `json:"agent_event_id,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
}

// InsertPrompt stores a user prompt (text already stripped and redacted;
// it is cut to MaxPromptChars) and returns its id.
func InsertPrompt(ctx context.Context, q Querier, p Prompt) (int64, error) {
	at := p.CreatedAt.UTC()
	res, err := q.ExecContext(ctx, `INSERT INTO user_prompts (session_db_id, content_session_id, prompt_number, prompt_text,
		created_at, created_at_epoch, is_private, agent_event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.SessionID, p.ContentSessionID, p.Number, Truncate(p.Text, MaxPromptChars), ISO(at), at.UnixMilli(), p.Private, nullInt(p.AgentEventID))
	if err != nil {
		return 0, fmt.Errorf("memory: insert prompt %d of session %d: %w", p.Number, p.SessionID, err)
	}
	return res.LastInsertId()
}

const promptColumns = `id, session_db_id, content_session_id, prompt_number, prompt_text, is_private, COALESCE(agent_event_id, 0), created_at_epoch`

func scanPrompt(row interface{ Scan(...any) error }) (Prompt, error) {
	var p Prompt
	var at int64
	err := row.Scan(&p.ID, &p.SessionID, &p.ContentSessionID, &p.Number, &p.Text, &p.Private, &p.AgentEventID, &at)
	p.CreatedAt = fromEpoch(at)
	return p, err
}

// GetPrompt returns prompt number n of a session.
func GetPrompt(ctx context.Context, q Querier, sessionID int64, n int) (Prompt, error) {
	p, err := scanPrompt(q.QueryRowContext(ctx, `SELECT `+promptColumns+` FROM user_prompts WHERE session_db_id = ? AND prompt_number = ?`, sessionID, n))
	if err != nil {
		return Prompt{}, fmt.Errorf("memory: prompt %d of session %d: %w", n, sessionID, notFound(err))
	}
	return p, nil
}

// ListPrompts returns a session's prompts in order.
func ListPrompts(ctx context.Context, q Querier, sessionID int64) ([]Prompt, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+promptColumns+` FROM user_prompts WHERE session_db_id = ? ORDER BY prompt_number`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("memory: list prompts: %w", err)
	}
	defer rows.Close()
	var out []Prompt
	for rows.Next() {
		p, err := scanPrompt(rows)
		if err != nil {
			return nil, fmt.Errorf("memory: list prompts: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// TurnPrivate reports whether prompt n of a session was private (empty
// after stripping). A turn without a stored prompt is not private.
func TurnPrivate(ctx context.Context, q Querier, sessionID int64, n int) (bool, error) {
	if n <= 0 {
		return false, nil
	}
	var private bool
	err := q.QueryRowContext(ctx, `SELECT is_private FROM user_prompts WHERE session_db_id = ? AND prompt_number = ?`, sessionID, n).Scan(&private)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("memory: prompt %d of session %d: %w", n, sessionID, err)
	}
	return private, nil
}

// FirstLine is the first line of s, cut to n characters with an ellipsis:
// the title of a memory written without one.
func FirstLine(s string, n int) string {
	line, _, _ := strings.Cut(s, "\n")
	line = strings.TrimSpace(line)
	if cut := Truncate(line, n); cut != line {
		return strings.TrimSpace(cut) + "…"
	}
	return line
}

// Truncate cuts s to at most n characters, on a UTF-8 boundary.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	count := 0
	for i := range s {
		if count == n {
			return s[:i]
		}
		count++
	}
	return s
}
