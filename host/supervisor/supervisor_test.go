package supervisor_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/supervisor"
	"github.com/claude-mem/claude-mem-server/plugins/queue-valkey/valkeytest"
	"github.com/claude-mem/claude-mem-server/sdk/adapter"
	"github.com/claude-mem/claude-mem-server/sdk/event"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
	"github.com/claude-mem/claude-mem-server/sdk/queue"
	"github.com/hashicorp/go-hclog"
)

// serveFutureArg makes the test binary act as a plugin that speaks only
// protocol version 2, which this host does not know.
const serveFutureArg = "serve-future-adapter"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == serveFutureArg {
		adapter.Serve(plugin.Info{Name: "adapter-future", Version: "9.0.0", ProtocolVersions: []int{2, 3}},
			func(context.Context, plugin.Config) (adapter.Adapter, error) { return nil, errors.New("unreachable") })
		os.Exit(0)
	}
	code := m.Run()
	hosttest.Cleanup()
	os.Exit(code)
}

type bundle struct {
	sup  *supervisor.Supervisor
	self string
}

func setup(t *testing.T) bundle {
	t.Helper()
	sup := supervisor.New(supervisor.Options{DataDir: t.TempDir(), StartTimeout: 10 * time.Second, MaxBackoff: 500 * time.Millisecond})
	t.Cleanup(sup.Stop)
	return bundle{sup: sup, self: hosttest.Binary(t)}
}

func selfBinary(tb testing.TB) string { return hosttest.Binary(tb) }

func bundledSpec(self string, kind plugin.Kind, name string) supervisor.Spec {
	return supervisor.Spec{Kind: kind, Name: name, Path: self, Args: []string{"plugin", "serve", string(kind), name}}
}

