package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	vconfig "github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/content"
	vErrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/openapi"
	"github.com/claude-mem/claude-mem-server/host/server/servertest"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

func TestMain(m *testing.M) {
	code := m.Run()
	hosttest.Cleanup()
	os.Exit(code)
}

// checker sends requests to a real server and validates each exchange
// against the document with libopenapi-validator, recording which
// operation answered which status.
type checker struct {
	t    *testing.T
	base string
	v    validator.Validator
	ops  []opMatcher

	mu   sync.Mutex
	seen map[string]map[int]bool // operation id -> statuses validated
}

type opMatcher struct {
	op openapi.Operation
	re *regexp.Regexp
}

// newValidator is libopenapi-validator over the server's document, with
// format assertions and JSON lines decoded as the document describes them.
// It fails the test if the document itself is not valid OpenAPI.
func newValidator(t testing.TB) validator.Validator {
	t.Helper()
	doc, err := openapi.Document()
	if err != nil {
		t.Fatal(err)
	}
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		t.Fatalf("libopenapi cannot read the document: %v", err)
	}
	v, errs := validator.NewValidator(d, vconfig.WithFormatAssertions(),
		vconfig.WithBodyDecoder("application/x-ndjson", content.DecoderFunc(decodeLines)))
	if len(errs) > 0 {
		t.Fatalf("libopenapi-validator refuses the document: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("document: %s", describeErr(e))
		}
		t.FailNow()
	}
	return v
}

func newChecker(t *testing.T, base string) *checker {
	t.Helper()
	v := newValidator(t)
	c := &checker{t: t, base: base, v: v, seen: map[string]map[int]bool{}}
	for _, op := range openapi.Operations() {
		pat := regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(op.Path), `[^/]+`)
		c.ops = append(c.ops, opMatcher{op: op, re: regexp.MustCompile("^" + pat + "$")})
	}
	return c
}

// request is one call.
type request struct {
	method, path, key string
	contentType       string // default application/json when body is set
	body              string
	header            map[string]string
	// bad says the request is deliberately wrong: only the response is
	// validated.
	bad bool
}

// do sends r, validates the exchange, checks the status and returns the
// body.
func (c *checker) do(want int, r request) []byte {
	c.t.Helper()
	var rd io.Reader
	if r.body != "" {
		rd = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, c.base+r.path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if r.body != "" {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if r.key != "" {
		req.Header.Set("Authorization", "Bearer "+r.key)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		c.t.Fatal(err)
	}
	name := r.method + " " + r.path
	if resp.StatusCode != want {
		c.t.Fatalf("%s: status %d, want %d: %s", name, resp.StatusCode, want, body)
	}

	// The validator reads both bodies: give it fresh copies.
	vreq, _ := http.NewRequest(r.method, c.base+r.path, strings.NewReader(r.body))
	vreq.Header = req.Header.Clone()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.Request = vreq
	var ok bool
	var verrs []*vErrors.ValidationError
	if r.bad {
		ok, verrs = c.v.ValidateHttpResponse(vreq, resp)
	} else {
		ok, verrs = c.v.ValidateHttpRequestResponse(vreq, resp)
	}
	if !ok {
		for _, e := range verrs {
			c.t.Errorf("%s (%d) does not match the document: %s", name, resp.StatusCode, describeErr(e))
		}
		c.t.Logf("body: %s", truncate(body))
	}
	c.record(r.method, r.path, resp.StatusCode)
	return body
}

// doJSON is do, decoding the body into v.
func (c *checker) doJSON(want int, r request, v any) {
	c.t.Helper()
	body := c.do(want, r)
	if err := json.Unmarshal(body, v); err != nil {
		c.t.Fatalf("%s %s: %v: %s", r.method, r.path, err, body)
	}
}

func (c *checker) record(method, path string, status int) {
	path, _, _ = strings.Cut(path, "?")
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.ops {
		if m.op.Method == method && m.re.MatchString(path) {
			if c.seen[m.op.ID] == nil {
				c.seen[m.op.ID] = map[int]bool{}
			}
			c.seen[m.op.ID][status] = true
			return
		}
	}
	c.t.Errorf("%s %s matches no operation of the document", method, path)
}

// decodeLines reads JSON lines as the array the document describes them
// as, one item per line.
func decodeLines(in *content.DecodeInput) (any, error) {
	dec := json.NewDecoder(in.Body)
	out := []any{}
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", len(out)+1, err)
		}
		out = append(out, v)
	}
}

