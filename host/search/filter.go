package search

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// BM25 column weights. Observations: title, subtitle, narrative, text,
// facts, concepts. Summaries: request, investigated, learned, completed,
// next_steps, notes. A word in a title says more than one in a narrative.
const (
	observationBM25 = `bm25(observations_fts, 5.0, 3.0, 1.0, 1.0, 1.5, 1.0)`
	summaryBM25     = `bm25(session_summaries_fts, 3.0, 1.0, 1.5, 1.5, 1.0, 1.0)`
	promptBM25      = `bm25(user_prompts_fts)`
)

// where collects the conditions and arguments of a query.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) sql() string { return strings.Join(w.conds, " AND ") }

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

// in is "col IN (?, …)", or "col = ?" for one value: an equality lets an
// index both find and order the rows.
func in(col string, n int) string {
	if n == 1 {
		return col + ` = ?`
	}
	return col + ` IN (` + marks(n) + `)`
}

func anyArgs[T any](list []T) []any {
	out := make([]any, len(list))
	for i, v := range list {
		out[i] = v
	}
	return out
}

// likeContains is a LIKE pattern for "contains s".
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// filesCond is "any element of one of the JSON array columns contains any
// of the strings". When a string has no character that JSON escapes, a
// substring test on the raw JSON text (a necessary condition, and cheap)
// runs first.
func filesCond(w *where, files []string, columns ...string) {
	var pre []string
	var preArgs []any
	var ors []string
	var args []any
	for _, col := range columns {
		var likes []string
		for _, f := range files {
			likes = append(likes, `value LIKE ? ESCAPE '\'`)
			args = append(args, likeContains(f))
			if jsonVerbatim(f) {
				pre = append(pre, col+` LIKE ? ESCAPE '\'`)
				preArgs = append(preArgs, likeContains(f))
			}
		}
		ors = append(ors, `EXISTS (SELECT 1 FROM json_each(`+jsonList(col)+`) WHERE `+strings.Join(likes, " OR ")+`)`)
	}
	if len(pre) == len(files)*len(columns) {
		w.add("("+strings.Join(pre, " OR ")+")", preArgs...)
	}
	w.add("("+strings.Join(ors, " OR ")+")", args...)
}

// conceptsCond is "the JSON array column has any of the values".
func conceptsCond(w *where, col string, values []string) {
	var pre []string
	var preArgs []any
	for _, v := range values {
		if jsonVerbatim(v) {
			pre = append(pre, `instr(`+col+`, ?) > 0`)
			preArgs = append(preArgs, `"`+v+`"`)
		}
	}
	if len(pre) == len(values) {
		// Text that is not a JSON array is one bare value (jsonList),
		// unquoted: the test on the quoted value does not apply to it.
		w.add("(substr("+col+", 1, 1) != '[' OR "+strings.Join(pre, " OR ")+")", preArgs...)
	}
	w.add(`EXISTS (SELECT 1 FROM json_each(`+jsonList(col)+`) WHERE value IN (`+marks(len(values))+`))`, anyArgs(values)...)
}

// jsonList reads a list column as JSON, and any other text (imported rows
// may hold a bare path) as a list of that one value, so that json_each never
// fails on it.
func jsonList(col string) string {
	return `CASE WHEN json_valid(` + col + `) THEN ` + col + ` ELSE json_array(` + col + `) END`
}

// jsonVerbatim reports whether s appears as itself in any JSON encoding
// of a string that contains it: it has no character that an encoder may
// escape.
func jsonVerbatim(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == '"' || r == '\\' || r == '<' || r == '>' || r == '&' || r == 0x7f || r >= 0x80 {
			return false
		}
	}
	return true
}

// projectSide says which project column a project filter tests: a row
// belongs to a project by its project or by merged_into_project.
type projectSide int

const (
	eitherProject projectSide = iota // project OR merged_into_project
	ownProject                       // project
	mergedProject                    // merged_into_project
)

func projectCond(w *where, a string, projects []string, side projectSide) {
	n := len(projects)
	switch side {
	case ownProject:
		w.add(in(a+`.project`, n), anyArgs(projects)...)
	case mergedProject:
		w.add(in(a+`.merged_into_project`, n), anyArgs(projects)...)
	default:
		w.add(`(`+in(a+`.project`, n)+` OR `+in(a+`.merged_into_project`, n)+`)`, append(anyArgs(projects), anyArgs(projects)...)...)
	}
}

