//go:build unix

package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Acquire takes the exclusive lock on dataDir/server.lock, creating the
// directory if needed, and records this process's pid in it. If another
// server holds the lock it returns a *RunningError naming it. The lock is
// an flock on an open file description, so it excludes other processes and
// other descriptors of this process alike, and the kernel drops it when the
// process dies, however it dies.
func Acquire(dataDir string) (*Lock, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("daemon: create data dir: %w", err)
	}
	path := filepath.Join(dataDir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("daemon: open lock file: %w", err)
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, lockHolder(dataDir, f)
		}
		return nil, fmt.Errorf("daemon: lock %s: %w", path, err)
	}
	// Holding the lock, any pid and port files are a dead server's.
	removeFiles(dataDir, 0)
	pid := os.Getpid()
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(pid)+"\n"), 0)
	}
	if err != nil {
		unlock(f)
		return nil, fmt.Errorf("daemon: write lock file %s: %w", path, err)
	}
	return &Lock{dataDir: dataDir, pid: pid, file: f}, nil
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

func unlock(f *os.File) error {
	err := flock(f, syscall.LOCK_UN)
	return errors.Join(err, f.Close())
}

// Spawn starts self with args as a detached process: in a new session (so
// it survives the terminal that started it), stdin from /dev/null, stdout
// and stderr appended to logFile, and this process's environment. Wait on
// the returned process to notice it exiting.
func Spawn(self string, args []string, logFile string) (*os.Process, error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	defer devnull.Close()
	if err := os.MkdirAll(filepath.Dir(logFile), 0o700); err != nil {
		return nil, fmt.Errorf("daemon: create log dir: %w", err)
	}
	log, err := os.OpenFile(logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("daemon: open log file: %w", err)
	}
	defer log.Close()
	cmd := exec.Command(self, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("daemon: start %s: %w", self, err)
	}
	return cmd.Process, nil
}

// KillGrace is how long Stop waits for a process to die after SIGKILL.
const KillGrace = 5 * time.Second

// Stop asks process pid to exit with SIGTERM and waits for it until ctx
// ends; then it sends SIGKILL and waits up to KillGrace more. forced
// reports whether SIGKILL was needed. A pid that is already gone is not an
// error.
func Stop(ctx context.Context, pid int) (forced bool, err error) {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return false, nil
		}
		return false, fmt.Errorf("daemon: signal pid %d: %w", pid, err)
	}
	if waitGone(ctx, pid) {
		return false, nil
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return true, fmt.Errorf("daemon: kill pid %d: %w", pid, err)
	}
	kctx, cancel := context.WithTimeout(context.Background(), KillGrace)
	defer cancel()
	if waitGone(kctx, pid) {
		return true, nil
	}
	return true, fmt.Errorf("daemon: pid %d is still alive %s after SIGKILL", pid, KillGrace)
}

// waitGone polls until pid is gone (true) or ctx ends (false).
func waitGone(ctx context.Context, pid int) bool {
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	for {
		if !alive(pid) {
			return true
		}
		select {
		case <-ctx.Done():
			return !alive(pid)
		case <-t.C:
		}
	}
}

// alive reports whether pid is a live process: signal 0 reaches it (or is
// refused for permission, which still proves it exists) and, where /proc
// says so, it is not a zombie. A server whose parent has exited may linger
// as a zombie under an init that does not reap, and it is gone all the same.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc here; signal 0 has to do
	}
	// The state follows the parenthesised command name, which may itself
	// hold parentheses: "pid (comm) S ...".
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		switch stat[i+2] {
		case 'Z', 'X':
			return false
		}
	}
	return true
}
