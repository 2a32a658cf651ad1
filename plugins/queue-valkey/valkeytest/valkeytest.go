// Package valkeytest runs a throwaway redis-server for tests: durable (AOF
// with fsync always), loopback only, in a temporary directory, killed when the
// test ends. Host tests can use it to exercise the Valkey queue engine.
//
// When redis-server is not installed, Start skips the test, unless the CI
// environment variable is set: CI must run these tests, so there it fails
// with an install hint.
package valkeytest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary is the server executable looked up on PATH.
const Binary = "redis-server"

// startTimeout bounds how long a server may take to answer after launch.
const startTimeout = 10 * time.Second

// Server is a running (or stopped) redis-server.
type Server struct {
	// Addr is host:port.
	Addr string
	// Dir holds the server's AOF files and its log (server.log).
	Dir string

	args []string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Available reports whether redis-server is on PATH.
func Available() bool {
	_, err := exec.LookPath(Binary)
	return err == nil
}

// Start starts redis-server on a free loopback port with a durable
// configuration; extra args are appended (later ones override earlier
// ones), e.g. "--maxmemory-policy", "allkeys-lru". It waits until the server
// answers and stops it in t.Cleanup.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	if !Available() {
		if os.Getenv("CI") != "" {
			t.Fatalf("valkeytest: %s is not on PATH; install it (apt-get install redis-server, or valkey-server linked as redis-server)", Binary)
		}
		t.Skipf("valkeytest: %s is not on PATH (apt-get install redis-server); skipping", Binary)
	}
	s, err := Launch(t.TempDir(), args...)
	if err != nil {
		t.Fatalf("valkeytest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Launch is Start for callers without a testing.TB, such as TestMain: it
// keeps the server's files in dir, and the caller must call Close.
func Launch(dir string, args ...string) (*Server, error) {
	var lastErr error
	// A free port can be taken between our probe and the server's bind;
	// try a few.
	for range 3 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: dir}
		s.args = append([]string{
			"--save", "",
			"--appendonly", "yes",
			"--appendfsync", "always",
			"--dir", dir,
			"--maxmemory-policy", "noeviction",
			"--bind", "127.0.0.1",
			"--port", strconv.Itoa(port),
			"--logfile", "server.log",
		}, args...)
		if lastErr = s.start(); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

// URL is the redis:// URL of the server, database 0.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(Binary, s.args...)
	cmd.Dir = s.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", Binary, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(startTimeout)
	for {
		if err := probe(s.Addr); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("%s on %s did not become ready: %w\n%s%s", Binary, s.Addr, err, out.String(), s.logTail())
		}
		select {
		case <-done:
			return fmt.Errorf("%s on %s exited during start-up\n%s%s", Binary, s.Addr, out.String(), s.logTail())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop kills the server with SIGKILL, as a crash or an outage would. Its
// files stay, so Restart brings it back with its data.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kill()
}

func (s *Server) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	s.cmd = nil
}

// Restart starts a stopped server again on the same port and directory, so
// it replays its AOF. It fails the test if the server does not come back.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		t.Fatalf("valkeytest: restart: %v", err)
	}
}

// Close kills the server. It is safe to call more than once.
func (s *Server) Close() { s.Stop() }

// logTail returns the end of the server's log, for start-up failures.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.Dir + "/server.log")
	if err != nil {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return "server.log:\n" + string(b)
}

// probe checks that the server serves data commands. PING alone would
// answer while the AOF is still loading; EXISTS is refused until then.
func probe(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\nEXISTS valkeytest:probe\r\n")); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	for _, want := range []string{"+PONG", ":0"} {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if got := strings.TrimSpace(line); got != want {
			return errors.New("server replied " + got)
		}
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
