package exchange_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/access"
	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/exchange"
	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/server/servertest"
	"github.com/claude-mem/claude-mem-server/sdk/auth"
)

func TestMain(m *testing.M) {
	code := m.Run()
	hosttest.Cleanup()
	os.Exit(code)
}

// host is a real server in api-key mode with teams a and b, and keys per
// team: "admin" and "write" (memories:read+write).
type host struct {
	*servertest.Server
	keys map[string]string
}

func startHost(t *testing.T) *host {
	t.Helper()
	srv := servertest.Start(t, servertest.WithConfig(func(cfg *config.Config) {
		cfg.Auth.Mode = config.AuthAPIKey
		cfg.Auth.RateLimitPerMinute = 0
	}))
	ctx := context.Background()
	h := &host{Server: srv, keys: map[string]string{}}
	for _, tm := range []string{"a", "b"} {
		if _, err := srv.Admin().CreateTeam(ctx, access.LocalOwner(), access.CreateTeamRequest{ID: tm}); err != nil {
			t.Fatal(err)
		}
		for name, scopes := range map[string][]string{"admin": {auth.ScopeAdmin}, "write": {auth.ScopeRead, auth.ScopeWrite}} {
			k, err := srv.Admin().CreateKey(ctx, access.LocalOwner(), access.CreateKeyRequest{Team: tm, Scopes: scopes, Name: name})
			if err != nil {
				t.Fatal(err)
			}
			h.keys[tm+"/"+name] = k.Secret
		}
	}
	return h
}

func (h *host) post(t *testing.T, key, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.Base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+h.keys[key])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	src, dst := startHost(t), startHost(t)
	seed(t, src.Store(), "a", "zebra")
	seed(t, src.Store(), "b", "okapi")

	status, first := src.post(t, "a/admin", "/v1/export", "")
	if status != http.StatusOK || !strings.Contains(first, "zebra") {
		t.Fatalf("export = %d %s", status, first)
	}
	if strings.Contains(first, "okapi") {
		t.Fatal("team a's export holds team b's rows")
	}
	if status, body := src.post(t, "b/admin", "/v1/export", ""); status != http.StatusOK || strings.Contains(body, "zebra") || !strings.Contains(body, "okapi") {
		t.Fatalf("team b's export = %d %s", status, body)
	}
	if status, _ := src.post(t, "a/write", "/v1/export", ""); status != http.StatusForbidden {
		t.Fatalf("export with a write key = %d, want 403", status)
	}

	// A bad line: 400 naming it, nothing stored.
	lines := strings.SplitAfter(first, "\n")
	bad := strings.Join(lines[:5], "") + "{\"kind\":\"event\"\n" + strings.Join(lines[5:], "")
	status, body := dst.post(t, "a/write", "/v1/import", bad)
	if status != http.StatusBadRequest || !strings.Contains(body, "line 6") {
		t.Fatalf("bad import = %d %s", status, body)
	}
	if status, body := dst.post(t, "a/admin", "/v1/export", ""); status != http.StatusOK || strings.Contains(body, "zebra") {
		t.Fatalf("a failed import stored rows: %s", body)
	}

	for i, want := range []int64{14, 0} {
		status, body := dst.post(t, "a/write", "/v1/import?format=claude-mem-jsonl", first)
		var rep exchange.ImportResponse
		if status != http.StatusOK || json.Unmarshal([]byte(body), &rep) != nil || rep.Added != want {
			t.Fatalf("import %d = %d %s, want %d added", i+1, status, body, want)
		}
	}
	if _, again := dst.post(t, "a/admin", "/v1/export", ""); again != first {
		t.Fatalf("re-export differs:\n%s\n---\n%s", first, again)
	}
	// Imported into the caller's team only.
	if _, body := dst.post(t, "b/admin", "/v1/export", ""); strings.Contains(body, "zebra") {
		t.Fatal("the import reached team b")
	}

	status, body = dst.post(t, "b/write", "/v1/import?format=mcp-memory", memoryJSONL)
	if status != http.StatusOK || !strings.Contains(body, `"added":3`) {
		t.Fatalf("mcp-memory import = %d %s", status, body)
	}
	if status, _ := dst.post(t, "b/write", "/v1/import?format=yaml", memoryJSONL); status != http.StatusBadRequest {
		t.Fatalf("format=yaml = %d", status)
	}
	// The audit log is written asynchronously.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := dst.Store().Reader().QueryRow(`SELECT count(DISTINCT action) FROM audit_log
			WHERE action IN ('export', 'import') AND team_id = 'a' AND resource = 'team:a'`).Scan(&n)
		if err == nil && n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("export and import audited: %d actions (%v)", n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
