//go:build unix

package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHelperProcess is not a test: Spawn runs the test binary with
// `-test.run=^TestHelperProcess$ -- helper <mode>` to get a child process.
func TestHelperProcess(t *testing.T) {
	args := flag.Args()
	if len(args) != 2 || args[0] != "helper" {
		return
	}
	fmt.Println("helper started")
	if args[1] == "ignore-term" {
		signal.Ignore(syscall.SIGTERM)
	}
	time.Sleep(time.Minute)
	os.Exit(0)
}

func helperArgs(mode string) []string {
	return []string{"-test.run=^TestHelperProcess$", "--", "helper", mode}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestAcquireIsExclusive(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")

	l, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	// A second lock, on another descriptor of this same process, fails.
	_, err = Acquire(dir)
	var re *RunningError
	if !errors.As(err, &re) {
		t.Fatalf("second Acquire: got %v, want a *RunningError", err)
	}
	if re.PID != os.Getpid() || re.Port != 0 {
		t.Errorf("second Acquire before Publish: got pid %d port %d, want pid %d port 0", re.PID, re.Port, os.Getpid())
	}
	if !strings.Contains(err.Error(), "still starting") {
		t.Errorf("error %q does not say the server is still starting", err)
	}

	if err := l.Publish(4242, time.Now()); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	pid, port, ok := Running(dir)
	if !ok || pid != os.Getpid() || port != 4242 {
		t.Errorf("Running = %d, %d, %v; want %d, 4242, true", pid, port, ok, os.Getpid())
	}
	b, err := os.ReadFile(filepath.Join(dir, WorkerPIDFileName))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`{"pid":%d,"port":4242,"startedAt":"`, os.Getpid()); !strings.HasPrefix(string(b), want) {
		t.Errorf("worker.pid = %s, want it to start with %s", b, want)
	}

	_, err = Acquire(dir)
	wantMsg := fmt.Sprintf("a claude-mem server is already running (pid %d, port 4242); stop it with `claude-mem server stop`", os.Getpid())
	if err == nil || err.Error() != wantMsg {
		t.Errorf("Acquire after Publish: got %v, want %q", err, wantMsg)
	}

	if err := l.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	for _, name := range []string{PIDFileName, PortFileName, WorkerPIDFileName} {
		if exists(filepath.Join(dir, name)) {
			t.Errorf("%s is still there after Release", name)
		}
	}
	if _, _, ok := Running(dir); ok {
		t.Error("Running reports a server after Release")
	}
	l2, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l2.Release()
}

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run a short-lived process: %v", err)
	}
	return cmd.Process.Pid
}

func TestRunningCleansStaleFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pid := deadPID(t)
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(PIDFileName, strconv.Itoa(pid)+"\n")
	write(PortFileName, "4242\n")
	write(WorkerPIDFileName, fmt.Sprintf(`{"pid":%d,"port":4242,"startedAt":"2026-01-01T00:00:00Z"}`, pid))

	if got, port, ok := Running(dir); ok {
		t.Fatalf("Running = %d, %d, true for the dead pid %d", got, port, pid)
	}
	for _, name := range []string{PIDFileName, PortFileName, WorkerPIDFileName} {
		if exists(filepath.Join(dir, name)) {
			t.Errorf("stale %s was not removed", name)
		}
	}
}

func TestRunningKeepsAnotherWorkerPID(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pid := deadPID(t)
	// worker.pid written by someone else (the TypeScript worker) stays.
	other := fmt.Sprintf(`{"pid":%d,"port":37777,"startedAt":"2026-01-01T00:00:00Z"}`, os.Getpid())
	os.WriteFile(filepath.Join(dir, PIDFileName), []byte(strconv.Itoa(pid)), 0o644)
	os.WriteFile(filepath.Join(dir, WorkerPIDFileName), []byte(other), 0o644)
	if _, _, ok := Running(dir); ok {
		t.Fatal("Running reports the dead pid")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, WorkerPIDFileName)); string(b) != other {
		t.Errorf("worker.pid = %q, want it kept as %q", b, other)
	}
}

func TestSpawnDetachesAndStop(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		mode       string
		wantForced bool
	}{
		"graceful":    {mode: "sleep"},
		"ignore-term": {mode: "ignore-term", wantForced: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			logFile := filepath.Join(t.TempDir(), "logs", "child.log")
			proc, err := Spawn(os.Args[0], helperArgs(tt.mode), logFile)
			if err != nil {
				t.Fatalf("Spawn: %v", err)
			}
			reaped := make(chan struct{})
			go func() { proc.Wait(); close(reaped) }()
			t.Cleanup(func() { proc.Kill(); <-reaped })

			// The child prints once it runs; for ignore-term that is also
			// after it has set SIGTERM aside.
			deadline := time.Now().Add(10 * time.Second)
			for {
				b, _ := os.ReadFile(logFile)
				if strings.Contains(string(b), "helper started") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the child never wrote to its log; log: %q", b)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if sid, err := getsid(proc.Pid); err != nil || sid != proc.Pid {
				t.Errorf("child session = %d (%v), want its own session %d", sid, err, proc.Pid)
			}
			if !alive(proc.Pid) {
				t.Fatal("alive reports the running child as dead")
			}

			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			forced, err := Stop(ctx, proc.Pid)
			if err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if forced != tt.wantForced {
				t.Errorf("Stop forced = %v, want %v", forced, tt.wantForced)
			}
			if alive(proc.Pid) {
				t.Error("the child is alive after Stop")
			}
			// Stopping a process that is gone is not an error.
			<-reaped
			if forced, err := Stop(context.Background(), proc.Pid); err != nil || forced {
				t.Errorf("Stop of a reaped process = %v, %v; want false, nil", forced, err)
			}
		})
	}
}

func getsid(pid int) (int, error) {
	sid, _, errno := syscall.RawSyscall(syscall.SYS_GETSID, uintptr(pid), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(sid), nil
}

func TestAcquireClearsFilesOfADeadServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The files name a live process, but nobody holds the lock: whoever
	// wrote them is gone and the pid was reused.
	os.WriteFile(filepath.Join(dir, PIDFileName), []byte(strconv.Itoa(os.Getppid())), 0o644)
	os.WriteFile(filepath.Join(dir, PortFileName), []byte("4242"), 0o644)
	l, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	defer l.Release()
	if _, _, ok := Running(dir); ok {
		t.Error("Running still reports the files' pid after Acquire")
	}
	if exists(filepath.Join(dir, PortFileName)) {
		t.Error("the port file is still there after Acquire")
	}
}
