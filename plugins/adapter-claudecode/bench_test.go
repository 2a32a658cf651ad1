package adapterclaudecode

import (
	"context"
	"os"
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
)

// BenchmarkNormalize measures one PostToolUse payload, the hook that fires
// most, with the project walk it implies.
func BenchmarkNormalize(b *testing.B) {
	ph := newPlaceholders(b, fixtureRepos(b))
	raw, err := os.ReadFile("testdata/golden/PostToolUse/edit.json")
	if err != nil {
		b.Fatal(err)
	}
	req := adapter.NormalizeRequest{Source: Source, Event: "PostToolUse", Raw: ph.expand(raw)}
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
	ph := newPlaceholders(b, fixtureRepos(b))
	raw, err := os.ReadFile("testdata/golden/Stop/transcript-fallback.json")
	if err != nil {
		b.Fatal(err)
	}
	req := adapter.NormalizeRequest{Source: Source, Event: "Stop", Raw: ph.expand(raw)}
	a := New()
	b.ReportAllocs()
	for b.Loop() {
		if res, err := a.Normalize(context.Background(), req); err != nil || len(res.Events) != 1 || res.Events[0].Text == "" {
			b.Fatalf("Normalize = %+v, %v", res, err)
		}
	}
}
