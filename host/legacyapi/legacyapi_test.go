package legacyapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/server"
	"github.com/claude-mem/claude-mem-server/host/server/servertest"
)

func TestMain(m *testing.M) {
	flag.Parse()
	// The server runs in this process: its texts show times in UTC
	// wherever the tests run.
	time.Local = time.UTC
	code := m.Run()
	hosttest.Cleanup()
	os.Exit(code)
}

type testBundle struct {
	host *servertest.Server
	srv  *server.Server
	base string
}

// setup starts a real host, with the bundled plugins as subprocesses.
func setup(t *testing.T) *testBundle {
	t.Helper()
	srv := servertest.Start(t, servertest.WithConfig(func(cfg *config.Config) { cfg.Queue.LockDuration = 5 * time.Second }))
	return &testBundle{host: srv, srv: srv.Server, base: srv.Base}
}

// waitIdle waits until no generation job is open.
func (b *testBundle) waitIdle(t *testing.T) {
	t.Helper()
	b.host.WaitIdle(t)
}

// call is one request of the golden sequence.
type call struct {
	name   string
	method string
	path   string
	body   string
	header map[string]string
	// idle waits for the generation jobs to finish first.
	idle bool
}

// recorded is what a call's golden file holds.
type recorded struct {
	status int
	header http.Header
	body   []byte
}

func (b *testBundle) do(t *testing.T, c call) recorded {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, b.base+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return recorded{status: resp.StatusCode, header: resp.Header, body: data}
}

// volatile are the JSON fields whose values change from run to run.
var volatile = map[string]bool{
	"created_at": true, "created_at_epoch": true, "uptime": true, "pid": true, "timestamp": true, "path": true,
	"size": true, "firstObservationAt": true, "port": true, "version": true,
}

// normalize replaces volatile values by a placeholder naming their type,
// and pretty-prints.
func normalize(t *testing.T, raw []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("reply is not JSON: %v\n%s", err, raw)
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				if _, composite := val.(map[string]any); volatile[k] && val != nil && !composite && !isList(val) {
					x[k] = fmt.Sprintf("<%s>", k)
					continue
				}
				x[k] = walk(val)
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		}
		return v
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(walk(v)); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func isList(v any) bool {
	_, ok := v.([]any)
	return ok
}

var (
	dateLike = regexp.MustCompile(`\d{4}-\d{2}-\d{2}|(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}(, \d{4})?`)
	clock    = regexp.MustCompile(`\b\d{1,2}:\d{2} ?(AM|PM|am|pm|a|p)\b`)
	// repeated is the mark of a context row whose time is the one above.
	repeated = regexp.MustCompile(`(?m)^(S?\d+) " `)
	// timeCell is the time column of claude-mem's tables: a time, or the
	// mark of a time repeated from the row above, which depends on when
	// the rows were written.
	timeCell = regexp.MustCompile(`\| (\d{1,2}:\d{2} [AP]M|″|\\") \|`)
)

// scrub replaces the dates and times of a reply.
func scrub(s string) string {
	s = timeCell.ReplaceAllString(dateLike.ReplaceAllString(s, "<date>"), "| <time> |")
	return repeated.ReplaceAllString(clock.ReplaceAllString(s, "<time>"), "$1 <time> ")
}

// render is the golden text of a reply: status, the headers that are part
// of the contract, and the normalized body.
func render(t *testing.T, c call, r recorded) string {
	t.Helper()
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s\n", c.method, c.path)
	if c.body != "" {
		fmt.Fprintf(&sb, "%s\n", c.body)
	}
	fmt.Fprintf(&sb, "\n%d\n", r.status)
	var keys []string
	for k := range r.header {
		if k == "Content-Type" || k == "Vary" || strings.HasPrefix(k, "Access-Control-") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&sb, "%s: %s\n", k, strings.Join(r.header[k], ", "))
	}
	sb.WriteString("\n")
	switch ct := r.header.Get("Content-Type"); {
	case len(r.body) == 0:
	case strings.HasPrefix(ct, "application/json"):
		sb.WriteString(scrub(normalize(t, r.body)))
	default:
		sb.WriteString(scrub(string(r.body)))
		sb.WriteString("\n")
	}
	return sb.String()
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	hosttest.Golden(t, filepath.Join("testdata", "golden", name+".golden"), got)
}

const cwd = "/home/dev/src/shop"

