// Package search finds memory again: full-text search with BM25 over
// observations, session summaries and user prompts (the FTS5 tables of
// migration 0002), filters, a timeline around an anchor, and observations by
// id. Results come as JSON-able structs and as the compact index text that
// claude-mem's MCP tools return.
//
// Every function is scoped by a team: rows of another team are never found.
// User text is sanitized (ParseQuery) so that no input can produce an FTS
// syntax error; a query either finds rows or finds nothing.
package search

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/memory"
)

// Kind is what a hit is.
type Kind string

// Kinds of hits.
const (
	KindObservation Kind = "observation"
	KindSummary     Kind = "summary"
	KindPrompt      Kind = "prompt"
)

// kindRank orders kinds whose hits tie.
func kindRank(k Kind) int {
	switch k {
	case KindObservation:
		return 0
	case KindSummary:
		return 1
	}
	return 2
}

// ParseKind reads a kind as claude-mem's type parameter names it
// ("observations", "sessions", "prompts") or singular.
func ParseKind(s string) (Kind, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "observation", "observations", "obs":
		return KindObservation, true
	case "summary", "summaries", "session", "sessions":
		return KindSummary, true
	case "prompt", "prompts", "user_prompt", "user_prompts":
		return KindPrompt, true
	}
	return "", false
}

// Order is how results are sorted.
type Order string

// Orders.
const (
	// OrderRelevance is best BM25 match first; without query terms it is
	// OrderDateDesc.
	OrderRelevance Order = "relevance"
	OrderDateDesc  Order = "date_desc"
	OrderDateAsc   Order = "date_asc"
)

// ParseOrder reads claude-mem's orderBy values ("relevance", "date_desc",
// "date_asc", and "date" for newest first). Empty is the default order.
func ParseOrder(s string) (Order, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return "", true
	case "relevance", "rank":
		return OrderRelevance, true
	case "date", "date_desc", "newest":
		return OrderDateDesc, true
	case "date_asc", "oldest":
		return OrderDateAsc, true
	}
	return "", false
}

// Limits of a request.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	// MaxOffset bounds paging: deeper pages are empty.
	MaxOffset = 10000
)

// ErrNoTeam is returned when a request names no team: every search is
// scoped by one.
var ErrNoTeam = errors.New("search: no team")

// Request is a search.
type Request struct {
	// TeamID scopes everything; required.
	TeamID string
	// ProjectIDs keeps rows of these projects (projects.id).
	ProjectIDs []int64
	// Projects keeps rows of these project names, or merged into them.
	Projects []string
	// PlatformSource keeps rows of sessions of this platform ("claude").
	PlatformSource string
	// Types keeps observations of these types. Summaries and prompts have
	// no type: with Types set, only observations are searched.
	Types []string
	// Concepts keeps observations that have any of these concepts (exact).
	// With Concepts set, only observations are searched.
	Concepts []string
	// Files keeps observations that read or modified a file whose path
	// contains any of these strings (case-insensitive for ASCII), and
	// summaries that read or edited one. Prompts have no files: with Files
	// set, prompts are not searched.
	Files []string
	// DateStart and DateEnd bound the creation time, both inclusive; zero
	// is unbounded.
	DateStart, DateEnd time.Time
	// Query is user text, sanitized by ParseQuery. Empty (or nothing left
	// after sanitizing) is a filter-only search, newest first; with no
	// filter either, the result is empty.
	Query string
	// Kinds selects what is searched; empty is all kinds.
	Kinds []Kind
	// OrderBy defaults to OrderRelevance when there are query terms, else
	// OrderDateDesc.
	OrderBy Order
	// Limit is the page size: default DefaultLimit, at most MaxLimit.
	Limit int
	// Offset skips results; at most MaxOffset.
	Offset int
	// AnyTerms ranks rows with any of the query's terms (its MaxAnyTokens
	// rarest) without first looking for rows with all of them: for text
	// that is not a search, such as a user's prompt.
	AnyTerms bool

	// window overrides RankWindow.
	window int
}

