package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/hashicorp/go-hclog"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
	"github.com/claude-mem/claude-mem-server/host/server"
	"github.com/claude-mem/claude-mem-server/host/server/servertest"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

// authBundle is a real server (bundled plugins as subprocesses) whose log
// is kept, so that tests can look for keys in it.
type authBundle struct {
	srv     *server.Server
	base    string
	dataDir string
	logs    *syncBuffer
}

func setupAuth(t *testing.T, mutate func(*config.Config)) *authBundle {
	t.Helper()
	logs := &syncBuffer{}
	host := servertest.Start(t, servertest.WithConfig(func(cfg *config.Config) {
		cfg.Auth.Mode = config.AuthAPIKey
		cfg.Auth.RateLimitPerMinute = 0
		cfg.Log.Level = "trace"
		if mutate != nil {
			mutate(cfg)
		}
	}), servertest.WithLogger(hclog.New(&hclog.LoggerOptions{Name: "claude-mem", Level: hclog.Trace, Output: logs})))
	return &authBundle{srv: host.Server, base: host.Base, dataDir: host.DataDir, logs: logs}
}

type reply struct {
	status int
	body   []byte
	header http.Header
}

// call sends a request with key as a bearer token ("" for none).
func (b *authBundle) call(t *testing.T, method, path, key, body string) reply {
	t.Helper()
	status, out, header := servertest.Call(t, method, b.base+path, key, body)
	return reply{status: status, body: out, header: header}
}

