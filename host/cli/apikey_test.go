package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/access"
)

// apiKeyOf checks that create printed exactly one line on stdout, the key.
func apiKeyOf(t *testing.T, r result) string {
	t.Helper()
	key := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(key, "cm_") || strings.Contains(key, "\n") || len(key) < 40 {
		t.Fatalf("api-key create printed %q on stdout, want the key alone", r.stdout)
	}
	if !strings.Contains(r.stderr, "created key key_") || !strings.Contains(r.stderr, "shown this once") {
		t.Fatalf("api-key create said %q on stderr", r.stderr)
	}
	return key
}

// keyID returns the id of the key named name in `api-key list --json`.
func keyID(t *testing.T, b *testBundle, name string, env ...string) access.Key {
	t.Helper()
	r := b.withEnv(env...).mustRun(t, 0, "server", "api-key", "list", "--json")
	var list access.KeyList
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("list --json: %v\n%s", err, r.stdout)
	}
	for _, k := range list.Keys {
		if k.Name == name {
			return k
		}
	}
	t.Fatalf("no key named %s in %s", name, r.stdout)
	return access.Key{}
}

// withEnv returns a copy of b whose commands also get env.
func (b *testBundle) withEnv(env ...string) *testBundle {
	c := *b
	c.env = append(append([]string(nil), b.env...), env...)
	return &c
}

