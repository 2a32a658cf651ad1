package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/daemon"
	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/server"
	"github.com/claude-mem/claude-mem-server/host/version"
)

func TestMain(m *testing.M) {
	code := m.Run()
	hosttest.Cleanup()
	os.Exit(code)
}

// testBundle is a claude-mem binary with its own home, data dir and port.
type testBundle struct {
	bin     string
	dataDir string
	port    int
	env     []string
}

func setup(t *testing.T, env ...string) *testBundle {
	t.Helper()
	home := t.TempDir()
	b := &testBundle{bin: hosttest.Binary(t), dataDir: filepath.Join(home, "data"), port: hosttest.FreePort(t)}
	b.env = append([]string{
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"CLAUDE_MEM_DATA_DIR=" + b.dataDir,
		"CLAUDE_MEM_SERVER_PORT=" + strconv.Itoa(b.port),
	}, env...)
	// Whatever a test leaves running dies before its directories go.
	t.Cleanup(func() {
		if pid, _, ok := daemon.Running(b.dataDir); ok {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			daemon.Stop(ctx, pid)
		}
	})
	return b
}

type result struct {
	stdout, stderr string
	code           int
	elapsed        time.Duration
}

// run runs the binary and waits at most 30s for it.
func (b *testBundle) run(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.bin, args...)
	cmd.Env = b.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("claude-mem %s: %v\nstderr: %s", strings.Join(args, " "), err, r.stderr)
	}
	if ctx.Err() != nil {
		t.Fatalf("claude-mem %s did not finish within 30s\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.stdout, r.stderr)
	}
	return r
}

