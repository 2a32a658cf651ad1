package legacyapi

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/memory"
)

// healthReply is GET /api/health. It has no "version" on purpose: see the
// package doc.
type healthReply struct {
	Status      string `json:"status"`
	Runtime     string `json:"runtime,omitempty"`
	PID         int    `json:"pid"`
	Platform    string `json:"platform"`
	Uptime      int64  `json:"uptime"`
	Initialized bool   `json:"initialized"`
	MCPReady    bool   `json:"mcpReady"`
}

// health is GET /api/health: always 200 while the server serves, so that
// the hooks never try to replace it; a degraded queue shows in status.
func (a *API) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, healthReply{
		Status: a.opts.Status(r.Context()), Runtime: a.opts.Runtime, PID: os.Getpid(), Platform: nodePlatform(),
		Uptime: a.uptime(), Initialized: true, MCPReady: true,
	})
}

// uptime is in seconds, as claude-mem reports it.
func (a *API) uptime() int64 { return int64(a.opts.Now().Sub(a.opts.StartedAt).Seconds()) }

// nodePlatform is Node's process.platform for this OS.
func nodePlatform() string {
	if runtime.GOOS == "windows" {
		return "win32"
	}
	return runtime.GOOS
}

// readiness is GET /api/readiness: the server serves only once it is
// initialized.
func (a *API) readiness(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "mcpReady": true})
}

// version is GET /api/version.
func (a *API) version(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"version": a.opts.Version})
}

// rootHealth is GET /health.
func (a *API) rootHealth(w http.ResponseWriter, r *http.Request) {
	var active int64
	_ = a.opts.Store.Reader().QueryRowContext(r.Context(), `SELECT COUNT(*) FROM sdk_sessions WHERE status = 'active'`).Scan(&active)
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "timestamp": a.opts.Now().UnixMilli(), "activeSessions": active})
}

// contextInject is GET /api/context/inject: the SessionStart context, as
// text/plain (a JSON body would be discarded by the hooks).
func (a *API) contextInject(w http.ResponseWriter, r *http.Request) {
	team, ok := a.team(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	projects := csv(q.Get("projects"))
	if len(projects) == 0 {
		projects = csv(q.Get("project"))
	}
	text := ""
	if a.opts.Context != nil {
		var err error
		text, err = a.opts.Context(r.Context(), ContextRequest{
			TeamID: team, Projects: projects, PlatformSource: platformFrom(r),
			Full: q.Get("full") == "true", Colors: q.Get("colors") == "true",
		})
		if err != nil {
			// The hook shows nothing rather than an error as context.
			a.log.Warn("context inject failed; answering without context", "projects", projects, "error", err)
			text = ""
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(text))
}

// observationsByFile is GET /api/observations/by-file: the observations
// that read or modified a file, newest first.
func (a *API) observationsByFile(w http.ResponseWriter, r *http.Request) {
	team, ok := a.team(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	var paths []string
	for _, p := range q["path"] {
		if p != "" && !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		writeError(w, http.StatusBadRequest, "path query parameter is required")
		return
	}
	limit := 15
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		limit = min(n, 100)
	}
	var f filter
	f.add("o.team_id = ?", team)
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(paths)), ", ")
	args := make([]any, 0, 2*len(paths))
	for range 2 {
		for _, p := range paths {
			args = append(args, p)
		}
	}
	f.add(`(EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(o.files_read) THEN o.files_read ELSE '[]' END) WHERE value IN (`+ph+`))
		OR EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(o.files_modified) THEN o.files_modified ELSE '[]' END) WHERE value IN (`+ph+`)))`, args...)
	f.projectIn("o", csv(q.Get("projects")))
	if p := platformFrom(r); p != "" {
		f.add("s.platform_source = ?", p)
	}
	rows, err := query(r.Context(), a.opts.Store.Reader(), scanObs, obsSelect+f.sql()+` ORDER BY o.created_at_epoch DESC, o.id DESC LIMIT ?`, append(f.args, limit)...)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"observations": rows, "count": len(rows)})
}

// batchBody is POST /api/observations/batch. ids may be an array, a JSON
// array in a string, or a comma list.
type batchBody struct {
	IDs             json.RawMessage `json:"ids"`
	OrderBy         string          `json:"orderBy"`
	Limit           *int            `json:"limit"`
	Project         string          `json:"project"`
	PlatformSource  string          `json:"platformSource"`
	PlatformSource2 string          `json:"platform_source"`
}

