package client

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// Project is a project of a team.
type Project struct {
	ID        int64     `json:"id"`
	TeamID    string    `json:"team_id"`
	Name      string    `json:"name"`
	RootPath  string    `json:"root_path,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// ProjectList is the answer to GET /v1/projects and GET
// /v1/admin/projects.
type ProjectList struct {
	Projects []Project `json:"projects"`
}

// ProjectDetail is the answer to GET /v1/projects/{id}.
type ProjectDetail struct {
	Project Project `json:"project"`
	// Counts are the project's rows by kind: sessions, observations
	// (current ones), superseded (history), summaries, prompts, events.
	Counts map[string]int64 `json:"counts"`
}

// CreateProjectRequest is the body of POST /v1/projects.
type CreateProjectRequest struct {
	Name     string `json:"name"`
	RootPath string `json:"root_path"`
}

// ProjectCreated is the answer to POST /v1/projects. Created is false when
// the team already had a project of that name.
type ProjectCreated struct {
	Project Project `json:"project"`
	Created bool    `json:"created"`
}

// ListProjects is GET /v1/projects: the team's projects, or the one a key
// bound to a project may see.
func (c *Client) ListProjects(ctx context.Context) (*ProjectList, error) {
	var out ProjectList
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/projects"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateProject is POST /v1/projects. It is idempotent by name.
func (c *Client) CreateProject(ctx context.Context, req CreateProjectRequest) (*ProjectCreated, error) {
	var out ProjectCreated
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/projects", body: req}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetProject is GET /v1/projects/{id}.
func (c *Client) GetProject(ctx context.Context, id int64) (*ProjectDetail, error) {
	var out ProjectDetail
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/projects/" + itoa(id)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
