package server_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/plugins/queue-valkey/valkeytest"
)

// compose is the part of compose.yaml these tests read.
type compose struct {
	Services map[string]struct {
		Build       any               `yaml:"build"`
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func repoFile(t *testing.T, name string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", name)
}

func loadCompose(t *testing.T) compose {
	t.Helper()
	b, err := os.ReadFile(repoFile(t, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c
}

// flagValue returns the value after flag in a command line.
func flagValue(cmd []string, flag string) string {
	i := slices.Index(cmd, flag)
	if i < 0 || i+1 >= len(cmd) {
		return ""
	}
	return cmd[i+1]
}

func TestComposeFile(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	if len(c.Services) != 2 {
		t.Fatalf("compose.yaml has %d services, want claude-mem and valkey", len(c.Services))
	}
	cm, ok := c.Services["claude-mem"]
	if !ok {
		t.Fatal("no claude-mem service")
	}
	if cm.Build == nil {
		t.Error("claude-mem is not built from the repo's Dockerfile")
	}
	if !slices.Contains(cm.Volumes, "claude-mem-data:/data") || cm.Environment["CLAUDE_MEM_DATA_DIR"] != "/data" {
		t.Errorf("claude-mem data is not on a volume at /data: %v %v", cm.Volumes, cm.Environment)
	}
	if !slices.Contains(cm.Healthcheck.Test, "healthcheck") {
		t.Errorf("claude-mem healthcheck %v does not probe /healthz", cm.Healthcheck.Test)
	}
	if len(cm.Ports) == 0 {
		t.Error("the server port is not published")
	}
	for _, p := range cm.Ports {
		if !strings.HasPrefix(p, "127.0.0.1:") {
			t.Errorf("port %q is published beyond 127.0.0.1", p)
		}
	}
	if e := cm.Environment["CLAUDE_MEM_QUEUE_ENGINE"]; e != "valkey" && e != "bullmq" {
		t.Errorf("engine %q", e)
	}
	if cm.Environment["CLAUDE_MEM_AUTH_MODE"] != "api-key" {
		t.Error("a server listening on every interface must require API keys")
	}

	vk, ok := c.Services["valkey"]
	if !ok {
		t.Fatal("no valkey service")
	}
	if len(vk.Ports) != 0 {
		t.Errorf("valkey publishes host ports %v", vk.Ports)
	}
	if flagValue(vk.Command, "--appendonly") != "yes" {
		t.Errorf("valkey runs without AOF: %v", vk.Command)
	}
	if flagValue(vk.Command, "--maxmemory-policy") != "noeviction" {
		t.Errorf("valkey may evict keys: %v", vk.Command)
	}
	dir := flagValue(vk.Command, "--dir")
	if !slices.ContainsFunc(vk.Volumes, func(v string) bool { return strings.HasSuffix(v, ":"+dir) }) {
		t.Errorf("valkey's --dir %q is not on a volume: %v", dir, vk.Volumes)
	}
	for _, v := range []string{"claude-mem-data", "valkey-data"} {
		if _, ok := c.Volumes[v]; !ok {
			t.Errorf("volume %s is not declared", v)
		}
	}
}

func TestDockerfileBuildsAStaticBinaryOnAMinimalBase(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(repoFile(t, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{"CGO_ENABLED=0", "./cmd/claude-mem", "distroless/static", "USER nonroot", `"server", "start", "--foreground"`} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

// TestComposeStack runs redis-server and claude-mem with the arguments and
// environment compose.yaml gives them, with only host names, ports and
// directories adapted to this machine.
func TestComposeStack(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	vk := c.Services["valkey"]
	var args []string
	for i := 1; i < len(vk.Command); i += 2 {
		if vk.Command[i] == "--dir" {
			continue // valkeytest chooses a temporary directory
		}
		args = append(args, vk.Command[i], vk.Command[i+1])
	}
	redis := valkeytest.Start(t, args...)

	cm := c.Services["claude-mem"]
	dir := t.TempDir()
	port := hosttest.FreePort(t)
	env := []string{"HOME=" + dir}
	for k, v := range cm.Environment {
		switch k {
		case "CLAUDE_MEM_DATA_DIR":
			v = dir
		case "CLAUDE_MEM_SERVER_PORT":
			v = strconv.Itoa(port)
		case "CLAUDE_MEM_SERVER_HOST":
			v = "127.0.0.1"
		case "CLAUDE_MEM_REDIS_URL":
			v = strings.Replace(v, "valkey:6379", redis.Addr, 1)
		}
		env = append(env, k+"="+v)
	}
	// api-key mode answers nothing but /healthz without a key: mint one on
	// the data dir before the server starts, as docs/security.md says.
	mint := exec.Command(hosttest.Binary(t), "server", "api-key", "create", "--scope", "*", "--name", "compose")
	mint.Env = env
	out, err := mint.Output()
	if err != nil {
		t.Fatalf("api-key create: %v", err)
	}
	key := strings.TrimSpace(string(out))
	cmd := exec.Command(hosttest.Binary(t), cm.Command...)
	cmd.Env = env
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	info := waitHealthyWithKey(t, fmt.Sprintf("http://127.0.0.1:%d", port), key)
	if info.QueueEngine != "valkey" {
		t.Fatalf("engine %q, want valkey", info.QueueEngine)
	}
	// The healthcheck's arguments follow "CMD" and the binary's path.
	probe := exec.Command(hosttest.Binary(t), cm.Healthcheck.Test[2:]...)
	probe.Env = env
	if out, err := probe.CombinedOutput(); err != nil {
		t.Fatalf("the compose healthcheck fails against a healthy server: %v\n%s", err, out)
	}

	// One event end to end: posted with the key, queued through Valkey,
	// generated into an observation that search finds.
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	ev := `{"type":"tool_use","platform_source":"codex","content_session_id":"compose-e2e","cwd":"/src/compose",
		"tool_name":"Edit","tool_use_id":"call_compose_1","tool_input":{"file_path":"/src/compose/quokka.go","old_string":"a","new_string":"b"},
		"tool_response":{"success":true}}`
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/events", strings.NewReader(ev))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /v1/events: %d\n%s", resp.StatusCode, logs.String())
	}
	waitFor(t, 20*time.Second, "the event's observation", func() bool {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/search?query=quokka&format=json", nil)
		req.Header.Set("X-Api-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK && strings.Contains(string(body), "quokka.go")
	})
	// Valkey carries IDs and routing only: the event's content is in none
	// of the writes its AOF recorded, while the job is.
	var aof []byte
	_ = filepath.WalkDir(redis.Dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(path, "appendonly") {
			b, _ := os.ReadFile(path)
			aof = append(aof, b...)
		}
		return nil
	})
	if !strings.Contains(string(aof), cm.Environment["CLAUDE_MEM_QUEUE_REDIS_PREFIX"]) {
		t.Fatalf("the AOF holds no job of this queue (%d bytes): the check below would prove nothing", len(aof))
	}
	for _, secret := range []string{"quokka", "/src/compose", "old_string"} {
		if strings.Contains(string(aof), secret) {
			t.Errorf("Valkey's AOF holds event content %q", secret)
		}
	}
}
