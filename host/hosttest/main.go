package hosttest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

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
