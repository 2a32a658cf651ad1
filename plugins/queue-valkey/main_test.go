package queuevalkey

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/plugins/queue-valkey/valkeytest"
)

// sharedURL is the server most tests use, each under its own random prefix:
// TEST_VALKEY_URL when set (CI's service container, or a real Valkey), else a
// redis-server started in TestMain, because a server per test would dominate
// the run time. Tests that stop or reconfigure a server start their own.
var sharedURL string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if url := os.Getenv("TEST_VALKEY_URL"); url != "" {
		sharedURL = url
	} else if valkeytest.Available() {
		dir, err := os.MkdirTemp("", "queuevalkey-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		srv, err := valkeytest.Launch(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "queuevalkey tests:", err)
			return 1
		}
		defer srv.Close()
		sharedURL = srv.URL()
	}
	return m.Run()
}

// sharedServer returns the shared server's URL, skipping the test (or
// failing it under CI) when there is none.
func sharedServer(t testing.TB) string {
	t.Helper()
	if sharedURL == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("redis-server is not on PATH; install it (apt-get install redis-server)")
		}
		t.Skip("redis-server is not on PATH (apt-get install redis-server)")
	}
	return sharedURL
}

// randomPrefix returns a fresh key prefix, isolating a test's queue.
func randomPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

// open opens an engine on url and closes it when the test ends.
func open(t testing.TB, url, prefix string) *Engine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := Open(ctx, Options{URL: url, Prefix: prefix})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}
