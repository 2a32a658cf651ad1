package contextpack

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/search"
)

// Relevance mode ranks by a blend of full-text relevance and recency.
const (
	// relevanceWeight is the share of relevance in the blend; the rest is
	// recency.
	relevanceWeight = 0.75
	// recencyHalfLife is the age at which recency counts half.
	recencyHalfLife = 7 * 24 * time.Hour
	// candidatesPerItem: how many search hits are ranked per item shown.
	candidatesPerItem = 4
	// maxBody bounds an item's text, in characters.
	maxBody = 600
)

// RelevantHeading starts a relevance pack.
const RelevantHeading = "## Relevant past work"

type relevant struct {
	hit   search.Hit
	score float64
	// heading and body as rendered.
	heading, body string
}

// buildRelevant renders the "Relevant past work" section for req.Prompt.
func buildRelevant(ctx context.Context, q memory.Querier, req Request) (Pack, error) {
	if search.ParseQuery(req.Prompt).Empty() {
		return Pack{Mode: ModeRelevance, Empty: true}, nil
	}
	f := req.filter()
	f.Query, f.AnyTerms = req.Prompt, true
	f.Kinds = []search.Kind{search.KindObservation, search.KindSummary}
	if len(req.Types) > 0 || len(req.Concepts) > 0 {
		f.Kinds = []search.Kind{search.KindObservation}
	}
	f.Limit = min(search.MaxLimit, req.MaxObservations*candidatesPerItem)
	res, err := search.Search(ctx, q, f)
	if err != nil {
		return Pack{}, err
	}
	return relevantPack(&req, res.Hits), nil
}

// relevantPack ranks hits (with their BM25 scores) and renders the ones
// that fit.
func relevantPack(req *Request, hits []search.Hit) Pack {
	p := Pack{Mode: ModeRelevance}
	if len(hits) == 0 {
		p.Empty = true
		return p
	}
	now := req.Now()
	best := hits[0].Score
	for _, h := range hits {
		best = min(best, h.Score)
	}
	var items []relevant
	for _, h := range hits {
		rel := 1.0
		if best < 0 {
			rel = h.Score / best // BM25 scores are negative: the best is 1
		}
		age := max(0, now.Sub(h.CreatedAt))
		recency := math.Pow(0.5, float64(age)/float64(recencyHalfLife))
		it := relevant{hit: h, score: relevanceWeight*rel + (1-relevanceWeight)*recency}
		date := h.CreatedAt.In(req.Location).Format("2006-01-02")
		switch {
		case h.Observation != nil:
			o := h.Observation
			it.heading = "### #" + strconv.FormatInt(o.ID, 10) + " " + search.TypeIcon(o.Type) + " " + oneLine(cmp.Or(o.Title, "Untitled")) + " (" + date + ")"
			body := o.Narrative
			if body == "" {
				body = strings.Join(o.Facts, "; ")
			}
			it.body = cut(body, maxBody)
		case h.Summary != nil:
			s := h.Summary
			it.heading = "### S" + strconv.FormatInt(s.ID, 10) + " " + search.SummaryIcon + " " + oneLine(cmp.Or(s.Request, "Session summary")) + " (" + date + ")"
			var parts []string
			for _, f := range []struct{ label, value string }{{"Learned", s.Learned}, {"Completed", s.Completed}, {"Next Steps", s.NextSteps}} {
				if f.value != "" {
					parts = append(parts, "**"+f.label+"**: "+cut(oneLine(f.value), maxBody/3))
				}
			}
			it.body = strings.Join(parts, "\n")
		default:
			continue
		}
		items = append(items, it)
	}
	slices.SortStableFunc(items, func(a, b relevant) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return b.hit.CreatedAt.Compare(a.hit.CreatedAt)
	})

	// Admit items best first, each with its text or else its heading
	// alone, while the whole section stays within the budget.
	type shown struct {
		item     *relevant
		withBody bool
	}
	var picked []shown
	render := func() string {
		var b strings.Builder
		b.WriteString(RelevantHeading)
		var ids []string
		for _, s := range picked {
			b.WriteString("\n\n")
			b.WriteString(s.item.heading)
			if s.withBody && s.item.body != "" {
				b.WriteString("\n")
				b.WriteString(s.item.body)
			}
			if s.item.hit.Kind == search.KindObservation {
				ids = append(ids, strconv.FormatInt(s.item.hit.ID, 10))
			}
		}
		if len(ids) > 0 {
			b.WriteString("\n\nFetch details: get_observations([" + strings.Join(ids, ", ") + "]) | Search: mem-search skill")
		}
		return b.String()
	}
	text := ""
	for i := range items {
		if len(picked) == req.MaxObservations {
			break
		}
		for _, withBody := range []bool{true, false} {
			picked = append(picked, shown{&items[i], withBody})
			if t := render(); within(t, req.MaxTokens) {
				text = t
				break
			}
			picked = picked[:len(picked)-1]
			p.Truncated = true
		}
	}
	if len(picked) == 0 {
		// Not even one heading fits: nothing worth injecting.
		return p
	}
	p.Text, p.Tokens = text, search.EstimateTokens(text)
	for _, s := range picked {
		if s.item.hit.Kind == search.KindObservation {
			p.Observations = append(p.Observations, s.item.hit.ID)
		} else {
			p.Summaries = append(p.Summaries, s.item.hit.ID)
		}
	}
	return p
}

// cut shortens s to n runes, ending with "…" when it does.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