// describeErr is a validation error with its schema failures.
func describeErr(e *vErrors.ValidationError) string {
	msg := e.Message
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	for _, f := range e.SchemaValidationErrors {
		msg += fmt.Sprintf("\n    %s (at %s, %s)", f.Reason, f.FieldPath, f.KeywordLocation)
	}
	return msg
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "..."
	}
	return string(b)
}

// TestResponsesMatchTheDocument drives every operation of the document
// against a real server (bundled plugins as subprocesses, a real listener)
// through its success statuses and its common errors, and validates every
// request and response with libopenapi-validator. It fails when an
// operation or one of its documented statuses was not exercised, so a new
// route cannot skip validation.
func TestResponsesMatchTheDocument(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.WithConfig(func(cfg *config.Config) {
		cfg.Auth.Mode = config.AuthAPIKey
		cfg.Auth.RateLimitPerMinute = 0
	}))
	ctx := context.Background()
	root, err := srv.Admin().CreateKey(ctx, access.LocalOwner(), access.CreateKeyRequest{Scopes: []string{auth.ScopeAll}, Name: "root"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi.Document()
	if err != nil {
		t.Fatal(err)
	}
	c := newChecker(t, srv.Base)
	rk := root.Secret

	// Server.
	c.do(200, request{method: "GET", path: "/healthz"})
	if served := c.do(200, request{method: "GET", path: "/v1/openapi.json"}); !bytes.Equal(served, doc) {
		t.Error("GET /v1/openapi.json serves another document than openapi.Document")
	}
	c.do(200, request{method: "GET", path: "/v1/info", key: rk})
	c.do(200, request{method: "GET", path: "/metrics", key: rk})
	c.do(401, request{method: "GET", path: "/v1/info", bad: true})
	c.do(401, request{method: "GET", path: "/v1/info", key: "cm_not-a-key", bad: true})

	// Admin: a team with a project and keys.
	c.do(201, request{method: "POST", path: "/v1/admin/teams", key: rk, body: `{"id":"docs","name":"Docs team"}`})
	c.do(200, request{method: "GET", path: "/v1/admin/teams", key: rk})
	c.do(201, request{method: "POST", path: "/v1/admin/projects", key: rk, body: `{"team":"docs","name":"billing","root_path":"/src/billing"}`})
	c.do(200, request{method: "POST", path: "/v1/admin/projects", key: rk, body: `{"team":"docs","name":"billing"}`})
	c.do(200, request{method: "GET", path: "/v1/admin/projects?team=docs", key: rk})
	var team, reader, spare struct {
		Key    access.Key `json:"key"`
		Secret string     `json:"secret"`
	}
	c.doJSON(201, request{method: "POST", path: "/v1/admin/api-keys", key: rk,
		body: `{"team":"docs","scopes":["memories:read","memories:write","admin"],"name":"docs","actor":"ci"}`}, &team)
	c.doJSON(201, request{method: "POST", path: "/v1/admin/api-keys", key: rk,
		body: `{"team":"docs","scopes":["memories:read"],"name":"reader","expires_in":"24h"}`}, &reader)
	c.doJSON(201, request{method: "POST", path: "/v1/admin/api-keys", key: rk, body: `{"team":"docs","scopes":["memories:read"],"name":"spare"}`}, &spare)
	c.do(200, request{method: "POST", path: "/v1/admin/api-keys/" + spare.Key.ID + "/revoke", key: rk})
	c.do(200, request{method: "GET", path: "/v1/admin/api-keys?team=docs", key: rk})
	c.do(404, request{method: "POST", path: "/v1/admin/api-keys/no-such-key/revoke", key: rk})
	c.do(400, request{method: "POST", path: "/v1/admin/teams", key: rk, body: `{"id":"docs","bogus":1}`, bad: true})
	k, rd := team.Secret, reader.Secret

	// Projects.
	var proj struct {
		Project struct {
			ID int64 `json:"id"`
		} `json:"project"`
	}
	c.doJSON(201, request{method: "POST", path: "/v1/projects", key: k, body: `{"name":"ledger","root_path":"/src/ledger"}`}, &proj)
	c.do(200, request{method: "POST", path: "/v1/projects", key: k, body: `{"name":"ledger"}`})
	c.do(200, request{method: "GET", path: "/v1/projects", key: k})
	c.do(200, request{method: "GET", path: "/v1/projects/" + strconv.FormatInt(proj.Project.ID, 10), key: k})
	c.do(404, request{method: "GET", path: "/v1/projects/999999", key: k})
	c.do(400, request{method: "GET", path: "/v1/projects/zero", key: k, bad: true})
	c.do(403, request{method: "POST", path: "/v1/projects", key: rd, body: `{"name":"nope"}`})

	// Sessions, events and hooks.
	var sess struct {
		Session struct {
			ID int64 `json:"id"`
		} `json:"session"`
	}
	c.doJSON(201, request{method: "POST", path: "/v1/sessions/start", key: k,
		body: `{"content_session_id":"cs-docs-1","platform_source":"claude-code","project":"ledger","cwd":"/src/ledger"}`}, &sess)
	c.do(200, request{method: "POST", path: "/v1/sessions/start", key: k,
		body: `{"content_session_id":"cs-docs-1","platform_source":"claude-code","project":"ledger"}`})
	sid := strconv.FormatInt(sess.Session.ID, 10)
	prompt := `{"schema_version":1,"type":"user_prompt","platform_source":"claude-code","content_session_id":"cs-docs-1",` +
		`"project":"ledger","text":"make the ledger export idempotent","occurred_at":"2026-11-26T10:00:00Z"}`
	var ev struct {
		EventID int64 `json:"event_id"`
	}
	c.doJSON(201, request{method: "POST", path: "/v1/events", key: k, body: prompt}, &ev)
	c.do(200, request{method: "POST", path: "/v1/events", key: k, body: prompt})
	tool := func(n int) string {
		return fmt.Sprintf(`{"schema_version":1,"type":"tool_use","platform_source":"claude-code","content_session_id":"cs-docs-1",`+
			`"project":"ledger","tool_name":"Edit","tool_use_id":"tu-%d","tool_input":{"file_path":"/src/ledger/export.go","old_string":"a","new_string":"b"},`+
			`"tool_response":{"success":true},"occurred_at":"2026-11-26T10:00:%02dZ"}`, n, n)
	}
	var batch struct {
		Results []struct {
			Job *struct {
				ID string `json:"id"`
			} `json:"generation_job"`
		} `json:"results"`
	}
	c.doJSON(201, request{method: "POST", path: "/v1/events/batch", key: k, body: "[" + tool(1) + "," + tool(2) + "]"}, &batch)
	if len(batch.Results) != 2 || batch.Results[0].Job == nil {
		t.Fatalf("the batch queued no generation job: %+v", batch)
	}
	jobID := batch.Results[0].Job.ID
	c.do(200, request{method: "POST", path: "/v1/events/batch?generate=true", key: k, body: `{"events":[` + tool(1) + `]}`})
	c.do(400, request{method: "POST", path: "/v1/events/batch", key: k, body: `[]`, bad: true})
	c.do(400, request{method: "POST", path: "/v1/events?generate=maybe", key: k, body: prompt, bad: true})
	c.do(400, request{method: "POST", path: "/v1/events", key: k, body: `{"type":`, bad: true})
	c.do(400, request{method: "POST", path: "/v1/events", key: k, body: `{"type":"tool_use","unknown_field":1}`, bad: true})
	many := strings.TrimSuffix(strings.Repeat(tool(3)+",", 501), ",")
	c.do(413, request{method: "POST", path: "/v1/events/batch", key: k, body: "[" + many + "]", bad: true})
	hook := `{"session_id":"cs-docs-hook","cwd":"/src/ledger","hook_event_name":"UserPromptSubmit","prompt":"why is the export slow","prompt_id":"p1"}`
	c.do(201, request{method: "POST", path: "/v1/hooks/claude-code/UserPromptSubmit", key: k, body: hook})
	c.do(200, request{method: "POST", path: "/v1/hooks/claude-code/UserPromptSubmit", key: k, body: hook})
	c.do(404, request{method: "POST", path: "/v1/hooks/no-such-agent/Stop", key: k, body: `{}`})
	srv.WaitIdle(t)
	c.do(200, request{method: "GET", path: "/v1/events/" + strconv.FormatInt(ev.EventID, 10), key: k})
	c.do(404, request{method: "GET", path: "/v1/events/999999", key: k})
	c.do(200, request{method: "POST", path: "/v1/sessions/" + sid + "/end?generate=false", key: k, body: `{"reason":"exit"}`})
	c.do(200, request{method: "GET", path: "/v1/sessions/" + sid, key: k})
	c.do(404, request{method: "GET", path: "/v1/sessions/999999", key: k})

	// Jobs.
	c.do(200, request{method: "GET", path: "/v1/jobs/" + jobID, key: k})
	c.do(409, request{method: "POST", path: "/v1/jobs/" + jobID + "/retry", key: k})
	if _, err := srv.Store().Writer().Exec(`UPDATE generation_jobs SET status = 'failed', last_error = 'provider down' WHERE id = ?`, jobID); err != nil {
		t.Fatal(err)
	}
	c.do(200, request{method: "POST", path: "/v1/jobs/" + jobID + "/retry", key: k})
	c.do(404, request{method: "GET", path: "/v1/jobs/no-such-job", key: k})
	srv.WaitIdle(t)

	// Memories: create, read, patch, supersede, as_of.
	var mem struct {
		Memory struct {
			ID        int64  `json:"id"`
			ValidFrom string `json:"valid_from"`
		} `json:"memory"`
	}
	memBody := `{"project":"ledger","title":"Exports are idempotent","text":"The ledger export skips rows it already wrote, keyed by row hash.","concepts":["how-it-works"],"facts":["keyed by row hash"]}`
	c.doJSON(201, request{method: "POST", path: "/v1/memories", key: k, body: memBody}, &mem)
	c.do(200, request{method: "POST", path: "/v1/memories", key: k, body: memBody})
	mid := strconv.FormatInt(mem.Memory.ID, 10)
	c.do(200, request{method: "GET", path: "/v1/memories/" + mid, key: k})
	c.do(200, request{method: "PATCH", path: "/v1/memories/" + mid, key: k, body: `{"concepts":["how-it-works","gotcha"]}`})
	c.do(201, request{method: "POST", path: "/v1/memories/" + mid + "/supersede", key: k,
		body: `{"title":"Exports are idempotent per batch","text":"The ledger export dedupes per batch, keyed by batch id."}`})
	c.do(200, request{method: "GET", path: "/v1/memories/" + mid + "?as_of=" + mem.Memory.ValidFrom, key: k})
	c.do(400, request{method: "GET", path: "/v1/memories/" + mid + "?as_of=yesterday", key: k, bad: true})
	c.do(404, request{method: "GET", path: "/v1/memories/999999", key: k})
	c.do(400, request{method: "PATCH", path: "/v1/memories/" + mid, key: k, body: `{"title":7}`, bad: true})

	// Search and context.
	c.do(200, request{method: "POST", path: "/v1/search", key: k, body: `{"query":"ledger export","projects":["ledger"],"limit":5}`})
	c.do(200, request{method: "POST", path: "/v1/search", key: rd, body: `{"query":"","types":["manual"],"order_by":"date_asc"}`})
	c.do(200, request{method: "POST", path: "/v1/search", key: k, body: `{"query":"zzz-nothing-matches"}`})
	c.do(400, request{method: "POST", path: "/v1/search", key: k, body: `{"query":"x","date_start":"last week"}`, bad: true})
	c.do(200, request{method: "POST", path: "/v1/context", key: k, body: `{"project":"ledger","max_tokens":2000}`})
	c.do(200, request{method: "POST", path: "/v1/context", key: rd, body: `{"project":"ledger","prompt":"how does the export dedupe"}`})

	// MCP: initialize over streamable HTTP.
	c.do(200, request{method: "POST", path: "/v1/mcp", key: k,
		header: map[string]string{"Accept": "application/json, text/event-stream"},
		body:   `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"openapi-test","version":"1"}}}`})
	c.do(202, request{method: "POST", path: "/v1/mcp", key: k,
		header: map[string]string{"Accept": "application/json, text/event-stream"},
		body:   `{"jsonrpc":"2.0","method":"notifications/initialized"}`})

	// Data: export, import (both formats), reindex.
	export := c.do(200, request{method: "POST", path: "/v1/export", key: k})
	c.do(200, request{method: "POST", path: "/v1/import", key: k, contentType: "application/x-ndjson", body: string(export)})
	c.do(200, request{method: "POST", path: "/v1/import?format=mcp-memory&project=ledger", key: k, contentType: "application/x-ndjson",
		body: `{"type":"entity","name":"ledger","entityType":"service","observations":["exports nightly"]}` + "\n"})
	c.do(400, request{method: "POST", path: "/v1/import?format=csv", key: k, contentType: "application/x-ndjson", body: "{}\n", bad: true})
	c.do(200, request{method: "POST", path: "/v1/reindex", key: k})
	c.do(403, request{method: "POST", path: "/v1/reindex", key: rd})

	// Audit.
	c.do(200, request{method: "GET", path: "/v1/audit?action=search&limit=5", key: k})
	c.do(400, request{method: "GET", path: "/v1/audit?limit=-1", key: k, bad: true})

	// Forget: by id, by filter, a whole project.
	c.do(200, request{method: "POST", path: "/v1/forget", key: k, body: `{"ids":[` + mid + `]}`})
	c.do(200, request{method: "POST", path: "/v1/forget", key: k, body: `{"filter":{"query":"ledger","projects":["ledger"]}}`})
	c.do(200, request{method: "POST", path: "/v1/forget", key: k, body: `{"project":"ledger"}`})
	c.do(400, request{method: "POST", path: "/v1/forget", key: k, body: `{}`, bad: true})

	// Every operation, and every status it documents, was validated; and
	// the errors a client meets most were among them.
	c.mu.Lock()
	defer c.mu.Unlock()
	errSeen := map[int]bool{}
	for _, op := range openapi.Operations() {
		got := c.seen[op.ID]
		if len(got) == 0 {
			t.Errorf("%s %s (%s) was never called: add it to this test", op.Method, op.Path, op.ID)
			continue
		}
		for _, r := range op.Responses {
			if !got[r.Status] {
				t.Errorf("%s %s (%s): documented status %d was never validated", op.Method, op.Path, op.ID, r.Status)
			}
		}
		for st := range got {
			if st >= 400 {
				errSeen[st] = true
			}
		}
	}
	for _, st := range []int{400, 401, 403, 404, 409, 413} {
		if !errSeen[st] {
			t.Errorf("no %d response was validated", st)
		}
	}
}

// TestDocumentCoversTheRouter compares the document's operations with the
// routes a real server mounts: a route without an operation, or an
// operation without a route, fails. The legacy /api routes of the
// TypeScript claude-mem are documented in docs/migration-from-claude-mem.md
// instead.
func TestDocumentCoversTheRouter(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t)
	var mounted []string
	err := chi.Walk(srv.Router(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(route, "/api/") || route == "/health" {
			return nil
		}
		mounted = append(mounted, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, op := range openapi.Operations() {
		documented = append(documented, op.Method+" "+op.Path)
	}
	for _, r := range mounted {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is mounted but not in openapi.Operations: describe it there", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(mounted, d) {
			t.Errorf("openapi.Operations describes %s, which the server does not mount", d)
		}
	}
}
