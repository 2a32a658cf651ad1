package main

import (
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/adapter/adaptertest"
)

// TestConformance is the one test a third-party adapter needs to start
// with: the sdk's conformance suite, in process and over gRPC. The echo
// adapter has no clock to inject, so the suite skips its determinism check.
func TestConformance(t *testing.T) {
	t.Parallel()
	adaptertest.Run(t, adaptertest.Harness{
		New:      func(*testing.T) adapter.Adapter { return echo{} },
		Payloads: map[string][]byte{"Say": []byte(`{"session": "s1", "text": "hello"}`)},
	})
}