// Match says how a result was found.
type Match string

// Matches.
const (
	// MatchAll: every term of the query matched.
	MatchAll Match = "all"
	// MatchAny: no row had every term, so rows with any term were ranked.
	MatchAny Match = "any"
	// MatchFilter: no query terms; rows matching the filters, by date.
	MatchFilter Match = "filter"
	// MatchNone: nothing to search for (no terms and no filter).
	MatchNone Match = "none"
)

// Result is a page of hits.
type Result struct {
	// Query is the request's query text, as given.
	Query string `json:"query"`
	// Terms is what was searched for after sanitizing.
	Terms string `json:"terms"`
	Match Match  `json:"match"`
	Order Order  `json:"order"`
	Hits  []Hit  `json:"results"`
}

// Hit is one search result: exactly one of Observation, Summary and Prompt
// is set, as Kind says.
type Hit struct {
	Kind Kind  `json:"kind"`
	ID   int64 `json:"id"`
	// Score is the BM25 score (lower is better); 0 when not ranked.
	Score       float64             `json:"score"`
	CreatedAt   time.Time           `json:"created_at"`
	Observation *memory.Observation `json:"observation,omitempty"`
	Summary     *memory.Summary     `json:"summary,omitempty"`
	Prompt      *Prompt             `json:"prompt,omitempty"`
}

// Observations are the observation hits, in order.
func (r Result) Observations() []memory.Observation {
	var out []memory.Observation
	for _, h := range r.Hits {
		if h.Observation != nil {
			out = append(out, *h.Observation)
		}
	}
	return out
}

// Summaries are the summary hits, in order.
func (r Result) Summaries() []memory.Summary {
	var out []memory.Summary
	for _, h := range r.Hits {
		if h.Summary != nil {
			out = append(out, *h.Summary)
		}
	}
	return out
}

// Prompts are the prompt hits, in order.
func (r Result) Prompts() []Prompt {
	var out []Prompt
	for _, h := range r.Hits {
		if h.Prompt != nil {
			out = append(out, *h.Prompt)
		}
	}
	return out
}

// hasFilter reports whether the request narrows rows beyond the team.
func (r *Request) hasFilter() bool {
	return len(r.ProjectIDs) > 0 || len(r.Projects) > 0 || r.PlatformSource != "" || len(r.Types) > 0 ||
		len(r.Concepts) > 0 || len(r.Files) > 0 || !r.DateStart.IsZero() || !r.DateEnd.IsZero()
}

// searches reports whether kind k is searched.
func (r *Request) searches(k Kind) bool {
	if len(r.Kinds) > 0 && !slices.Contains(r.Kinds, k) {
		return false
	}
	switch k {
	case KindSummary:
		return len(r.Types) == 0 && len(r.Concepts) == 0
	case KindPrompt:
		return len(r.Types) == 0 && len(r.Concepts) == 0 && len(r.Files) == 0
	}
	return true
}

func (r *Request) normalize() {
	if r.Limit <= 0 {
		r.Limit = DefaultLimit
	}
	r.Limit = min(r.Limit, MaxLimit)
	r.Offset = max(0, r.Offset)
	r.Projects = nonEmpty(r.Projects)
	r.Types = nonEmpty(r.Types)
	r.Concepts = nonEmpty(r.Concepts)
	r.Files = nonEmpty(r.Files)
}

