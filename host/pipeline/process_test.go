package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/store"
	"github.com/claude-mem/claude-mem-server/plugins/queue-valkey/valkeytest"
)

// slowLLM answers like fakeLLM, slowly, so that generation is in flight
// when the host is killed.
type slowLLM struct {
	fakeLLM
	delay time.Duration
}

func (s *slowLLM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-time.After(s.delay):
	case <-r.Context().Done():
		return
	}
	s.fakeLLM.ServeHTTP(w, r)
}

type hostProc struct {
	cmd  *exec.Cmd
	base string
	logs *bytes.Buffer
	mu   *sync.Mutex
}

func startHost(t *testing.T, dir, llmURL string, extraEnv ...string) *hostProc {
	t.Helper()
	port := hosttest.FreePort(t)
	cmd := exec.Command(hosttest.Binary(t), "server", "start", "--foreground")
	cmd.Env = append([]string{
		"CLAUDE_MEM_DATA_DIR=" + dir, "CLAUDE_MEM_SERVER_PORT=" + strconv.Itoa(port), "HOME=" + dir,
		"CLAUDE_MEM_GENERATION_PROVIDER=openai", "CLAUDE_MEM_GENERATION_BASE_URL=" + llmURL + "/v1",
		"CLAUDE_MEM_GENERATION_API_KEY=test-key", "CLAUDE_MEM_QUEUE_CONCURRENCY=3",
	}, extraEnv...)
	h := &hostProc{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), logs: &bytes.Buffer{}, mu: &sync.Mutex{}}
	cmd.Stdout, cmd.Stderr = lockedWriter{h}, lockedWriter{h}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		if info, err := h.info(); err == nil && info.Status == "ok" {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("host did not become healthy:\n%s", h.log())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type lockedWriter struct{ h *hostProc }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.h.mu.Lock()
	defer w.h.mu.Unlock()
	return w.h.logs.Write(p)
}

func (h *hostProc) log() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.logs.String()
}

func (h *hostProc) info() (httpapi.Info, error) {
	var info httpapi.Info
	resp, err := http.Get(h.base + "/v1/info")
	if err != nil {
		return info, err
	}
	defer resp.Body.Close()
	return info, json.NewDecoder(resp.Body).Decode(&info)
}

func openJobs(outbox map[string]int64) int64 {
	return outbox["queued"] + outbox["enqueued"] + outbox["processing"] + outbox["retry_scheduled"]
}

// TestKill9MidGenerationProcessesEveryEventOnce kills the host with SIGKILL
// while a model is generating, restarts it on the same data directory, and
// checks that every event is then observed exactly once and every turn
// summarized exactly once.
func TestKill9MidGenerationProcessesEveryEventOnce(t *testing.T) {
	t.Parallel()
	kill9MidGeneration(t, nil, nil)
}

// TestKill9OfHostAndValkey does the same on the Valkey engine, and also
// kills Valkey with SIGKILL while the host is down and restarts it from
// its AOF before the host comes back.
func TestKill9OfHostAndValkey(t *testing.T) {
	t.Parallel()
	redis := valkeytest.Start(t)
	env := []string{"CLAUDE_MEM_QUEUE_ENGINE=valkey", "CLAUDE_MEM_REDIS_URL=" + redis.URL(), "CLAUDE_MEM_QUEUE_REDIS_PREFIX=kill9"}
	kill9MidGeneration(t, env, func() {
		redis.Stop()
		redis.Restart(t)
	})
}

// kill9MidGeneration replays two sessions, kills the host with SIGKILL
// mid-generation, runs between (if set), restarts the host on the same data
// directory, and checks every event is observed once and every working
// turn summarized once.
func kill9MidGeneration(t *testing.T, env []string, between func()) {
	llm := &slowLLM{delay: 150 * time.Millisecond}
	api := httptest.NewServer(llm)
	t.Cleanup(api.Close)
	dir := t.TempDir()
	// A short lease, so that the jobs the killed host held come back soon.
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("queue:\n  lock_duration: 2s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startHost(t, dir, api.URL, env...)
	sessions := []string{"aaaa1111-kill", "bbbb2222-kill"}
	for _, id := range sessions {
		for i, c := range claudeCodeSession(id, "/home/dev/src/shop") {
			resp, err := http.Post(h.base+"/v1/hooks/claude-code/"+c.Event, "application/json", bytes.NewReader(c.Body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
				t.Fatalf("%s payload %d: %d", id, i, resp.StatusCode)
			}
		}
	}
	// Kill once the model has answered a few calls, with work still open.
	deadline := time.Now().Add(20 * time.Second)
	for len(llm.received()) < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("the model got %d calls", len(llm.received()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = h.cmd.Wait()
	before := len(llm.received())
	if between != nil {
		between()
	}

	h2 := startHost(t, dir, api.URL, env...)
	deadline = time.Now().Add(40 * time.Second)
	for {
		info, err := h2.info()
		if err == nil && openJobs(info.Outbox) == 0 {
			if info.Outbox["failed"] != 0 {
				t.Fatalf("failed jobs after the restart: %v\n%s", info.Outbox, h2.log())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs still open after the restart: %v %v", info.Outbox, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(llm.received()) <= before {
		t.Fatal("the restarted host did no generation: the kill came too late to test anything")
	}
	if err := h2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = h2.cmd.Wait()

	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := st.Reader()
	var pending int
	if err := r.QueryRow(`SELECT COUNT(*) FROM agent_events WHERE event_type = 'tool_use' AND job_id IS NOT NULL AND observed_by_job IS NULL`).Scan(&pending); err != nil || pending != 0 {
		t.Fatalf("%d tool events never observed (%v)", pending, err)
	}
	var toolEvents, observedOnce int
	if err := r.QueryRow(`SELECT COUNT(*) FROM agent_events WHERE event_type = 'tool_use' AND job_id IS NOT NULL`).Scan(&toolEvents); err != nil {
		t.Fatal(err)
	}
	// The fake model answers one observation per call, so an event is
	// observed once when exactly one observation, of the job that marked
	// it, links to it.
	if err := r.QueryRow(`SELECT COUNT(*) FROM agent_events e WHERE e.event_type = 'tool_use' AND e.job_id IS NOT NULL AND
		(SELECT COUNT(*) FROM observation_sources s JOIN observations o ON o.id = s.observation_id
		 WHERE s.agent_event_id = e.id AND o.job_id = e.observed_by_job) = 1 AND
		(SELECT COUNT(*) FROM observation_sources s WHERE s.agent_event_id = e.id) = 1`).Scan(&observedOnce); err != nil {
		t.Fatal(err)
	}
	if toolEvents != 2*19 || observedOnce != toolEvents {
		t.Fatalf("%d of %d tool events observed exactly once (want 38)", observedOnce, toolEvents)
	}
	var summaries, turns int
	if err := r.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT session_id || '/' || prompt_number) FROM session_summaries`).Scan(&summaries, &turns); err != nil || summaries != 4 || turns != 4 {
		t.Fatalf("%d summaries over %d turns (%v); want one for each of the 4 working turns", summaries, turns, err)
	}
}
