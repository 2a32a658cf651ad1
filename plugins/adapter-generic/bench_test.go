package adaptergeneric

import (
	"context"
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/adapter/adaptertest"
)

// BenchmarkNormalizeBatch measures a six-event Codex session batch.
func BenchmarkNormalizeBatch(b *testing.B) {
	raw := adaptertest.NewFixture(b).ReadFile(b, "testdata/golden/events/codex-session.json")
	req := adapter.NormalizeRequest{Source: Source, Event: BatchEvent, Raw: raw}
	a := New()
	b.SetBytes(int64(len(req.Raw)))
	b.ReportAllocs()
	for b.Loop() {
		if res, err := a.Normalize(context.Background(), req); err != nil || len(res.Events) != 6 {
			b.Fatalf("Normalize = %+v, %v", res, err)
		}
	}
}