func nonEmpty(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Search runs a search on q, usually the store's reader pool. A query that
// finds nothing is an empty result, never an error; errors are database
// failures (and ErrNoTeam).
//
// With query terms, every term must match (implicit AND); when no row has
// them all, rows with any of them are ranked instead (Result.Match says
// which). Hits of all kinds are merged by BM25 score.
func Search(ctx context.Context, q memory.Querier, req Request) (Result, error) {
	if req.TeamID == "" {
		return Result{}, ErrNoTeam
	}
	req.normalize()
	query := ParseQuery(req.Query)
	res := Result{Query: req.Query, Terms: query.String(), Order: req.OrderBy}
	if res.Order == "" || (res.Order == OrderRelevance && query.Empty()) {
		res.Order = OrderRelevance
		if query.Empty() {
			res.Order = OrderDateDesc
		}
	}
	switch {
	case query.Empty() && !req.hasFilter():
		res.Match = MatchNone
		return res, nil
	case req.Offset > MaxOffset:
		res.Match = MatchFilter
		if !query.Empty() {
			res.Match = MatchAll
		}
		return res, nil
	case query.Empty():
		res.Match = MatchFilter
		hits, err := collect(ctx, q, &req, "", res.Order, req.Offset, req.Limit)
		if err != nil {
			return Result{}, err
		}
		res.Hits = hits
	default:
		var hits []Hit
		var err error
		res.Match = MatchAll
		fallback := req.AnyTerms && !query.single()
		if !fallback {
			if hits, err = collect(ctx, q, &req, query.MatchAll(), res.Order, req.Offset, req.Limit); err != nil {
				return Result{}, err
			}
			// Fall back to any term only when no row has them all: a
			// later page that is merely past the end stays empty.
			if len(hits) == 0 && !query.single() {
				fallback = req.Offset == 0
				if !fallback {
					probe, err := collect(ctx, q, &req, query.MatchAll(), res.Order, 0, 1)
					if err != nil {
						return Result{}, err
					}
					fallback = len(probe) == 0
				}
			}
		}
		if fallback {
			res.Match = MatchAny
			match, err := rareTokens(ctx, q, query)
			if err != nil {
				return Result{}, err
			}
			req.window = AnyWindow
			if hits, err = collect(ctx, q, &req, match, res.Order, req.Offset, req.Limit); err != nil {
				return Result{}, err
			}
		}
		res.Hits = hits
	}
	var err error
	if res.Hits, err = hydrate(ctx, q, req.TeamID, res.Hits); err != nil {
		return Result{}, err
	}
	return res, nil
}

// Bounds of the any-term fallback.
const (
	// MaxAnyTokens is the most tokens a fallback ranks rows by: the
	// rarest ones of the query.
	MaxAnyTokens = 4
	// rareCap: counting a token's matches stops there; tokens that reach
	// it are common.
	rareCap = 500
)

// rareTokens is the any-term expression of a query of many tokens (a
// prompt): its MaxAnyTokens rarest tokens, by their observation matches
// counted up to rareCap, of which at most two common ones (that reach
// rareCap). Common tokens add little to BM25 but make nearly every row a
// match, and walking those matches is what costs.
func rareTokens(ctx context.Context, q memory.Querier, query Query) (string, error) {
	tokens := query.tokens()
	if len(tokens) <= MaxAnyTokens {
		return anyOf(tokens), nil
	}
	// One statement counts them all.
	parts := make([]string, len(tokens))
	args := make([]any, 0, 2*len(tokens))
	for i, tok := range tokens {
		parts[i] = `(SELECT count(*) FROM (SELECT 1 FROM observations_fts WHERE observations_fts MATCH ? LIMIT ?))`
		args = append(args, quote(tok), rareCap)
	}
	n := make([]int, len(tokens))
	dest := make([]any, len(tokens))
	for i := range n {
		dest[i] = &n[i]
	}
	if err := q.QueryRowContext(ctx, `SELECT `+strings.Join(parts, ", "), args...).Scan(dest...); err != nil {
		return "", fmt.Errorf("search: count query tokens: %w", err)
	}
	counts := make(map[string]int, len(tokens))
	for i, tok := range tokens {
		counts[tok] = n[i]
	}
	slices.SortStableFunc(tokens, func(a, b string) int { return cmp.Compare(counts[a], counts[b]) })
	keep := 0
	for keep < MaxAnyTokens && (counts[tokens[keep]] < rareCap || keep < 2) {
		keep++
	}
	return anyOf(tokens[:keep]), nil
}

// collect finds the page [offset, offset+limit) of hits (without their
// rows) of every searched kind, merged.
func collect(ctx context.Context, q memory.Querier, req *Request, match string, order Order, offset, limit int) ([]Hit, error) {
	var searched []Kind
	for _, k := range []Kind{KindObservation, KindSummary, KindPrompt} {
		if req.searches(k) {
			searched = append(searched, k)
		}
	}
	// Searching the kinds concurrently on a pool was measured slower on
	// two cores: the SQLite connections contend.
	results := make([][]Hit, len(searched))
	for i, k := range searched {
		hits, err := kindHits(ctx, q, req, k, match, order, offset+limit)
		if err != nil {
			return nil, err
		}
		results[i] = hits
	}
	all := slices.Concat(results...)
	sortHits(all, order)
	if offset >= len(all) {
		return nil, nil
	}
	return all[offset:min(len(all), offset+limit)], nil
}

func sortHits(hits []Hit, order Order) {
	slices.SortStableFunc(hits, func(a, b Hit) int {
		var c int
		switch order {
		case OrderRelevance:
			c = cmp.Compare(a.Score, b.Score)
			if c == 0 {
				c = b.CreatedAt.Compare(a.CreatedAt)
			}
		case OrderDateAsc:
			c = a.CreatedAt.Compare(b.CreatedAt)
		default:
			c = b.CreatedAt.Compare(a.CreatedAt)
		}
		if c == 0 {
			c = cmp.Compare(kindRank(a.Kind), kindRank(b.Kind))
		}
		if c == 0 {
			if order == OrderDateAsc {
				c = cmp.Compare(a.ID, b.ID)
			} else {
				c = cmp.Compare(b.ID, a.ID)
			}
		}
		return c
	})
}

// RankWindow bounds the cost of ranking a query that matches many rows:
// BM25 ranks the newest RankWindow matches of each kind that pass the
// filters (FTS rowids grow with time) and stops walking the matches there.
// A word found in 50,000 observations is thus ranked among its 500 most
// recent ones: recency bias, as claude-mem's own semantic path (last 90
// days) has. A page deeper than RankWindow is ranked over as many rows as
// it needs. Queries with fewer matches, and date ordering, are exact.
// Measured on 100k observations: 1,000 instead of 500 costs ~0.8 ms at the
// median and ~3 ms at p99.
const RankWindow = 500

// AnyWindow is RankWindow for the any-term fallback, whose matches are many
// and loosely related: ranking fewer of them keeps a long prompt cheap.
const AnyWindow = 100

// kindHits returns the best n hits of one kind.
func kindHits(ctx context.Context, q memory.Querier, req *Request, k Kind, match string, order Order, n int) ([]Hit, error) {
	var p plan
	if match != "" {
		var err error
		if p, err = planKind(ctx, q, req, k, match); err != nil || p.none {
			return nil, err
		}
	}
	query, args := kindQuery(req, k, match, order, n, p)
	hits, err := queryHits(ctx, q, k, query, args)
	if err != nil {
		return nil, fmt.Errorf("search: %s: %w", k, err)
	}
	return hits, nil
}

// queryHits runs a query of (id, score, created_at_epoch) rows of kind k.
func queryHits(ctx context.Context, q memory.Querier, k Kind, query string, args []any) ([]Hit, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Hit
	for rows.Next() {
		h := Hit{Kind: k}
		var at int64
		if err := rows.Scan(&h.ID, &h.Score, &at); err != nil {
			return nil, err
		}
		h.CreatedAt = fromEpoch(at)
		out = append(out, h)
	}
	return out, rows.Err()
}

// plan is how the matches of one kind are narrowed before they are joined
// to their rows.
type plan struct {
	// in is a driver whose ids each match is probed against.
	in *driver
	// lo and hi bound the rowids of rows that can pass the filters; 0 is
	// unbounded.
	lo, hi int64
	// none: no row can pass.
	none bool
}

// planKind counts the ids of each driver of the request's filters (up to
// driverLimit). A driver that is that small bounds the rowids that can
// match: its smallest and largest id (a date range is thus a rowid range,
// and a scan of the matches newest first stops at its oldest row). The
// smallest driver is probed unless the matches are much fewer than its ids:
// probing is then cheaper than joining each match to its row.
func planKind(ctx context.Context, q memory.Querier, req *Request, k Kind, match string) (plan, error) {
	var p plan
	drivers := kinds[k].drivers(req)
	best, bestCount := -1, driverLimit+1
	for i, d := range drivers {
		var count int
		var lo, hi sql.NullInt64
		if err := q.QueryRowContext(ctx, driverCountSQL(d), append(d.args, driverLimit+1)...).Scan(&count, &lo, &hi); err != nil {
			return plan{}, fmt.Errorf("search: count %s filter: %w", k, err)
		}
		if count > driverLimit {
			continue
		}
		if count == 0 {
			return plan{none: true}, nil
		}
		if p.lo == 0 || lo.Int64 > p.lo {
			p.lo = lo.Int64
		}
		if p.hi == 0 || hi.Int64 < p.hi {
			p.hi = hi.Int64
		}
		if count < bestCount {
			best, bestCount = i, count
		}
	}
	if p.lo > p.hi {
		return plan{none: true}, nil
	}
	if best < 0 {
		return p, nil
	}
	if bestCount > smallDriver {
		// Probing costs about half a join per driver id (to build the
		// set) and a fifth of one per match: worth it unless the matches
		// are much fewer than the ids.
		enough := bestCount*2/3 + 1
		var matches int
		if err := q.QueryRowContext(ctx, matchCountSQL(k, p), matchCountArgs(match, p, enough)...).Scan(&matches); err != nil {
			return plan{}, fmt.Errorf("search: count %s matches: %w", k, err)
		}
		if matches < enough {
			return p, nil
		}
	}
	p.in = &drivers[best]
	return p, nil
}

// hydrate fills the rows of hits, in place, and drops hits whose row is
// gone (deleted since they were found).
func hydrate(ctx context.Context, q memory.Querier, teamID string, hits []Hit) ([]Hit, error) {
	var obs, sums, prompts []int64
	for _, h := range hits {
		switch h.Kind {
		case KindObservation:
			obs = append(obs, h.ID)
		case KindSummary:
			sums = append(sums, h.ID)
		case KindPrompt:
			prompts = append(prompts, h.ID)
		}
	}
	om, err := loadObservations(ctx, q, teamID, obs)
	if err != nil {
		return nil, err
	}
	sm, err := loadSummaries(ctx, q, teamID, sums)
	if err != nil {
		return nil, err
	}
	pm, err := loadPrompts(ctx, q, teamID, prompts)
	if err != nil {
		return nil, err
	}
	out := hits[:0]
	for _, h := range hits {
		switch h.Kind {
		case KindObservation:
			if o, ok := om[h.ID]; ok {
				h.Observation = &o
				out = append(out, h)
			}
		case KindSummary:
			if s, ok := sm[h.ID]; ok {
				h.Summary = &s
				out = append(out, h)
			}
		case KindPrompt:
			if p, ok := pm[h.ID]; ok {
				h.Prompt = &p
				out = append(out, h)
			}
		}
	}
	return out, nil
}

// MaxNewest is the most rows Newest returns.
const MaxNewest = 10000

// Newest returns the n newest rows of the request's kinds that pass its
// filters (its Query, OrderBy, Limit and Offset are ignored), newest
// first, with their rows. Unlike Search, a request with no filter returns
// the team's newest rows.
func Newest(ctx context.Context, q memory.Querier, req Request, n int) ([]Hit, error) {
	if req.TeamID == "" {
		return nil, ErrNoTeam
	}
	req.normalize()
	n = min(max(n, 0), MaxNewest)
	if n == 0 {
		return nil, nil
	}
	hits, err := collect(ctx, q, &req, "", OrderDateDesc, 0, n)
	if err != nil {
		return nil, err
	}
	return hydrate(ctx, q, req.TeamID, hits)
}
