package mcpserver

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/restapi"
	"github.com/claude-mem/claude-mem-server/host/search"
)

// TypeDecision is the observation type of memory_record_decision.
const TypeDecision = "decision"

// Tool names, in the order they are listed.
var ToolNames = []string{"memory_add", "memory_search", "memory_context", "memory_forget", "memory_list_recent",
	"memory_record_decision", "search", "timeline", "get_observations"}

// MemoryAddInput is the input of memory_add and memory_record_decision.
type MemoryAddInput struct {
	Project  string   `json:"project" jsonschema:"the project the memory belongs to"`
	Text     string   `json:"text" jsonschema:"the memory's text"`
	Title    string   `json:"title,omitempty" jsonschema:"a short title; default: the text's first line"`
	Concepts []string `json:"concepts,omitempty" jsonschema:"concept tags"`
	Facts    []string `json:"facts,omitempty" jsonschema:"facts, one sentence each"`
}

// MemorySearchInput is the input of memory_search.
type MemorySearchInput struct {
	Query   string   `json:"query" jsonschema:"full-text query"`
	Project string   `json:"project,omitempty" jsonschema:"only this project"`
	Types   []string `json:"types,omitempty" jsonschema:"only observations of these types"`
	OrderBy string   `json:"order_by,omitempty" jsonschema:"relevance (default), date_desc or date_asc"`
	Limit   int      `json:"limit,omitempty" jsonschema:"at most this many hits (default 20)"`
}

// MemoryContextInput is the input of memory_context.
type MemoryContextInput struct {
	Project   string `json:"project,omitempty" jsonschema:"the project packed; default: every project the key may see"`
	Prompt    string `json:"prompt,omitempty" jsonschema:"rank memories by relevance to this prompt"`
	MaxTokens int    `json:"max_tokens,omitempty" jsonschema:"token budget of the pack (0: none)"`
}

// MemoryForgetInput is the input of memory_forget.
type MemoryForgetInput struct {
	IDs []int64 `json:"ids" jsonschema:"ids of the memories (observations) to forget"`
}

// MemoryListRecentInput is the input of memory_list_recent.
type MemoryListRecentInput struct {
	Project string `json:"project,omitempty" jsonschema:"only this project"`
	Limit   int    `json:"limit,omitempty" jsonschema:"at most this many memories (default 20)"`
}

// SearchInput is claude-mem's search tool input (behaviour §6.3).
type SearchInput struct {
	Query          string `json:"query,omitempty" jsonschema:"full-text query"`
	Limit          int    `json:"limit,omitempty" jsonschema:"at most this many results (default 20)"`
	Project        string `json:"project,omitempty" jsonschema:"only this project"`
	PlatformSource string `json:"platformSource,omitempty" jsonschema:"only this platform (claude, codex, ...)"`
	Type           string `json:"type,omitempty" jsonschema:"observations, sessions or prompts"`
	ObsType        string `json:"obs_type,omitempty" jsonschema:"observation types, comma separated"`
	DateStart      string `json:"dateStart,omitempty" jsonschema:"from this date (YYYY-MM-DD, RFC 3339 or epoch ms)"`
	DateEnd        string `json:"dateEnd,omitempty" jsonschema:"until this date (YYYY-MM-DD, RFC 3339 or epoch ms)"`
	Offset         int    `json:"offset,omitempty" jsonschema:"skip this many results"`
	OrderBy        string `json:"orderBy,omitempty" jsonschema:"relevance, date_desc or date_asc"`
}

// TimelineInput is claude-mem's timeline tool input.
type TimelineInput struct {
	Anchor      int64  `json:"anchor,omitempty" jsonschema:"observation id to centre on"`
	Query       string `json:"query,omitempty" jsonschema:"find the anchor by this query instead"`
	DepthBefore *int   `json:"depth_before,omitempty" jsonschema:"rows before the anchor (default 10)"`
	DepthAfter  *int   `json:"depth_after,omitempty" jsonschema:"rows after the anchor (default 10)"`
	Project     string `json:"project,omitempty" jsonschema:"only this project"`
}

// GetObservationsInput is claude-mem's get_observations tool input.
type GetObservationsInput struct {
	IDs     []int64 `json:"ids" jsonschema:"observation ids"`
	OrderBy string  `json:"orderBy,omitempty" jsonschema:"date_desc or date_asc (default: as asked)"`
	Limit   int     `json:"limit,omitempty" jsonschema:"at most this many"`
	Project string  `json:"project,omitempty" jsonschema:"only this project"`
}

