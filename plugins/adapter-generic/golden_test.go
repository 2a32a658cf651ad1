package adaptergeneric

import (
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/adapter/adaptertest"
)

// TestGolden runs every payload under testdata/golden/<event>/, where
// <event> is the request's event name (the directory _none holds payloads
// posted without one), through Normalize and RenderHookOutput and compares
// the result with its .golden.json file. Run with -update to rewrite them.
func TestGolden(t *testing.T) {
	t.Parallel()
	adaptertest.Golden(t, New(WithClock(adaptertest.FixedClock)), "testdata/golden")
}