// mustRun runs the binary and fails the test unless it exits with want.
func (b *testBundle) mustRun(t *testing.T, want int, args ...string) result {
	t.Helper()
	r := b.run(t, args...)
	if r.code != want {
		t.Fatalf("claude-mem %s: exit code %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return r
}

func (b *testBundle) writeConfig(t *testing.T, yaml string) {
	t.Helper()
	if err := os.MkdirAll(b.dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dataDir, config.ConfigFileName), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
}

// wantPlugins is how many plugins a server on the default SQLite engine
// runs: the engine, the auth provider and the bundled adapters.
func wantPlugins(t *testing.T) int {
	t.Helper()
	specs, err := server.PluginSpecs(config.Config{Queue: config.Queue{Engine: config.EngineSQLite}}, "claude-mem")
	if err != nil {
		t.Fatal(err)
	}
	return len(specs)
}

func (b *testBundle) status(t *testing.T, args ...string) statusJSON {
	t.Helper()
	r := b.mustRun(t, 0, append(args, "status", "--json")...)
	var st statusJSON
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	return st
}

func TestServerLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)

	r := b.mustRun(t, 0, "server", "start")
	wantStarted := fmt.Sprintf("on http://127.0.0.1:%d; logs: %s", b.port, filepath.Join(b.dataDir, "logs", "server.log"))
	if !strings.HasPrefix(r.stdout, "claude-mem server started (pid ") || !strings.Contains(r.stdout, wantStarted) {
		t.Errorf("start printed %q, want the pid, address and log file", r.stdout)
	}
	t.Logf("server start took %s", r.elapsed)

	st := b.status(t, "server")
	if !st.Running || st.PID <= 0 || st.Port != b.port || st.Engine != config.EngineSQLite {
		t.Errorf("status = %+v; want running on port %d with engine sqlite", st, b.port)
	}
	if len(st.Plugins) != wantPlugins(t) {
		t.Errorf("status lists %d plugins, want %d: %+v", len(st.Plugins), wantPlugins(t), st.Plugins)
	}
	for _, p := range st.Plugins {
		if p.PID <= 0 || p.Restarts != 0 || p.State != "running" || p.Protocol < 1 || p.Version == "" {
			t.Errorf("plugin %+v: want running, pid > 0, 0 restarts, a version and a protocol", p)
		}
	}
	if ws := b.status(t, "worker"); ws.PID != st.PID || len(ws.Plugins) != len(st.Plugins) {
		t.Errorf("worker status = %+v, want the same server as server status %+v", ws, st)
	}
	human := b.mustRun(t, 0, "server", "status")
	for _, want := range []string{"is running", strconv.Itoa(st.PID), "queue-sqlite", "adapter-claudecode"} {
		if !strings.Contains(human.stdout, want) {
			t.Errorf("status output lacks %q:\n%s", want, human.stdout)
		}
	}
	var w daemon.WorkerPID
	if raw, err := os.ReadFile(filepath.Join(b.dataDir, daemon.WorkerPIDFileName)); err != nil {
		t.Error(err)
	} else if err := json.Unmarshal(raw, &w); err != nil || w.PID != st.PID || w.Port != b.port || w.StartedAt == "" {
		t.Errorf("worker.pid = %s (%v), want pid %d and port %d", raw, err, st.PID, b.port)
	}

	logs := b.mustRun(t, 0, "server", "logs", "-n", "3")
	if n := strings.Count(logs.stdout, "\n"); n != 3 {
		t.Errorf("logs -n 3 printed %d lines, want 3:\n%s", n, logs.stdout)
	}
	logs = b.mustRun(t, 0, "server", "logs")
	if !strings.Contains(logs.stdout, "server listening") {
		t.Errorf("logs lack the listening line:\n%s", logs.stdout)
	}

	for _, args := range [][]string{{"server", "start"}, {"server", "start", "--foreground"}, {"worker", "start"}} {
		r := b.run(t, args...)
		want := fmt.Sprintf("a claude-mem server is already running (pid %d, port %d)", st.PID, b.port)
		if r.code == 0 || !strings.Contains(r.stderr, want) {
			t.Errorf("%s with a server running: exit %d, stderr %q; want non-zero and %q", strings.Join(args, " "), r.code, r.stderr, want)
		}
	}

	b.mustRun(t, 0, "worker", "restart")
	restarted := b.status(t, "server")
	if restarted.PID == st.PID || restarted.PID <= 0 {
		t.Errorf("after restart the pid is %d, want a new one (was %d)", restarted.PID, st.PID)
	}

	r = b.mustRun(t, 0, "server", "stop")
	if want := fmt.Sprintf("claude-mem server stopped (pid %d)", restarted.PID); !strings.Contains(r.stdout, want) {
		t.Errorf("stop printed %q, want %q", r.stdout, want)
	}
	r = b.mustRun(t, ExitNotRunning, "server", "status", "--json")
	if strings.TrimSpace(r.stdout) != `{"running":false}` {
		t.Errorf("status --json after stop = %q", r.stdout)
	}
	r = b.mustRun(t, ExitNotRunning, "worker", "status")
	if !strings.Contains(r.stdout, "not running") {
		t.Errorf("status after stop = %q, want not running", r.stdout)
	}
	for _, name := range []string{daemon.PIDFileName, daemon.PortFileName, daemon.WorkerPIDFileName} {
		if _, err := os.Stat(filepath.Join(b.dataDir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after stop: %v, want it gone", name, err)
		}
	}
	r = b.mustRun(t, 0, "server", "stop")
	if !strings.Contains(r.stdout, "not running") {
		t.Errorf("second stop printed %q, want not running", r.stdout)
	}
}

func TestValkeyUnreachableFailsFast(t *testing.T) {
	t.Parallel()
	url := fmt.Sprintf("redis://127.0.0.1:%d", hosttest.FreePort(t))
	b := setup(t, "CLAUDE_MEM_QUEUE_ENGINE=bullmq", "CLAUDE_MEM_REDIS_URL="+url)

	r := b.run(t, "server", "start", "--foreground")
	if r.code == 0 {
		t.Fatalf("server start --foreground succeeded without Valkey\nstderr: %s", r.stderr)
	}
	if r.elapsed > 10*time.Second {
		t.Errorf("server start took %s to fail, want under 10s", r.elapsed)
	}
	if !strings.Contains(r.stderr, "claude-mem: ") || !strings.Contains(r.stderr, url) {
		t.Errorf("stderr does not name %s:\n%s", url, r.stderr)
	}
	if _, _, ok := daemon.Running(b.dataDir); ok {
		t.Error("a server is recorded as running after the failed start")
	}

	// In the background, start reports the child's failure and its log.
	r = b.run(t, "server", "start")
	if r.code == 0 || !strings.Contains(r.stderr, url) || !strings.Contains(r.stderr, "exited during start-up") {
		t.Errorf("background start without Valkey: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestUnknownConfigKeyFailsStart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.writeConfig(t, "server:\n  prot: 8080\n")

	r := b.run(t, "server", "start", "--foreground")
	if r.code == 0 || !strings.Contains(r.stderr, `unknown key "server.prot"`) {
		t.Errorf("start with an unknown key: exit %d, stderr %q; want non-zero naming server.prot", r.code, r.stderr)
	}
	r = b.run(t, "server", "doctor")
	if r.code != 1 || !strings.Contains(r.stdout, `FAIL config: `) || !strings.Contains(r.stdout, `"server.prot"`) {
		t.Errorf("doctor with an unknown key: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestDoctor(t *testing.T) {
	t.Parallel()
	t.Run("fresh data dir passes", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.mustRun(t, 0, "server", "doctor")
		if strings.Contains(r.stdout, "FAIL") {
			t.Errorf("doctor on a fresh data dir failed a check:\n%s", r.stdout)
		}
		for _, check := range []string{"PASS config:", "PASS data dir:", fmt.Sprintf("PASS port %d:", b.port)} {
			if !strings.Contains(r.stdout, check) {
				t.Errorf("doctor output lacks %q:\n%s", check, r.stdout)
			}
		}
		if n := strings.Count(r.stdout, "PASS plugin "); n != wantPlugins(t) {
			t.Errorf("doctor passed %d plugins, want %d:\n%s", n, wantPlugins(t), r.stdout)
		}
	})
	t.Run("bad checksum fails", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.writeConfig(t, fmt.Sprintf(`plugins:
  external:
    - kind: adapter
      name: pinned
      path: %s
      sha256: "%s"
`, b.bin, strings.Repeat("0", 64)))
		r := b.mustRun(t, 1, "server", "doctor")
		var line string
		for l := range strings.SplitSeq(r.stdout, "\n") {
			if strings.HasPrefix(l, "FAIL checksum adapter/pinned: ") {
				line = l
			}
		}
		if line == "" || !strings.Contains(line, "checksum mismatch") || !strings.Contains(line, " — fix: ") {
			t.Errorf("doctor output lacks a FAIL checksum line with a fix:\n%s", r.stdout)
		}
	})
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.mustRun(t, 0, "server", "migrate", "--status")
	if !strings.Contains(r.stdout, "0001") || !strings.Contains(r.stdout, "pending") || strings.Contains(r.stdout, "applied") {
		t.Errorf("migrate --status on a fresh store:\n%s", r.stdout)
	}
	r = b.mustRun(t, 0, "server", "migrate")
	if !strings.Contains(r.stdout, "applied 0001_") {
		t.Errorf("migrate:\n%s", r.stdout)
	}
	r = b.mustRun(t, 0, "server", "migrate", "--status")
	if strings.Contains(r.stdout, "pending") || !strings.Contains(r.stdout, "applied 20") {
		t.Errorf("migrate --status after migrate:\n%s", r.stdout)
	}
	r = b.mustRun(t, 0, "server", "migrate")
	if !strings.Contains(r.stdout, "up to date") {
		t.Errorf("second migrate:\n%s", r.stdout)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.mustRun(t, 0, "version")
	if want := "claude-mem " + version.Version + " (" + version.Runtime + ", go"; !strings.HasPrefix(r.stdout, want) {
		t.Errorf("version printed %q, want it to start with %q", r.stdout, want)
	}
}

func TestPluginServeUnknown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.mustRun(t, 1, "plugin", "serve", "queue", "no-such-engine")
	if r.stdout != "" {
		t.Errorf("plugin serve wrote to stdout, which carries the handshake: %q", r.stdout)
	}
	if !strings.Contains(r.stderr, `no bundled queue plugin named "no-such-engine"`) {
		t.Errorf("stderr = %q", r.stderr)
	}
}

func TestUnknownCommandFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, args := range [][]string{{"server", "bogus"}, {"bogus"}, {"server", "start", "--bogus"}} {
		r := b.run(t, args...)
		if r.code != 1 || !strings.HasPrefix(r.stderr, "claude-mem: ") {
			t.Errorf("%s: exit %d, stderr %q; want 1 and one claude-mem: error", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

func TestTailLines(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in    string
		start int64
		n     int
		want  string
	}{
		"fewer lines than asked": {in: "a\nb\n", n: 5, want: "a\nb\n"},
		"last two":               {in: "a\nb\nc\n", n: 2, want: "b\nc\n"},
		"no trailing newline":    {in: "a\nb\nc", n: 2, want: "b\nc"},
		"zero":                   {in: "a\n", n: 0, want: ""},
		"empty":                  {in: "", n: 3, want: ""},
		"from an offset":         {in: "old\nnew1\nnew2\n", start: 4, n: 5, want: "new1\nnew2\n"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := tailLines(strings.NewReader(tt.in), tt.start, int64(len(tt.in)), tt.n)
			if err != nil || string(got) != tt.want {
				t.Errorf("tailLines(%q, %d, %d) = %q, %v; want %q", tt.in, tt.start, tt.n, got, err, tt.want)
			}
		})
	}
	// Longer than one read block.
	var long strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&long, "line %d\n", i)
	}
	got, err := tailLines(strings.NewReader(long.String()), 0, int64(long.Len()), 2)
	if err != nil || string(got) != "line 19998\nline 19999\n" {
		t.Errorf("tail of a long file = %q, %v", got, err)
	}
}
