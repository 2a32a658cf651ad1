package restapi

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/contextpack"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/search"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Filters are the filters of a search (and of a forget by filter): those
// of search.Request.
type Filters struct {
	// Projects are project names; ProjectIDs project ids.
	Projects       []string `json:"projects,omitempty"`
	ProjectIDs     []int64  `json:"project_ids,omitempty"`
	PlatformSource string   `json:"platform_source,omitempty"`
	Types          []string `json:"types,omitempty"`
	Concepts       []string `json:"concepts,omitempty"`
	Files          []string `json:"files,omitempty"`
	// DateStart and DateEnd are RFC 3339 times, both inclusive.
	DateStart string `json:"date_start,omitempty"`
	DateEnd   string `json:"date_end,omitempty"`
}

// SearchRequest is the body of POST /v1/search.
type SearchRequest struct {
	Query string `json:"query"`
	Filters
	// Kinds are "observation", "summary", "prompt"; empty is all.
	Kinds []string `json:"kinds,omitempty"`
	// OrderBy is "relevance", "date_desc" or "date_asc".
	OrderBy string `json:"order_by,omitempty"`
	Limit   int    `json:"limit,omitempty"`
	Offset  int    `json:"offset,omitempty"`
}

// SearchResponse is the answer to POST /v1/search: search.Result.
type SearchResponse = search.Result

// errBadFilter is a filter the client must fix; its text says how.
type errBadFilter struct{ msg string }

func (e errBadFilter) Error() string { return e.msg }

// toSearch builds the team's search.Request from filters, narrowed to the
// bound project of the caller's key. none says that the filters name only
// projects the caller cannot see: nothing can match.
func toSearch(r *http.Request, tm string, f Filters) (req search.Request, none bool, err error) {
	req = search.Request{TeamID: tm, Projects: f.Projects, ProjectIDs: f.ProjectIDs, PlatformSource: f.PlatformSource,
		Types: f.Types, Concepts: f.Concepts, Files: f.Files}
	if req.DateStart, err = parseTime(f.DateStart, "date_start"); err != nil {
		return req, false, errBadFilter{err.Error()}
	}
	if req.DateEnd, err = parseTime(f.DateEnd, "date_end"); err != nil {
		return req, false, errBadFilter{err.Error()}
	}
	for _, id := range f.ProjectIDs {
		if id <= 0 {
			return req, false, errBadFilter{"project_ids must be positive integers"}
		}
	}
	if bound := access.ProjectFilter(r.Context()); bound != nil {
		if len(f.ProjectIDs) > 0 && !slices.Contains(f.ProjectIDs, bound[0]) {
			return req, true, nil
		}
		req.ProjectIDs = bound
	}
	return req, false, nil
}

// search is POST /v1/search.
func (a *API) search(w http.ResponseWriter, r *http.Request) {
	tm, ok := team(w, r)
	if !ok {
		return
	}
	var body SearchRequest
	if !httpapi.DecodeJSON(w, r, &body) {
		return
	}
	req, none, err := toSearch(r, tm, body.Filters)
	if err != nil {
		invalid(w, r, "%v", err)
		return
	}
	req.Query = body.Query
	for _, k := range body.Kinds {
		kind, ok := search.ParseKind(k)
		if !ok {
			invalid(w, r, "kinds: %q is not observation, summary or prompt", k)
			return
		}
		req.Kinds = append(req.Kinds, kind)
	}
	order, ok := search.ParseOrder(body.OrderBy)
	if !ok {
		invalid(w, r, "order_by=%q must be relevance, date_desc or date_asc", body.OrderBy)
		return
	}
	req.OrderBy = order
	if body.Limit < 0 || body.Limit > search.MaxLimit {
		invalid(w, r, "limit must be 0 (default %d) to %d", search.DefaultLimit, search.MaxLimit)
		return
	}
	if body.Offset < 0 || body.Offset > search.MaxOffset {
		invalid(w, r, "offset must be 0 to %d", search.MaxOffset)
		return
	}
	req.Limit, req.Offset = body.Limit, body.Offset
	if none {
		httpapi.WriteJSON(w, http.StatusOK, search.Result{Query: body.Query, Match: search.MatchNone, Hits: []search.Hit{}})
		return
	}
	res, err := search.Search(r.Context(), a.opts.Store.Reader(), req)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if res.Hits == nil {
		res.Hits = []search.Hit{}
	}
	recalled := make([]string, 0, len(res.Hits))
	for _, h := range res.Hits {
		switch h.Kind {
		case search.KindObservation:
			recalled = append(recalled, audit.MemoryID(audit.KindObservation, h.ID))
		case search.KindSummary:
			recalled = append(recalled, audit.MemoryID(audit.KindSummary, h.ID))
		case search.KindPrompt:
			recalled = append(recalled, audit.MemoryID(audit.KindPrompt, h.ID))
		}
	}
	audit.Annotate(r.Context(), audit.Memories(recalled...))
	httpapi.WriteJSON(w, http.StatusOK, res)
}