// mustCall is call that fails the test unless the status is want, and
// decodes the body into v (if not nil).
func (b *authBundle) mustCall(t *testing.T, want int, method, path, key, body string, v any) {
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

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func randHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// rootKey mints a "*" key of the local team straight through the admin
// layer, as `claude-mem server api-key create` does on a stopped server.
func (b *authBundle) rootKey(t *testing.T) string {
	t.Helper()
	k, err := b.srv.Admin().CreateKey(context.Background(), access.LocalOwner(), access.CreateKeyRequest{Scopes: []string{auth.ScopeAll}, Name: "root"})
	if err != nil {
		t.Fatal(err)
	}
	return k.Secret
}

// Key kinds of the matrix.
const (
	kindNone    = "none"
	kindRead    = "read"
	kindWrite   = "write"
	kindBound   = "bound" // read and write, bound to project p1
	kindAdmin   = "admin"
	kindExpired = "expired"
	kindRevoked = "revoked"
)

var kinds = []string{kindNone, kindRead, kindWrite, kindBound, kindAdmin, kindExpired, kindRevoked}

// team is one team of the fixture and everything it owns.
type team struct {
	id                 string
	marker             string
	p1, p2             access.Project
	keys               map[string]string // kind → secret
	keyIDs             map[string]string
	spareKeyID         string
	csP1, csP2, csHook string // content session ids
	// csPlain is the content session id of one more session, with no
	// marker in it: another team's writes name it, and must get a session
	// of their own, as for an id never seen (sessions are unique per team).
	csPlain          string
	sessP1, sessP2   int64
	eventP1, eventP2 int64
	memP1, memP2     int64  // manual memories (POST /v1/memories)
	jobP1            string // a generation job of p1
	// secrets are strings only this team's rows contain.
	secrets []string
}

// seedTeam creates a team, its projects and keys, and writes its data
// through the write routes.
func (b *authBundle) seedTeam(t *testing.T, root, id string) *team {
	t.Helper()
	tm := &team{id: id, marker: "MARK" + id + randHex(t), keys: map[string]string{}, keyIDs: map[string]string{}}
	b.mustCall(t, http.StatusCreated, http.MethodPost, "/v1/admin/teams", root, jsonOf(t, access.CreateTeamRequest{ID: id}), nil)
	b.mustCall(t, http.StatusCreated, http.MethodPost, "/v1/admin/projects", root, jsonOf(t, access.CreateProjectRequest{Team: id, Name: tm.marker + "-p1"}), &tm.p1)
	b.mustCall(t, http.StatusCreated, http.MethodPost, "/v1/admin/projects", root, jsonOf(t, access.CreateProjectRequest{Team: id, Name: tm.marker + "-p2"}), &tm.p2)
	mint := func(kind string, req access.CreateKeyRequest) access.CreatedKey {
		req.Team, req.Name = id, id+"-"+kind
		var k access.CreatedKey
		b.mustCall(t, http.StatusCreated, http.MethodPost, "/v1/admin/api-keys", root, jsonOf(t, req), &k)
		tm.keys[kind], tm.keyIDs[kind] = k.Secret, k.Key.ID
		tm.secrets = append(tm.secrets, k.Secret, k.Key.ID, k.Key.Prefix)
		return k
	}
	mint(kindRead, access.CreateKeyRequest{Scopes: []string{auth.ScopeRead}})
	mint(kindWrite, access.CreateKeyRequest{Scopes: []string{auth.ScopeWrite}})
	mint(kindBound, access.CreateKeyRequest{Scopes: []string{auth.ScopeRead, auth.ScopeWrite}, Project: tm.p1.Name})
	mint(kindAdmin, access.CreateKeyRequest{Scopes: []string{auth.ScopeAdmin}})
	revoked := mint(kindRevoked, access.CreateKeyRequest{Scopes: []string{auth.ScopeAll}})
	b.mustCall(t, http.StatusOK, http.MethodPost, "/v1/admin/api-keys/"+revoked.Key.ID+"/revoke", root, "", nil)
	spare := mint("spare", access.CreateKeyRequest{Scopes: []string{auth.ScopeRead}})
	tm.spareKeyID = spare.Key.ID
	// An expired key cannot be made through the API; the provider can.
	prov, err := b.srv.Auth()
	if err != nil {
		t.Fatal(err)
	}
	k, secret, err := prov.CreateKey(context.Background(), auth.KeySpec{TeamID: id, Scopes: []string{auth.ScopeAll}, Name: id + "-expired", ExpiresAt: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	tm.keys[kindExpired], tm.keyIDs[kindExpired] = secret, k.ID
	tm.secrets = append(tm.secrets, secret, k.ID, k.Prefix, `"team_id":"`+id+`"`, tm.marker)

	w := tm.keys[kindWrite]
	tm.csP1, tm.csP2, tm.csHook = tm.marker+"-cs1", tm.marker+"-cs2", tm.marker+"-hook"
	tm.csPlain = "plain-" + randHex(t)
	var sess struct {
		Session struct {
			ID int64 `json:"id"`
		} `json:"session"`
	}
	b.mustCall(t, http.StatusCreated, http.MethodPost, "/v1/sessions/start", w, jsonOf(t, map[string]string{"content_session_id": tm.csP1, "project": tm.p1.Name}), &sess)
	tm.sessP1 = sess.Session.ID
	b.mustCall(t, http.StatusCreated, http.MethodPost, "/v1/sessions/start", w, jsonOf(t, map[string]string{"content_session_id": tm.csP2, "project": tm.p2.Name}), &sess)
	tm.sessP2 = sess.Session.ID
	var res struct {
		EventID int64 `json:"event_id"`
	}
	b.mustCall(t, http.StatusCreated, http.MethodPost, "/v1/events", w, tm.prompt(tm.csP1, tm.p1.Name, "recall the deployment checklist"), &res)
	tm.eventP1 = res.EventID
	b.mustCall(t, http.StatusCreated, http.MethodPost, "/v1/events?generate=false", w, tm.prompt(tm.csPlain, tm.p1.Name, "a plain session"), nil)
	var batch struct {
		Results []struct {
			EventID int64 `json:"event_id"`
		} `json:"results"`
	}
	b.mustCall(t, http.StatusCreated, http.MethodPost, "/v1/events/batch", w, "["+tm.prompt(tm.csP2, tm.p2.Name, "deployment checklist of p2")+"]", &batch)
	tm.eventP2 = batch.Results[0].EventID
	b.mustCall(t, http.StatusCreated, http.MethodPost, "/v1/hooks/claude-code/UserPromptSubmit", w, tm.hook(tm.csHook, tm.p1.Name), nil)
	var mem struct {
		Memory struct {
			ID int64 `json:"id"`
		} `json:"memory"`
	}
	b.mustCall(t, http.StatusCreated, http.MethodPost, "/v1/memories", w, jsonOf(t, map[string]string{"project": tm.p1.Name, "text": tm.marker + " memory of p1"}), &mem)
	tm.memP1 = mem.Memory.ID
	b.mustCall(t, http.StatusCreated, http.MethodPost, "/v1/memories", w, jsonOf(t, map[string]string{"project": tm.p2.Name, "text": tm.marker + " memory of p2"}), &mem)
	tm.memP2 = mem.Memory.ID
	var tool struct {
		Job struct {
			ID string `json:"id"`
		} `json:"generation_job"`
	}
	b.mustCall(t, http.StatusCreated, http.MethodPost, "/v1/events", w, fmt.Sprintf(`{"type":"tool_use","content_session_id":%q,"project":%q,"tool_name":"Bash","tool_use_id":"call_1","tool_input":{"command":"ls"},"tool_response":{"stdout":%q}}`,
		tm.csP1, tm.p1.Name, tm.marker), &tool)
	if tool.Job.ID == "" {
		t.Fatal("the tool event made no generation job")
	}
	tm.jobP1 = tool.Job.ID
	tm.secrets = append(tm.secrets, tm.csP1, tm.csP2, tm.csHook, tm.p1.Name, tm.p2.Name)
	return tm
}

// prompt is a user_prompt event that names the team's marker.
func (tm *team) prompt(cs, project, text string) string {
	return fmt.Sprintf(`{"type":"user_prompt","content_session_id":%q,"project":%q,"text":%q}`, cs, project, tm.marker+" "+text)
}

// hook is a Claude Code UserPromptSubmit payload in the project's directory.
func (tm *team) hook(cs, project string) string {
	return fmt.Sprintf(`{"session_id":%q,"cwd":"/src/%s","hook_event_name":"UserPromptSubmit","prompt":%q,"prompt_id":%q}`,
		cs, project, tm.marker+" hook prompt deployment checklist", randHexString())
}

func randHexString() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Targets of a request: the caller's own rows (in its key's project), its
// team's rows in another project, or another team's rows.
const (
	own     = "own"
	sibling = "sibling"
	foreign = "foreign"
)

// req is one request of the matrix.
type req struct {
	method, path, body string
}

// anyOK accepts any answer that is not an authentication or authorization
// failure, nor a server error: the route's own behaviour is tested
// elsewhere; the matrix checks access and leaks.
const anyOK = -1

// routeCase is what the matrix knows of a route.
type routeCase struct {
	scope        string // what the route must declare
	projectAware bool
	targets      []string
	build        func(me, other *team, target string) req
	// want is the status of a caller whose key passes the scope checks;
	// nil means anyOK for every target.
	want func(kind, target string) int
}

func statusFor(byTarget map[string]int) func(string, string) int {
	return func(k, target string) int {
		if k == kindBound {
			if s, ok := byTarget["bound-"+target]; ok {
				return s
			}
		}
		return byTarget[target]
	}
}

func matrixRoutes(t *testing.T) map[string]routeCase {
	t.Helper()
	all := []string{own, sibling, foreign}
	ownOnly := []string{own}
	ownForeign := []string{own, foreign}
	fresh := func() string { return randHexString() }
	project := func(me *team, target string) string {
		if target == sibling {
			return me.p2.Name
		}
		return me.p1.Name
	}
	cs := func(me, other *team, target string) string {
		switch target {
		case foreign:
			return other.csPlain
		case sibling:
			return me.csP2
		}
		return me.csP1
	}
	legacyRead := func(path string) routeCase {
		return routeCase{scope: auth.ScopeRead, targets: ownOnly, build: func(me, _ *team, _ string) req {
			return req{http.MethodGet, strings.ReplaceAll(path, "{p}", me.p1.Name), ""}
		}}
	}
	return map[string]routeCase{
		"GET /healthz": {scope: access.Public, projectAware: true, targets: ownOnly,
			build: func(*team, *team, string) req { return req{http.MethodGet, "/healthz", ""} },
			want:  func(string, string) int { return http.StatusOK }},
		"GET /v1/openapi.json": {scope: access.Public, projectAware: true, targets: ownOnly,
			build: func(*team, *team, string) req { return req{http.MethodGet, "/v1/openapi.json", ""} },
			want:  func(string, string) int { return http.StatusOK }},
		"GET /v1/info": {scope: access.Authenticated, projectAware: true, targets: ownOnly,
			build: func(*team, *team, string) req { return req{http.MethodGet, "/v1/info", ""} },
			want:  func(string, string) int { return http.StatusOK }},

		"POST /v1/sessions/start": {scope: auth.ScopeWrite, projectAware: true, targets: all,
			build: func(me, other *team, target string) req {
				id := me.marker + "-new-" + fresh()
				if target == foreign {
					id = other.csPlain
				}
				return req{http.MethodPost, "/v1/sessions/start", fmt.Sprintf(`{"content_session_id":%q,"project":%q}`, id, project(me, target))}
			},
			// Another team's session id is the caller's own new session.
			want: statusFor(map[string]int{own: 201, sibling: 201, foreign: anyOK, "bound-sibling": 403})},
		"POST /v1/sessions/{id}/end": {scope: auth.ScopeWrite, projectAware: true, targets: all,
			build: func(me, other *team, target string) req {
				id := map[string]int64{own: me.sessP1, sibling: me.sessP2, foreign: other.sessP1}[target]
				return req{http.MethodPost, fmt.Sprintf("/v1/sessions/%d/end?generate=false", id), ""}
			},
			want: statusFor(map[string]int{own: 200, sibling: 200, foreign: 404, "bound-sibling": 404})},
		"POST /v1/events": {scope: auth.ScopeWrite, projectAware: true, targets: all,
			build: func(me, other *team, target string) req {
				return req{http.MethodPost, "/v1/events?generate=false", me.prompt(cs(me, other, target), project(me, target), "more "+fresh())}
			},
			want: statusFor(map[string]int{own: 201, sibling: 201, foreign: 201, "bound-sibling": 403})},
		"POST /v1/events/batch": {scope: auth.ScopeWrite, projectAware: true, targets: all,
			build: func(me, other *team, target string) req {
				return req{http.MethodPost, "/v1/events/batch?generate=false", "[" + me.prompt(cs(me, other, target), project(me, target), "batch "+fresh()) + "]"}
			},
			want: statusFor(map[string]int{own: 201, sibling: 201, foreign: 201, "bound-sibling": 403})},
		"GET /v1/events/{id}": {scope: auth.ScopeRead, projectAware: true, targets: all,
			build: func(me, other *team, target string) req {
				id := map[string]int64{own: me.eventP1, sibling: me.eventP2, foreign: other.eventP1}[target]
				return req{http.MethodGet, fmt.Sprintf("/v1/events/%d", id), ""}
			},
			want: statusFor(map[string]int{own: 200, sibling: 200, foreign: 404, "bound-sibling": 404})},
		"POST /v1/hooks/{adapter}/{event}": {scope: auth.ScopeWrite, projectAware: true, targets: all,
			build: func(me, other *team, target string) req {
				id := map[string]string{own: me.csHook, sibling: me.marker + "-hook2", foreign: other.csPlain}[target]
				return req{http.MethodPost, "/v1/hooks/claude-code/UserPromptSubmit?generate=false", me.hook(id, project(me, target))}
			},
			want: statusFor(map[string]int{own: 201, sibling: 201, foreign: 201, "bound-sibling": 403})},

		"GET /v1/admin/teams": {scope: auth.ScopeAdmin, projectAware: true, targets: ownOnly,
			build: func(*team, *team, string) req { return req{http.MethodGet, "/v1/admin/teams", ""} },
			want:  func(string, string) int { return http.StatusOK }},
		"POST /v1/admin/teams": {scope: auth.ScopeAll, projectAware: true, targets: ownOnly,
			build: func(*team, *team, string) req {
				return req{http.MethodPost, "/v1/admin/teams", `{"id":"t` + fresh() + `"}`}
			},
			want: func(string, string) int { return http.StatusCreated }},
		"GET /v1/admin/projects": {scope: auth.ScopeAdmin, projectAware: true, targets: ownForeign,
			build: func(me, other *team, target string) req {
				if target == foreign {
					return req{http.MethodGet, "/v1/admin/projects?team=" + other.id, ""}
				}
				return req{http.MethodGet, "/v1/admin/projects", ""}
			},
			want: statusFor(map[string]int{own: 200, foreign: 404})},
		"POST /v1/admin/projects": {scope: auth.ScopeAdmin, projectAware: true, targets: ownForeign,
			build: func(me, other *team, target string) req {
				tm := me.id
				if target == foreign {
					tm = other.id
				}
				return req{http.MethodPost, "/v1/admin/projects", fmt.Sprintf(`{"team":%q,"name":%q}`, tm, me.marker+"-p-"+fresh())}
			},
			want: statusFor(map[string]int{own: 201, foreign: 404})},
		"GET /v1/admin/api-keys": {scope: auth.ScopeAdmin, projectAware: true, targets: ownForeign,
			build: func(me, other *team, target string) req {
				if target == foreign {
					return req{http.MethodGet, "/v1/admin/api-keys?team=" + other.id, ""}
				}
				return req{http.MethodGet, "/v1/admin/api-keys", ""}
			},
			want: statusFor(map[string]int{own: 200, foreign: 404})},
		"POST /v1/admin/api-keys": {scope: auth.ScopeAdmin, projectAware: true, targets: ownForeign,
			build: func(me, other *team, target string) req {
				tm := me.id
				if target == foreign {
					tm = other.id
				}
				return req{http.MethodPost, "/v1/admin/api-keys", fmt.Sprintf(`{"team":%q,"scopes":["memories:read"],"name":"m"}`, tm)}
			},
			want: statusFor(map[string]int{own: 201, foreign: 404})},
		"POST /v1/admin/api-keys/{id}/revoke": {scope: auth.ScopeAdmin, projectAware: true, targets: ownForeign,
			build: func(me, other *team, target string) req {
				id := me.spareKeyID
				if target == foreign {
					id = other.spareKeyID
				}
				return req{http.MethodPost, "/v1/admin/api-keys/" + id + "/revoke", ""}
			},
			want: statusFor(map[string]int{own: 200, foreign: 404})},
		"GET /v1/audit": {scope: auth.ScopeAdmin, projectAware: true, targets: ownForeign,
			build: func(me, other *team, target string) req {
				if target == foreign {
					return req{http.MethodGet, "/v1/audit?team=" + other.id, ""}
				}
				return req{http.MethodGet, "/v1/audit?limit=1000", ""}
			},
			want: statusFor(map[string]int{own: 200, foreign: 404})},

		// REST v1 (host/restapi): project-aware; another team's rows are
		// 404, another project's rows 404 to a bound key, writes aimed at
		// another project 403 to it.
		"GET /v1/projects": {scope: auth.ScopeRead, projectAware: true, targets: ownOnly,
			build: func(*team, *team, string) req { return req{http.MethodGet, "/v1/projects", ""} },
			want:  func(string, string) int { return http.StatusOK }},
		"POST /v1/projects": {scope: auth.ScopeWrite, projectAware: true, targets: []string{own, sibling},
			build: func(me, _ *team, target string) req {
				name := me.marker + "-np-" + fresh()
				if target == sibling {
					name = me.p2.Name
				}
				return req{http.MethodPost, "/v1/projects", fmt.Sprintf(`{"name":%q}`, name)}
			},
			want: statusFor(map[string]int{own: 201, sibling: 200, "bound-own": 403, "bound-sibling": 403})},
		"GET /v1/projects/{id}": {scope: auth.ScopeRead, projectAware: true, targets: all,
			build: func(me, other *team, target string) req {
				id := map[string]int64{own: me.p1.ID, sibling: me.p2.ID, foreign: other.p1.ID}[target]
				return req{http.MethodGet, fmt.Sprintf("/v1/projects/%d", id), ""}
			},
			want: statusFor(map[string]int{own: 200, sibling: 200, foreign: 404, "bound-sibling": 404})},
		"GET /v1/sessions/{id}": {scope: auth.ScopeRead, projectAware: true, targets: all,
			build: func(me, other *team, target string) req {
				id := map[string]int64{own: me.sessP1, sibling: me.sessP2, foreign: other.sessP1}[target]
				return req{http.MethodGet, fmt.Sprintf("/v1/sessions/%d", id), ""}
			},
			want: statusFor(map[string]int{own: 200, sibling: 200, foreign: 404, "bound-sibling": 404})},
		"POST /v1/search": {scope: auth.ScopeRead, projectAware: true, targets: ownForeign,
			build: func(me, other *team, target string) req {
				if target == foreign {
					return req{http.MethodPost, "/v1/search", fmt.Sprintf(`{"query":"deployment checklist memory","project_ids":[%d]}`, other.p1.ID)}
				}
				return req{http.MethodPost, "/v1/search", `{"query":"deployment checklist memory"}`}
			},
			want: statusFor(map[string]int{own: 200, foreign: 200})},
		"POST /v1/context": {scope: auth.ScopeRead, projectAware: true, targets: all,
			build: func(me, other *team, target string) req {
				p := map[string]string{own: me.p1.Name, sibling: me.p2.Name, foreign: other.p1.Name}[target]
				return req{http.MethodPost, "/v1/context", fmt.Sprintf(`{"project":%q,"max_tokens":2000}`, p)}
			},
			want: statusFor(map[string]int{own: 200, sibling: 200, foreign: 200, "bound-sibling": 404, "bound-foreign": 404})},
		"POST /v1/memories": {scope: auth.ScopeWrite, projectAware: true, targets: []string{own, sibling},
			build: func(me, _ *team, target string) req {
				return req{http.MethodPost, "/v1/memories", fmt.Sprintf(`{"project":%q,"text":%q}`, project(me, target), me.marker+" note "+fresh())}
			},
			want: statusFor(map[string]int{own: 201, sibling: 201, "bound-sibling": 403})},
		"GET /v1/memories/{id}": {scope: auth.ScopeRead, projectAware: true, targets: all,
			build: func(me, other *team, target string) req {
				id := map[string]int64{own: me.memP1, sibling: me.memP2, foreign: other.memP1}[target]
				return req{http.MethodGet, fmt.Sprintf("/v1/memories/%d", id), ""}
			},
			want: statusFor(map[string]int{own: 200, sibling: 200, foreign: 404, "bound-sibling": 404})},
		"PATCH /v1/memories/{id}": {scope: auth.ScopeWrite, projectAware: true, targets: all,
			build: func(me, other *team, target string) req {
				id := map[string]int64{own: me.memP1, sibling: me.memP2, foreign: other.memP1}[target]
				return req{http.MethodPatch, fmt.Sprintf("/v1/memories/%d", id), fmt.Sprintf(`{"concepts":[%q]}`, "c"+fresh())}
			},
			want: statusFor(map[string]int{own: 200, sibling: 200, foreign: 404, "bound-sibling": 404})},
		// The first supersede makes the memory history: later ones are 409.
		"POST /v1/memories/{id}/supersede": {scope: auth.ScopeWrite, projectAware: true, targets: all,
			build: func(me, other *team, target string) req {
				id := map[string]int64{own: me.memP1, sibling: me.memP2, foreign: other.memP1}[target]
				return req{http.MethodPost, fmt.Sprintf("/v1/memories/%d/supersede", id), fmt.Sprintf(`{"text":%q}`, me.marker+" v2 "+fresh())}
			},
			want: statusFor(map[string]int{own: anyOK, sibling: anyOK, foreign: 404, "bound-sibling": 404})},
		// Forget never touches the seed rows other routes use: a filter
		// that matches nothing, p2's memory (gone after the first
		// success), and another team's project.
		"POST /v1/forget": {scope: auth.ScopeWrite, projectAware: true, targets: all,
			build: func(me, other *team, target string) req {
				switch target {
				case sibling:
					return req{http.MethodPost, "/v1/forget", fmt.Sprintf(`{"ids":[%d]}`, me.memP2)}
				case foreign:
					return req{http.MethodPost, "/v1/forget", fmt.Sprintf(`{"project_id":%d}`, other.p1.ID)}
				}
				return req{http.MethodPost, "/v1/forget", fmt.Sprintf(`{"filter":{"project_ids":[%d],"types":[%q]}}`, me.p1.ID, "none-"+fresh())}
			},
			want: statusFor(map[string]int{own: 200, sibling: anyOK, foreign: 404, "bound-sibling": 404})},
		// A plain request (no MCP Accept header, no session): the SDK's
		// streamable handler refuses it once access let it through. The
		// tools' isolation is host/mcpserver's test.
		"POST /v1/mcp": {scope: auth.ScopeRead, projectAware: true, targets: ownOnly,
			build: func(me, _ *team, _ string) req {
				return req{http.MethodPost, "/v1/mcp", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{"query":"deployment checklist"}}}`}
			},
			want: statusFor(map[string]int{own: http.StatusBadRequest})},
		"GET /v1/jobs/{id}": {scope: auth.ScopeRead, projectAware: true, targets: ownForeign,
			build: func(me, other *team, target string) req {
				id := me.jobP1
				if target == foreign {
					id = other.jobP1
				}
				return req{http.MethodGet, "/v1/jobs/" + id, ""}
			},
			want: statusFor(map[string]int{own: 200, foreign: 404})},
		"POST /v1/jobs/{id}/retry": {scope: auth.ScopeWrite, projectAware: true, targets: ownForeign,
			build: func(me, other *team, target string) req {
				id := me.jobP1
				if target == foreign {
					id = other.jobP1
				}
				return req{http.MethodPost, "/v1/jobs/" + id + "/retry", ""}
			},
			want: statusFor(map[string]int{own: anyOK, foreign: 404})},

		// Export and import (host/exchange) act on the caller's team only:
		// the matrix checks that an export holds none of the other team's
		// secrets.
		"POST /v1/reindex": {scope: auth.ScopeAdmin, targets: ownOnly,
			build: func(*team, *team, string) req { return req{http.MethodPost, "/v1/reindex", ""} },
			want:  func(string, string) int { return http.StatusOK }},
		"POST /v1/export": {scope: auth.ScopeAdmin, targets: ownOnly,
			build: func(*team, *team, string) req { return req{http.MethodPost, "/v1/export", ""} },
			want:  func(string, string) int { return http.StatusOK }},
		"POST /v1/import": {scope: auth.ScopeWrite, targets: ownOnly,
			build: func(*team, *team, string) req {
				return req{http.MethodPost, "/v1/import?format=mcp-memory",
					fmt.Sprintf(`{"type":"entity","name":"matrix-%s","entityType":"test","observations":["imported"]}`, fresh())}
			},
			want: func(string, string) int { return http.StatusOK }},
		"GET /metrics": {scope: auth.ScopeAdmin, targets: ownOnly,
			build: func(*team, *team, string) req { return req{http.MethodGet, "/metrics", ""} },
			want:  func(string, string) int { return http.StatusOK }},

		// The legacy /api routes (host/legacyapi) scope by team only, so
		// keys bound to a project are refused there.
		"GET /health":        {scope: access.Authenticated, projectAware: true, targets: ownOnly, build: legacyRead("/health").build},
		"OPTIONS /health":    {scope: access.Public, projectAware: true, targets: ownOnly, build: func(*team, *team, string) req { return req{http.MethodOptions, "/health", ""} }},
		"GET /api/health":    {scope: access.Authenticated, projectAware: true, targets: ownOnly, build: legacyRead("/api/health").build},
		"GET /api/readiness": {scope: access.Authenticated, projectAware: true, targets: ownOnly, build: legacyRead("/api/readiness").build},
		"GET /api/version":   {scope: access.Authenticated, projectAware: true, targets: ownOnly, build: legacyRead("/api/version").build},
		"POST /api/sessions/init": {scope: auth.ScopeWrite, targets: ownForeign, build: func(me, other *team, target string) req {
			id := me.marker + "-legacy-" + fresh()
			if target == foreign {
				id = other.csPlain
			}
			return req{http.MethodPost, "/api/sessions/init", fmt.Sprintf(`{"contentSessionId":%q,"project":%q,"prompt":%q}`, id, me.p1.Name, me.marker+" legacy prompt")}
		}},
		"POST /api/sessions/observations": {scope: auth.ScopeWrite, targets: ownForeign, build: func(me, other *team, target string) req {
			id := me.csP1
			if target == foreign {
				id = other.csPlain
			}
			return req{http.MethodPost, "/api/sessions/observations", fmt.Sprintf(`{"contentSessionId":%q,"tool_name":"Bash","tool_input":{"command":"ls"},"tool_response":{"stdout":"x"},"cwd":"/src/%s"}`, id, me.p1.Name)}
		}},
		"POST /api/sessions/summarize": {scope: auth.ScopeWrite, targets: ownForeign, build: func(me, other *team, target string) req {
			id := me.csP1
			if target == foreign {
				id = other.csPlain
			}
			return req{http.MethodPost, "/api/sessions/summarize", fmt.Sprintf(`{"contentSessionId":%q,"last_assistant_message":"done"}`, id)}
		}},
		"POST /api/memory/save": {scope: auth.ScopeWrite, targets: ownOnly, build: func(me, _ *team, _ string) req {
			return req{http.MethodPost, "/api/memory/save", fmt.Sprintf(`{"text":%q,"project":%q}`, me.marker+" saved memory", me.p1.Name)}
		}},
		"GET /api/context/inject": {scope: auth.ScopeRead, targets: ownForeign, build: func(me, other *team, target string) req {
			p := me.p1.Name
			if target == foreign {
				p = other.p1.Name
			}
			return req{http.MethodGet, "/api/context/inject?projects=" + p, ""}
		}},
		"POST /api/context/semantic": {scope: auth.ScopeRead, targets: ownOnly, build: func(me, _ *team, _ string) req {
			return req{http.MethodPost, "/api/context/semantic", fmt.Sprintf(`{"q":"deployment checklist","project":%q}`, me.p1.Name)}
		}},
		"GET /api/observations/by-file": {scope: auth.ScopeRead, targets: ownOnly, build: legacyRead("/api/observations/by-file?path=main.go").build},
		"POST /api/observations/batch": {scope: auth.ScopeRead, targets: ownOnly, build: func(*team, *team, string) req {
			ids := make([]string, 50)
			for i := range ids {
				ids[i] = strconv.Itoa(i + 1)
			}
			return req{http.MethodPost, "/api/observations/batch", `{"ids":[` + strings.Join(ids, ",") + `]}`}
		}},
		"GET /api/search":   {scope: auth.ScopeRead, targets: ownOnly, build: legacyRead("/api/search?query=deployment+checklist&format=json").build},
		"GET /api/timeline": {scope: auth.ScopeRead, targets: ownOnly, build: legacyRead("/api/timeline?query=deployment+checklist").build},
		"GET /api/projects": {scope: auth.ScopeRead, targets: ownOnly, build: legacyRead("/api/projects").build},
		"GET /api/stats":    {scope: auth.ScopeRead, targets: ownOnly, build: legacyRead("/api/stats").build},
	}
}

// scopesOf are the scopes each kind of key holds.
var scopesOf = map[string][]string{
	kindRead: {auth.ScopeRead}, kindWrite: {auth.ScopeWrite}, kindBound: {auth.ScopeRead, auth.ScopeWrite}, kindAdmin: {auth.ScopeAdmin},
}

// expected is the status the matrix wants, or anyOK.
func expected(rc routeCase, kind, target string) int {
	if rc.scope == access.Public {
		if rc.want == nil {
			return anyOK
		}
		return rc.want(kind, target)
	}
	scopes, ok := scopesOf[kind]
	if !ok {
		return http.StatusUnauthorized // none, expired, revoked
	}
	p := auth.Principal{Scopes: scopes}
	if (rc.scope != access.Authenticated && !p.Has(rc.scope)) || (kind == kindBound && !rc.projectAware) {
		return http.StatusForbidden
	}
	if rc.want == nil {
		return anyOK
	}
	return rc.want(kind, target)
}

// TestIsolationMatrix walks the router's own route table and sends every
// route, with every kind of key of two teams, at the caller's rows, its
// team's rows of another project, and the other team's rows. It checks
// the status, and that no row of the other team appears in any answer. A
// route the matrix does not know fails the test.
func TestIsolationMatrix(t *testing.T) {
	t.Parallel()
	b := setupAuth(t, nil)
	root := b.rootKey(t)
	teams := []*team{b.seedTeam(t, root, "alpha"), b.seedTeam(t, root, "beta")}
	cases := matrixRoutes(t)

	var routes []string
	err := chi.Walk(b.srv.Router(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routes = append(routes, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(routes)
	policy := b.srv.Access().Policy()
	requests := 0
	for _, route := range routes {
		rc, known := cases[route]
		if !known {
			t.Errorf("route %s is not in the isolation matrix: add it to matrixRoutes with its scope and expected statuses", route)
			continue
		}
		method, pattern, _ := strings.Cut(route, " ")
		rule, declared := policy.Rule(method, pattern)
		if !declared {
			t.Errorf("route %s declares no scope: add it to access.Routes (or Policy.Declare)", route)
		}
		if rule.Scope != rc.scope || rule.ProjectAware != rc.projectAware {
			t.Errorf("route %s declares scope %q (project-aware %v); the matrix expects %q (%v)", route, rule.Scope, rule.ProjectAware, rc.scope, rc.projectAware)
		}
		for i, me := range teams {
			other := teams[1-i]
			for _, kind := range kinds {
				for _, target := range rc.targets {
					rq := rc.build(me, other, target)
					r := b.call(t, rq.method, rq.path, me.keys[kind], rq.body)
					requests++
					want := expected(rc, kind, target)
					where := fmt.Sprintf("%s as %s/%s on %s rows (%s %s)", route, me.id, kind, target, rq.method, rq.path)
					switch {
					case want == anyOK && (r.status == 401 || r.status == 403 || r.status == 429 || r.status >= 500):
						t.Errorf("%s = %d %s, want access", where, r.status, r.body)
					case want != anyOK && r.status != want:
						t.Errorf("%s = %d %s, want %d", where, r.status, r.body, want)
					}
					for _, s := range other.secrets {
						// Echoing what the caller sent is no leak.
						if bytes.Contains(r.body, []byte(s)) && !strings.Contains(rq.path+rq.body, s) {
							t.Errorf("%s leaked %q of team %s: %s", where, s, other.id, r.body)
						}
					}
				}
			}
		}
	}
	for route := range cases {
		if !slices.Contains(routes, route) {
			t.Logf("the matrix knows %s, which the router does not serve", route)
		}
	}
	t.Logf("%d routes, %d requests", len(routes), requests)

	// Writes naming another team's session id went to sessions of the
	// caller's own: each team's plain session still holds only its own
	// prompt, and the other team has a session of that id of its own.
	for i, tm := range teams {
		other := teams[1-i]
		var mine, theirs int
		if err := b.srv.Store().Reader().QueryRow(`SELECT
				(SELECT COUNT(*) FROM user_prompts p JOIN sdk_sessions s ON s.id = p.session_db_id WHERE s.team_id = ? AND s.content_session_id = ?),
				(SELECT COUNT(*) FROM sdk_sessions WHERE team_id = ? AND content_session_id = ?)`,
			tm.id, tm.csPlain, other.id, tm.csPlain).Scan(&mine, &theirs); err != nil {
			t.Fatal(err)
		}
		if mine != 1 || theirs != 1 {
			t.Errorf("team %s's plain session has %d prompts (want 1: its own); team %s has %d sessions of that id (want 1)", tm.id, mine, other.id, theirs)
		}
	}

	// Rows of both teams exist, so the absence of leaks means something.
	for _, tm := range teams {
		var got struct {
			Event struct {
				Payload json.RawMessage `json:"payload"`
			} `json:"event"`
		}
		b.mustCall(t, http.StatusOK, http.MethodGet, fmt.Sprintf("/v1/events/%d", tm.eventP1), tm.keys[kindRead], "", &got)
		if !bytes.Contains(got.Event.Payload, []byte(tm.marker)) {
			t.Fatalf("team %s cannot read its own event: %s", tm.id, got.Event.Payload)
		}
	}

	// The audit log recorded the reads with what they returned, per team.
	var page access.AuditPage
	b.mustCall(t, http.StatusOK, http.MethodGet, "/v1/audit?action=event.read&limit=1000", teams[0].keys[kindAdmin], "", &page)
	found := false
	for _, e := range page.Entries {
		if e.TeamID != "alpha" {
			t.Fatalf("alpha's admin sees an entry of team %s", e.TeamID)
		}
		if e.KeyID == teams[0].keyIDs[kindRead] && e.Resource == fmt.Sprintf("event:%d", teams[0].eventP1) && slices.Contains(e.MemoryIDs, fmt.Sprintf("event:%d", teams[0].eventP1)) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no audit entry of alpha's read of event %d: %+v", teams[0].eventP1, page.Entries)
	}

	// Refusals to valid keys are audited as access.denied, per team: a read
	// key on a write route (the middleware's 403) and a bound key writing
	// to its team's other project (the handler's 403).
	page = access.AuditPage{}
	b.mustCall(t, http.StatusOK, http.MethodGet, "/v1/audit?action="+access.ActionDenied+"&limit=1000", teams[0].keys[kindAdmin], "", &page)
	var scopeDenied, projectDenied bool
	for _, e := range page.Entries {
		if e.TeamID != "alpha" || e.Status != http.StatusForbidden {
			t.Fatalf("alpha's denial entries hold %+v", e)
		}
		scopeDenied = scopeDenied || (e.KeyID == teams[0].keyIDs[kindRead] && e.Resource == "POST /v1/events")
		projectDenied = projectDenied || (e.KeyID == teams[0].keyIDs[kindBound] && e.Resource == "POST /v1/events")
	}
	if !scopeDenied || !projectDenied {
		t.Fatalf("no access.denied entry of alpha's read key (%v) or bound key (%v) on POST /v1/events: %+v", scopeDenied, projectDenied, page.Entries)
	}

	// Key creation and revocation are audited with the key as the resource;
	// failed requests are not.
	page = access.AuditPage{}
	b.mustCall(t, http.StatusOK, http.MethodGet, "/v1/audit?action=key.revoke&team=beta", root, "", &page)
	// The root key revoked it: the entry is beta's, with root's key id.
	if !slices.ContainsFunc(page.Entries, func(e audit.Entry) bool {
		return e.Resource == "key:"+teams[1].keyIDs[kindRevoked] && e.Actor == "root" && e.KeyID != ""
	}) {
		t.Fatalf("no audit entry of the revocation of %s: %+v", teams[1].keyIDs[kindRevoked], page.Entries)
	}
	for _, e := range page.Entries {
		if e.Status >= 400 || e.TeamID != "beta" {
			t.Fatalf("audit entry %+v", e)
		}
	}

	// No raw key was written anywhere in the data dir, nor logged.
	secrets := []string{root}
	for _, tm := range teams {
		for _, k := range tm.keys {
			secrets = append(secrets, k)
		}
	}
	assertNoSecrets(t, b, secrets)
}

// assertNoSecrets looks for each secret, and its key-specific part, in
// every file of the data dir and in the log.
func assertNoSecrets(t *testing.T, b *authBundle, secrets []string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(b.dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) || bytes.Contains(data, []byte(strings.TrimPrefix(s, "cm_"))) {
				t.Errorf("%s holds a raw key", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 3 {
		t.Fatalf("only %d files in the data dir", files)
	}
	logs := b.logs.String()
	if len(logs) == 0 {
		t.Fatal("the server logged nothing")
	}
	for _, s := range secrets {
		if strings.Contains(logs, strings.TrimPrefix(s, "cm_")) {
			t.Errorf("the log holds a raw key")
		}
	}
}

func TestRevocationTakesEffectWithinOneSecond(t *testing.T) {
	t.Parallel()
	b := setupAuth(t, nil)
	root := b.rootKey(t)
	ctx := context.Background()
	mint := func() access.CreatedKey {
		var k access.CreatedKey
		b.mustCall(t, http.StatusCreated, http.MethodPost, "/v1/admin/api-keys", root, `{"scopes":["memories:read"]}`, &k)
		b.mustCall(t, http.StatusOK, http.MethodGet, "/v1/info", k.Secret, "", nil) // now cached
		return k
	}

	// Through this server's admin API: at once.
	k := mint()
	b.mustCall(t, http.StatusOK, http.MethodPost, "/v1/admin/api-keys/"+k.Key.ID+"/revoke", root, "", nil)
	b.mustCall(t, http.StatusUnauthorized, http.MethodGet, "/v1/info", k.Secret, "", nil)

	// Behind the server's back (another process revoking in auth.db): the
	// cached verification lasts at most 1s.
	k = mint()
	prov, err := b.srv.Auth()
	if err != nil {
		t.Fatal(err)
	}
	if err := prov.RevokeKey(ctx, k.Key.ID); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	first := time.Duration(0)
	for time.Since(revoked) < access.MaxCacheTTL {
		switch r := b.call(t, http.MethodGet, "/v1/info", k.Secret, ""); {
		case r.status == http.StatusUnauthorized && first == 0:
			first = time.Since(revoked)
		case r.status != http.StatusOK && r.status != http.StatusUnauthorized:
			t.Fatalf("status %d", r.status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Any request sent 1s after the revocation is refused.
	time.Sleep(time.Until(revoked.Add(access.MaxCacheTTL)))
	b.mustCall(t, http.StatusUnauthorized, http.MethodGet, "/v1/info", k.Secret, "", nil)
	if first == 0 {
		first = time.Since(revoked)
	}
	t.Logf("revoked key first refused %s after the revocation", first.Round(time.Millisecond))
}

func TestLocalModeTrustsOnlyDirectLoopback(t *testing.T) {
	t.Parallel()
	b := setupAuth(t, func(c *config.Config) { c.Auth.Mode = config.AuthLocal })
	tests := map[string]struct {
		mutate func(*http.Request)
		want   int
	}{
		"direct":              {func(*http.Request) {}, http.StatusOK},
		"localhost host":      {func(r *http.Request) { r.Host = "localhost" }, http.StatusOK},
		"x-forwarded-for":     {func(r *http.Request) { r.Header.Set("X-Forwarded-For", "203.0.113.9") }, http.StatusUnauthorized},
		"x-forwarded-proto":   {func(r *http.Request) { r.Header.Set("X-Forwarded-Proto", "https") }, http.StatusUnauthorized},
		"forwarded":           {func(r *http.Request) { r.Header.Set("Forwarded", "for=203.0.113.9") }, http.StatusUnauthorized},
		"foreign host":        {func(r *http.Request) { r.Host = "memory.example.com" }, http.StatusUnauthorized},
		"dns rebinding host":  {func(r *http.Request) { r.Host = "127.0.0.1.nip.io:8080" }, http.StatusUnauthorized},
		"invalid key":         {func(r *http.Request) { r.Header.Set("X-Api-Key", "cm_not-a-key-at-all-0000000000") }, http.StatusUnauthorized},
		"malformed bearer":    {func(r *http.Request) { r.Header.Set("Authorization", "Basic Zm9vOmJhcg==") }, http.StatusUnauthorized},
		"healthz behind a lb": {func(r *http.Request) { r.URL.Path = "/healthz"; r.Header.Set("X-Forwarded-For", "203.0.113.9") }, http.StatusOK},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodGet, b.base+"/v1/info", nil)
			if err != nil {
				t.Fatal(err)
			}
			tc.mutate(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, body, tc.want)
			}
		})
	}
	// A key in local mode is authenticated as in api-key mode.
	var k access.CreatedKey
	b.mustCall(t, http.StatusCreated, http.MethodPost, "/v1/admin/api-keys", "", `{"scopes":["memories:read"]}`, &k)
	b.mustCall(t, http.StatusOK, http.MethodGet, "/v1/admin/teams", "", "", nil)
	b.mustCall(t, http.StatusForbidden, http.MethodPost, "/v1/events", k.Secret, `{}`, nil)
}

func TestRefusesLocalModeOnEveryInterface(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"0.0.0.0", "::", "192.0.2.1"} {
		cfg := config.Default(t.TempDir())
		cfg.DataDir = t.TempDir()
		cfg.Server.Host = host
		cfg.Server.Port = hosttest.FreePort(t)
		srv, err := server.Start(context.Background(), server.Options{Config: cfg, Self: hosttest.Binary(t)})
		if err == nil {
			cancelled, cancel := context.WithCancel(context.Background())
			cancel()
			_ = srv.Serve(cancelled)
			t.Fatalf("started in local mode on %s", host)
		}
		for _, want := range []string{"local auth mode", "claude-mem server api-key create", "CLAUDE_MEM_AUTH_MODE=api-key"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("on %s: error %q does not say %q", host, err, want)
			}
		}
	}
}

func TestRateLimitAnswers429(t *testing.T) {
	t.Parallel()
	b := setupAuth(t, func(c *config.Config) { c.Auth.RateLimitPerMinute = 5 })
	root := b.rootKey(t)
	var k access.CreatedKey
	b.mustCall(t, http.StatusCreated, http.MethodPost, "/v1/admin/api-keys", root, `{"scopes":["memories:read"]}`, &k)
	var last reply
	for i := range 6 {
		last = b.call(t, http.MethodGet, "/v1/info", k.Secret, "")
		if i < 5 && last.status != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, last.status)
		}
	}
	if last.status != http.StatusTooManyRequests {
		t.Fatalf("6th request in a minute at 5/min: %d %s", last.status, last.body)
	}
	if s, err := strconv.Atoi(last.header.Get("Retry-After")); err != nil || s < 1 || s > 12 {
		t.Fatalf("Retry-After %q", last.header.Get("Retry-After"))
	}
	var body struct{ Code string }
	if err := json.Unmarshal(last.body, &body); err != nil || body.Code != access.CodeRateLimited {
		t.Fatalf("body %s", last.body)
	}
	// Another key is not affected.
	b.mustCall(t, http.StatusOK, http.MethodGet, "/v1/info", root, "", nil)
}

// waitHealthyWithKey is waitHealthyT for a server in api-key mode.
func waitHealthyWithKey(t *testing.T, base, key string) httpapi.Info {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/info", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			var info httpapi.Info
			err = json.NewDecoder(resp.Body).Decode(&info)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK && info.Status == "ok" {
				return info
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("server did not become healthy in 20s")
	return httpapi.Info{}
}