// legacySession is what claude-mem's TypeScript hooks send for a short
// session, then what its MCP server, skills and viewer read back.
var legacySession = []call{
	{name: "01-health", method: "GET", path: "/api/health"},
	{name: "02-readiness", method: "GET", path: "/api/readiness"},
	{name: "03-version", method: "GET", path: "/api/version"},
	{name: "04-root-health", method: "GET", path: "/health"},
	{name: "05-init", method: "POST", path: "/api/sessions/init",
		body: `{"contentSessionId":"cc-1111","project":"shop","prompt":"The checkout total is off by a cent; fix the rounding in cart totals.","platformSource":"claude"}`},
	{name: "06-init-duplicate", method: "POST", path: "/api/sessions/init",
		body: `{"contentSessionId":"cc-1111","project":"shop","prompt":"The checkout total is off by a cent; fix the rounding in cart totals.","platformSource":"claude"}`},
	{name: "07-observation-read", method: "POST", path: "/api/sessions/observations",
		body: `{"contentSessionId":"cc-1111","platformSource":"claude","tool_name":"Read","tool_input":{"file_path":"` + cwd + `/cart/cart.go"},"tool_response":{"type":"text","file":{"filePath":"` + cwd + `/cart/cart.go","content":"package cart\nfunc Total(items []Item) float64 { return sum(items) }"}},"cwd":"` + cwd + `"}`},
	{name: "08-observation-edit", method: "POST", path: "/api/sessions/observations",
		body: `{"contentSessionId":"cc-1111","platformSource":"claude","tool_name":"Edit","tool_input":{"file_path":"` + cwd + `/cart/cart.go","old_string":"float64 { return sum(items) }","new_string":"int64 { return sumCents(items) }"},"tool_response":{"filePath":"` + cwd + `/cart/cart.go"},"cwd":"` + cwd + `"}`},
	{name: "09-observation-bash", method: "POST", path: "/api/sessions/observations",
		body: `{"contentSessionId":"cc-1111","platformSource":"claude","tool_name":"Bash","tool_input":{"command":"go test ./cart/..."},"tool_response":{"stdout":"ok  \tshop/cart\t0.011s","stderr":""},"cwd":"` + cwd + `","tool_use_id":"toolu_legacy_3"}`},
	{name: "10-observation-skipped-tool", method: "POST", path: "/api/sessions/observations",
		body: `{"contentSessionId":"cc-1111","platformSource":"claude","tool_name":"TodoWrite","tool_input":{"todos":[]},"tool_response":{},"cwd":"` + cwd + `"}`},
	{name: "11-observation-invalid", method: "POST", path: "/api/sessions/observations",
		body: `{"platformSource":"claude","tool_input":{}}`},
	{name: "12-summarize", method: "POST", path: "/api/sessions/summarize",
		body: `{"contentSessionId":"cc-1111","last_assistant_message":"Fixed the rounding bug: cart totals are now kept in integer cents.","platformSource":"claude"}`},
	{name: "13-summarize-subagent", method: "POST", path: "/api/sessions/summarize",
		body: `{"contentSessionId":"cc-1111","last_assistant_message":"done","agentId":"agent-7","platformSource":"claude"}`},
	{name: "14-init-private", method: "POST", path: "/api/sessions/init",
		body: `{"contentSessionId":"cc-1111","project":"shop","prompt":"<private>my salary is 123456</private>","platformSource":"claude"}`},
	{name: "15-observation-private-turn", method: "POST", path: "/api/sessions/observations",
		body: `{"contentSessionId":"cc-1111","platformSource":"claude","tool_name":"Bash","tool_input":{"command":"cat ~/.netrc"},"tool_response":{"stdout":"machine x"},"cwd":"` + cwd + `"}`},
	{name: "16-init-task-notification", method: "POST", path: "/api/sessions/init",
		body: `{"contentSessionId":"cc-1111","project":"shop","prompt":"<task-notification>build finished</task-notification>","platformSource":"claude"}`},
	{name: "17-init-no-session", method: "POST", path: "/api/sessions/init", body: `{"project":"shop","prompt":"hi"}`},
	{name: "18-projects", method: "GET", path: "/api/projects", idle: true},
	{name: "19-projects-by-source", method: "GET", path: "/api/projects?platformSource=claude-code"},
	{name: "20-stats", method: "GET", path: "/api/stats"},
	{name: "21-context-inject", method: "GET", path: "/api/context/inject?projects=shop&platformSource=claude"},
	{name: "22-by-file", method: "GET", path: "/api/observations/by-file?path=" + cwd + "/cart/cart.go&path=cart/cart.go&projects=shop&limit=40"},
	{name: "23-by-file-no-path", method: "GET", path: "/api/observations/by-file?projects=shop"},
	{name: "24-batch", method: "POST", path: "/api/observations/batch", body: `{"ids":[1,2]}`},
	{name: "25-batch-csv-asc", method: "POST", path: "/api/observations/batch", body: `{"ids":"2,1","orderBy":"date_asc","limit":1}`},
	{name: "26-batch-missing-ids", method: "POST", path: "/api/observations/batch", body: `{}`},
	{name: "27-search-json", method: "GET", path: "/api/search?query=rounding+cents&format=json&limit=5"},
	{name: "28-search-nothing", method: "GET", path: "/api/search"},
	{name: "28a-search-text", method: "GET", path: "/api/search?query=cart&project=shop"},
	{name: "28b-search-filter-only", method: "GET", path: "/api/search?type=observations&obs_type=change&format=json"},
	{name: "28c-timeline", method: "GET", path: "/api/timeline?anchor=2&depth_before=1&depth_after=1&project=shop"},
	{name: "28d-timeline-query", method: "GET", path: "/api/timeline?query=edited&depth_before=0&depth_after=5"},
	{name: "28d2-timeline-query-no-match", method: "GET", path: "/api/timeline?query=rounding"},
	{name: "28e-timeline-not-found", method: "GET", path: "/api/timeline?anchor=999"},
	{name: "28f-timeline-bad-anchor", method: "GET", path: "/api/timeline?anchor=yesterday-ish"},
	{name: "28g-timeline-nothing", method: "GET", path: "/api/timeline"},
	{name: "29-semantic", method: "POST", path: "/api/context/semantic", body: `{"q":"how did we fix the cart rounding problem","project":"shop","limit":2}`},
	{name: "30-semantic-short", method: "POST", path: "/api/context/semantic", body: `{"q":"rounding","project":"shop"}`},
	{name: "31-memory-save", method: "POST", path: "/api/memory/save", body: `{"text":"Deploys go through the staging cluster first.\nNever push to prod on Fridays.","project":"shop"}`},
	{name: "32-memory-save-strict", method: "POST", path: "/api/memory/save", body: `{"text":"x","tags":["a"]}`},
	{name: "33-cors-preflight", method: "OPTIONS", path: "/api/sessions/init", header: map[string]string{"Origin": "http://localhost:37777", "Access-Control-Request-Method": "POST"}},
	{name: "34-cors-allowed", method: "GET", path: "/api/readiness", header: map[string]string{"Origin": "http://127.0.0.1:5173"}},
	{name: "35-cors-refused", method: "GET", path: "/api/readiness", header: map[string]string{"Origin": "https://evil.example"}},
	{name: "36-unknown-route", method: "GET", path: "/api/nope"},
}

