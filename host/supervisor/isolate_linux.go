package supervisor

import (
	"os/exec"
	"syscall"
)

// isolate makes the kernel kill the plugin when the host dies, even by
// kill -9, so no orphan outlives it. The plugin also watches its parent
// (sdk/plugin), which covers platforms without Pdeathsig.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
