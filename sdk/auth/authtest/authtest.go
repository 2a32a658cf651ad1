// Package authtest is the conformance suite of the auth provider contract:
// every auth.Provider must pass Run.
//
// A provider's test calls Run with a Harness:
//
//	func TestConformance(t *testing.T) {
//		t.Parallel()
//		authtest.Run(t, authtest.Harness{New: func(t *testing.T) auth.Provider { … }})
//	}
//
// Run checks the rules of the package auth doc twice: against the provider
// in process, and through the real auth.v1 gRPC server and client, so that
// every value and sentinel error is known to survive the wire. Keys are
// checked as the bundled provider mints them, which is what the host and
// its users rely on: a secret "cm_" followed by at least 32 random bytes in
// base64url, shown once, never listed.
//
// Cases run as parallel subtests, each on its own provider. Times are
// compared to the millisecond, which is what the wire keeps; the expiry
// case waits for a key to expire, so a pass takes about a second.
package authtest

import (
	"testing"

	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// Harness tells the suite how to make providers.
type Harness struct {
	// New returns a fresh, empty, isolated provider and registers its
	// Close on t.
	New func(t *testing.T) auth.Provider

	// wire is set for the pass through gRPC.
	wire bool
}

// Run runs the whole suite: once against the provider in process, and once
// through the real gRPC boundary.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("authtest: Harness.New is nil")
	}
	t.Run("inprocess", func(t *testing.T) { runAll(t, h) })
	t.Run("grpc", func(t *testing.T) {
		runAll(t, Harness{wire: true, New: func(t *testing.T) auth.Provider {
			t.Helper()
			return overGRPC(t, h.New(t))
		}})
	})
}

// runAll registers every case of the suite.
func runAll(t *testing.T, h Harness) {
	t.Run("create", func(t *testing.T) { t.Parallel(); testCreate(t, h) })
	t.Run("invalid_spec", func(t *testing.T) { t.Parallel(); testInvalidSpec(t, h) })
	t.Run("authenticate", func(t *testing.T) { t.Parallel(); testAuthenticate(t, h) })
	t.Run("wrong_credential", func(t *testing.T) { t.Parallel(); testWrongCredential(t, h) })
	t.Run("revoke", func(t *testing.T) { t.Parallel(); testRevoke(t, h) })
	t.Run("revoke_unknown", func(t *testing.T) { t.Parallel(); testRevokeUnknown(t, h) })
	t.Run("expired", func(t *testing.T) { t.Parallel(); testExpired(t, h) })
	t.Run("expires", func(t *testing.T) { t.Parallel(); testExpires(t, h) })
	t.Run("list", func(t *testing.T) { t.Parallel(); testList(t, h) })
	t.Run("concurrent", func(t *testing.T) { t.Parallel(); testConcurrent(t, h) })
}
