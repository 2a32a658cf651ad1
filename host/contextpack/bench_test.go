package contextpack_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/contextpack"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/search/searchtest"
)

// BenchmarkContextPack builds a fixed mix of 100 packs against a generated
// corpus and reports the latency percentiles of single builds (one op is
// the whole mix): SessionStart packs of every project of the local team
// without a budget and with budgets of 500, 2,000 and 8,000 tokens, and,
// for a fifth of them, relevance packs for a prompt of 8 to 20 words.
// 1M runs only with CLAUDE_MEM_BENCH_1M=1.
func BenchmarkContextPack(b *testing.B) {
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
	for _, size := range sizes {
		b.Run(size.name, func(b *testing.B) {
			corpus := searchtest.Corpus{Observations: size.n}
			st := searchtest.Cached(b, corpus)
			prompts := searchtest.PromptMix(corpus, 20)
			projects := 18 // the local team's projects of a default corpus
			budgets := []int{0, 500, 2000, 8000}
			var reqs []contextpack.Request
			for i := range 100 {
				req := contextpack.Request{TeamID: memory.LocalTeam, Projects: []string{searchtest.ProjectName(i % projects)},
					MaxTokens: budgets[i%len(budgets)], Location: time.UTC}
				if i%5 == 4 {
					req.Prompt = prompts[i/5]
					req.MaxTokens = 1000
				}
				reqs = append(reqs, req)
			}
			ctx := context.Background()
			db := st.Reader()
			for _, r := range reqs {
				if _, err := contextpack.Build(ctx, db, r); err != nil {
					b.Fatal(err)
				}
			}
			var lat searchtest.Latencies
			var tokens int
			b.ResetTimer()
			for b.Loop() {
				for _, r := range reqs {
					start := time.Now()
					p, err := contextpack.Build(ctx, db, r)
					lat = append(lat, time.Since(start))
					if err != nil {
						b.Fatal(err)
					}
					tokens += p.Tokens
				}
			}
			lat.Report(b)
			b.ReportMetric(float64(tokens)/float64(len(lat)), "tokens/pack")
		})
	}
}
