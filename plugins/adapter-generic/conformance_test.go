package adaptergeneric

import (
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/adapter/adaptertest"
)

// TestConformance runs the adapter conformance suite, in process and over
// gRPC, with a payload every event name turns into events.
func TestConformance(t *testing.T) {
	t.Parallel()
	payloads := map[string][]byte{}
	for _, name := range manifestEvents {
		payloads[name] = []byte(`{"session_id":"s","cwd":"/nowhere/p","tool_name":"t","file_path":"/nowhere/p/a.go","text":"hi"}`)
	}
	payloads[BatchEvent] = []byte(`[{"type":"session_start","session_id":"s"},{"type":"tool_use","session_id":"s","tool_name":"t","occurred_at":"2026-03-14T09:20:00Z"}]`)
	adaptertest.Run(t, adaptertest.Harness{
		New: func(*testing.T) adapter.Adapter { return New() },
		NewWithClock: func(_ *testing.T, now func() time.Time) adapter.Adapter {
			return New(WithClock(now))
		},
		Payloads: payloads,
	})
}