// parseIDs reads ids as claude-mem's integerArrayLike does.
func parseIDs(raw json.RawMessage) ([]int64, bool) {
	var ids []int64
	if err := json.Unmarshal(raw, &ids); err == nil {
		return ids, true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, false
	}
	if err := json.Unmarshal([]byte(s), &ids); err == nil {
		return ids, true
	}
	ids = nil
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
		if err != nil {
			return nil, false
		}
		ids = append(ids, n)
	}
	return ids, true
}

// observationsBatch is POST /api/observations/batch: full observation rows
// by id (the MCP tool get_observations).
func (a *API) observationsBatch(w http.ResponseWriter, r *http.Request) {
	team, ok := a.team(w, r)
	if !ok {
		return
	}
	var body batchBody
	if !decodeBody(w, r, &body) {
		return
	}
	if len(body.IDs) == 0 {
		writeValidation(w, required("ids"))
		return
	}
	ids, ok := parseIDs(body.IDs)
	if !ok {
		writeValidation(w, issue{Path: []string{"ids"}, Message: "ids must be an array of integers", Code: "invalid_type"})
		return
	}
	order := "DESC"
	switch body.OrderBy {
	case "", "date_desc":
	case "date_asc":
		order = "ASC"
	default:
		writeValidation(w, issue{Path: []string{"orderBy"}, Message: "orderBy must be date_desc or date_asc", Code: "invalid_enum_value"})
		return
	}
	if body.Limit != nil && *body.Limit <= 0 {
		writeValidation(w, issue{Path: []string{"limit"}, Message: "limit must be a positive integer", Code: "too_small"})
		return
	}
	if len(ids) == 0 {
		writeJSON(w, http.StatusOK, []obsRow{})
		return
	}
	if len(ids) > 1000 {
		ids = ids[:1000]
	}
	var f filter
	f.add("o.team_id = ?", team)
	strIDs := make([]string, len(ids))
	for i, id := range ids {
		strIDs[i] = strconv.FormatInt(id, 10)
	}
	f.in("o.id", strIDs)
	if body.Project != "" {
		f.projectIn("o", []string{body.Project})
	}
	if p := platformFrom(r, body.PlatformSource, body.PlatformSource2); p != "" {
		f.add("s.platform_source = ?", p)
	}
	sqlText := obsSelect + f.sql() + " ORDER BY o.created_at_epoch " + order + ", o.id " + order
	args := f.args
	if body.Limit != nil {
		sqlText += " LIMIT ?"
		args = append(args, *body.Limit)
	}
	rows, err := query(r.Context(), a.opts.Store.Reader(), scanObs, sqlText, args...)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rows)
}

// projectsReply is GET /api/projects.
type projectsReply struct {
	Projects         []string            `json:"projects"`
	Sources          []string            `json:"sources"`
	ProjectsBySource map[string][]string `json:"projectsBySource"`
}

// projects is GET /api/projects: the projects with sessions, most recently
// active first, and per platform source. With platformSource, that
// source's projects by name.
func (a *API) projects(w http.ResponseWriter, r *http.Request) {
	team, ok := a.team(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	if p := platformFrom(r); p != "" {
		rows, err := a.opts.Store.Reader().QueryContext(ctx, `SELECT DISTINCT project FROM sdk_sessions
			WHERE team_id = ? AND project != '' AND COALESCE(NULLIF(platform_source, ''), 'claude') = ? ORDER BY project`, team, p)
		if err != nil {
			a.internal(w, r, err)
			return
		}
		defer rows.Close()
		list := []string{}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				a.internal(w, r, err)
				return
			}
			list = append(list, name)
		}
		if err := rows.Err(); err != nil {
			a.internal(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, projectsReply{Projects: list, Sources: []string{p}, ProjectsBySource: map[string][]string{p: list}})
		return
	}
	rows, err := a.opts.Store.Reader().QueryContext(ctx, `SELECT COALESCE(NULLIF(platform_source, ''), 'claude'), project,
		MAX(COALESCE(started_at_epoch, 0)) AS latest FROM sdk_sessions WHERE team_id = ? AND project != ''
		GROUP BY 1, 2 ORDER BY latest DESC, project`, team)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	defer rows.Close()
	reply := projectsReply{Projects: []string{}, Sources: []string{}, ProjectsBySource: map[string][]string{}}
	for rows.Next() {
		var source, name string
		var latest int64
		if err := rows.Scan(&source, &name, &latest); err != nil {
			a.internal(w, r, err)
			return
		}
		if !slices.Contains(reply.ProjectsBySource[source], name) {
			reply.ProjectsBySource[source] = append(reply.ProjectsBySource[source], name)
		}
		if !slices.Contains(reply.Projects, name) {
			reply.Projects = append(reply.Projects, name)
		}
	}
	if err := rows.Err(); err != nil {
		a.internal(w, r, err)
		return
	}
	for s := range reply.ProjectsBySource {
		reply.Sources = append(reply.Sources, s)
	}
	slices.SortFunc(reply.Sources, compareSources)
	writeJSON(w, http.StatusOK, reply)
}