// observationFilters are the request's conditions on observations o.
func observationFilters(req *Request, side projectSide) *where {
	w := &where{}
	w.add(`o.team_id = ?`, req.TeamID)
	// Only current memories: superseded versions (migration 0006) are
	// history, read through the REST memory routes.
	w.add(`o.id NOT IN (SELECT id FROM observations WHERE valid_to IS NOT NULL)`)
	if len(req.ProjectIDs) > 0 {
		w.add(in(`o.project_id`, len(req.ProjectIDs)), anyArgs(req.ProjectIDs)...)
	}
	if len(req.Projects) > 0 {
		projectCond(w, "o", req.Projects, side)
	}
	if req.PlatformSource != "" {
		w.add(`o.session_id IN (SELECT id FROM sdk_sessions WHERE platform_source = ? AND team_id = ?)`, req.PlatformSource, req.TeamID)
	}
	if len(req.Types) > 0 {
		w.add(in(`o.type`, len(req.Types)), anyArgs(req.Types)...)
	}
	if len(req.Concepts) > 0 {
		conceptsCond(w, "o.concepts", req.Concepts)
	}
	if len(req.Files) > 0 {
		filesCond(w, req.Files, "o.files_read", "o.files_modified")
	}
	dates(w, req, "o.created_at_epoch")
	return w
}

func summaryFilters(req *Request, side projectSide) *where {
	w := &where{}
	w.add(`s.team_id = ?`, req.TeamID)
	if len(req.ProjectIDs) > 0 {
		w.add(in(`s.project_id`, len(req.ProjectIDs)), anyArgs(req.ProjectIDs)...)
	}
	if len(req.Projects) > 0 {
		projectCond(w, "s", req.Projects, side)
	}
	if req.PlatformSource != "" {
		w.add(`s.session_id IN (SELECT id FROM sdk_sessions WHERE platform_source = ? AND team_id = ?)`, req.PlatformSource, req.TeamID)
	}
	if len(req.Files) > 0 {
		filesCond(w, req.Files, "s.files_read", "s.files_edited")
	}
	dates(w, req, "s.created_at_epoch")
	return w
}

// promptFilters are the conditions on prompts p of sessions ss. Sessions
// have no merged_into_project: side mergedProject matches nothing.
func promptFilters(req *Request, side projectSide) *where {
	w := &where{}
	w.add(`ss.team_id = ?`, req.TeamID)
	w.add(`p.is_private = 0`)
	if len(req.ProjectIDs) > 0 {
		w.add(in(`ss.project_id`, len(req.ProjectIDs)), anyArgs(req.ProjectIDs)...)
	}
	if len(req.Projects) > 0 {
		if side == mergedProject {
			w.add(`0`)
		}
		w.add(in(`ss.project`, len(req.Projects)), anyArgs(req.Projects)...)
	}
	if req.PlatformSource != "" {
		w.add(`ss.platform_source = ?`, req.PlatformSource)
	}
	dates(w, req, "p.created_at_epoch")
	return w
}

func dates(w *where, req *Request, col string) {
	if !req.DateStart.IsZero() {
		w.add(col+` >= ?`, req.DateStart.UnixMilli())
	}
	if !req.DateEnd.IsZero() {
		w.add(col+` <= ?`, req.DateEnd.UnixMilli())
	}
}

// kindSQL describes the tables of a kind.
type kindSQL struct {
	fts     string // the FTS5 table
	table   string // the content table and its alias
	cover   string // the covering index for joins from the FTS table
	lists   string // the same with the JSON lists, for file and concept filters
	join    string // further joins
	alias   string
	score   string // the BM25 expression
	filter  func(*Request, projectSide) *where
	merged  bool // has merged_into_project
	drivers func(*Request) []driver
}

var kinds = map[Kind]kindSQL{
	KindObservation: {fts: "observations_fts", table: "observations o", cover: "idx_observations_search",
		lists: "idx_observations_search_lists", alias: "o",
		score: observationBM25, filter: observationFilters, drivers: observationDrivers, merged: true},
	KindSummary: {fts: "session_summaries_fts", table: "session_summaries s", cover: "idx_session_summaries_search",
		lists: "idx_session_summaries_search_lists", alias: "s",
		score: summaryBM25, filter: summaryFilters, drivers: summaryDrivers, merged: true},
	KindPrompt: {fts: "user_prompts_fts", table: "user_prompts p", cover: "idx_user_prompts_search", alias: "p",
		join: " JOIN sdk_sessions ss INDEXED BY idx_sdk_sessions_search ON ss.id = p.session_db_id", score: promptBM25,
		filter: promptFilters, drivers: promptDrivers},
}

// A driver is a query for the ids of the rows that pass one filter (and
// the team), answered from an index. When it is small next to the matches
// of a query, the matches are tested against it (one in-memory probe each)
// instead of being joined to their rows one by one, which costs several
// times more.
type driver struct {
	sql  string
	args []any
}

