package searchtest

import (
	"slices"
	"testing"
	"time"
)

// MixQuery is one query of a benchmark mix: user text and at most one
// filter.
type MixQuery struct {
	Text    string
	Project string
	Type    string
	Concept string
	File    string
	// Since bounds the date range from below (the corpus's last 30 days).
	Since time.Time
}

// QueryMix returns n deterministic queries over the corpus c: 1 to 3 terms
// drawn from the corpus's own Zipf distribution, leaving out the 50 most
// frequent words (the, and, for…, which users do not search for), so that
// common words are queried most; 40% without a filter, the rest with one
// filter: a project (30%), a type, a date range, a concept or a file.
func QueryMix(c Corpus, n int) []MixQuery {
	c.defaults()
	g := newGen(c.Seed + 1000)
	end := c.Start.Add(c.Span)
	out := make([]MixQuery, n)
	for i := range out {
		terms := 1 + g.r.IntN(5)/2 // 1: 40%, 2: 40%, 3: 20%
		var words []string
		for len(words) < terms {
			if k := g.zipf.Uint64(); k >= 50 {
				words = append(words, Words[k])
			}
		}
		q := MixQuery{Text: joinWords(words)}
		switch f := g.r.IntN(100); {
		case f < 40:
		case f < 70:
			q.Project = ProjectName(g.r.IntN(c.Projects - max(1, c.Projects/10)))
		case f < 80:
			q.Type = typeWeights[g.r.IntN(4)].Type
		case f < 90:
			q.Since = end.Add(-30 * 24 * time.Hour)
		case f < 95:
			q.Concept = g.pick(Concepts)
		default:
			q.File = Words[50+g.r.IntN(200)]
		}
		out[i] = q
	}
	return out
}

func joinWords(w []string) string {
	s := ""
	for i, x := range w {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}

// Latencies collects durations and reports percentiles to a benchmark.
type Latencies []time.Duration

// Percentile is the p-th percentile (0 < p ≤ 100), nearest rank.
func (l Latencies) Percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// Report adds p50-ms, p99-ms and max-ms metrics to b.
func (l Latencies) Report(b *testing.B) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(l.Percentile(50)), "p50-ms")
	b.ReportMetric(ms(l.Percentile(99)), "p99-ms")
	b.ReportMetric(ms(l.Percentile(100)), "max-ms")
}

// PromptMix returns n deterministic user prompts of 8 to 20 words drawn
// from the corpus's distribution, as an agent's user would type them.
func PromptMix(c Corpus, n int) []string {
	c.defaults()
	g := newGen(c.Seed + 2000)
	out := make([]string, n)
	for i := range out {
		out[i] = g.sentence(8, 20)
	}
	return out
}
