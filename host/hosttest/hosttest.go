// Package hosttest holds helpers for tests that run the real claude-mem
// binary: building it once per test process, and finding free ports.
package hosttest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
	buildOut  []byte
)

// Binary builds cmd/claude-mem once per test process and returns its path.
// Tests launch bundled plugins from it, exactly as the installed binary
// does. Call Cleanup from TestMain to remove it.
func Binary(t testing.TB) string {
	t.Helper()
	path, err := BuildBinary()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// BuildBinary is Binary for callers that have no testing.TB, such as a
// TestMain that starts one server for a package's Example functions. It
// shares Binary's build, so a process builds the binary at most once; call
// Cleanup from TestMain to remove it.
func BuildBinary() (string, error) {
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "claude-mem-test-bin-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(buildDir, "claude-mem"), "./cmd/claude-mem")
		cmd.Dir = moduleRoot()
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		return "", fmt.Errorf("hosttest: build claude-mem: %w\n%s", buildErr, buildOut)
	}
	return filepath.Join(buildDir, "claude-mem"), nil
}

// BuildPackage builds a main package (relative to the module root) into
// dir and returns the binary's path.
func BuildPackage(t testing.TB, pkg, dir string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = moduleRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hosttest: build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// Cleanup removes the binary built by Binary.
func Cleanup() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("hosttest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// moduleRoot finds the directory holding go.mod, from this file's place.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for !strings.HasSuffix(dir, string(filepath.Separator)) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		dir = filepath.Dir(dir)
	}
	return "."
}
