package search_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/search"
	"github.com/claude-mem/claude-mem-server/host/search/searchtest"
)

// benchSizes are the corpus sizes benchmarked; 1M only with
// CLAUDE_MEM_BENCH_1M=1 (its first build takes minutes).
func benchSizes() []struct {
	name string
	n    int
} {
	sizes := []struct {
		name string
		n    int
	}{{"100k", 100_000}}
	if os.Getenv("CLAUDE_MEM_BENCH_1M") == "1" {
		sizes = append(sizes, struct {
			name string
			n    int
		}{"1M", 1_000_000})
	}
	return sizes
}

// BenchmarkSearch runs a fixed mix of 200 one-to-three-term queries, 60% of
// them with a filter, against a generated corpus, and reports the latency
// percentiles of single searches (one op is the whole mix).
func BenchmarkSearch(b *testing.B) {
	for _, size := range benchSizes() {
		b.Run(size.name, func(b *testing.B) {
			corpus := searchtest.Corpus{Observations: size.n}
			st := searchtest.Cached(b, corpus)
			mix := searchtest.QueryMix(corpus, 200)
			reqs := make([]search.Request, len(mix))
			for i, m := range mix {
				reqs[i] = search.Request{TeamID: memory.LocalTeam, Query: m.Text, DateStart: m.Since}
				if m.Project != "" {
					reqs[i].Projects = []string{m.Project}
				}
				if m.Type != "" {
					reqs[i].Types = []string{m.Type}
				}
				if m.Concept != "" {
					reqs[i].Concepts = []string{m.Concept}
				}
				if m.File != "" {
					reqs[i].Files = []string{m.File}
				}
			}
			ctx := context.Background()
			db := st.Reader()
			// Warm the page cache and the connection pool once.
			for _, r := range reqs {
				if _, err := search.Search(ctx, db, r); err != nil {
					b.Fatal(err)
				}
			}
			var lat searchtest.Latencies
			hits := 0
			b.ResetTimer()
			for b.Loop() {
				for _, r := range reqs {
					start := time.Now()
					res, err := search.Search(ctx, db, r)
					lat = append(lat, time.Since(start))
					if err != nil {
						b.Fatal(err)
					}
					hits += len(res.Hits)
				}
			}
			lat.Report(b)
			b.ReportMetric(float64(hits)/float64(len(lat)), "hits/query")
		})
	}
}
