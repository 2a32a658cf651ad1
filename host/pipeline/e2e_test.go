package pipeline_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/pipeline"
	"github.com/claude-mem/claude-mem-server/host/server"
	"github.com/claude-mem/claude-mem-server/host/server/servertest"
	_ "modernc.org/sqlite"
)

func TestMain(m *testing.M) {
	code := m.Run()
	hosttest.Cleanup()
	os.Exit(code)
}

type e2eBundle struct {
	host    *servertest.Server
	srv     *server.Server
	base    string
	dataDir string
	stop    func()
}

// e2eSetup starts a real host, with the bundled plugins as subprocesses.
func e2eSetup(t testing.TB, configure func(*config.Config)) *e2eBundle {
	t.Helper()
	srv := servertest.Start(t, servertest.WithConfig(func(cfg *config.Config) {
		cfg.Queue.LockDuration = 5 * time.Second
		cfg.Queue.Concurrency = 4
		if configure != nil {
			configure(cfg)
		}
	}))
	return &e2eBundle{host: srv, srv: srv.Server, base: srv.Base, dataDir: srv.DataDir, stop: srv.Stop}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (b *e2eBundle) post(t testing.TB, path, contentType string, body []byte) reply {
	t.Helper()
	resp, err := http.Post(b.base+path, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: data}
}

func (b *e2eBundle) get(t testing.TB, path string, v any) int {
	t.Helper()
	resp, err := http.Get(b.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode
}

// waitIdle waits until no generation job is open, and fails on a failed one.
func (b *e2eBundle) waitIdle(t testing.TB) map[string]int64 {
	t.Helper()
	return b.host.WaitIdle(t)
}

func (b *e2eBundle) counts(t testing.TB) map[string]int64 {
	t.Helper()
	c, err := memory.Counts(context.Background(), b.srv.Store().Reader())
	if err != nil {
		t.Fatal(err)
	}
	var jobsN int64
	if err := b.srv.Store().Reader().QueryRow(`SELECT COUNT(*) FROM generation_jobs`).Scan(&jobsN); err != nil {
		t.Fatal(err)
	}
	c["generation_jobs"] = jobsN
	return c
}

type hookIDs struct{ status, event, session, job string }

func (b *e2eBundle) replay(t testing.TB, calls []hookCall, wantStatus int) []hookIDs {
	t.Helper()
	out := make([]hookIDs, len(calls))
	for i, c := range calls {
		r := b.post(t, "/v1/hooks/claude-code/"+c.Event, "application/json", c.Body)
		skipped := r.header.Get(pipeline.HeaderStatus) == pipeline.StatusSkipped
		if (!skipped && r.status != wantStatus) || (skipped && r.status != http.StatusOK) {
			t.Fatalf("payload %d (%s): %d %s", i, c.Event, r.status, r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" || !json.Valid(r.body) {
			t.Fatalf("payload %d (%s): %s %q", i, c.Event, ct, r.body)
		}
		out[i] = hookIDs{r.header.Get(pipeline.HeaderStatus), r.header.Get(pipeline.HeaderEventID), r.header.Get(pipeline.HeaderSessionID), r.header.Get(pipeline.HeaderJobID)}
	}
	return out
}

func TestClaudeCodeSessionBecomesMemoryOnce(t *testing.T) {
	t.Parallel()
	b := e2eSetup(t, nil)
	calls := claudeCodeSession("9f1c2d3e-session-a", "/home/dev/src/shop")
	start := time.Now()
	first := b.replay(t, calls, http.StatusCreated)
	t.Logf("replay took %v", time.Since(start))
	b.waitIdle(t)
	t.Logf("idle after %v", time.Since(start))
	counts := b.counts(t)

	ctx := context.Background()
	r := b.srv.Store().Reader()
	sess, err := memory.FindSession(ctx, r, memory.LocalTeam, "claude", "9f1c2d3e-session-a")
	if err != nil {
		t.Fatal(err)
	}
	if sess.Project != "shop" || sess.Status != memory.StatusCompleted || sess.PromptCounter != 3 || sess.TeamID != memory.LocalTeam {
		t.Fatalf("session %+v", sess)
	}
	prompts, _ := memory.ListPrompts(ctx, r, sess.ID)
	if len(prompts) != 3 || !strings.HasPrefix(prompts[0].Text, "The checkout test fails") || !prompts[1].Private || prompts[2].Text != "Now add discount codes to the checkout." {
		t.Fatalf("prompts %+v", prompts)
	}
	obs, _ := memory.ListObservations(ctx, r, sess.ID)
	summaries, _ := memory.ListSummaries(ctx, r, sess.ID)
	if len(obs) < 5 || len(summaries) != 2 {
		t.Fatalf("%d observations and %d summaries; want several and one per working turn", len(obs), len(summaries))
	}
	var edited bool
	for _, o := range obs {
		if o.GeneratedByModel != "heuristic" || o.Title == "" || o.GenerationKey == "" || o.PromptNumber == 2 {
			t.Errorf("observation %+v", o)
		}
		for _, f := range o.FilesModified {
			edited = edited || strings.HasSuffix(f, "cart/cart.go")
		}
	}
	if !edited {
		t.Errorf("no observation records the edit of cart/cart.go: %+v", obs)
	}
	if summaries[0].PromptNumber != 1 || summaries[1].PromptNumber != 3 || !strings.Contains(summaries[0].Completed, "rounding") {
		t.Errorf("summaries %+v", summaries)
	}
	if hits, err := memory.SearchObservations(ctx, r, memory.LocalTeam, "discount", 10); err != nil || len(hits) == 0 {
		t.Errorf("FTS finds no observation about discounts: %v", err)
	}
	// 45 events stored: 50 payloads less the private turn's tool use (2)
	// and answer, and the skipped TodoWrite (2).
	if counts["agent_events"] != 45 || counts["user_prompts"] != 3 || counts["sdk_sessions"] != 1 || counts["projects"] != 1 {
		t.Fatalf("counts %v", counts)
	}

	// Replaying the whole session is a no-op answering the original IDs.
	second := b.replay(t, calls, http.StatusOK)
	for i := range first {
		want := first[i]
		if want.status == pipeline.StatusCreated {
			want.status = pipeline.StatusExisting
		}
		if second[i] != want {
			t.Errorf("payload %d (%s): first %+v, replay %+v", i, calls[i].Event, first[i], second[i])
		}
	}
	b.waitIdle(t)
	if again := b.counts(t); fmt.Sprint(again) != fmt.Sprint(counts) {
		t.Fatalf("replay changed the counts: %v -> %v", counts, again)
	}
}

// fakeLLM is an OpenAI Chat Completions server that records every request
// body it receives.
type fakeLLM struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (f *fakeLLM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	n := len(f.bodies)
	f.mu.Unlock()
	text := fmt.Sprintf(`<observation><type>discovery</type><title>Batch %d of the session</title><subtitle>s</subtitle>
<facts><fact>fact %d</fact></facts><narrative>What batch %d taught.</narrative><concepts><concept>how-it-works</concept></concepts>
<files_read><file>model-claimed.go</file></files_read><files_modified><file>model-claimed.go</file></files_modified></observation>`, n, n, n)
	if bytes.Contains(body, []byte("skip_summary")) {
		text = `<summary><request>r</request><investigated>i</investigated><learned>l</learned><completed>c</completed><next_steps>n</next_steps><notes></notes></summary>`
	}
	resp := map[string]any{
		"model":   "fake-gpt",
		"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "stop"}},
		"usage":   map[string]any{"prompt_tokens": 120, "completion_tokens": 30},
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (f *fakeLLM) received() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.bodies...)
}

func TestSecretsAndPrivateBlocksReachNothing(t *testing.T) {
	t.Parallel()
	llm := &fakeLLM{}
	api := httptest.NewServer(llm)
	t.Cleanup(api.Close)
	b := e2eSetup(t, func(c *config.Config) {
		c.Generation.Provider = config.ProviderOpenAI
		c.Generation.BaseURL = api.URL + "/v1"
		c.Generation.APIKey = "not-a-real-key"
	})
	b.replay(t, claudeCodeSession("4b5a6c7d-session-b", "/home/dev/src/shop"), http.StatusCreated)
	b.waitIdle(t)

	ctx := context.Background()
	r := b.srv.Store().Reader()
	sess, err := memory.FindSession(ctx, r, memory.LocalTeam, "claude", "4b5a6c7d-session-b")
	if err != nil {
		t.Fatal(err)
	}
	obs, _ := memory.ListObservations(ctx, r, sess.ID)
	sums, _ := memory.ListSummaries(ctx, r, sess.ID)
	if len(llm.received()) == 0 || len(obs) == 0 || len(sums) != 2 {
		t.Errorf("the model got %d calls; %d observations, %d summaries", len(llm.received()), len(obs), len(sums))
	}
	// The model did see the session, redacted.
	all := string(bytes.Join(llm.received(), nil))
	for _, want := range []string{"cart/cart.go", "discount", "[REDACTED:aws-access-key]", "[REDACTED:password]"} {
		if !strings.Contains(all, want) {
			t.Errorf("no request to the model mentions %q", want)
		}
	}
	for _, o := range obs {
		if o.DiscoveryTokens <= 0 || o.GeneratedByModel != "fake-gpt" {
			t.Errorf("observation %+v: want discovery tokens and the model", o)
		}
		for _, f := range o.FilesModified {
			if f == "model-claimed.go" {
				t.Errorf("files_modified taken from the model: %+v", o)
			}
		}
	}
	// What the model received.
	for i, body := range llm.received() {
		for _, secret := range leaks {
			if bytes.Contains(body, []byte(secret)) {
				t.Errorf("request %d to the model contains %q", i, secret)
			}
		}
	}
	// Every text column of every table.
	tables := scanTables(t, r)
	for _, secret := range leaks {
		if where, ok := tables[secret]; ok {
			t.Errorf("the store holds %q in %s", secret, where)
		}
	}
	if !strings.Contains(strings.Join(tableTexts(t, r), "\n"), "[REDACTED:") {
		t.Error("no redaction placeholder is stored")
	}
	// Every byte of every file the host and its plugins wrote (server.db,
	// queue.db and their WAL files), after a clean shutdown.
	b.stop()
	scanned := map[string]bool{}
	err = filepath.WalkDir(b.dataDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scanned[d.Name()] = true
		for _, secret := range leaks {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s contains %q", path, secret)
			}
		}
		return nil
	})
	if err != nil || !scanned["server.db"] || !scanned["queue.db"] {
		t.Fatalf("scanned %v: %v; want the store and the queue", scanned, err)
	}
}

// tableTexts returns every text value of every table of the store.
func tableTexts(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	var out []string
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				switch s := v.(type) {
				case string:
					out = append(out, table+"."+cols[i]+"\x00"+s)
				case []byte:
					out = append(out, table+"."+cols[i]+"\x00"+string(s))
				}
			}
		}
		rows.Close()
	}
	return out
}

// scanTables maps each leaked string to the first column holding it.
func scanTables(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	found := map[string]string{}
	for _, v := range tableTexts(t, db) {
		col, text, _ := strings.Cut(v, "\x00")
		for _, secret := range leaks {
			if _, seen := found[secret]; !seen && strings.Contains(text, secret) {
				found[secret] = col
			}
		}
	}
	return found
}
