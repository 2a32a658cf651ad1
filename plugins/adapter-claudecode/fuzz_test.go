package adapterclaudecode

import (
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/adapter/adaptertest"
)

// FuzzNormalize feeds arbitrary payloads to every hook, with the
// assertions of adaptertest.FuzzNormalize (no panic, events or a rejection,
// only ErrUnknownEvent as an error, complete events whose replies render)
// and Claude Code's own: every event has a cwd and a project, the platform
// source "claude", and agent fields within bounds. The corpus is seeded
// from the golden payloads under every hook, none and an unknown one.
func FuzzNormalize(f *testing.F) {
	seeds := append(adaptertest.GoldenPayloads(f, "testdata/golden"),
		[]byte(`{"session_id":"s","cwd":"/","transcript_path":"/dev/zero"}`),
		[]byte(`{}`))
	events := []string{"", "notahook"}
	for _, h := range hooks {
		events = append(events, h.name)
	}
	adaptertest.Fuzzer{
		Adapter: New(WithClock(testClock)),
		Events:  events,
		Seeds:   seeds,
		Check: func(t *testing.T, _ adapter.NormalizeRequest, res adapter.NormalizeResult) {
			for _, ev := range res.Events {
				switch {
				case ev.Cwd == "" || ev.Project == "":
					t.Fatalf("cwd %q project %q", ev.Cwd, ev.Project)
				case ev.PlatformSource != PlatformSource:
					t.Fatalf("platform source %q", ev.PlatformSource)
				case len(ev.AgentID) > maxAgentField || len(ev.AgentType) > maxAgentField:
					t.Fatalf("agent fields of %d and %d bytes", len(ev.AgentID), len(ev.AgentType))
				}
			}
		},
	}.Fuzz(f)
}
