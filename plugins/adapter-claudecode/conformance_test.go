package adapterclaudecode

import (
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/adapter/adaptertest"
)

// TestConformance runs the adapter conformance suite, in process and over
// gRPC, with a payload every hook turns into an event.
func TestConformance(t *testing.T) {
	t.Parallel()
	const hookPayload = `{"session_id":"s","cwd":"/nowhere/p","tool_name":"Read","tool_use_id":"toolu_1","prompt":"hi","last_assistant_message":"done"}`
	payloads := map[string][]byte{}
	for _, h := range hooks {
		payloads[h.name] = []byte(hookPayload)
	}
	adaptertest.Run(t, adaptertest.Harness{
		New: func(*testing.T) adapter.Adapter { return New() },
		NewWithClock: func(_ *testing.T, now func() time.Time) adapter.Adapter {
			return New(WithClock(now))
		},
		Payloads: payloads,
	})
}