func (t *tools) register(s *mcp.Server) {
	mcp.AddTool(s, &mcp.Tool{Name: "memory_add", Description: "Save a memory (a manual observation) in a project."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in MemoryAddInput) (*mcp.CallToolResult, any, error) {
			return t.add(ctx, in, ""), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "memory_search", Description: "Full-text search of the memories the key may see."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in MemorySearchInput) (*mcp.CallToolResult, any, error) {
			return t.memorySearch(ctx, in), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "memory_context", Description: "A context pack (markdown) of current memories."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in MemoryContextInput) (*mcp.CallToolResult, any, error) {
			var out restapi.ContextResponse
			if e := t.rest(ctx, http.MethodPost, "/v1/context", restapi.ContextRequest{Project: in.Project, Prompt: in.Prompt, MaxTokens: in.MaxTokens}, &out); e != nil {
				return e, nil, nil
			}
			return textResult(out.Text), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "memory_forget", Description: "Forget memories by id: removes them from the store and the search index."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in MemoryForgetInput) (*mcp.CallToolResult, any, error) {
			if e := canWrite(ctx); e != nil {
				return e, nil, nil
			}
			if len(in.IDs) == 0 {
				return errResult("ids is required"), nil, nil
			}
			var out restapi.ForgetResponse
			if e := t.rest(ctx, http.MethodPost, "/v1/forget", restapi.ForgetRequest{IDs: in.IDs}, &out); e != nil {
				return e, nil, nil
			}
			return jsonResult(out), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "memory_list_recent", Description: "The most recent memories, newest first."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in MemoryListRecentInput) (*mcp.CallToolResult, any, error) {
			return t.memorySearch(ctx, MemorySearchInput{Project: in.Project, Limit: in.Limit, OrderBy: "date_desc"}), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "memory_record_decision", Description: "Record a decision (a memory of type \"decision\") in a project."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in MemoryAddInput) (*mcp.CallToolResult, any, error) {
			return t.add(ctx, in, TypeDecision), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "search", Description: "Step 1 of claude-mem's workflow: search memory, returning a compact index with ids."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in SearchInput) (*mcp.CallToolResult, any, error) {
			return t.search(ctx, in), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "timeline", Description: "Step 2: the rows around an anchor observation (or a query's best match)."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in TimelineInput) (*mcp.CallToolResult, any, error) {
			return t.timeline(ctx, in), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "get_observations", Description: "Step 3: full observations by id, as JSON."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in GetObservationsInput) (*mcp.CallToolResult, any, error) {
			return t.getObservations(ctx, in), nil, nil
		})
}

func (t *tools) add(ctx context.Context, in MemoryAddInput, typ string) *mcp.CallToolResult {
	if e := canWrite(ctx); e != nil {
		return e
	}
	if typ != "" {
		ctx = restapi.WithMemoryType(ctx, typ)
	}
	var out restapi.MemoryResponse
	if e := t.rest(ctx, http.MethodPost, "/v1/memories", restapi.MemoryRequest{Project: in.Project, Text: in.Text, Title: in.Title,
		Concepts: in.Concepts, Facts: in.Facts}, &out); e != nil {
		return e
	}
	return jsonResult(out.Memory)
}

func (t *tools) memorySearch(ctx context.Context, in MemorySearchInput) *mcp.CallToolResult {
	req := restapi.SearchRequest{Query: in.Query, OrderBy: in.OrderBy, Limit: in.Limit, Kinds: []string{"observation"}}
	req.Types = in.Types
	if in.Project != "" {
		req.Projects = []string{in.Project}
	}
	var out restapi.SearchResponse
	if e := t.rest(ctx, http.MethodPost, "/v1/search", req, &out); e != nil {
		return e
	}
	return jsonResult(out.Observations())
}

// scope is the caller's team and the search narrowed to its bound project.
func scope(ctx context.Context) (string, []int64, *mcp.CallToolResult) {
	p, err := principal(ctx)
	if err != nil {
		return "", nil, errResult("%v", err)
	}
	return p.TeamID, access.ProjectFilter(ctx), nil
}

func (t *tools) search(ctx context.Context, in SearchInput) *mcp.CallToolResult {
	tm, bound, e := scope(ctx)
	if e != nil {
		return e
	}
	req := search.Request{TeamID: tm, Query: in.Query, ProjectIDs: bound, PlatformSource: in.PlatformSource, Limit: in.Limit, Offset: in.Offset}
	if in.Project != "" {
		req.Projects = []string{in.Project}
	}
	for _, typ := range strings.Split(in.ObsType, ",") {
		if typ = strings.TrimSpace(typ); typ != "" {
			req.Types = append(req.Types, typ)
		}
	}
	switch strings.TrimSpace(in.Type) {
	case "":
	case "observations", "observation":
		req.Kinds = []search.Kind{search.KindObservation}
	case "sessions", "session", "summaries", "summary":
		req.Kinds = []search.Kind{search.KindSummary}
	case "prompts", "prompt":
		req.Kinds = []search.Kind{search.KindPrompt}
	default:
		return errResult("type=%q must be observations, sessions or prompts", in.Type)
	}
	order, ok := search.ParseOrder(in.OrderBy)
	if !ok {
		return errResult("orderBy=%q must be relevance, date_desc or date_asc", in.OrderBy)
	}
	req.OrderBy = order
	if in.Limit < 0 || in.Limit > search.MaxLimit || in.Offset < 0 || in.Offset > search.MaxOffset {
		return errResult("limit must be 0 to %d and offset 0 to %d", search.MaxLimit, search.MaxOffset)
	}
	var err error
	if req.DateStart, err = parseDate(in.DateStart, "dateStart"); err != nil {
		return errResult("%v", err)
	}
	if req.DateEnd, err = parseDate(in.DateEnd, "dateEnd"); err != nil {
		return errResult("%v", err)
	}
	res, err := search.Search(ctx, t.opts.Store.Reader(), req)
	if err != nil {
		return errResult("search failed: %v", err)
	}
	annotateHits(ctx, res.Hits)
	return textResult(res.Text(search.TextOptions{}))
}

