package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Observation is a memory's content: generated from agent events, or
// written by hand (Type "manual").
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
	// Narrative is the memory's text.
	Narrative        string    `json:"narrative,omitempty"`
	Concepts         []string  `json:"concepts"`
	FilesRead        []string  `json:"files_read"`
	FilesModified    []string  `json:"files_modified"`
	PromptNumber     int       `json:"prompt_number"`
	DiscoveryTokens  int64     `json:"discovery_tokens"`
	ContentHash      string    `json:"content_hash"`
	GeneratedByModel string    `json:"generated_by_model"`
	AgentType        string    `json:"agent_type,omitempty"`
	AgentID          string    `json:"agent_id,omitempty"`
	GenerationKey    string    `json:"generation_key"`
	JobID            string    `json:"job_id,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
}

// Memory is an observation with its place in its history.
type Memory struct {
	Observation
	// ValidFrom is when this version became current; ValidTo when it was
	// superseded (nil while current), by SupersededBy.
	ValidFrom    time.Time  `json:"valid_from"`
	ValidTo      *time.Time `json:"valid_to"`
	SupersededBy *int64     `json:"superseded_by"`
	Current      bool       `json:"current"`
}

// Version is one version of a memory's history.
type Version struct {
	ID           int64      `json:"id"`
	ValidFrom    time.Time  `json:"valid_from"`
	ValidTo      *time.Time `json:"valid_to"`
	SupersededBy *int64     `json:"superseded_by"`
}

// MemoryResponse is the answer to the memory routes.
type MemoryResponse struct {
	Memory Memory `json:"memory"`
	// RequestedID is the id in the path (GetMemory, SupersedeMemory).
	RequestedID int64 `json:"requested_id,omitempty"`
	// AsOf echoes GetMemoryOptions.AsOf.
	AsOf *time.Time `json:"as_of,omitempty"`
	// History is every version, oldest first (GetMemory).
	History []Version `json:"history,omitempty"`
	// Created is false when CreateMemory found the same memory.
	Created *bool `json:"created,omitempty"`
	// Superseded is the version a SupersedeMemory replaced.
	Superseded *Memory `json:"superseded,omitempty"`
}

// CreateMemoryRequest is the body of POST /v1/memories. Project and Text
// are required; Title defaults to Text's first line.
type CreateMemoryRequest struct {
	Project  string   `json:"project,omitempty"`
	Text     string   `json:"text"`
	Title    string   `json:"title,omitempty"`
	Concepts []string `json:"concepts,omitempty"`
	Facts    []string `json:"facts,omitempty"`
}

// SupersedeRequest is the body of POST /v1/memories/{id}/supersede: the
// new version, which stays in the memory's project.
type SupersedeRequest struct {
	Text     string   `json:"text"`
	Title    string   `json:"title,omitempty"`
	Concepts []string `json:"concepts,omitempty"`
	Facts    []string `json:"facts,omitempty"`
}

// UpdateMemoryRequest is the body of PATCH /v1/memories/{id}: the fields
// to change; nil fields are kept.
type UpdateMemoryRequest struct {
	Title    *string   `json:"title,omitempty"`
	Text     *string   `json:"text,omitempty"`
	Concepts *[]string `json:"concepts,omitempty"`
	Facts    *[]string `json:"facts,omitempty"`
}

// GetMemoryOptions are the query parameters of GET /v1/memories/{id}.
type GetMemoryOptions struct {
	// AsOf, when set, asks for the version current at that time.
	AsOf time.Time
}

// CreateMemory is POST /v1/memories: a manual memory, searchable at once.
// Posting the same memory again answers it with Created false.
func (c *Client) CreateMemory(ctx context.Context, req CreateMemoryRequest) (*MemoryResponse, error) {
	var out MemoryResponse
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/memories", body: req}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetMemory is GET /v1/memories/{id}: the version of the memory's history
// current now, or at opts.AsOf, with the history. opts may be nil.
func (c *Client) GetMemory(ctx context.Context, id int64, opts *GetMemoryOptions) (*MemoryResponse, error) {
	var q url.Values
	if opts != nil && !opts.AsOf.IsZero() {
		q = url.Values{"as_of": {opts.AsOf.UTC().Format(time.RFC3339Nano)}}
	}
	var out MemoryResponse
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/memories/" + itoa(id), query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateMemory is PATCH /v1/memories/{id}: it edits the current version in
// place, keeping no history. A superseded version is a 409.
func (c *Client) UpdateMemory(ctx context.Context, id int64, req UpdateMemoryRequest) (*MemoryResponse, error) {
	var out MemoryResponse
	if _, err := c.do(ctx, request{method: http.MethodPatch, path: "/v1/memories/" + itoa(id), body: req}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SupersedeMemory is POST /v1/memories/{id}/supersede: a new version
// replaces the current one, which stays in the history (GetMemory with
// AsOf reads it).
func (c *Client) SupersedeMemory(ctx context.Context, id int64, req SupersedeRequest) (*MemoryResponse, error) {
	var out MemoryResponse
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/memories/" + itoa(id) + "/supersede", body: req}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
