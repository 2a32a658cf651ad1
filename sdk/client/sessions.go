package client

import (
	"context"
	"net/http"
	"time"
)

// Session is an agent session.
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
	// Status is "active" or "completed".
	Status        string `json:"status"`
	PromptCounter int    `json:"prompt_counter"`
	// CurrentPrompt is the number of the turn the agent is in.
	CurrentPrompt int       `json:"current_prompt_number"`
	StartedAt     time.Time `json:"started_at"`
	CompletedAt   time.Time `json:"completed_at,omitzero"`
}

// Prompt is a user prompt of a session.
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

// Summary is the generated summary of a session's turn.
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

// SessionDetail is the answer to GET /v1/sessions/{id}.
type SessionDetail struct {
	Session        Session   `json:"session"`
	Prompts        []Prompt  `json:"prompts"`
	ObservationIDs []int64   `json:"observation_ids"`
	Summaries      []Summary `json:"summaries"`
}

// StartSessionRequest is the body of POST /v1/sessions/start. Only
// ContentSessionID is required.
type StartSessionRequest struct {
	ContentSessionID string `json:"content_session_id"`
	PlatformSource   string `json:"platform_source"`
	Project          string `json:"project"`
	Cwd              string `json:"cwd"`
	AgentID          string `json:"agent_id"`
	AgentType        string `json:"agent_type"`
}

// EndSessionRequest is the optional body of POST /v1/sessions/{id}/end.
type EndSessionRequest struct {
	Reason string `json:"reason"`
}

// SessionResponse is the answer to the session write routes.
type SessionResponse struct {
	// Status is "created" or "existing" for a start ("skipped", with
	// Reason and no Session, for an excluded project), the session's
	// status for an end.
	Status  string   `json:"status"`
	Reason  string   `json:"reason,omitempty"`
	Session *Session `json:"session"`
	// Job is the summary job an end enqueued.
	Job *JobRef `json:"generation_job,omitempty"`
}

// StartSession is POST /v1/sessions/start: the session of (platform
// source, content session id), created if new.
func (c *Client) StartSession(ctx context.Context, req StartSessionRequest) (*SessionResponse, error) {
	var out SessionResponse
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/sessions/start", body: req}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// EndSession is POST /v1/sessions/{id}/end: it completes the session and
// enqueues the summary of its last turn. req may be nil.
func (c *Client) EndSession(ctx context.Context, id int64, req *EndSessionRequest, opts *WriteOptions) (*SessionResponse, error) {
	r := request{method: http.MethodPost, path: "/v1/sessions/" + itoa(id) + "/end", query: opts.values()}
	if req != nil {
		r.body = req
	}
	var out SessionResponse
	if _, err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetSession is GET /v1/sessions/{id}: the session, its prompts, the ids
// of its current memories and its summaries.
func (c *Client) GetSession(ctx context.Context, id int64) (*SessionDetail, error) {
	var out SessionDetail
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/sessions/" + itoa(id)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
