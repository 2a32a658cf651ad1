package client

import (
	"context"
	"net/http"
	"time"
)

// Filters narrow a search, or a forget by filter. Empty fields do not
// filter.
type Filters struct {
	// Projects are project names; ProjectIDs project ids.
	Projects       []string `json:"projects,omitempty"`
	ProjectIDs     []int64  `json:"project_ids,omitempty"`
	PlatformSource string   `json:"platform_source,omitempty"`
	// Types are observation types ("manual", "decision", "bugfix", …).
	Types    []string `json:"types,omitempty"`
	Concepts []string `json:"concepts,omitempty"`
	Files    []string `json:"files,omitempty"`
	// DateStart and DateEnd bound the creation time, both inclusive.
	DateStart time.Time `json:"date_start,omitzero"`
	DateEnd   time.Time `json:"date_end,omitzero"`
}

// Kinds of search hits.
const (
	KindObservation = "observation"
	KindSummary     = "summary"
	KindPrompt      = "prompt"
)

// Orders of search hits.
const (
	OrderRelevance = "relevance"
	OrderDateDesc  = "date_desc"
	OrderDateAsc   = "date_asc"
)

// SearchRequest is the body of POST /v1/search.
type SearchRequest struct {
	Query string `json:"query"`
	Filters
	// Kinds are KindObservation, KindSummary, KindPrompt; empty is all.
	Kinds []string `json:"kinds,omitempty"`
	// OrderBy is OrderRelevance (the default), OrderDateDesc or
	// OrderDateAsc.
	OrderBy string `json:"order_by,omitempty"`
	// Limit is 0 (the server's default) to 100; Offset pages.
	Limit  int `json:"limit,omitempty"`
	Offset int `json:"offset,omitempty"`
}

// Matches of a search (SearchResult.Match).
const (
	// MatchAll: every term of the query matched.
	MatchAll = "all"
	// MatchAny: no row had every term; rows with any term were ranked.
	MatchAny = "any"
	// MatchFilter: no query terms; rows matching the filters, by date.
	MatchFilter = "filter"
	// MatchNone: nothing to search for.
	MatchNone = "none"
)

// SearchResult is the answer to POST /v1/search: a page of hits.
type SearchResult struct {
	Query string `json:"query"`
	// Terms is what was searched for after sanitizing the query.
	Terms string `json:"terms"`
	Match string `json:"match"`
	Order string `json:"order"`
	Hits  []Hit  `json:"results"`
}

// Hit is one search result: exactly one of Observation, Summary and Prompt
// is set, as Kind says.
type Hit struct {
	Kind string `json:"kind"`
	ID   int64  `json:"id"`
	// Score is the BM25 score (lower is better); 0 when not ranked.
	Score       float64       `json:"score"`
	CreatedAt   time.Time     `json:"created_at"`
	Observation *Observation  `json:"observation,omitempty"`
	Summary     *Summary      `json:"summary,omitempty"`
	Prompt      *SearchPrompt `json:"prompt,omitempty"`
}

// SearchPrompt is a prompt hit, with its session's project.
type SearchPrompt struct {
	Prompt
	TeamID         string `json:"team_id"`
	ProjectID      int64  `json:"project_id"`
	Project        string `json:"project"`
	PlatformSource string `json:"platform_source"`
}

// Search is POST /v1/search: full-text search over current memories,
// summaries and prompts.
func (c *Client) Search(ctx context.Context, req SearchRequest) (*SearchResult, error) {
	var out SearchResult
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/search", body: req}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ContextRequest is the body of POST /v1/context.
type ContextRequest struct {
	// Project or Projects name the projects packed; empty is every project
	// the caller may see.
	Project  string   `json:"project,omitempty"`
	Projects []string `json:"projects,omitempty"`
	// Prompt switches to relevance mode: memories matching it first.
	Prompt string `json:"prompt,omitempty"`
	// MaxTokens is the budget (0: none).
	MaxTokens       int      `json:"max_tokens,omitempty"`
	MaxObservations int      `json:"max_observations,omitempty"`
	MaxSummaries    int      `json:"max_summaries,omitempty"`
	PlatformSource  string   `json:"platform_source,omitempty"`
	Types           []string `json:"types,omitempty"`
	Concepts        []string `json:"concepts,omitempty"`
}

// ContextPack is the answer to POST /v1/context: text to hand to an agent.
type ContextPack struct {
	Text           string  `json:"text"`
	Tokens         int     `json:"tokens"`
	Mode           string  `json:"mode"`
	ObservationIDs []int64 `json:"observation_ids"`
	SummaryIDs     []int64 `json:"summary_ids"`
	Truncated      bool    `json:"truncated"`
	Empty          bool    `json:"empty"`
}

// Context is POST /v1/context: a context pack of current memories within a
// token budget.
func (c *Client) Context(ctx context.Context, req ContextRequest) (*ContextPack, error) {
	var out ContextPack
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/context", body: req}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ForgetRequest is the body of POST /v1/forget: set exactly one of IDs
// (each memory is forgotten with its whole history), Project or ProjectID
// (a whole project: sessions, prompts, events, memories, summaries), or
// Filter.
type ForgetRequest struct {
	IDs       []int64       `json:"ids,omitempty"`
	Project   string        `json:"project,omitempty"`
	ProjectID int64         `json:"project_id,omitempty"`
	Filter    *ForgetFilter `json:"filter,omitempty"`
}

// ForgetFilter selects current memories to forget, with their history: a
// query (a memory must have every term) and/or filters, at least one.
type ForgetFilter struct {
	Query string `json:"query,omitempty"`
	Filters
}

// ForgetResponse says what was removed.
type ForgetResponse struct {
	Observations   int64   `json:"observations"`
	Summaries      int64   `json:"summaries"`
	Prompts        int64   `json:"prompts"`
	Events         int64   `json:"events"`
	Sessions       int64   `json:"sessions"`
	ObservationIDs []int64 `json:"observation_ids"`
	// More says a filter matched more than one request forgets; send it
	// again.
	More bool `json:"more,omitempty"`
}

// Forget is POST /v1/forget. Rows are deleted, from the full-text indexes
// too; it cannot be undone.
func (c *Client) Forget(ctx context.Context, req ForgetRequest) (*ForgetResponse, error) {
	var out ForgetResponse
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/forget", body: req}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
