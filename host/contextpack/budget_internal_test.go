package contextpack

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/search"
)

// TestBudgetProperty renders a thousand random memories with random
// budgets, without a database: the estimated tokens of the text never
// exceed the budget, a budget that holds the whole pack changes nothing,
// and every row listed is shown.
func TestBudgetProperty(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 5))
	words := []string{"token", "expiry", "clock", "naïve", "日本語", "🔥", "café", "x", "a-much-longer-identifier_with_parts",
		"é", "\n", "%s", "%d", "|", "**", "\"", "''"}
	text := func(lo, hi int) string {
		w := make([]string, lo+r.IntN(hi-lo+1))
		for i := range w {
			w[i] = words[r.IntN(len(words))]
		}
		return strings.Join(w, " ")
	}
	now := time.Date(2026, 3, 12, 9, 30, 0, 0, time.UTC)
	for i := range 1000 {
		at := now.Add(-time.Duration(r.IntN(30*24)) * time.Hour)
		var obs []memory.Observation
		var sums []memory.Summary
		var hits []search.Hit
		for j := range r.IntN(40) {
			at = at.Add(time.Duration(r.IntN(300)) * time.Minute)
			o := memory.Observation{ID: int64(j + 1), Type: search.CodeTypes[r.IntN(len(search.CodeTypes))], Title: text(0, 10),
				Subtitle: text(0, 5), Narrative: text(0, 60), Facts: strings.Fields(text(0, 6)), DiscoveryTokens: int64(r.IntN(9000)),
				CreatedAt: at, FilesModified: []string{fmt.Sprint(r.IntN(3))}}
			obs = append(obs, o)
			hits = append(hits, search.Hit{Kind: search.KindObservation, ID: o.ID, Score: -r.Float64() * 10, CreatedAt: at, Observation: &obs[len(obs)-1]})
		}
		for j := range r.IntN(8) {
			at = at.Add(time.Duration(r.IntN(300)) * time.Minute)
			s := memory.Summary{ID: int64(j + 1), Request: text(0, 12), Investigated: text(0, 20), Learned: text(0, 20),
				Completed: text(0, 20), NextSteps: text(0, 10), CreatedAt: at}
			sums = append(sums, s)
		}
		reverse(obs)
		reverse(sums)
		for j := range sums {
			hits = append(hits, search.Hit{Kind: search.KindSummary, ID: sums[j].ID, Score: -r.Float64() * 10, CreatedAt: sums[j].CreatedAt, Summary: &sums[j]})
		}
		budget := 1 + r.IntN(40)
		if i%2 == 0 {
			budget = 1 + r.IntN(2500)
		}
		req := Request{TeamID: "t", Projects: []string{"p"}, MaxTokens: budget, FullCount: r.IntN(3), MaxObservations: 1 + r.IntN(10),
			Now: func() time.Time { return now }, Location: time.UTC}
		if i%4 == 0 {
			req.FullField = "facts"
		}
		req.normalize()
		for _, mode := range []string{ModeSessionStart, ModeRelevance} {
			build := func(req Request) Pack {
				if mode == ModeRelevance {
					return relevantPack(&req, hits)
				}
				return sessionStart(&req, obs, sums)
			}
			p := build(req)
			if got := search.EstimateTokens(p.Text); got > budget || got != p.Tokens {
				t.Fatalf("case %d %s: budget %d, text of %d tokens (Tokens %d):\n%s", i, mode, budget, got, p.Tokens, p.Text)
			}
			unlimited := req
			unlimited.MaxTokens = 0
			full := build(unlimited)
			roomy := req
			roomy.MaxTokens = full.Tokens + r.IntN(20)
			if got := build(roomy); got.Text != full.Text || got.Truncated {
				t.Fatalf("case %d %s: a budget of %d holds the pack of %d tokens but changed it", i, mode, roomy.MaxTokens, full.Tokens)
			}
			for _, id := range p.Observations {
				if !strings.Contains(p.Text, fmt.Sprint(id)) {
					t.Fatalf("case %d %s: observation %d listed, not shown", i, mode, id)
				}
			}
		}
	}
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}
