package adapterclaudecode

import (
	"context"
	"errors"
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/adapter/adaptertest"
)

// testClock is the time every test event is stamped with.
var testClock = adaptertest.FixedClock

// TestGolden runs every realistic payload under testdata/golden/<hook>/
// through Normalize and RenderHookOutput and compares the result with its
// .golden.json file; the directory _payload holds payloads posted without a
// hook name. Run with -update to rewrite them.
func TestGolden(t *testing.T) {
	t.Parallel()
	adaptertest.Golden(t, New(WithClock(testClock)), "testdata/golden")
}

func TestUnknownHook(t *testing.T) {
	t.Parallel()
	a := New(WithClock(testClock))
	for name, tc := range map[string]struct {
		event string
		raw   string
	}{
		"named in the request": {event: "Notification", raw: `{"session_id":"s","cwd":"/x"}`},
		"named in the payload": {event: "", raw: `{"session_id":"s","cwd":"/x","hook_event_name":"PreCompact"}`},
		"before the payload":   {event: "Setup", raw: `not json`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := a.Normalize(context.Background(), adapter.NormalizeRequest{Source: Source, Event: tc.event, Raw: []byte(tc.raw)})
			if !errors.Is(err, adapter.ErrUnknownEvent) {
				t.Errorf("Normalize error = %v, want adapter.ErrUnknownEvent", err)
			}
		})
	}
	if _, err := a.RenderHookOutput(context.Background(), adapter.RenderRequest{Event: "Notification"}); !errors.Is(err, adapter.ErrUnknownEvent) {
		t.Errorf("RenderHookOutput error = %v, want adapter.ErrUnknownEvent", err)
	}
}
