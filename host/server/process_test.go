package server_test

import (
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/hosttest"
)

// syncBuffer is a bytes.Buffer safe for a process to write while the test
// reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestPluginsDieWithTheHost kills the host process with SIGKILL, which it
// cannot catch, and checks that no plugin process outlives it. It also
// checks that the plugins' own log lines reached the host's log.
func TestPluginsDieWithTheHost(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	port := hosttest.FreePort(t)
	cmd := exec.Command(hosttest.Binary(t), "server", "start", "--foreground")
	cmd.Env = []string{"CLAUDE_MEM_DATA_DIR=" + dir, "CLAUDE_MEM_SERVER_PORT=" + strconv.Itoa(port), "HOME=" + dir}
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var info = waitHealthyT(t, fmt.Sprintf("http://127.0.0.1:%d", port))
	if len(info.Plugins) == 0 {
		t.Fatal("no plugins")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for _, p := range info.Plugins {
		for alive(p.PID) {
			if time.Now().After(deadline) {
				t.Fatalf("plugin %s (pid %d) outlived the host's kill -9", p.Name, p.PID)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	out := logs.String()
	for _, p := range info.Plugins {
		if !strings.Contains(out, "plugin configured") || !strings.Contains(out, "plugin="+p.Name) {
			t.Errorf("the host log has no line from plugin %s:\n%s", p.Name, out)
		}
	}
}

// alive reports whether pid is a live process (not a zombie).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	out, err := exec.Command("ps", "-o", "stat=", "-p", strconv.Itoa(pid)).Output()
	return err == nil && !strings.HasPrefix(strings.TrimSpace(string(out)), "Z")
}
