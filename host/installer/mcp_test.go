package installer

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/hosttest"
)

// userClaudeJSON is a slice of the ~/.claude.json Claude Code owns: its own
// layout, numbers, escapes, and another MCP server.
const userClaudeJSON = `{
  "numStartups": 412,
  "installMethod": "native",
  "tipsHistory": {"new-user-warmup": 1, "memory-command": 7},
  "userID": "9f\u00e9c0",
  "firstStartTime": "2025-06-01T09:00:00.000Z",
  "mcpServers": {
    "github": {"type": "http", "url": "https://api.githubcopilot.com/mcp/", "headers": {"Authorization": "Bearer ${GITHUB_PAT}"}}
  },
  "projects": {"/home/u/src/app": {"allowedTools": [], "history": [{"display": "fix \"it\"", "pastedContents": {}}], "lastCost": 1.5e-2}},
  "cachedStatsigGates": {"tengu_disable_bypass_permissions_mode": false}
}`

// projectMCPJSON is a project's .mcp.json with a server of its own.
const projectMCPJSON = `{"mcpServers":{"db":{"command":"npx","args":["-y","@bytebase/dbhub","--dsn","${DB_DSN:-postgres://localhost/app}"]}}}
`

func mcpOpts(path string) MCPOptions {
	return MCPOptions{Path: path, Command: "/usr/local/bin/claude-mem", ServerURL: "http://127.0.0.1:37700", APIKeyEnv: "CLAUDE_MEM_API_KEY", Now: clock()}
}

// mcpEntry decodes the registered claude-mem server of the file at path.
func mcpEntry(t *testing.T, path string) map[string]any {
	t.Helper()
	servers, _ := decode(t, readFile(t, path))["mcpServers"].(map[string]any)
	e, _ := servers[MCPServerName].(map[string]any)
	return e
}

