package adaptergeneric

import (
	"context"
	"os"
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
)

// BenchmarkNormalizeBatch measures a six-event Codex session batch.
func BenchmarkNormalizeBatch(b *testing.B) {
	ph := newPlaceholders(b, fixtureRepos(b))
	raw, err := os.ReadFile("testdata/golden/events/codex-session.json")
	if err != nil {
		b.Fatal(err)
	}
	req := adapter.NormalizeRequest{Source: Source, Event: BatchEvent, Raw: ph.expand(raw)}
	a := New()
	b.SetBytes(int64(len(req.Raw)))
	b.ReportAllocs()
	for b.Loop() {
		if res, err := a.Normalize(context.Background(), req); err != nil || len(res.Events) != 6 {
			b.Fatalf("Normalize = %+v, %v", res, err)
		}
	}
}
