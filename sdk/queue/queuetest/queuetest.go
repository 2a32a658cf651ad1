// Package queuetest is the conformance suite of the queue engine contract:
// every queue.Engine must pass Run, and Benchmark measures its throughput.
//
// An engine's test calls Run with a Harness:
//
//	func TestConformance(t *testing.T) {
//		queuetest.Run(t, queuetest.Harness{New: func(t *testing.T) queue.Engine { … }})
//	}
//
// Run checks every rule of the package queue doc twice: against the engine in
// process, and through the real queue.v1 gRPC server and client, so that
// every value and sentinel error is known to survive the wire.
//
// Cases run as parallel subtests, each on its own engine, and use short real
// durations (locks of a few hundred milliseconds), so a pass takes a few
// seconds. Assertions on timing bound what the contract bounds: lower bounds
// are tight (a job must not run before it is due), upper bounds are generous
// enough for the race detector on a small CI machine.
package queuetest

import (
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// Harness tells the suite how to make engines.
type Harness struct {
	// New returns a fresh, empty, isolated engine and registers its cleanup on t.
	New func(t *testing.T) queue.Engine
	// Reopen, when set, closes e and returns a new engine over the same storage (durability check).
	Reopen func(t *testing.T, e queue.Engine) queue.Engine
}

// Run runs the whole suite: once against the engine in process, and once through the real gRPC boundary.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("queuetest: Harness.New is nil")
	}
	// The two passes run one after the other, so that timing checks in one
	// do not compete for the CPU with the whole other pass.
	t.Run("inprocess", func(t *testing.T) { runAll(t, h) })
	t.Run("grpc", func(t *testing.T) {
		runAll(t, Harness{New: func(t *testing.T) queue.Engine {
			t.Helper()
			return overGRPC(t, h.New(t))
		}})
	})
}

// runAll registers every area of the suite.
func runAll(t *testing.T, h Harness) {
	t.Run("enqueue", func(t *testing.T) { t.Parallel(); testEnqueue(t, h) })
	t.Run("lanes", func(t *testing.T) { t.Parallel(); testLanes(t, h) })
	t.Run("reserve", func(t *testing.T) { t.Parallel(); testReserve(t, h) })
	t.Run("finish", func(t *testing.T) { t.Parallel(); testFinish(t, h) })
	t.Run("stall", func(t *testing.T) { t.Parallel(); testStall(t, h) })
	t.Run("manage", func(t *testing.T) { t.Parallel(); testManage(t, h) })
	t.Run("batch", func(t *testing.T) { t.Parallel(); testBatch(t, h) })
	if h.Reopen == nil {
		t.Log("queuetest: Harness.Reopen is nil, durability cases not run in this pass")
		return
	}
	t.Run("durability", func(t *testing.T) { t.Parallel(); testDurability(t, h) })
}