// allowedHit reports whether the caller may see the hit's project.
func allowedHit(ctx context.Context, h search.Hit) bool {
	switch {
	case h.Observation != nil:
		return access.ProjectAllowed(ctx, h.Observation.ProjectID)
	case h.Summary != nil:
		return access.ProjectAllowed(ctx, h.Summary.ProjectID)
	}
	// A prompt carries no project id: only keys bound to no project see it.
	_, bound := access.BoundProject(ctx)
	return !bound
}

func annotateHits(ctx context.Context, hits []search.Hit) {
	ids := make([]string, 0, len(hits))
	for _, h := range hits {
		switch h.Kind {
		case search.KindObservation:
			ids = append(ids, audit.MemoryID(audit.KindObservation, h.ID))
		case search.KindSummary:
			ids = append(ids, audit.MemoryID(audit.KindSummary, h.ID))
		case search.KindPrompt:
			ids = append(ids, audit.MemoryID(audit.KindPrompt, h.ID))
		}
	}
	audit.Annotate(ctx, audit.Memories(ids...))
}

func (t *tools) timeline(ctx context.Context, in TimelineInput) *mcp.CallToolResult {
	tm, _, e := scope(ctx)
	if e != nil {
		return e
	}
	if in.Anchor <= 0 && strings.TrimSpace(in.Query) == "" {
		return errResult("give an anchor (observation id) or a query")
	}
	req := search.TimelineRequest{TeamID: tm, Query: in.Query, DepthBefore: search.DefaultDepth, DepthAfter: search.DefaultDepth}
	if in.Anchor > 0 {
		req.Anchor = fmt.Sprint(in.Anchor)
		// The anchor must be one the caller may see.
		obs, err := search.GetObservations(ctx, t.opts.Store.Reader(), tm, []int64{in.Anchor})
		if err != nil {
			return errResult("timeline failed: %v", err)
		}
		if len(obs) == 0 || !access.ProjectAllowed(ctx, obs[0].ProjectID) {
			return errResult("no observation %d", in.Anchor)
		}
	}
	if in.DepthBefore != nil {
		req.DepthBefore = *in.DepthBefore
	}
	if in.DepthAfter != nil {
		req.DepthAfter = *in.DepthAfter
	}
	if req.DepthBefore < 0 || req.DepthBefore > search.MaxDepth || req.DepthAfter < 0 || req.DepthAfter > search.MaxDepth {
		return errResult("depth_before and depth_after must be 0 to %d", search.MaxDepth)
	}
	if in.Project != "" {
		req.Projects = []string{in.Project}
	}
	tl, err := search.GetTimeline(ctx, t.opts.Store.Reader(), req)
	if err != nil {
		return errResult("timeline failed: %v", err)
	}
	tl.Items = slices.DeleteFunc(tl.Items, func(h search.Hit) bool { return !allowedHit(ctx, h) })
	annotateHits(ctx, tl.Items)
	return textResult(tl.Text(search.TextOptions{}))
}

func (t *tools) getObservations(ctx context.Context, in GetObservationsInput) *mcp.CallToolResult {
	tm, _, e := scope(ctx)
	if e != nil {
		return e
	}
	if len(in.IDs) == 0 {
		return errResult("ids is required: observation ids")
	}
	if len(in.IDs) > search.MaxGetIDs {
		return errResult("at most %d ids", search.MaxGetIDs)
	}
	obs, err := search.GetObservations(ctx, t.opts.Store.Reader(), tm, in.IDs)
	if err != nil {
		return errResult("get_observations failed: %v", err)
	}
	out := obs[:0]
	for _, o := range obs {
		if access.ProjectAllowed(ctx, o.ProjectID) && (in.Project == "" || o.Project == in.Project) {
			out = append(out, o)
		}
	}
	switch in.OrderBy {
	case "", "relevance":
	case "date_desc":
		slices.SortStableFunc(out, func(a, b memoryObs) int { return b.CreatedAt.Compare(a.CreatedAt) })
	case "date_asc":
		slices.SortStableFunc(out, func(a, b memoryObs) int { return a.CreatedAt.Compare(b.CreatedAt) })
	default:
		return errResult("orderBy=%q must be date_desc or date_asc", in.OrderBy)
	}
	if in.Limit > 0 && len(out) > in.Limit {
		out = out[:in.Limit]
	}
	ids := make([]string, 0, len(out))
	for _, o := range out {
		ids = append(ids, audit.MemoryID(audit.KindObservation, o.ID))
	}
	audit.Annotate(ctx, audit.Memories(ids...))
	return jsonResult(out)
}

type memoryObs = memory.Observation
