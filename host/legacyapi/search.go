package legacyapi

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/search"
)

// firstOf is the first non-empty value of the named query parameters.
func firstOf(q url.Values, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(q.Get(n)); v != "" {
			return v
		}
	}
	return ""
}

// searchRequest reads claude-mem's /api/search parameters (behaviour §2.2).
// It answers a bad parameter itself.
func searchRequest(w http.ResponseWriter, r *http.Request, team string) (search.Request, bool) {
	q := r.URL.Query()
	req := search.Request{TeamID: team, Query: q.Get("query"), PlatformSource: platformFrom(r)}
	if p := q.Get("project"); p != "" {
		req.Projects = csv(p)
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "limit must be a positive integer")
			return req, false
		}
		req.Limit = min(n, search.MaxLimit)
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "offset must be a non-negative integer")
			return req, false
		}
		req.Offset = n
	}
	// type selects what is searched (observations, sessions, prompts); any
	// other value is an observation type, as in claude-mem.
	if t := q.Get("type"); t != "" {
		for _, part := range csv(t) {
			if k, ok := search.ParseKind(part); ok {
				req.Kinds = append(req.Kinds, k)
			} else {
				req.Types = append(req.Types, part)
			}
		}
	}
	req.Types = append(req.Types, csv(q.Get("obs_type"))...)
	req.Concepts = csv(firstOf(q, "concepts", "concept"))
	req.Files = csv(firstOf(q, "files", "filePath"))
	var err error
	if req.DateStart, err = parseDate(firstOf(q, "dateStart", "date_start", "date_from", "dateFrom"), false); err != nil {
		writeError(w, http.StatusBadRequest, "dateStart: "+err.Error())
		return req, false
	}
	if req.DateEnd, err = parseDate(firstOf(q, "dateEnd", "date_end", "date_to", "dateTo"), true); err != nil {
		writeError(w, http.StatusBadRequest, "dateEnd: "+err.Error())
		return req, false
	}
	order, ok := search.ParseOrder(q.Get("orderBy"))
	if !ok {
		writeError(w, http.StatusBadRequest, "orderBy must be relevance, date_desc or date_asc")
		return req, false
	}
	req.OrderBy = order
	return req, true
}

// hasFilter reports whether a search without a query has anything to go by.
func hasFilter(req search.Request) bool {
	return len(req.Projects) > 0 || req.PlatformSource != "" || len(req.Types) > 0 || len(req.Concepts) > 0 ||
		len(req.Files) > 0 || !req.DateStart.IsZero() || !req.DateEnd.IsZero() || len(req.Kinds) > 0
}

// searchReply is GET /api/search?format=json.
type searchReply struct {
	Observations []obsRow     `json:"observations"`
	Sessions     []summaryRow `json:"sessions"`
	Prompts      []promptRow  `json:"prompts"`
	TotalResults int          `json:"totalResults"`
	Query        string       `json:"query"`
}

// search is GET /api/search: JSON with format=json, else the MCP text
// index of claude-mem's search tool.
func (a *API) search(w http.ResponseWriter, r *http.Request) {
	team, ok := a.team(w, r)
	if !ok {
		return
	}
	req, ok := searchRequest(w, r, team)
	if !ok {
		return
	}
	if strings.TrimSpace(req.Query) == "" && !hasFilter(req) {
		writeError(w, http.StatusBadRequest, "Either query or filters required for search")
		return
	}
	res, err := search.Search(r.Context(), a.opts.Store.Reader(), req)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if r.URL.Query().Get("format") != "json" {
		writeJSON(w, http.StatusOK, textResult(indexText(res, req)))
		return
	}
	reply, err := a.rowsOf(r.Context(), res)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	reply.Query = req.Query
	writeJSON(w, http.StatusOK, reply)
}

// rowsOf loads the claude-mem rows of a result's hits, in hit order.
func (a *API) rowsOf(ctx context.Context, res search.Result) (searchReply, error) {
	reply := searchReply{Observations: []obsRow{}, Sessions: []summaryRow{}, Prompts: []promptRow{}}
	db := a.opts.Store.Reader()
	byKind := map[search.Kind][]string{}
	for _, h := range res.Hits {
		byKind[h.Kind] = append(byKind[h.Kind], strconv.FormatInt(h.ID, 10))
	}
	obs, err := loadByID(ctx, db, scanObs, obsSelect, "o", byKind[search.KindObservation], func(o obsRow) int64 { return o.ID })
	if err != nil {
		return reply, err
	}
	sums, err := loadByID(ctx, db, scanSummary, summarySelect, "m", byKind[search.KindSummary], func(m summaryRow) int64 { return m.ID })
	if err != nil {
		return reply, err
	}
	prompts, err := loadByID(ctx, db, scanPrompt, promptSelect, "p", byKind[search.KindPrompt], func(p promptRow) int64 { return p.ID })
	if err != nil {
		return reply, err
	}
	for _, h := range res.Hits {
		switch h.Kind {
		case search.KindObservation:
			if o, ok := obs[h.ID]; ok {
				reply.Observations = append(reply.Observations, o)
			}
		case search.KindSummary:
			if m, ok := sums[h.ID]; ok {
				reply.Sessions = append(reply.Sessions, m)
			}
		case search.KindPrompt:
			if p, ok := prompts[h.ID]; ok {
				reply.Prompts = append(reply.Prompts, p)
			}
		}
	}
	reply.TotalResults = len(reply.Observations) + len(reply.Sessions) + len(reply.Prompts)
	return reply, nil
}

