package restapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/restapi"
	"github.com/claude-mem/claude-mem-server/host/search"
	"github.com/claude-mem/claude-mem-server/host/server"
	"github.com/claude-mem/claude-mem-server/host/server/servertest"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

func TestMain(m *testing.M) {
	code := m.Run()
	hosttest.Cleanup()
	os.Exit(code)
}

// bundle is a real server (bundled plugins as subprocesses) in api-key
// mode with two teams: "a" (keys a, and ab bound to project a1) and "b".
type bundle struct {
	srv  *server.Server
	ts   *servertest.Server
	base string
	root string
	keys map[string]string
	a1   access.Project
	a2   access.Project
}

func setup(t *testing.T) *bundle {
	t.Helper()
	ts := servertest.Start(t, servertest.WithConfig(func(cfg *config.Config) {
		cfg.Auth.Mode = config.AuthAPIKey
		cfg.Auth.RateLimitPerMinute = 0
	}))
	srv := ts.Server
	ctx := context.Background()
	base := "http://" + srv.Addr().String()
	b := &bundle{srv: srv, ts: ts, base: base, keys: map[string]string{}}
	k, err := srv.Admin().CreateKey(ctx, access.LocalOwner(), access.CreateKeyRequest{Scopes: []string{auth.ScopeAll}, Name: "root"})
	if err != nil {
		t.Fatal(err)
	}
	b.root = k.Secret
	for _, tm := range []string{"a", "b"} {
		b.do(t, http.StatusCreated, http.MethodPost, "/v1/admin/teams", b.root, fmt.Sprintf(`{"id":%q}`, tm), nil)
		var key access.CreatedKey
		b.do(t, http.StatusCreated, http.MethodPost, "/v1/admin/api-keys", b.root,
			fmt.Sprintf(`{"team":%q,"scopes":["memories:read","memories:write"],"name":"k"}`, tm), &key)
		b.keys[tm] = key.Secret
	}
	b.do(t, http.StatusCreated, http.MethodPost, "/v1/admin/projects", b.root, `{"team":"a","name":"a1"}`, &b.a1)
	b.do(t, http.StatusCreated, http.MethodPost, "/v1/admin/projects", b.root, `{"team":"a","name":"a2"}`, &b.a2)
	var bound access.CreatedKey
	b.do(t, http.StatusCreated, http.MethodPost, "/v1/admin/api-keys", b.root,
		`{"team":"a","scopes":["memories:read","memories:write"],"name":"bound","project":"a1"}`, &bound)
	b.keys["ab"] = bound.Secret
	return b
}

type reply struct {
	status int
	body   []byte
}

func (b *bundle) call(t *testing.T, method, path, key, body string) reply {
	t.Helper()
	status, out, _ := servertest.Call(t, method, b.base+path, key, body)
	return reply{status, out}
}

// do fails the test unless the status is want, and decodes into v.
func (b *bundle) do(t *testing.T, want int, method, path, key, body string, v any) {
	t.Helper()
	r := b.call(t, method, path, key, body)
	if r.status != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, r.status, r.body, want)
	}
	if v != nil {
		if err := json.Unmarshal(r.body, v); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, r.body)
		}
	}
}

func (b *bundle) remember(t *testing.T, key, project, text string) restapi.Memory {
	t.Helper()
	var resp restapi.MemoryResponse
	b.do(t, http.StatusCreated, http.MethodPost, "/v1/memories", key, fmt.Sprintf(`{"project":%q,"text":%q}`, project, text), &resp)
	if resp.Memory.ID == 0 || resp.Memory.Type != restapi.TypeManual || !resp.Memory.Current || resp.Created == nil || !*resp.Created {
		t.Fatalf("created memory %+v", resp)
	}
	return resp.Memory
}

// found returns the ids of the observations a search finds.
func (b *bundle) found(t *testing.T, key, query string) []int64 {
	t.Helper()
	var res search.Result
	b.do(t, http.StatusOK, http.MethodPost, "/v1/search", key, fmt.Sprintf(`{"query":%q,"kinds":["observation"]}`, query), &res)
	var ids []int64
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	return ids
}