func observationDrivers(req *Request) []driver {
	var out []driver
	t := req.TeamID
	if len(req.Projects) > 0 {
		m := marks(len(req.Projects))
		out = append(out, driver{`SELECT id FROM observations WHERE team_id = ? AND project IN (` + m + `)
			UNION ALL SELECT id FROM observations WHERE merged_into_project IN (` + m + `) AND team_id = ?`,
			slices.Concat([]any{t}, anyArgs(req.Projects), anyArgs(req.Projects), []any{t})})
	}
	if len(req.ProjectIDs) > 0 {
		out = append(out, driver{`SELECT id FROM observations WHERE team_id = ? AND project_id IN (` + marks(len(req.ProjectIDs)) + `)`,
			append([]any{t}, anyArgs(req.ProjectIDs)...)})
	}
	if len(req.Types) > 0 {
		out = append(out, driver{`SELECT id FROM observations WHERE team_id = ? AND type IN (` + marks(len(req.Types)) + `)`,
			append([]any{t}, anyArgs(req.Types)...)})
	}
	if req.PlatformSource != "" {
		out = append(out, driver{`SELECT o2.id FROM sdk_sessions s2 JOIN observations o2 ON o2.session_id = s2.id
			WHERE s2.team_id = ? AND s2.platform_source = ?`, []any{t, req.PlatformSource}})
	}
	if d, ok := dateDriver(req, "observations"); ok {
		out = append(out, d)
	}
	return out
}

func summaryDrivers(req *Request) []driver {
	var out []driver
	t := req.TeamID
	if len(req.Projects) > 0 {
		m := marks(len(req.Projects))
		out = append(out, driver{`SELECT id FROM session_summaries WHERE team_id = ? AND project IN (` + m + `)
			UNION ALL SELECT id FROM session_summaries WHERE merged_into_project IN (` + m + `) AND team_id = ?`,
			slices.Concat([]any{t}, anyArgs(req.Projects), anyArgs(req.Projects), []any{t})})
	}
	if d, ok := dateDriver(req, "session_summaries"); ok {
		out = append(out, d)
	}
	return out
}

func promptDrivers(req *Request) []driver {
	var out []driver
	t := req.TeamID
	if len(req.Projects) > 0 {
		out = append(out, driver{`SELECT p2.id FROM sdk_sessions s2 JOIN user_prompts p2 ON p2.session_db_id = s2.id
			WHERE s2.team_id = ? AND s2.project IN (` + marks(len(req.Projects)) + `)`, append([]any{t}, anyArgs(req.Projects)...)})
	}
	if req.PlatformSource != "" {
		out = append(out, driver{`SELECT p2.id FROM sdk_sessions s2 JOIN user_prompts p2 ON p2.session_db_id = s2.id
			WHERE s2.team_id = ? AND s2.platform_source = ?`, []any{t, req.PlatformSource}})
	}
	return out
}

