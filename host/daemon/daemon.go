// Package daemon is the process management of the background server: the
// lock that keeps two servers off one data directory, the pid and port
// files that tell the CLI where the server is, starting a detached server
// process, and stopping it.
//
// A server owns these files in its data directory:
//
//	server.lock  an exclusive flock held for the server's lifetime; it
//	             holds the server's pid. It is never removed, since
//	             removing a lock file races with the next server taking it.
//	server.pid   the server's pid, written once it listens.
//	server.port  the port it listens on.
//	worker.pid   {"pid":N,"port":N,"startedAt":"RFC3339"}, the file the
//	             TypeScript claude-mem hooks read to find their worker.
//
// The pid, port and worker.pid files are removed on a clean exit; files
// left by a server that died are removed by the next [Running].
package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// File names inside the data directory.
const (
	LockFileName      = "server.lock"
	PIDFileName       = "server.pid"
	PortFileName      = "server.port"
	WorkerPIDFileName = "worker.pid"
)

// RunningError is returned by [Acquire] when another server holds the data
// directory's lock.
type RunningError struct {
	DataDir string
	// PID is the server holding the lock, 0 if it could not be read.
	PID int
	// Port is the port it listens on, 0 while it is still starting.
	Port int
}

func (e *RunningError) Error() string {
	var who string
	switch {
	case e.PID > 0 && e.Port > 0:
		who = fmt.Sprintf(" (pid %d, port %d)", e.PID, e.Port)
	case e.PID > 0:
		who = fmt.Sprintf(" (pid %d, still starting)", e.PID)
	}
	return "a claude-mem server is already running" + who + "; stop it with `claude-mem server stop`"
}

// WorkerPID is the content of worker.pid.
type WorkerPID struct {
	PID       int    `json:"pid"`
	Port      int    `json:"port"`
	StartedAt string `json:"startedAt"`
}

// Lock is a data directory claimed by this process. Acquire takes it,
// Publish announces the server, Release gives it up.
type Lock struct {
	dataDir string
	pid     int
	file    *os.File
}

// DataDir is the locked data directory.
func (l *Lock) DataDir() string { return l.dataDir }

// Publish writes the pid, port and worker.pid files for a server of this
// process listening on port. Call it once the server listens.
func (l *Lock) Publish(port int, startedAt time.Time) error {
	worker, err := json.Marshal(WorkerPID{PID: l.pid, Port: port, StartedAt: startedAt.UTC().Format(time.RFC3339)})
	if err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	// The port first: a pid file means the port file is there too.
	for _, f := range []struct {
		name string
		data []byte
	}{
		{PortFileName, []byte(strconv.Itoa(port) + "\n")},
		{WorkerPIDFileName, append(worker, '\n')},
		{PIDFileName, []byte(strconv.Itoa(l.pid) + "\n")},
	} {
		if err := writeFileAtomic(filepath.Join(l.dataDir, f.name), f.data); err != nil {
			return err
		}
	}
	return nil
}

// Release removes the files Publish wrote, where they still name this
// process, and gives up the lock. It is safe to call more than once.
func (l *Lock) Release() error {
	if l.file == nil {
		return nil
	}
	removeFiles(l.dataDir, l.pid)
	err := unlock(l.file)
	l.file = nil
	return err
}

// Running reports the server recorded in dataDir's pid and port files if
// that process is alive. Files left behind by a server that is gone are
// removed.
func Running(dataDir string) (pid, port int, ok bool) {
	pid, err := readInt(filepath.Join(dataDir, PIDFileName))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			removeFiles(dataDir, 0) // unreadable: nobody can use it
		}
		return 0, 0, false
	}
	if !alive(pid) {
		removeFiles(dataDir, pid)
		return 0, 0, false
	}
	port, _ = readInt(filepath.Join(dataDir, PortFileName))
	return pid, port, true
}

// removeFiles removes the pid and port files if the pid file names pid (or
// pid is 0, meaning whatever they hold), and worker.pid if it names pid.
func removeFiles(dataDir string, pid int) {
	pidFile := filepath.Join(dataDir, PIDFileName)
	if got, err := readInt(pidFile); pid == 0 || (err == nil && got == pid) {
		os.Remove(pidFile)
		os.Remove(filepath.Join(dataDir, PortFileName))
	}
	workerFile := filepath.Join(dataDir, WorkerPIDFileName)
	if b, err := os.ReadFile(workerFile); err == nil {
		var w WorkerPID
		if json.Unmarshal(b, &w) == nil && w.PID == pid && pid != 0 {
			os.Remove(workerFile)
		}
	}
}

// lockHolder describes the server holding dataDir's lock, for RunningError.
func lockHolder(dataDir string, lockFile *os.File) *RunningError {
	e := &RunningError{DataDir: dataDir}
	b := make([]byte, 32)
	n, _ := lockFile.ReadAt(b, 0)
	e.PID, _ = strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if pid, port, ok := Running(dataDir); ok && (e.PID == 0 || pid == e.PID) {
		e.PID, e.Port = pid, port
	}
	return e
}

func readInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("daemon: %s does not hold a positive number", path)
	}
	return n, nil
}

// writeFileAtomic writes through a temporary file and a rename, so a reader
// never sees half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("daemon: write %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("daemon: write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("daemon: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("daemon: write %s: %w", path, err)
	}
	return nil
}