func TestSupersedeKeepsHistoryAndAsOf(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ka := b.keys["a"]
	m1 := b.remember(t, ka, "a1", "Deploys use the zebra pipeline")
	if got := b.found(t, ka, "zebra pipeline"); len(got) != 1 || got[0] != m1.ID {
		t.Fatalf("search before supersede: %v", got)
	}
	time.Sleep(20 * time.Millisecond)
	before := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)

	var sup restapi.MemoryResponse
	b.do(t, http.StatusCreated, http.MethodPost, fmt.Sprintf("/v1/memories/%d/supersede", m1.ID), ka,
		`{"text":"Deploys use the quokka pipeline","concepts":["deploy"]}`, &sup)
	m2 := sup.Memory
	if m2.ID == m1.ID || !m2.Current || m2.Narrative != "Deploys use the quokka pipeline" || m2.ProjectID != b.a1.ID {
		t.Fatalf("new version %+v", m2)
	}
	if old := sup.Superseded; old == nil || old.ID != m1.ID || old.Current || old.ValidTo == nil || old.SupersededBy == nil || *old.SupersededBy != m2.ID {
		t.Fatalf("old version %+v", sup.Superseded)
	}

	// Reads return the current version by default…
	var cur restapi.MemoryResponse
	b.do(t, http.StatusOK, http.MethodGet, fmt.Sprintf("/v1/memories/%d", m1.ID), ka, "", &cur)
	if cur.Memory.ID != m2.ID || cur.RequestedID != m1.ID || len(cur.History) != 2 || cur.History[0].ID != m1.ID || cur.History[1].ID != m2.ID {
		t.Fatalf("current read %+v", cur)
	}
	// …and as_of the past.
	var past restapi.MemoryResponse
	b.do(t, http.StatusOK, http.MethodGet, fmt.Sprintf("/v1/memories/%d?as_of=%s", m2.ID, before.Format(time.RFC3339Nano)), ka, "", &past)
	if past.Memory.ID != m1.ID || past.Memory.Narrative != "Deploys use the zebra pipeline" || past.Memory.Current || past.AsOf == nil {
		t.Fatalf("as_of read %+v", past)
	}
	b.do(t, http.StatusOK, http.MethodGet, fmt.Sprintf("/v1/memories/%d?as_of=%s", m1.ID, time.Now().UTC().Format(time.RFC3339Nano)), ka, "", &past)
	if past.Memory.ID != m2.ID {
		t.Fatalf("as_of now: %+v", past.Memory)
	}
	b.do(t, http.StatusNotFound, http.MethodGet, fmt.Sprintf("/v1/memories/%d?as_of=2001-01-01T00:00:00Z", m1.ID), ka, "", nil)

	// Search and context see only the current version.
	if got := b.found(t, ka, "zebra pipeline"); slices.Contains(got, m1.ID) {
		t.Fatalf("search finds the superseded version: %v", got)
	}
	if got := b.found(t, ka, "quokka pipeline"); len(got) != 1 || got[0] != m2.ID {
		t.Fatalf("search for the new version: %v", got)
	}
	var pack restapi.ContextResponse
	b.do(t, http.StatusOK, http.MethodPost, "/v1/context", ka, `{"project":"a1","max_tokens":4000}`, &pack)
	if !strings.Contains(pack.Text, "quokka") || strings.Contains(pack.Text, "zebra") || len(pack.ObservationIDs) != 1 || pack.ObservationIDs[0] != m2.ID || pack.Tokens <= 0 {
		t.Fatalf("context %+v", pack)
	}
	b.do(t, http.StatusOK, http.MethodPost, "/v1/context", ka, `{"project":"a1","prompt":"which pipeline do deploys use?"}`, &pack)
	if pack.Mode != "relevance" || strings.Contains(pack.Text, "zebra") {
		t.Fatalf("relevance context %+v", pack)
	}

	// History is immutable; the current version can be edited in place.
	b.do(t, http.StatusConflict, http.MethodPost, fmt.Sprintf("/v1/memories/%d/supersede", m1.ID), ka, `{"text":"again"}`, nil)
	b.do(t, http.StatusConflict, http.MethodPatch, fmt.Sprintf("/v1/memories/%d", m1.ID), ka, `{"title":"x"}`, nil)
	var patched restapi.MemoryResponse
	b.do(t, http.StatusOK, http.MethodPatch, fmt.Sprintf("/v1/memories/%d", m2.ID), ka, `{"title":"Deploy pipeline","facts":["canary first"]}`, &patched)
	if patched.Memory.Title != "Deploy pipeline" || len(patched.Memory.Facts) != 1 || patched.Memory.Narrative != m2.Narrative {
		t.Fatalf("patched %+v", patched.Memory)
	}

	// Another team sees none of it; a key bound to another project neither.
	for _, path := range []string{fmt.Sprintf("/v1/memories/%d", m1.ID), fmt.Sprintf("/v1/memories/%d", m2.ID)} {
		b.do(t, http.StatusNotFound, http.MethodGet, path, b.keys["b"], "", nil)
	}
	b.do(t, http.StatusNotFound, http.MethodPost, fmt.Sprintf("/v1/memories/%d/supersede", m2.ID), b.keys["b"], `{"text":"hijack"}`, nil)
	m3 := b.remember(t, ka, "a2", "a memory of project a2")
	b.do(t, http.StatusNotFound, http.MethodGet, fmt.Sprintf("/v1/memories/%d", m3.ID), b.keys["ab"], "", nil)
	b.do(t, http.StatusOK, http.MethodGet, fmt.Sprintf("/v1/memories/%d", m2.ID), b.keys["ab"], "", nil)
	b.do(t, http.StatusForbidden, http.MethodPost, "/v1/memories", b.keys["ab"], `{"project":"a2","text":"not mine"}`, nil)
}

