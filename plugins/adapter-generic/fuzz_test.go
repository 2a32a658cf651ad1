package adaptergeneric

import (
	"encoding/json"

	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/adapter/adaptertest"
)

// FuzzNormalize feeds arbitrary payloads, event names and sources to
// Normalize, with the assertions of adaptertest.FuzzNormalize (no panic,
// events or a rejection, only ErrUnknownEvent as an error, complete events)
// and the generic adapter's own: at most MaxBatch events, each naming its
// hook, with a bounded platform source and agent fields and a time after
// 1970, and a reply for any event name. The corpus is seeded from the
// golden payloads under every type, a few aliases and none.
func FuzzNormalize(f *testing.F) {
	seeds := append(adaptertest.GoldenPayloads(f, "testdata/golden"),
		[]byte(`[{"type":"file-edit","sessionId":"s","filePath":"/a","edits":[]}]`),
		[]byte(`{"sessionId":"s","occurredAt":1.5e12,"metadata":{}}`))
	events := append([]string{"", "PostToolUse", "Stop", "session-init", "file-edit"}, manifestEvents[:8]...)
	a := New(WithClock(adaptertest.FixedClock))
	adaptertest.Fuzzer{
		Adapter: a,
		Events:  events,
		Seeds:   seeds,
		Check: func(t *testing.T, req adapter.NormalizeRequest, res adapter.NormalizeResult) {
			if len(res.Events) > MaxBatch {
				t.Fatalf("%d events from one payload", len(res.Events))
			}
			for _, ev := range res.Events {
				switch {
				case ev.HookEvent == "":
					t.Fatalf("%s event names no hook", ev.Type)
				case len(ev.PlatformSource) > maxPlatformBytes:
					t.Fatalf("platform source of %d bytes", len(ev.PlatformSource))
				case ev.OccurredAt.UnixMilli() <= 0:
					t.Fatalf("occurred_at %v", ev.OccurredAt)
				case len(ev.AgentID) > maxAgentField || len(ev.AgentType) > maxAgentField:
					t.Fatalf("agent fields of %d and %d bytes", len(ev.AgentID), len(ev.AgentType))
				}
			}
			out, err := a.RenderHookOutput(t.Context(), adapter.RenderRequest{Event: req.Event, Context: string(req.Raw)})
			if err != nil || !json.Valid(out) {
				t.Fatalf("RenderHookOutput = %q, %v", out, err)
			}
		},
	}.Fuzz(f)
}