// dateDriver is the rows of a table (with team_id and created_at_epoch)
// in the request's date range.
func dateDriver(req *Request, table string) (driver, bool) {
	if req.DateStart.IsZero() && req.DateEnd.IsZero() {
		return driver{}, false
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !req.DateStart.IsZero() {
		lo = req.DateStart.UnixMilli()
	}
	if !req.DateEnd.IsZero() {
		hi = req.DateEnd.UnixMilli()
	}
	return driver{`SELECT id FROM ` + table + ` WHERE team_id = ? AND created_at_epoch BETWEEN ? AND ?`, []any{req.TeamID, lo, hi}}, true
}

// kindQuery is the SQL that returns (id, score, created_at_epoch) of the
// best n rows of kind k: ranked by BM25 when match is set and order is
// relevance, else by date. With a driver, matches are first tested against
// its ids.
//
// Relevance ranks the newest RankWindow matches that pass the filters: the
// inner query walks the matches newest first (FTS5 rowid order, no sort)
// and stops there, so BM25 is computed at most RankWindow times.
func kindQuery(req *Request, k Kind, match string, order Order, n int, p plan) (string, []any) {
	if match == "" {
		return orderedQuery(req, k, order, n, nil)
	}
	ks := kinds[k]
	w := ks.filter(req, eitherProject)
	a := ks.alias
	orderBy := a + `.created_at_epoch DESC, ` + a + `.id DESC`
	if order == OrderDateAsc {
		orderBy = a + `.created_at_epoch, ` + a + `.id`
	}
	// The unary + keeps the rowid test away from FTS5, which would
	// otherwise run the whole query once per driver id.
	args := []any{match}
	bounds := ""
	if p.lo > 0 {
		bounds += ` AND ` + ks.fts + `.rowid >= ?`
		args = append(args, p.lo)
	}
	if p.hi > 0 {
		bounds += ` AND ` + ks.fts + `.rowid <= ?`
		args = append(args, p.hi)
	}
	if p.in != nil {
		bounds += ` AND +` + ks.fts + `.rowid IN (` + p.in.sql + `)`
		args = append(args, p.in.args...)
	}
	cover := ks.cover
	if ks.lists != "" && (len(req.Files) > 0 || len(req.Concepts) > 0) {
		cover = ks.lists
	}
	from := ` FROM ` + ks.fts + ` JOIN ` + ks.table + ` INDEXED BY ` + cover + ` ON ` + a + `.id = ` + ks.fts + `.rowid` + ks.join +
		` WHERE ` + ks.fts + ` MATCH ?` + bounds + ` AND ` + w.sql()
	args = append(args, w.args...)
	if order != OrderRelevance {
		return `SELECT ` + a + `.id, 0.0, ` + a + `.created_at_epoch` + from + ` ORDER BY ` + orderBy + ` LIMIT ?`, append(args, n)
	}
	return `SELECT id, score, created FROM (SELECT ` + a + `.id AS id, ` + ks.score + ` AS score, ` + a + `.created_at_epoch AS created` +
		from + ` ORDER BY ` + ks.fts + `.rowid DESC LIMIT ?) ORDER BY score, created DESC, id DESC LIMIT ?`, append(args, max(n, cmp.Or(req.window, RankWindow)), n)
}

// orderedQuery is the SQL that returns (id, 0, created_at_epoch) of the
// first n rows of kind k by date that pass the request's filters (no query)
// and the extra condition, if any (on the kind's alias). It walks an index
// in date order and stops after n rows. A row belongs to a project by its
// project or by merged_into_project: the two are separate walks, merged,
// because one walk testing either column cannot use an index.
func orderedQuery(req *Request, k Kind, order Order, n int, extra *where) (string, []any) {
	ks := kinds[k]
	dir := " DESC"
	if order == OrderDateAsc {
		dir = ""
	}
	branch := func(side projectSide) (string, []any) {
		w := ks.filter(req, side)
		if k == KindPrompt {
			w.add(`p.prompt_text != ''`)
		}
		if extra != nil && len(extra.conds) > 0 {
			w.add(extra.sql(), extra.args...)
		}
		from := ks.table + ks.join
		if k == KindPrompt && len(req.Projects) == 0 {
			// Walk the prompts by date, not the team's sessions.
			from = `user_prompts p CROSS JOIN sdk_sessions ss INDEXED BY idx_sdk_sessions_search ON ss.id = p.session_db_id`
		}
		a := ks.alias
		return `SELECT ` + a + `.id AS id, 0.0 AS score, ` + a + `.created_at_epoch AS created FROM ` + from + ` WHERE ` + w.sql() +
			` ORDER BY ` + a + `.created_at_epoch` + dir + `, ` + a + `.id` + dir + ` LIMIT ?`, append(w.args, n)
	}
	if len(req.Projects) == 0 || !ks.merged {
		return branch(eitherProject)
	}
	own, ownArgs := branch(ownProject)
	merged, mergedArgs := branch(mergedProject)
	return `SELECT id, score, created FROM (SELECT * FROM (` + own + `) UNION SELECT * FROM (` + merged + `))
		ORDER BY created` + dir + `, id` + dir + ` LIMIT ?`, slices.Concat(ownArgs, mergedArgs, []any{n})
}

// driverLimit is the most ids a driver may have to be used; at most
// smallDriver ids are probed whatever the number of matches.
const (
	driverLimit = 12000
	smallDriver = 500
)

// matchCountSQL counts the matches of an FTS expression within the plan's
// rowid bounds, up to a limit.
func matchCountSQL(k Kind, p plan) string {
	ks := kinds[k]
	return `SELECT count(*) FROM (SELECT 1 FROM ` + ks.fts + ` WHERE ` + ks.fts + ` MATCH ? AND rowid BETWEEN ? AND ? LIMIT ?)`
}

func matchCountArgs(match string, p plan, limit int) []any {
	lo, hi := p.lo, p.hi
	if hi == 0 {
		hi = math.MaxInt64
	}
	return []any{match, lo, hi, limit}
}

// driverCountSQL counts a driver's ids up to a limit, with the smallest and
// largest.
func driverCountSQL(d driver) string {
	return `SELECT count(*), min(id), max(id) FROM (` + d.sql + ` LIMIT ?)`
}
