package search

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/memory"
)

// Timeline errors. Both are domain outcomes that a caller shows as text.
var (
	// ErrBadAnchor: the anchor is neither an id nor a time.
	ErrBadAnchor = errors.New("search: anchor must be an observation id (123), a summary id (S123) or a time")
	// ErrAnchorNotFound: no such observation or summary in the team (and
	// the request's projects), or no observation matches the query.
	ErrAnchorNotFound = errors.New("search: anchor not found")
)

// Depths of a timeline.
const (
	DefaultDepth = 10
	MaxDepth     = 100
)

// Anchor is where a timeline is centred: an observation, a summary, or a
// time (Kind empty).
type Anchor struct {
	Kind Kind      `json:"kind,omitempty"`
	ID   int64     `json:"id,omitempty"`
	Time time.Time `json:"time"`
	// Label is how the anchor was named: "123", "S12" or the time text.
	Label string `json:"label"`
}

// ParseAnchor reads an anchor as claude-mem's timeline tool takes it: an
// observation id ("123", "#123"), a summary id ("S12", "#S12"), or a time
// (RFC 3339, "2006-01-02T15:04:05" and "2006-01-02" in UTC). Anchor.Time is
// set only for a time.
func ParseAnchor(s string) (Anchor, error) {
	s = strings.TrimSpace(s)
	label := strings.TrimPrefix(s, "#")
	if id, err := strconv.ParseInt(label, 10, 64); err == nil && id > 0 {
		return Anchor{Kind: KindObservation, ID: id, Label: label}, nil
	}
	if rest, ok := strings.CutPrefix(label, "S"); ok {
		if id, err := strconv.ParseInt(rest, 10, 64); err == nil && id > 0 {
			return Anchor{Kind: KindSummary, ID: id, Label: "S" + rest}, nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return Anchor{Time: t.UTC(), Label: s}, nil
		}
	}
	return Anchor{}, ErrBadAnchor
}

// TimelineRequest asks for the rows around an anchor.
type TimelineRequest struct {
	// TeamID scopes everything; required.
	TeamID string
	// Anchor is parsed by ParseAnchor. When empty, Query finds the anchor:
	// the observation that matches it best.
	Anchor string
	Query  string
	// DepthBefore and DepthAfter are the number of rows (of any kind)
	// before and after the anchor, at most MaxDepth; zero is none (use
	// DefaultDepth for claude-mem's default).
	DepthBefore, DepthAfter int
	// Projects and PlatformSource filter every row, the anchor included.
	Projects       []string
	PlatformSource string
}

// Timeline is the rows around an anchor, oldest first: observations,
// summaries and prompts interleaved.
type Timeline struct {
	Anchor      Anchor `json:"anchor"`
	Query       string `json:"query,omitempty"`
	DepthBefore int    `json:"depth_before"`
	DepthAfter  int    `json:"depth_after"`
	// AnchorTitle is the anchor observation's title, for a query anchor.
	AnchorTitle string `json:"anchor_title,omitempty"`
	Items       []Hit  `json:"items"`
}

// GetTimeline returns the rows around an anchor, all of the team. A time
// anchor is placed before the first row at or after it (or after the last
// row). Items is empty when the team has no rows there.
func GetTimeline(ctx context.Context, q memory.Querier, req TimelineRequest) (Timeline, error) {
	if req.TeamID == "" {
		return Timeline{}, ErrNoTeam
	}
	tl := Timeline{Query: req.Query, DepthBefore: clampDepth(req.DepthBefore), DepthAfter: clampDepth(req.DepthAfter)}
	filter := Request{TeamID: req.TeamID, Projects: nonEmpty(req.Projects), PlatformSource: req.PlatformSource}
	var err error
	switch {
	case strings.TrimSpace(req.Anchor) != "":
		if tl.Anchor, err = ParseAnchor(req.Anchor); err != nil {
			return Timeline{}, err
		}
		tl.Query = ""
	case ParseQuery(req.Query).Empty():
		return Timeline{}, ErrBadAnchor
	default:
		find := filter
		find.Query, find.Kinds, find.Limit = req.Query, []Kind{KindObservation}, 1
		res, err := Search(ctx, q, find)
		if err != nil {
			return Timeline{}, err
		}
		if len(res.Hits) == 0 || res.Hits[0].Observation == nil {
			return Timeline{}, ErrAnchorNotFound
		}
		o := res.Hits[0].Observation
		tl.Anchor = Anchor{Kind: KindObservation, ID: o.ID, Label: strconv.FormatInt(o.ID, 10)}
		tl.AnchorTitle = o.Title
	}
	// The anchor row must exist, in the team and the filters.
	key := timelineKey{epoch: tl.Anchor.Time.UnixMilli(), rank: -1}
	if tl.Anchor.Kind != "" {
		ids, err := kindIDs(ctx, q, &filter, tl.Anchor.Kind, where{conds: []string{kinds[tl.Anchor.Kind].alias + `.id = ?`},
			args: []any{tl.Anchor.ID}}, OrderDateDesc, 1)
		if err != nil {
			return Timeline{}, err
		}
		if len(ids) == 0 {
			return Timeline{}, ErrAnchorNotFound
		}
		tl.Anchor.Time = ids[0].CreatedAt
		key = timelineKey{epoch: ids[0].CreatedAt.UnixMilli(), rank: kindRank(tl.Anchor.Kind), id: tl.Anchor.ID}
	}
	var items []Hit
	for _, k := range []Kind{KindObservation, KindSummary, KindPrompt} {
		before, after := key.split(k)
		older, err := kindIDs(ctx, q, &filter, k, before, OrderDateDesc, tl.DepthBefore+1)
		if err != nil {
			return Timeline{}, err
		}
		newer, err := kindIDs(ctx, q, &filter, k, after, OrderDateAsc, tl.DepthAfter+1)
		if err != nil {
			return Timeline{}, err
		}
		items = append(append(items, older...), newer...)
	}
	slices.SortFunc(items, func(a, b Hit) int { return keyOf(a).compare(keyOf(b)) })
	// The anchor is the first row at or after the key, else the last row.
	at := len(items) - 1
	for i, h := range items {
		if keyOf(h).compare(key) >= 0 {
			at = i
			break
		}
	}
	if len(items) > 0 {
		items = items[max(0, at-tl.DepthBefore):min(len(items), at+tl.DepthAfter+1)]
	}
	if tl.Items, err = hydrate(ctx, q, req.TeamID, items); err != nil {
		return Timeline{}, err
	}
	return tl, nil
}