// loadByID loads rows by id (the ids come from a team-scoped search).
func loadByID[T any](ctx context.Context, q memory.Querier, scan func(*sql.Rows) (T, error), sel, alias string, ids []string, id func(T) int64) (map[int64]T, error) {
	out := map[int64]T{}
	if len(ids) == 0 {
		return out, nil
	}
	var f filter
	f.in(alias+".id", ids)
	list, err := query(ctx, q, scan, sel+f.sql(), f.args...)
	if err != nil {
		return nil, err
	}
	for _, v := range list {
		out[id(v)] = v
	}
	return out, nil
}

// semanticBody is POST /api/context/semantic.
type semanticBody struct {
	Q               string `json:"q"`
	Project         string `json:"project"`
	Limit           any    `json:"limit"`
	PlatformSource  string `json:"platformSource"`
	PlatformSource2 string `json:"platform_source"`
}

// semanticReply is the answer of POST /api/context/semantic.
type semanticReply struct {
	Context string `json:"context"`
	Count   int    `json:"count"`
}

// minSemanticQuery is claude-mem's: shorter prompts get no semantic context.
const minSemanticQuery = 20

// contextSemantic is POST /api/context/semantic: the observations most
// relevant to a prompt, as markdown for UserPromptSubmit.
func (a *API) contextSemantic(w http.ResponseWriter, r *http.Request) {
	team, ok := a.team(w, r)
	if !ok {
		return
	}
	var body semanticBody
	if !decodeBody(w, r, &body) {
		return
	}
	q := r.URL.Query()
	text := body.Q
	if text == "" {
		text = q.Get("q")
	}
	proj := body.Project
	if proj == "" {
		proj = q.Get("project")
	}
	limit := 5
	switch v := body.Limit.(type) {
	case float64:
		limit = int(v)
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			limit = n
		}
	case nil:
		if n, err := strconv.Atoi(q.Get("limit")); err == nil {
			limit = n
		}
	}
	if limit < 1 {
		limit = 5
	}
	limit = min(limit, 20)
	if len([]rune(text)) < minSemanticQuery {
		writeJSON(w, http.StatusOK, semanticReply{})
		return
	}
	req := search.Request{TeamID: team, Query: text, Kinds: []search.Kind{search.KindObservation}, Limit: limit,
		PlatformSource: platformFrom(r, body.PlatformSource, body.PlatformSource2)}
	if proj != "" {
		req.Projects = []string{proj}
	}
	res, err := search.Search(r.Context(), a.opts.Store.Reader(), req)
	if err != nil {
		a.log.Warn("semantic context failed; answering without it", "error", err)
		writeJSON(w, http.StatusOK, semanticReply{})
		return
	}
	obs := res.Observations()
	if len(obs) == 0 {
		writeJSON(w, http.StatusOK, semanticReply{})
		return
	}
	lines := []string{"## Relevant Past Work (semantic match)\n"}
	for _, o := range obs {
		title := o.Title
		if title == "" {
			title = "Observation"
		}
		lines = append(lines, "### "+title+" ("+o.CreatedAt.UTC().Format("2006-01-02")+")")
		if o.Narrative != "" {
			lines = append(lines, o.Narrative)
		}
		lines = append(lines, "")
	}
	writeJSON(w, http.StatusOK, semanticReply{Context: strings.Join(lines, "\n"), Count: len(obs)})
}

// indexText is the MCP text of a search: claude-mem's index table.
func indexText(res search.Result, _ search.Request) string {
	return res.Text(search.TextOptions{})
}

// timeline is GET /api/timeline: the rows around an anchor (an observation
// id, S<summary id>, or a time) or around the best match of a query, as
// claude-mem's timeline tool returns them.
func (a *API) timeline(w http.ResponseWriter, r *http.Request) {
	team, ok := a.team(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	req := search.TimelineRequest{TeamID: team, Anchor: strings.TrimSpace(q.Get("anchor")), Query: strings.TrimSpace(q.Get("query")),
		DepthBefore: search.DefaultDepth, DepthAfter: search.DefaultDepth, Projects: csv(q.Get("project")), PlatformSource: platformFrom(r)}
	switch {
	case req.Anchor == "" && req.Query == "":
		writeError(w, http.StatusBadRequest, "Either anchor or query is required")
		return
	case req.Anchor != "" && req.Query != "":
		writeError(w, http.StatusBadRequest, "Give anchor or query, not both")
		return
	}
	for name, dst := range map[string]*int{"depth_before": &req.DepthBefore, "depth_after": &req.DepthAfter} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, name+" must be a non-negative integer")
				return
			}
			*dst = min(n, search.MaxDepth)
		}
	}
	tl, err := search.GetTimeline(r.Context(), a.opts.Store.Reader(), req)
	switch {
	case errors.Is(err, search.ErrBadAnchor):
		writeError(w, http.StatusBadRequest, "anchor must be an observation id (123), a summary id (S123) or an ISO time")
		return
	case errors.Is(err, search.ErrAnchorNotFound):
		msg := "Timeline: anchor " + req.Anchor + " not found"
		if req.Anchor == "" {
			msg = "Timeline: no observation matches " + strconv.Quote(req.Query)
		}
		res := textResult(msg)
		res.IsError = true
		writeJSON(w, http.StatusOK, res)
		return
	case err != nil:
		a.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, textResult(tl.Text(search.TextOptions{})))
}