// ContextRequest is the body of POST /v1/context.
type ContextRequest struct {
	// Project or Projects name the projects packed; empty is every project
	// the caller may see.
	Project  string   `json:"project,omitempty"`
	Projects []string `json:"projects,omitempty"`
	// Prompt switches to relevance mode.
	Prompt          string   `json:"prompt,omitempty"`
	MaxTokens       int      `json:"max_tokens,omitempty"`
	MaxObservations int      `json:"max_observations,omitempty"`
	MaxSummaries    int      `json:"max_summaries,omitempty"`
	PlatformSource  string   `json:"platform_source,omitempty"`
	Types           []string `json:"types,omitempty"`
	Concepts        []string `json:"concepts,omitempty"`
}

// ContextResponse is the answer to POST /v1/context.
type ContextResponse struct {
	Text           string  `json:"text"`
	Tokens         int     `json:"tokens"`
	Mode           string  `json:"mode"`
	ObservationIDs []int64 `json:"observation_ids"`
	SummaryIDs     []int64 `json:"summary_ids"`
	Truncated      bool    `json:"truncated"`
	Empty          bool    `json:"empty"`
}

// MaxContextTokens bounds max_tokens.
const MaxContextTokens = 200_000

// context is POST /v1/context: a context pack of current memories.
func (a *API) context(w http.ResponseWriter, r *http.Request) {
	tm, ok := team(w, r)
	if !ok {
		return
	}
	var body ContextRequest
	if !httpapi.DecodeJSON(w, r, &body) {
		return
	}
	if body.MaxTokens < 0 || body.MaxTokens > MaxContextTokens {
		invalid(w, r, "max_tokens must be 0 (no budget) to %d", MaxContextTokens)
		return
	}
	if body.MaxObservations < 0 || body.MaxObservations > contextpack.MaxItems || body.MaxSummaries < 0 || body.MaxSummaries > contextpack.MaxItems {
		invalid(w, r, "max_observations and max_summaries must be 0 (default) to %d", contextpack.MaxItems)
		return
	}
	var projects []string
	for _, p := range append([]string{body.Project}, body.Projects...) {
		if p = strings.TrimSpace(p); p != "" {
			projects = append(projects, p)
		}
	}
	if id, bound := access.BoundProject(r.Context()); bound {
		p, err := projectByID(r.Context(), a.opts.Store.Reader(), tm, id)
		if errors.Is(err, memory.ErrNotFound) {
			notFound(w, r, "the project of this key does not exist")
			return
		}
		if err != nil {
			a.internal(w, r, err)
			return
		}
		for _, name := range projects {
			if name != p.Name {
				notFound(w, r, "no project %q", name)
				return
			}
		}
		projects = []string{p.Name}
	}
	pack, err := contextpack.Build(r.Context(), a.opts.Store.Reader(), contextpack.Request{
		TeamID: tm, Projects: projects, Prompt: body.Prompt, MaxTokens: body.MaxTokens, MaxObservations: body.MaxObservations,
		MaxSummaries: body.MaxSummaries, PlatformSource: body.PlatformSource, Types: body.Types, Concepts: body.Concepts,
		Location: time.UTC,
	})
	if err != nil {
		a.internal(w, r, err)
		return
	}
	out := ContextResponse{Text: pack.Text, Tokens: pack.Tokens, Mode: pack.Mode, ObservationIDs: pack.Observations,
		SummaryIDs: pack.Summaries, Truncated: pack.Truncated, Empty: pack.Empty}
	if out.ObservationIDs == nil {
		out.ObservationIDs = []int64{}
	}
	if out.SummaryIDs == nil {
		out.SummaryIDs = []int64{}
	}
	recalled := make([]string, 0, len(out.ObservationIDs)+len(out.SummaryIDs))
	for _, id := range out.ObservationIDs {
		recalled = append(recalled, audit.MemoryID(audit.KindObservation, id))
	}
	for _, id := range out.SummaryIDs {
		recalled = append(recalled, audit.MemoryID(audit.KindSummary, id))
	}
	audit.Annotate(r.Context(), audit.Memories(recalled...))
	httpapi.WriteJSON(w, http.StatusOK, out)
}
