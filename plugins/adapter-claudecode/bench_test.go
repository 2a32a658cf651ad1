package adapterclaudecode

import (
	"context"
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/adapter/adaptertest"
)

// BenchmarkNormalize measures one PostToolUse payload, the hook that fires
// most, with the project walk it implies.
func BenchmarkNormalize(b *testing.B) {
	raw := adaptertest.NewFixture(b).ReadFile(b, "testdata/golden/PostToolUse/edit.json")
	req := adapter.NormalizeRequest{Source: Source, Event: "PostToolUse", Raw: raw}
	a := New()
	b.SetBytes(int64(len(req.Raw)))
	b.ReportAllocs()
	for b.Loop() {
		if res, err := a.Normalize(context.Background(), req); err != nil || len(res.Events) != 1 {
			b.Fatalf("Normalize = %+v, %v", res, err)
		}
	}
}

// BenchmarkStopFromTranscript measures the Stop fallback on a transcript.
func BenchmarkStopFromTranscript(b *testing.B) {
	raw := adaptertest.NewFixture(b).ReadFile(b, "testdata/golden/Stop/transcript-fallback.json")
	req := adapter.NormalizeRequest{Source: Source, Event: "Stop", Raw: raw}
	a := New()
	b.ReportAllocs()
	for b.Loop() {
		if res, err := a.Normalize(context.Background(), req); err != nil || len(res.Events) != 1 || res.Events[0].Text == "" {
			b.Fatalf("Normalize = %+v, %v", res, err)
		}
	}
}