func assertNotInDataDir(t *testing.T, dataDir, secret string) {
	t.Helper()
	err := filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(strings.TrimPrefix(secret, "cm_"))) {
			t.Errorf("%s holds the raw key", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAdminCommandsOnTheDataDir(t *testing.T) {
	t.Parallel()
	b := setup(t)

	r := b.mustRun(t, 0, "server", "team", "create", "acme", "--name", "Acme Corp")
	if !strings.Contains(r.stdout, "created team acme (Acme Corp)") {
		t.Errorf("team create printed %q", r.stdout)
	}
	if r := b.run(t, "server", "team", "create", "acme"); r.code == 0 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("second team create: %d %q", r.code, r.stderr)
	}
	r = b.mustRun(t, 0, "server", "team", "list")
	if !strings.Contains(r.stdout, "acme") || !strings.Contains(r.stdout, "local") {
		t.Errorf("team list:\n%s", r.stdout)
	}
	r = b.mustRun(t, 0, "server", "project", "create", "web", "--team", "acme", "--root", "/src/web")
	if !strings.Contains(r.stdout, "created project web (id ") || !strings.Contains(r.stdout, "in team acme") {
		t.Errorf("project create printed %q", r.stdout)
	}
	r = b.mustRun(t, 0, "server", "project", "list", "--team", "acme")
	if !strings.Contains(r.stdout, "web") || !strings.Contains(r.stdout, "/src/web") {
		t.Errorf("project list:\n%s", r.stdout)
	}
	if r := b.run(t, "server", "project", "list", "--team", "nope"); r.code == 0 || !strings.Contains(r.stderr, `no team "nope"`) {
		t.Errorf("projects of a missing team: %d %q", r.code, r.stderr)
	}

	key := apiKeyOf(t, b.mustRun(t, 0, "server", "api-key", "create", "--team", "acme", "--project", "web",
		"--scope", "memories:read,memories:write", "--expires", "30d", "--name", "ci"))
	k := keyID(t, b, "ci")
	if k.TeamID != "acme" || k.ProjectID == "" || k.Status != access.KeyActive || k.ExpiresAt.IsZero() || !strings.HasPrefix(key, k.Prefix) {
		t.Errorf("listed key %+v", k)
	}
	list := b.mustRun(t, 0, "server", "api-key", "list")
	if strings.Contains(list.stdout+list.stderr, key) || strings.Contains(list.stdout, strings.TrimPrefix(key, k.Prefix)) {
		t.Fatalf("api-key list printed the key:\n%s", list.stdout)
	}
	if !strings.Contains(list.stdout, k.ID) || !strings.Contains(list.stdout, "memories:read,memories:write") {
		t.Errorf("api-key list:\n%s", list.stdout)
	}

	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no scope":        {[]string{"--team", "acme"}, "--scope is required"},
		"unknown scope":   {[]string{"--scope", "memories:delete"}, `unknown scope "memories:delete"`},
		"missing team":    {[]string{"--team", "nope", "--scope", "admin"}, `no team "nope"`},
		"bad expiry":      {[]string{"--scope", "admin", "--expires", "soon"}, `expiry "soon"`},
		"unknown project": {[]string{"--team", "acme", "--project", "api", "--scope", "admin"}, `no project "api"`},
	} {
		r := b.run(t, append([]string{"server", "api-key", "create"}, tc.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want failure saying %q", name, r.code, r.stdout, r.stderr, tc.want)
		}
	}

	r = b.mustRun(t, 0, "server", "api-key", "revoke", k.ID)
	if !strings.Contains(r.stdout, "revoked key "+k.ID) {
		t.Errorf("revoke printed %q", r.stdout)
	}
	if got := keyID(t, b, "ci"); got.Status != access.KeyRevoked {
		t.Errorf("after revoke: %+v", got)
	}
	if r := b.run(t, "server", "api-key", "revoke", "key_nope"); r.code == 0 || !strings.Contains(r.stderr, `no key "key_nope"`) {
		t.Errorf("revoke of a missing key: %d %q", r.code, r.stderr)
	}
	assertNotInDataDir(t, b.dataDir, key)
}

// TestAdminCommandsAgainstARunningServer bootstraps a server as the docs
// say: in local mode, mint an admin key through the running server, then
// switch to api-key mode, where the commands need that key.
func TestAdminCommandsAgainstARunningServer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mustRun(t, 0, "server", "start")
	base := fmt.Sprintf("http://127.0.0.1:%d", b.port)
	get := func(path, key string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if key != "" {
			req.Header.Set("X-Api-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	// Local mode: the commands act as the local owner through the API.
	b.mustRun(t, 0, "server", "team", "create", "acme")
	b.mustRun(t, 0, "server", "project", "create", "web", "--team", "acme")
	reader := apiKeyOf(t, b.mustRun(t, 0, "server", "api-key", "create", "--team", "acme", "--scope", "memories:read", "--name", "reader"))
	root := apiKeyOf(t, b.mustRun(t, 0, "server", "api-key", "create", "--scope", "*", "--name", "root"))
	if got := get("/v1/info", reader); got != http.StatusOK {
		t.Fatalf("the new key: %d", got)
	}
	r := b.mustRun(t, 0, "server", "api-key", "list", "--team", "acme")
	if strings.Contains(r.stdout, reader) || !strings.Contains(r.stdout, "reader") {
		t.Fatalf("api-key list:\n%s", r.stdout)
	}
	k := keyID(t, b, "reader")
	b.mustRun(t, 0, "server", "api-key", "revoke", k.ID)
	if got := get("/v1/info", reader); got != http.StatusUnauthorized {
		t.Fatalf("a key revoked through the server still works: %d", got)
	}

	// api-key mode: nothing without a key, everything with the root key.
	b.mustRun(t, 0, "server", "stop")
	apiMode := b.withEnv("CLAUDE_MEM_AUTH_MODE=api-key")
	apiMode.mustRun(t, 0, "server", "start")
	if got := get("/v1/info", ""); got != http.StatusUnauthorized {
		t.Fatalf("api-key mode without a key: %d", got)
	}
	r = apiMode.run(t, "server", "api-key", "list")
	if r.code == 0 || !strings.Contains(r.stderr, "CLAUDE_MEM_API_KEY") {
		t.Fatalf("list without a key in api-key mode: %d %q", r.code, r.stderr)
	}
	if r := apiMode.run(t, "server", "status"); r.code == 0 {
		t.Fatalf("status without a key in api-key mode succeeded:\n%s", r.stdout)
	}
	// --offline works on the data dir under the running server: the way
	// to a first key when the server already runs in api-key mode.
	boot := apiKeyOf(t, apiMode.mustRun(t, 0, "server", "api-key", "create", "--offline", "--scope", "admin", "--name", "boot"))
	if got := get("/v1/admin/teams", boot); got != http.StatusOK {
		t.Fatalf("a key made offline under a running server: %d", got)
	}
	withRoot := apiMode.withEnv("CLAUDE_MEM_API_KEY=" + root)
	if st := withRoot.status(t, "server"); !st.Running {
		t.Fatalf("status with the root key: %+v", st)
	}
	writer := apiKeyOf(t, withRoot.mustRun(t, 0, "server", "api-key", "create", "--team", "acme", "--project", "web", "--scope", "memories:write", "--name", "writer"))
	if got := get("/v1/events/1", writer); got != http.StatusForbidden {
		t.Fatalf("a write key on a read route: %d", got)
	}
	r = apiMode.withEnv("CLAUDE_MEM_API_KEY="+writer).run(t, "server", "api-key", "list")
	if r.code == 0 || !strings.Contains(r.stderr, "admin scope") {
		t.Fatalf("list with a key that lacks admin: %d %q", r.code, r.stderr)
	}
	b.mustRun(t, 0, "server", "stop")
	for _, key := range []string{reader, root, writer, boot} {
		assertNotInDataDir(t, b.dataDir, key)
	}
}