func sha(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestQueuePluginSurvivesKill9(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p, err := b.sup.Start(ctx, bundledSpec(b.self, plugin.KindQueue, "queue-sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := supervisor.Service[queue.Engine](p)
	if err != nil {
		t.Fatal(err)
	}
	var jobs []queue.NewJob
	for i := range 50 {
		jobs = append(jobs, queue.NewJob{ID: "job-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), Lane: "lane", Kind: "test"})
	}
	if _, err := eng.Enqueue(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	pid := p.Status().PID
	if pid <= 0 {
		t.Fatalf("plugin pid = %d", pid)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := p.Status()
		if st.State == supervisor.StateRunning && st.Restarts == 1 && st.PID != pid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin did not come back: %+v", st)
		}
		if _, err := supervisor.Service[queue.Engine](p); err != nil && !errors.Is(err, supervisor.ErrUnavailable) {
			t.Fatalf("while down: err = %v, want ErrUnavailable", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	eng, err = supervisor.Service[queue.Engine](p)
	if err != nil {
		t.Fatal(err)
	}
	c, err := eng.Counts(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Waiting != int64(len(jobs)) {
		t.Fatalf("after kill -9 and restart: %d waiting jobs, want %d (acknowledged jobs were lost)", c.Waiting, len(jobs))
	}
}

func TestAllFiveBundledPluginsStart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	valkey := valkeytest.Start(t)
	vspec := bundledSpec(b.self, plugin.KindQueue, "queue-valkey")
	vspec.Settings = map[string]string{"url": valkey.URL(), "prefix": "supervisortest"}
	for _, spec := range []supervisor.Spec{
		bundledSpec(b.self, plugin.KindQueue, "queue-sqlite"),
		vspec,
		bundledSpec(b.self, plugin.KindAuth, "auth-apikey"),
		bundledSpec(b.self, plugin.KindAdapter, "adapter-claudecode"),
		bundledSpec(b.self, plugin.KindAdapter, "adapter-generic"),
	} {
		if _, err := b.sup.Start(ctx, spec); err != nil {
			t.Fatalf("start %s: %v", spec.Name, err)
		}
	}
	sts := b.sup.Statuses()
	if len(sts) != 5 {
		t.Fatalf("%d plugins, want 5", len(sts))
	}
	for _, st := range sts {
		if st.State != supervisor.StateRunning || st.Protocol != 1 || st.PID <= 0 || st.Version == "" {
			t.Errorf("plugin %s: %+v", st.Name, st)
		}
	}
}

func TestExternalPluginFromExample(t *testing.T) {
	t.Parallel()
	b := setup(t)
	bin := hosttest.BuildPackage(t, "./examples/adapter-echo", t.TempDir())
	p, err := b.sup.Start(context.Background(), supervisor.Spec{Kind: plugin.KindAdapter, Name: "adapter-echo", Path: bin, SHA256: sha(t, bin)})
	if err != nil {
		t.Fatal(err)
	}
	a, err := supervisor.Service[adapter.Adapter](p)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Normalize(context.Background(), adapter.NormalizeRequest{Source: "echo", Event: "Say", Raw: []byte(`{"session":"s1","text":"hello"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 1 || res.Events[0].Text != "hello" || res.Events[0].Type != event.TypeUserPrompt {
		t.Fatalf("normalize through the external plugin: %+v", res)
	}
	if _, err := a.Normalize(context.Background(), adapter.NormalizeRequest{Event: "Shout"}); !errors.Is(err, adapter.ErrUnknownEvent) {
		t.Fatalf("unknown event: err = %v, want ErrUnknownEvent across the wire", err)
	}
	if st := p.Status(); st.Version != "1.0.0" || st.Protocol != adapter.ProtocolVersion {
		t.Fatalf("status %+v", st)
	}
}

func TestChecksumMismatchIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	bin := filepath.Join(t.TempDir(), "adapter-echo")
	data, err := os.ReadFile(b.self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	want := strings.Repeat("ab", 32)
	_, err = b.sup.Start(context.Background(), supervisor.Spec{Kind: plugin.KindAdapter, Name: "adapter-echo", Path: bin, SHA256: want})
	if err == nil {
		t.Fatal("a binary with the wrong hash was started")
	}
	for _, s := range []string{want, sha(t, bin), "checksum mismatch", bin} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
	if n := len(b.sup.Statuses()); n != 0 {
		t.Fatalf("%d plugins registered after a refused start", n)
	}
}

func TestProtocolMismatchIsRefused(t *testing.T) {
	t.Parallel()
	sup := supervisor.New(supervisor.Options{DataDir: t.TempDir(), StartTimeout: 10 * time.Second})
	t.Cleanup(sup.Stop)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	_, err = sup.Start(context.Background(), supervisor.Spec{Kind: plugin.KindAdapter, Name: "adapter-future", Path: self, Args: []string{serveFutureArg}})
	var verr *plugin.VersionError
	if !errors.As(err, &verr) {
		t.Fatalf("err = %v, want a *plugin.VersionError", err)
	}
	for _, s := range []string{`"adapter-future"`, "[2 3]", "[1]"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
}

func TestKindMismatchIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	spec := bundledSpec(b.self, plugin.KindQueue, "queue-sqlite")
	spec.Kind = plugin.KindAuth
	if _, err := b.sup.Start(context.Background(), spec); err == nil {
		t.Fatal("a queue plugin was accepted as an auth plugin")
	}
}

// TestStopIsGraceful: stopping the supervisor shuts every plugin down
// through go-plugin's controller and waits for it, with nothing in the log
// above info. (The restart watcher used to Kill a stopping plugin a second
// time, which failed to close the connection the first Kill had closed and
// logged two warnings per plugin on every stop.)
func TestStopIsGraceful(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var logs bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: &lockedWriter{mu: &mu, w: &logs}})
	sup := supervisor.New(supervisor.Options{DataDir: t.TempDir(), StartTimeout: 10 * time.Second, Logger: log})
	self := selfBinary(t)
	for _, spec := range []supervisor.Spec{
		bundledSpec(self, plugin.KindQueue, "queue-sqlite"),
		bundledSpec(self, plugin.KindAuth, "auth-apikey"),
		bundledSpec(self, plugin.KindAdapter, "adapter-generic"),
	} {
		if _, err := sup.Start(context.Background(), spec); err != nil {
			t.Fatalf("start %s: %v", spec.Name, err)
		}
	}
	sup.Stop()
	mu.Lock()
	defer mu.Unlock()
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "[WARN]") || strings.Contains(line, "[ERROR]") {
			t.Errorf("stop logged: %s", line)
		}
	}
	if n := strings.Count(logs.String(), "plugin process exited"); n != 3 {
		t.Errorf("%d plugin processes exited, want 3:\n%s", n, logs.String())
	}
}

// lockedWriter serializes the writes of concurrent loggers.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