func TestInstallMCPUninstallRestoresTheFileByteForByte(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, content string
		transport           Transport
		// keep are bytes of the original that must survive install.
		keep []string
	}{
		{name: "user scope", file: ".claude.json", content: userClaudeJSON,
			keep: []string{`"userID": "9f\u00e9c0"`, `"lastCost": 1.5e-2`, `"display": "fix \"it\""`, `"Authorization": "Bearer ${GITHUB_PAT}"`}},
		{name: "user scope http", file: ".claude.json", content: userClaudeJSON, transport: TransportHTTP, keep: []string{`"numStartups": 412`}},
		{name: "user scope missing file", file: ".claude.json"},
		{name: "project scope other servers", file: ".mcp.json", content: projectMCPJSON, keep: []string{`"${DB_DSN:-postgres://localhost/app}"`}},
		{name: "project scope missing file", file: ".mcp.json", transport: TransportHTTP},
		{name: "empty file", file: ".mcp.json", content: "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, tc.file)
			if tc.content != "" {
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			opts := mcpOpts(path)
			opts.Transport = tc.transport

			res, err := InstallMCP(opts)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Changed || (res.Backup != "") != (tc.content != "") {
				t.Fatalf("install: %+v", res)
			}
			if res.Backup != "" && readFile(t, res.Backup) != tc.content {
				t.Fatal("the backup is not the original")
			}
			installed := readFile(t, path)
			for _, want := range tc.keep {
				if !strings.Contains(installed, want) {
					t.Errorf("install lost %s:\n%s", want, installed)
				}
			}
			e := mcpEntry(t, path)
			if want := string(opts.Transport); want != "" && e["type"] != want || want == "" && e["type"] != "stdio" {
				t.Errorf("entry %v, want transport %q", e, opts.Transport)
			}
			if tc.content != "" {
				var before map[string]any
				_ = json.Unmarshal([]byte(tc.content), &before)
				after := decode(t, installed)
				for k := range before {
					if k != "mcpServers" && !jsonEqual(before[k], after[k]) {
						t.Errorf("%s changed: %v, was %v", k, after[k], before[k])
					}
				}
				if old, _ := before["mcpServers"].(map[string]any); len(old) > 0 {
					for name := range old {
						if !jsonEqual(old[name], after["mcpServers"].(map[string]any)[name]) {
							t.Errorf("mcpServers.%s changed", name)
						}
					}
				}
			}

			again, err := InstallMCP(opts)
			if err != nil {
				t.Fatal(err)
			}
			if again.Changed || again.Backup != "" || readFile(t, path) != installed {
				t.Fatalf("second install changed the file: %+v", again)
			}

			un, err := UninstallMCP(path)
			if err != nil {
				t.Fatal(err)
			}
			if !un.Changed || !un.Restored {
				t.Errorf("uninstall: %+v", un)
			}
			files := dirFiles(t, dir)
			if tc.content == "" {
				if len(files) != 0 {
					t.Errorf("uninstall left %v; install had created the file", files)
				}
				return
			}
			if got := readFile(t, path); got != tc.content {
				t.Fatalf("uninstall did not restore the original byte for byte:\n%s", got)
			}
			if len(files) != 1 {
				t.Errorf("left behind: %v", files)
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// TestInstallMCPEntry pins the entries install writes, as Claude Code
// reads them.
func TestInstallMCPEntry(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		transport Transport
		keyEnv    string
	}{
		"stdio":           {transport: TransportStdio, keyEnv: "CLAUDE_MEM_API_KEY"},
		"stdio-other-var": {transport: TransportStdio, keyEnv: "TEAM_MEM_KEY"},
		"stdio-no-key":    {transport: TransportStdio},
		"http":            {transport: TransportHTTP, keyEnv: "CLAUDE_MEM_API_KEY"},
		"http-no-key":     {transport: TransportHTTP},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), ".mcp.json")
			opts := mcpOpts(path)
			opts.Transport, opts.APIKeyEnv = tc.transport, tc.keyEnv
			if _, err := InstallMCP(opts); err != nil {
				t.Fatal(err)
			}
			hosttest.Golden(t, filepath.Join("testdata", "mcp-"+name+".golden"), readFile(t, path))
		})
	}
}