func clampDepth(d int) int { return min(max(d, 0), MaxDepth) }

// timelineKey orders rows of all kinds: by time, then kind, then id. A time
// anchor has rank -1: it sorts before every row of its millisecond.
type timelineKey struct {
	epoch int64
	rank  int
	id    int64
}

func keyOf(h Hit) timelineKey {
	return timelineKey{epoch: h.CreatedAt.UnixMilli(), rank: kindRank(h.Kind), id: h.ID}
}

func (a timelineKey) compare(b timelineKey) int {
	if c := cmp.Compare(a.epoch, b.epoch); c != 0 {
		return c
	}
	if c := cmp.Compare(a.rank, b.rank); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// split is the conditions on rows of kind k that sort before the key, and
// at or after it.
func (key timelineKey) split(k Kind) (before, after where) {
	col, id := kinds[k].alias+".created_at_epoch", kinds[k].alias+".id"
	switch r := kindRank(k); {
	case r < key.rank:
		return where{conds: []string{col + ` <= ?`}, args: []any{key.epoch}}, where{conds: []string{col + ` > ?`}, args: []any{key.epoch}}
	case r > key.rank:
		return where{conds: []string{col + ` < ?`}, args: []any{key.epoch}}, where{conds: []string{col + ` >= ?`}, args: []any{key.epoch}}
	default:
		return where{conds: []string{`(` + col + ` < ? OR (` + col + ` = ? AND ` + id + ` < ?))`}, args: []any{key.epoch, key.epoch, key.id}},
			where{conds: []string{`(` + col + ` > ? OR (` + col + ` = ? AND ` + id + ` >= ?))`}, args: []any{key.epoch, key.epoch, key.id}}
	}
}

// kindIDs returns the first n rows (ids and times) of kind k by date that
// pass the request's filters and the extra condition.
func kindIDs(ctx context.Context, q memory.Querier, req *Request, k Kind, extra where, order Order, n int) ([]Hit, error) {
	if n <= 0 {
		return nil, nil
	}
	query, args := orderedQuery(req, k, order, n, &extra)
	hits, err := queryHits(ctx, q, k, query, args)
	if err != nil {
		return nil, fmt.Errorf("search: timeline %s: %w", k, err)
	}
	return hits, nil
}

// MaxGetIDs is the most observations GetObservations returns.
const MaxGetIDs = 1000

// GetObservations returns the team's observations with these ids, in the
// order of ids (repeats dropped). Ids that do not exist or belong to
// another team are left out.
func GetObservations(ctx context.Context, q memory.Querier, teamID string, ids []int64) ([]memory.Observation, error) {
	if teamID == "" {
		return nil, ErrNoTeam
	}
	var uniq []int64
	seen := map[int64]bool{}
	for _, id := range ids {
		if !seen[id] && len(uniq) < MaxGetIDs {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	rows, err := loadObservations(ctx, q, teamID, uniq)
	if err != nil {
		return nil, err
	}
	out := make([]memory.Observation, 0, len(rows))
	for _, id := range uniq {
		if o, ok := rows[id]; ok {
			out = append(out, o)
		}
	}
	return out, nil
}