// compareSources is claude-mem's platform order: claude, codex, cursor,
// then alphabetical.
func compareSources(x, y string) int {
	rank := func(s string) int {
		switch s {
		case "claude":
			return 0
		case "codex":
			return 1
		case "cursor":
			return 2
		}
		return 3
	}
	if rx, ry := rank(x), rank(y); rx != ry {
		return rx - ry
	}
	return strings.Compare(x, y)
}

type statsReply struct {
	Worker   statsWorker   `json:"worker"`
	Database statsDatabase `json:"database"`
}

type statsWorker struct {
	Version        string `json:"version"`
	Uptime         int64  `json:"uptime"`
	ActiveSessions int64  `json:"activeSessions"`
	SSEClients     int    `json:"sseClients"`
	Port           int    `json:"port"`
}

type statsDatabase struct {
	Path               string  `json:"path"`
	Size               int64   `json:"size"`
	Observations       int64   `json:"observations"`
	Sessions           int64   `json:"sessions"`
	Summaries          int64   `json:"summaries"`
	FirstObservationAt *string `json:"firstObservationAt"`
}

// stats is GET /api/stats: the team's row counts and the database file.
func (a *API) stats(w http.ResponseWriter, r *http.Request) {
	team, ok := a.team(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	db := a.opts.Store.Reader()
	reply := statsReply{
		Worker:   statsWorker{Version: a.opts.Version, Uptime: a.uptime(), Port: localPort(r)},
		Database: statsDatabase{Path: a.opts.Store.Path()},
	}
	if fi, err := os.Stat(a.opts.Store.Path()); err == nil {
		reply.Database.Size = fi.Size()
	}
	var first *int64
	err := db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM observations WHERE team_id = ?1),
		(SELECT COUNT(*) FROM sdk_sessions WHERE team_id = ?1),
		(SELECT COUNT(*) FROM session_summaries WHERE team_id = ?1),
		(SELECT COUNT(*) FROM sdk_sessions WHERE team_id = ?1 AND status = 'active'),
		(SELECT MIN(created_at_epoch) FROM observations WHERE team_id = ?1)`, team).Scan(
		&reply.Database.Observations, &reply.Database.Sessions, &reply.Database.Summaries, &reply.Worker.ActiveSessions, &first)
	if err != nil {
		a.internal(w, r, err)
		return
	}
	if first != nil {
		s := memory.ISO(time.UnixMilli(*first))
		reply.Database.FirstObservationAt = &s
	}
	writeJSON(w, http.StatusOK, reply)
}

// localPort is the port the request came in on.
func localPort(r *http.Request) int {
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if tcp, ok := addr.(*net.TCPAddr); ok {
			return tcp.Port
		}
	}
	return 0
}

// mcpText is claude-mem's MCP text result.
type mcpText struct {
	Content []mcpContent `json:"content"`
	IsError bool         `json:"isError,omitempty"`
}

type mcpContent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func textResult(text string) mcpText {
	return mcpText{Content: []mcpContent{{Type: "text", Text: text}}}
}

// parseDate reads a date bound: epoch milliseconds, an ISO date or an
// ISO time. end makes a bare date inclusive of its whole day.
func parseDate(s string, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			d = d.Add(24*time.Hour - time.Millisecond)
		}
		return d, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (use YYYY-MM-DD, an ISO time or epoch milliseconds)", s)
}
