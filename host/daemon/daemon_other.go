//go:build !unix

package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
)

// errUnsupported is what the background process management returns where
// it is not implemented.
var errUnsupported = fmt.Errorf("daemon: background servers are not supported on %s; run `claude-mem server start --foreground` under your service manager instead", runtime.GOOS)

// Acquire records this process in dataDir/server.lock. On this platform the
// lock is not exclusive: nothing stops a second server on the same data
// directory except the port it cannot bind.
func Acquire(dataDir string) (*Lock, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("daemon: create data dir: %w", err)
	}
	if pid, port, ok := Running(dataDir); ok {
		return nil, &RunningError{DataDir: dataDir, PID: pid, Port: port}
	}
	path := filepath.Join(dataDir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("daemon: open lock file: %w", err)
	}
	pid := os.Getpid()
	if _, err := f.WriteString(strconv.Itoa(pid) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("daemon: write lock file %s: %w", path, err)
	}
	return &Lock{dataDir: dataDir, pid: pid, file: f}, nil
}

func unlock(f *os.File) error { return f.Close() }

// Spawn is not supported on this platform.
func Spawn(self string, args []string, logFile string) (*os.Process, error) {
	return nil, errUnsupported
}

// Stop is not supported on this platform.
func Stop(ctx context.Context, pid int) (forced bool, err error) { return false, errUnsupported }

// alive reports whether pid is a live process. On Windows FindProcess opens
// the process and fails for one that is gone; elsewhere it cannot tell.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return runtime.GOOS == "windows"
}
