package mcpserver_test

import (
	"os"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/hosttest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	hosttest.Cleanup()
	os.Exit(code)
}