func TestForgetRemovesFromStoreAndSearch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ka, kb := b.keys["a"], b.keys["b"]
	m := b.remember(t, ka, "a1", "The wombat credentials live in vault")
	v2 := restapi.MemoryResponse{}
	b.do(t, http.StatusCreated, http.MethodPost, fmt.Sprintf("/v1/memories/%d/supersede", m.ID), ka, `{"text":"The wombat credentials moved to sops"}`, &v2)
	if got := b.found(t, ka, "wombat credentials"); len(got) != 1 {
		t.Fatalf("search before forget: %v", got)
	}

	// Another team cannot forget it.
	b.do(t, http.StatusNotFound, http.MethodPost, "/v1/forget", kb, fmt.Sprintf(`{"ids":[%d]}`, m.ID), nil)
	b.do(t, http.StatusNotFound, http.MethodPost, "/v1/forget", kb, fmt.Sprintf(`{"project_id":%d}`, b.a1.ID), nil)

	var res restapi.ForgetResponse
	b.do(t, http.StatusOK, http.MethodPost, "/v1/forget", ka, fmt.Sprintf(`{"ids":[%d]}`, m.ID), &res)
	if res.Observations != 2 || len(res.ObservationIDs) != 2 {
		t.Fatalf("forget by id (with its history): %+v", res)
	}
	if got := b.found(t, ka, "wombat credentials"); len(got) != 0 {
		t.Fatalf("search after forget: %v", got)
	}
	for _, id := range []int64{m.ID, v2.Memory.ID} {
		b.do(t, http.StatusNotFound, http.MethodGet, fmt.Sprintf("/v1/memories/%d", id), ka, "", nil)
	}
	var n int
	if err := b.srv.Store().Reader().QueryRow(`SELECT count(*) FROM observations_fts WHERE observations_fts MATCH 'wombat'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the FTS index still has %d rows (%v)", n, err)
	}

	// By filter.
	keep := b.remember(t, ka, "a1", "The platypus cache is warm")
	var made restapi.MemoryResponse
	b.do(t, http.StatusCreated, http.MethodPost, "/v1/memories", ka, `{"project":"a1","text":"The platypus queue is cold","concepts":["scratch"]}`, &made)
	b.do(t, http.StatusOK, http.MethodPost, "/v1/forget", ka, `{"filter":{"concepts":["scratch"]}}`, &res)
	if res.Observations != 1 || res.ObservationIDs[0] != made.Memory.ID {
		t.Fatalf("forget by filter: %+v", res)
	}
	hot := b.remember(t, ka, "a1", "The platypus queue is hot")
	b.do(t, http.StatusOK, http.MethodPost, "/v1/forget", ka, `{"filter":{"query":"platypus queue"}}`, &res)
	if res.Observations != 1 || res.ObservationIDs[0] != hot.ID {
		t.Fatalf("forget by query: %+v", res)
	}
	// A query forgets only what has all of its terms.
	b.do(t, http.StatusOK, http.MethodPost, "/v1/forget", ka, `{"filter":{"query":"platypus walrus"}}`, &res)
	if res.Observations != 0 {
		t.Fatalf("forget by query with a term no memory has: %+v", res)
	}
	if got := b.found(t, ka, "platypus"); len(got) != 1 || got[0] != keep.ID {
		t.Fatalf("after forget by filter: %v", got)
	}

	// A whole project: sessions, prompts, events, memories.
	b.do(t, http.StatusCreated, http.MethodPost, "/v1/events?generate=false", ka,
		`{"type":"user_prompt","content_session_id":"cs-forget","project":"a2","text":"remember the echidna runbook"}`, nil)
	b.remember(t, ka, "a2", "The echidna runbook is in the wiki")
	b.do(t, http.StatusOK, http.MethodPost, "/v1/forget", ka, `{"project":"a2"}`, &res)
	if res.Observations != 1 || res.Prompts != 1 || res.Events != 1 || res.Sessions != 2 {
		t.Fatalf("forget project: %+v", res)
	}
	var sr search.Result
	b.do(t, http.StatusOK, http.MethodPost, "/v1/search", ka, `{"query":"echidna runbook"}`, &sr)
	if len(sr.Hits) != 0 {
		t.Fatalf("search after forgetting the project: %+v", sr.Hits)
	}
	var detail restapi.ProjectDetail
	b.do(t, http.StatusOK, http.MethodGet, fmt.Sprintf("/v1/projects/%d", b.a2.ID), ka, "", &detail)
	for k, v := range detail.Counts {
		if v != 0 {
			t.Fatalf("project a2 still has %d %s", v, k)
		}
	}

	// Forget is audited with what it removed.
	if err := b.srv.Audit().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var page access.AuditPage
	b.do(t, http.StatusOK, http.MethodGet, "/v1/audit?action=forget&team=a", b.root, "", &page)
	if len(page.Entries) != 5 {
		t.Fatalf("%d forget audit entries, want 5: %+v", len(page.Entries), page.Entries)
	}
}

func TestProjectsSessionsJobs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ka, kab := b.keys["a"], b.keys["ab"]

	var created restapi.ProjectCreated
	b.do(t, http.StatusCreated, http.MethodPost, "/v1/projects", ka, `{"name":"a3","root_path":"/src/a3"}`, &created)
	if !created.Created || created.Project.Name != "a3" || created.Project.TeamID != "a" || created.Project.RootPath != "/src/a3" {
		t.Fatalf("created %+v", created)
	}
	b.do(t, http.StatusOK, http.MethodPost, "/v1/projects", ka, `{"name":"a3"}`, &created)
	if created.Created {
		t.Fatal("an existing project was created again")
	}
	b.do(t, http.StatusForbidden, http.MethodPost, "/v1/projects", kab, `{"name":"a4"}`, nil)
	var list restapi.ProjectList
	b.do(t, http.StatusOK, http.MethodGet, "/v1/projects", ka, "", &list)
	if len(list.Projects) != 3 {
		t.Fatalf("team a lists %+v", list)
	}
	b.do(t, http.StatusOK, http.MethodGet, "/v1/projects", kab, "", &list)
	if len(list.Projects) != 1 || list.Projects[0].ID != b.a1.ID {
		t.Fatalf("the bound key lists %+v", list)
	}
	b.do(t, http.StatusOK, http.MethodGet, "/v1/projects", b.keys["b"], "", &list)
	if len(list.Projects) != 0 {
		t.Fatalf("team b lists %+v", list)
	}
	b.do(t, http.StatusNotFound, http.MethodGet, fmt.Sprintf("/v1/projects/%d", b.a1.ID), b.keys["b"], "", nil)
	b.do(t, http.StatusNotFound, http.MethodGet, fmt.Sprintf("/v1/projects/%d", b.a2.ID), kab, "", nil)

	// A session with a prompt and a tool event, whose job completes.
	var start struct {
		Session struct {
			ID int64 `json:"id"`
		} `json:"session"`
	}
	b.do(t, http.StatusCreated, http.MethodPost, "/v1/sessions/start", ka, `{"content_session_id":"cs-1","project":"a1"}`, &start)
	b.do(t, http.StatusCreated, http.MethodPost, "/v1/events", ka, `{"type":"user_prompt","content_session_id":"cs-1","project":"a1","text":"list the files"}`, nil)
	var ev struct {
		Job struct {
			ID string `json:"id"`
		} `json:"generation_job"`
	}
	b.do(t, http.StatusCreated, http.MethodPost, "/v1/events", ka, `{"type":"tool_use","content_session_id":"cs-1","project":"a1","tool_name":"Bash","tool_use_id":"t1","tool_input":{"command":"ls"},"tool_response":{"stdout":"main.go"}}`, &ev)
	if ev.Job.ID == "" {
		t.Fatal("no generation job")
	}
	var job restapi.JobResponse
	deadline := time.Now().Add(20 * time.Second)
	for {
		b.do(t, http.StatusOK, http.MethodGet, "/v1/jobs/"+ev.Job.ID, ka, "", &job)
		if job.Job.Status == "completed" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if job.Job.Status != "completed" || job.Job.ProjectID != b.a1.ID || job.Job.SessionID != start.Session.ID || len(job.History) < 2 || job.History[0].Status != "queued" {
		t.Fatalf("job %+v", job)
	}
	b.do(t, http.StatusNotFound, http.MethodGet, "/v1/jobs/"+ev.Job.ID, b.keys["b"], "", nil)
	b.do(t, http.StatusNotFound, http.MethodGet, "/v1/jobs/no-such-job", ka, "", nil)
	b.do(t, http.StatusConflict, http.MethodPost, "/v1/jobs/"+ev.Job.ID+"/retry", ka, "", nil)
	b.do(t, http.StatusNotFound, http.MethodPost, "/v1/jobs/"+ev.Job.ID+"/retry", b.keys["b"], "", nil)
	// A failed job goes back to the queue.
	if _, err := b.srv.Store().Writer().Exec(`UPDATE generation_jobs SET status = 'failed', last_error = 'boom' WHERE id = ?`, ev.Job.ID); err != nil {
		t.Fatal(err)
	}
	b.do(t, http.StatusOK, http.MethodPost, "/v1/jobs/"+ev.Job.ID+"/retry", ka, "", &job)
	if job.Job.Status == "failed" || job.Job.Attempts > 1 || job.Job.LastError != "" ||
		!strings.Contains(string(mustJSON(t, job.History)), "retry requested") {
		t.Fatalf("retried job %+v", job)
	}
	// The engine still held the job as completed (only the outbox said
	// failed): the retry must run it again all the same.
	b.ts.WaitIdle(t)
	b.do(t, http.StatusOK, http.MethodGet, "/v1/jobs/"+ev.Job.ID, ka, "", &job)
	if h := job.History; job.Job.Status != "completed" || h[len(h)-1].Status != "completed" || h[len(h)-2].Status == "completed" {
		t.Fatalf("the retried job did not run again: %+v", job)
	}

	var sess restapi.SessionDetail
	b.do(t, http.StatusOK, http.MethodGet, fmt.Sprintf("/v1/sessions/%d", start.Session.ID), ka, "", &sess)
	if sess.Session.ID != start.Session.ID || sess.Session.Project != "a1" || len(sess.Prompts) != 1 || sess.Prompts[0].Text != "list the files" || sess.ObservationIDs == nil {
		t.Fatalf("session %+v", sess)
	}
	b.do(t, http.StatusOK, http.MethodGet, fmt.Sprintf("/v1/sessions/%d", start.Session.ID), kab, "", nil)
	b.do(t, http.StatusNotFound, http.MethodGet, fmt.Sprintf("/v1/sessions/%d", start.Session.ID), b.keys["b"], "", nil)

	var detail restapi.ProjectDetail
	b.do(t, http.StatusOK, http.MethodGet, fmt.Sprintf("/v1/projects/%d", b.a1.ID), ka, "", &detail)
	if detail.Project.Name != "a1" || detail.Counts["sessions"] != 1 || detail.Counts["prompts"] != 1 || detail.Counts["events"] != 2 {
		t.Fatalf("project detail %+v", detail)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBadInputIs4xx(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ka := b.keys["a"]
	m := b.remember(t, ka, "a1", "a memory to poke at")
	mem := fmt.Sprintf("/v1/memories/%d", m.ID)
	for _, tc := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{http.MethodPost, "/v1/search", `{"query":"x","bogus":1}`, 400, "invalid_json"},
		{http.MethodPost, "/v1/search", `{"query":"x","limit":1000}`, 400, restapi.CodeInvalid},
		{http.MethodPost, "/v1/search", `{"kinds":["widgets"]}`, 400, restapi.CodeInvalid},
		{http.MethodPost, "/v1/search", `{"order_by":"sideways"}`, 400, restapi.CodeInvalid},
		{http.MethodPost, "/v1/search", `{"date_start":"yesterday"}`, 400, restapi.CodeInvalid},
		{http.MethodPost, "/v1/search", `{"query":`, 400, "invalid_json"},
		{http.MethodPost, "/v1/context", `{"max_tokens":-1}`, 400, restapi.CodeInvalid},
		{http.MethodPost, "/v1/context", `{"project":"a1","max_observations":100000}`, 400, restapi.CodeInvalid},
		{http.MethodPost, "/v1/memories", `{"project":"a1"}`, 400, restapi.CodeInvalid},
		{http.MethodPost, "/v1/memories", `{"text":"no project"}`, 400, restapi.CodeInvalid},
		{http.MethodPost, "/v1/memories", `{"project":"a1","text":"<private>only secret</private>"}`, 400, restapi.CodeInvalid},
		{http.MethodGet, "/v1/memories/abc", "", 400, "bad_request"},
		{http.MethodGet, "/v1/memories/999999", "", 404, "not_found"},
		{http.MethodGet, mem + "?as_of=last-tuesday", "", 400, restapi.CodeInvalid},
		{http.MethodPatch, mem, `{}`, 400, restapi.CodeInvalid},
		{http.MethodPatch, mem, `{"text":"   "}`, 400, restapi.CodeInvalid},
		{http.MethodPost, mem + "/supersede", `{"text":"v2","project":"a2"}`, 400, restapi.CodeInvalid},
		{http.MethodPost, mem + "/supersede", `{"text":"a memory to poke at"}`, 409, restapi.CodeConflict},
		{http.MethodPost, "/v1/forget", `{}`, 400, restapi.CodeInvalid},
		{http.MethodPost, "/v1/forget", fmt.Sprintf(`{"ids":[%d],"project":"a1"}`, m.ID), 400, restapi.CodeInvalid},
		{http.MethodPost, "/v1/forget", `{"filter":{}}`, 400, restapi.CodeInvalid},
		{http.MethodPost, "/v1/forget", `{"ids":[-1]}`, 400, restapi.CodeInvalid},
		{http.MethodPost, "/v1/forget", `{"project":"nope"}`, 404, "not_found"},
		{http.MethodPost, "/v1/projects", `{"name":""}`, 400, restapi.CodeInvalid},
		{http.MethodGet, "/v1/projects/0", "", 400, "bad_request"},
		{http.MethodGet, "/v1/sessions/999999", "", 404, "not_found"},
	} {
		r := b.call(t, tc.method, tc.path, ka, tc.body)
		var body struct{ Error, Code string }
		_ = json.Unmarshal(r.body, &body)
		if r.status != tc.status || body.Code != tc.code || body.Error == "" {
			t.Errorf("%s %s %s = %d %s, want %d %s", tc.method, tc.path, tc.body, r.status, r.body, tc.status, tc.code)
		}
	}
	// Nothing above changed the memory.
	var got restapi.MemoryResponse
	b.do(t, http.StatusOK, http.MethodGet, mem, ka, "", &got)
	if got.Memory.ID != m.ID || !got.Memory.Current || got.Memory.Narrative != "a memory to poke at" {
		t.Fatalf("memory %+v", got.Memory)
	}
}

// TestReindexRebuildsADamagedIndex empties the full-text index behind the
// store's back, so search misses a memory that is still stored, and checks
// that POST /v1/reindex brings it back and that only admins may run it.
func TestReindexRebuildsADamagedIndex(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ka := b.keys["a"]
	m := b.remember(t, ka, "a1", "The platypus cache warms on boot")
	if got := b.found(t, ka, "platypus"); len(got) != 1 {
		t.Fatalf("search before damage: %v", got)
	}
	if _, err := b.srv.Store().Writer().Exec(`INSERT INTO observations_fts(observations_fts) VALUES('delete-all')`); err != nil {
		t.Fatal(err)
	}
	if got := b.found(t, ka, "platypus"); len(got) != 0 {
		t.Fatalf("the damage did not take: %v", got)
	}
	b.do(t, http.StatusForbidden, http.MethodPost, "/v1/reindex", ka, "", nil)
	var res restapi.ReindexResponse
	b.do(t, http.StatusOK, http.MethodPost, "/v1/reindex", b.root, "", &res)
	if len(res.Indexes) != 3 || res.Rows["observations_fts"] < 1 {
		t.Fatalf("reindex answered %+v", res)
	}
	if got := b.found(t, ka, "platypus"); len(got) != 1 || got[0] != m.ID {
		t.Fatalf("search after reindex: %v, want [%d]", got, m.ID)
	}
}