// TestLegacyRoutesGolden replays what claude-mem's hooks send and what its
// MCP server and viewer ask, and checks every reply against a golden file.
func TestLegacyRoutesGolden(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, c := range legacySession {
		if c.idle {
			b.waitIdle(t)
		}
		r := b.do(t, c)
		checkGolden(t, c.name, render(t, c, r))
	}
	// No second code path: the legacy writes are agent events of the
	// pipeline, with its generation jobs.
	ctx := context.Background()
	counts, err := memory.Counts(ctx, b.srv.Store().Reader())
	if err != nil {
		t.Fatal(err)
	}
	var legacyEvents, jobsN int64
	db := b.srv.Store().Reader()
	if err := db.QueryRow(`SELECT COUNT(*) FROM agent_events WHERE source_adapter = 'legacy-api'`).Scan(&legacyEvents); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM generation_jobs`).Scan(&jobsN); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "99-store", fmt.Sprintf("counts %v\nlegacy agent_events %d\ngeneration_jobs %d\n", counts, legacyEvents, jobsN))
}

// TestHealthNeverSendsVersion: claude-mem's hooks SIGKILL the worker whose
// /api/health version differs from their plugin's (behaviour §1.5).
func TestHealthNeverSendsVersion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(t, call{method: "GET", path: "/api/health"})
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil || r.status != http.StatusOK {
		t.Fatalf("/api/health: %d %s", r.status, r.body)
	}
	if _, ok := body["version"]; ok {
		t.Fatalf("/api/health sends a version: %s", r.body)
	}
	if body["status"] != "ok" || body["initialized"] != true || body["mcpReady"] != true {
		t.Errorf("/api/health: %s", r.body)
	}
	if pid, ok := body["pid"].(float64); !ok || int(pid) != os.Getpid() {
		t.Errorf("pid %v, want this process %d", body["pid"], os.Getpid())
	}
}