func TestInstallMCPRefusesAForeignEntry(t *testing.T) {
	t.Parallel()
	const foreign = `{
  "mcpServers": {
    "claude-mem": {"command": "claude-mem", "args": ["mcp"], "env": {"CLAUDE_MEM_API_KEY": "cmk_live_handwritten"}}
  }
}
`
	dir := t.TempDir()
	path := filepath.Join(dir, ".mcp.json")
	if err := os.WriteFile(path, []byte(foreign), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := InstallMCP(mcpOpts(path))
	if !errors.Is(err, ErrForeignMCPServer) {
		t.Fatalf("install over a foreign entry: %v", err)
	}
	for _, want := range []string{"claude mcp remove claude-mem", "--mcp-replace", path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "cmk_live_handwritten") {
		t.Errorf("the error quotes the entry's key: %v", err)
	}
	if got := readFile(t, path); got != foreign {
		t.Errorf("the refused install changed the file:\n%s", got)
	}
	if files := dirFiles(t, dir); len(files) != 1 {
		t.Errorf("the refused install left %v", files)
	}

	// --mcp-replace: ours goes in, and uninstall puts theirs back.
	opts := mcpOpts(path)
	opts.Replace = true
	if res, err := InstallMCP(opts); err != nil || !res.Changed {
		t.Fatalf("install with Replace: %+v %v", res, err)
	}
	if e := mcpEntry(t, path); e["command"] != "/usr/local/bin/claude-mem" {
		t.Errorf("not replaced: %v", e)
	}
	// Claude Code writes to the file since, so the bytes are not install's.
	m := decode(t, readFile(t, path))
	m["mcpServers"].(map[string]any)["other"] = map[string]any{"command": "other-mcp"}
	edited, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(path, append(edited, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := UninstallMCP(path); err != nil {
		t.Fatal(err)
	}
	back := decode(t, readFile(t, path))["mcpServers"].(map[string]any)
	if e, _ := back["claude-mem"].(map[string]any); e["command"] != "claude-mem" || back["other"] == nil {
		t.Errorf("after uninstall: %v", back)
	}
}

func TestUninstallMCPKeepsWhatChangedSince(t *testing.T) {
	t.Parallel()
	for name, edit := range map[string]func(m map[string]any){
		// Claude Code rewrites ~/.claude.json all the time.
		"other keys": func(m map[string]any) { m["numStartups"] = 413 },
		// The user edited claude-mem's entry: no longer install's to remove.
		"the entry": func(m map[string]any) {
			m["mcpServers"].(map[string]any)["claude-mem"].(map[string]any)["args"] = []any{"mcp"}
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), ".claude.json")
			if err := os.WriteFile(path, []byte(userClaudeJSON), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := InstallMCP(mcpOpts(path)); err != nil {
				t.Fatal(err)
			}
			m := decode(t, readFile(t, path))
			edit(m)
			edited, _ := json.MarshalIndent(m, "", "  ")
			if err := os.WriteFile(path, edited, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := UninstallMCP(path); err != nil {
				t.Fatal(err)
			}
			got := decode(t, readFile(t, path))
			servers := got["mcpServers"].(map[string]any)
			_, kept := servers["claude-mem"]
			if wantKept := name == "the entry"; kept != wantKept || servers["github"] == nil {
				t.Errorf("after uninstall mcpServers = %v", servers)
			}
			if name == "other keys" && got["numStartups"] != float64(413) {
				t.Errorf("the user's change was lost: %v", got["numStartups"])
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", fi.Mode().Perm())
			}
			if _, err := os.Stat(statePath(path)); !errors.Is(err, os.ErrNotExist) {
				t.Error("the record is still there")
			}
		})
	}
}

func TestUninstallMCPWithoutRecordChangesNothing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), ".mcp.json")
	const hand = `{"mcpServers": {"claude-mem": {"command": "claude-mem", "args": ["mcp"]}}}`
	if err := os.WriteFile(path, []byte(hand), 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err := UninstallMCP(path); err != nil || res.Changed {
		t.Fatalf("uninstall: %+v %v", res, err)
	}
	if got := readFile(t, path); got != hand {
		t.Errorf("changed:\n%s", got)
	}
}

func TestInstallMCPRefusesBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		content string
		edit    func(*MCPOptions)
	}{
		"not json":            {content: `{"mcpServers": `},
		"mcpServers an array": {content: `{"mcpServers": []}`},
		"relative command":    {edit: func(o *MCPOptions) { o.Command = "claude-mem" }},
		"no url":              {edit: func(o *MCPOptions) { o.ServerURL = "" }},
		"bad transport":       {edit: func(o *MCPOptions) { o.Transport = "sse" }},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, name+".json")
			if tc.content != "" {
				if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			opts := mcpOpts(path)
			if tc.edit != nil {
				tc.edit(&opts)
			}
			if _, err := InstallMCP(opts); err == nil {
				t.Fatal("install accepted it")
			}
			if b, _ := os.ReadFile(path); string(b) != tc.content {
				t.Errorf("the file changed: %s", b)
			}
		})
	}
}

func TestMCPPaths(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	if got := MCPUserPath(get, "/home/u"); got != "/home/u/.claude.json" {
		t.Errorf("default: %s", got)
	}
	env["CLAUDE_CONFIG_DIR"] = "/etc/claude"
	if got := MCPUserPath(get, "/home/u"); got != "/etc/claude/.claude.json" {
		t.Errorf("CLAUDE_CONFIG_DIR: %s", got)
	}
	if got := MCPProjectPath("/src/app"); got != "/src/app/.mcp.json" {
		t.Errorf("project: %s", got)
	}
}
