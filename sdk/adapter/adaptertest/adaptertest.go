// Package adaptertest is the conformance suite of the agent adapter
// contract, and the test harnesses adapters share: golden files and fuzzing.
//
// Every adapter.Adapter must pass Run:
//
//	func TestConformance(t *testing.T) {
//		t.Parallel()
//		adaptertest.Run(t, adaptertest.Harness{New: func(t *testing.T) adapter.Adapter { return myadapter.New() }})
//	}
//
// Run checks the rules of the package adapter doc twice: against the
// adapter in process, and through the real adapter.v1 gRPC server and
// client, so that every value and sentinel error is known to survive the
// wire. It knows nothing of an agent's payloads: it sends each manifest
// event an empty object, a typical minimal payload and broken JSON, and
// whatever valid payloads the Harness provides, and checks the shape of
// every answer.
//
// Golden compares what payloads under testdata/ become with golden files
// (rewritten with go test -update), and FuzzNormalize fuzzes Normalize with
// the assertions every answer must meet.
package adaptertest

import (
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/adapter"
)

// Harness tells the suite how to make adapters.
type Harness struct {
	// New returns a fresh adapter and registers its cleanup on t.
	New func(t *testing.T) adapter.Adapter
	// NewWithClock, when set, returns an adapter whose clock is now: events
	// whose payload carries no time of their own are stamped with it. The
	// suite then checks that Normalize is deterministic.
	NewWithClock func(t *testing.T, now func() time.Time) adapter.Adapter
	// Payloads, when set, maps manifest events to a payload the adapter
	// must turn into events. The suite checks those events, and renders
	// replies for them. Events without a payload here are sent only
	// payloads the adapter may reject.
	Payloads map[string][]byte
}

// Run runs the whole suite: once against the adapter in process, and once
// through the real gRPC boundary.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("adaptertest: Harness.New is nil")
	}
	t.Run("inprocess", func(t *testing.T) { runAll(t, h) })
	t.Run("grpc", func(t *testing.T) {
		g := Harness{
			New:      func(t *testing.T) adapter.Adapter { t.Helper(); return overGRPC(t, h.New(t)) },
			Payloads: h.Payloads,
		}
		if h.NewWithClock != nil {
			g.NewWithClock = func(t *testing.T, now func() time.Time) adapter.Adapter {
				t.Helper()
				return overGRPC(t, h.NewWithClock(t, now))
			}
		}
		runAll(t, g)
	})
}

// runAll registers every case of the suite.
func runAll(t *testing.T, h Harness) {
	t.Run("manifest", func(t *testing.T) { t.Parallel(); testManifest(t, h) })
	t.Run("payloads", func(t *testing.T) { t.Parallel(); testPayloads(t, h) })
	t.Run("invalid_json", func(t *testing.T) { t.Parallel(); testInvalidJSON(t, h) })
	t.Run("unknown_event", func(t *testing.T) { t.Parallel(); testUnknownEvent(t, h) })
	t.Run("render", func(t *testing.T) { t.Parallel(); testRender(t, h) })
	t.Run("concurrent", func(t *testing.T) { t.Parallel(); testConcurrent(t, h) })
	if h.NewWithClock == nil {
		t.Log("adaptertest: Harness.NewWithClock is nil, so determinism is not checked")
		return
	}
	t.Run("deterministic", func(t *testing.T) { t.Parallel(); testDeterministic(t, h) })
}
