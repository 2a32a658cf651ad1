package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/importer/importertest"
)

// existingSettings is a user's settings file, formatted their way.
const existingSettings = `{
	"$schema": "https://json.schemastore.org/claude-code-settings.json",
	"model": "sonnet",
	"env": { "MAX_THINKING_TOKENS": "8000" },
	"hooks": {
		"PreToolUse": [ { "matcher": "Bash", "hooks": [ { "type": "command", "command": "~/bin/guard.sh" } ] } ],
		"Stop": [ { "hooks": [ { "type": "command", "command": "afplay /System/Library/Sounds/Glass.aiff" } ] } ]
	},
	"includeCoAuthoredBy": false
}
`

func TestInstallUninstallRestoreSettingsByteForByte(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		args      []string
		configDir bool
		apiKey    bool
	}{
		{name: "http", args: []string{"install"}},
		{name: "http-claude-config-dir-api-key", args: []string{"install", "--agent", "claude-code", "--hook-type", "http"}, configDir: true, apiKey: true},
		{name: "command", args: []string{"install", "--hook-type", "command"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			home := strings.TrimPrefix(b.env[0], "HOME=")
			dir := filepath.Join(home, ".claude")
			if tc.configDir {
				dir = filepath.Join(home, "elsewhere")
				b.env = append(b.env, "CLAUDE_CONFIG_DIR="+dir)
			}
			const secret = "cmk_live_Q2hhbmdlTWVOb3Q"
			if tc.apiKey {
				b.env = append(b.env, EnvAPIKey+"="+secret)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "settings.json")
			if err := os.WriteFile(path, []byte(existingSettings), 0o644); err != nil {
				t.Fatal(err)
			}

			r := b.mustRun(t, 0, tc.args...)
			if !strings.Contains(r.stdout, "installed claude-mem") || !strings.Contains(r.stdout, path) || !strings.Contains(r.stdout, "backup: ") {
				t.Errorf("install printed:\n%s", r.stdout)
			}
			installed, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s := string(installed)
			for _, keep := range []string{`"$schema": "https://json.schemastore.org/claude-code-settings.json"`, `"command": "~/bin/guard.sh"`,
				`"command": "afplay /System/Library/Sounds/Glass.aiff"`, `"includeCoAuthoredBy": false`, `"MAX_THINKING_TOKENS": "8000"`} {
				if !strings.Contains(s, keep) {
					t.Errorf("install lost %s", keep)
				}
			}
			if tc.name == "command" {
				want := `"command": "` + b.bin + ` hook claude-code SessionStart"`
				if !strings.Contains(s, want) {
					t.Errorf("no %s in:\n%s", want, s)
				}
			} else {
				want := `"url": "http://127.0.0.1:` + strconv.Itoa(b.port) + `/v1/hooks/claude-code/UserPromptSubmit"`
				if !strings.Contains(s, want) {
					t.Errorf("no %s in:\n%s", want, s)
				}
			}
			if strings.Contains(s, secret) {
				t.Fatal("the API key was written into settings.json")
			}
			if tc.apiKey != strings.Contains(s, `"Authorization": "Bearer $CLAUDE_MEM_API_KEY"`) {
				t.Errorf("api key %v, but the header is there: %v", tc.apiKey, !tc.apiKey)
			}

			r = b.mustRun(t, 0, tc.args...)
			if !strings.Contains(r.stdout, "already installed") {
				t.Errorf("second install printed:\n%s", r.stdout)
			}
			if again, _ := os.ReadFile(path); string(again) != s {
				t.Error("the second install changed the file")
			}

			r = b.mustRun(t, 0, "uninstall")
			if !strings.Contains(r.stdout, "restored "+path) {
				t.Errorf("uninstall printed:\n%s", r.stdout)
			}
			if got, _ := os.ReadFile(path); string(got) != existingSettings {
				t.Fatalf("uninstall did not restore the file byte for byte:\n%s", got)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("left behind in %s: %v", dir, names)
			}
			r = b.mustRun(t, 0, "uninstall")
			if !strings.Contains(r.stdout, "nothing changed") {
				t.Errorf("second uninstall printed:\n%s", r.stdout)
			}
		})
	}
}

func TestInstallRejectsUnknownAgentAndHookType(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if r := b.run(t, "install", "--agent", "cursor"); r.code != ExitFailure || !strings.Contains(r.stderr, `agent "cursor" is not supported`) {
		t.Errorf("--agent cursor: %d %q", r.code, r.stderr)
	}
	if r := b.run(t, "install", "--hook-type", "grpc"); r.code != ExitFailure || !strings.Contains(r.stderr, "is not http or command") {
		t.Errorf("--hook-type grpc: %d %q", r.code, r.stderr)
	}
}

func TestServerImportFromClaudeMem(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src := filepath.Join(t.TempDir(), "claude-mem.db")
	importertest.Build(t, src)

	r := b.mustRun(t, 0, "server", "import", "--from-claude-mem", src)
	for _, want := range []string{"imported " + src, "sessions", "observations", "2 new projects"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r.stdout)
		}
	}
	for table, n := range map[string]int64{"sessions": importertest.Counts["sdk_sessions"], "prompts": importertest.Counts["user_prompts"],
		"observations": importertest.Counts["observations"], "summaries": importertest.Counts["session_summaries"]} {
		if !strings.Contains(r.stderr, "imported "+table+": "+strconv.FormatInt(n, 10)+"/") {
			t.Errorf("progress lacks %s (%d rows):\n%s", table, n, r.stderr)
		}
	}
	r = b.mustRun(t, 0, "server", "import", "--from-claude-mem", src, "--json")
	if !strings.Contains(r.stdout, `"observations":{"read":6,"imported":0,"existing":6}`) {
		t.Errorf("second import: %s", r.stdout)
	}
	if r := b.run(t, "server", "import"); r.code != ExitFailure || !strings.Contains(r.stderr, "--from-claude-mem is required") {
		t.Errorf("without --from-claude-mem: %d %q", r.code, r.stderr)
	}
}

// claudeJSON is a user's ~/.claude.json, which Claude Code owns, with an
// MCP server of their own.
const claudeJSON = `{
  "numStartups": 87,
  "mcpServers": {
    "github": {
      "type": "http",
      "url": "https://api.githubcopilot.com/mcp/",
      "headers": {
        "Authorization": "Bearer ${GITHUB_PAT}"
      }
    }
  },
  "projects": {
    "/src/app": {
      "lastCost": 0.25
    }
  }
}`

// filesUnder reads every file under dir, by path.
func filesUnder(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		out[path] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInstallRegistersTheMCPServer(t *testing.T) {
	t.Parallel()
	const secret = "cmk_live_TUNQTm90SW5GaWxlcw"
	for _, tc := range []struct {
		name string
		// project: the hooks go to a project's .claude/settings.json.
		project bool
		// existing is the MCP file before install; "" is none.
		existing string
		args     []string
		// want are lines of the written MCP file.
		want []string
	}{
		{name: "user scope", existing: claudeJSON, want: []string{`"type": "stdio"`, `"--url",`, `"CLAUDE_MEM_API_KEY": "${CLAUDE_MEM_API_KEY}"`, `"github": {`}},
		{name: "user scope missing file", want: []string{`"type": "stdio"`}},
		{name: "user scope http", existing: claudeJSON, args: []string{"--mcp-transport", "http"},
			want: []string{`"type": "http"`, `/v1/mcp"`, `"Authorization": "Bearer ${CLAUDE_MEM_API_KEY}"`}},
		{name: "project scope from settings", project: true, existing: `{"mcpServers": {"db": {"command": "dbhub"}}}`,
			want: []string{`"db": {`, `"type": "stdio"`}},
		{name: "project scope missing file", project: true, args: []string{"--mcp-scope", "project", "--mcp-transport", "http"},
			want: []string{`"type": "http"`}},
		{name: "user scope with project settings", project: true, existing: claudeJSON, args: []string{"--mcp-scope", "user"},
			want: []string{`"github": {`, `"type": "stdio"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, EnvAPIKey+"="+secret)
			home := strings.TrimPrefix(b.env[0], "HOME=")
			mcpPath := filepath.Join(home, ".claude.json")
			var extra []string
			if tc.project {
				proj := filepath.Join(home, "src", "app")
				settings := filepath.Join(proj, ".claude", "settings.json")
				extra = []string{"--settings", settings}
				if !slices.Contains(tc.args, "user") {
					mcpPath = filepath.Join(proj, ".mcp.json")
				}
			}
			if tc.existing != "" {
				if err := os.MkdirAll(filepath.Dir(mcpPath), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(mcpPath, []byte(tc.existing), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before := filesUnder(t, home)
			args := append(append([]string{"install"}, extra...), tc.args...)

			r := b.mustRun(t, 0, args...)
			if !strings.Contains(r.stdout, "registered claude-mem's MCP server for Claude Code in "+mcpPath) {
				t.Errorf("install printed:\n%s", r.stdout)
			}
			written, err := os.ReadFile(mcpPath)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.want {
				if !strings.Contains(string(written), want) {
					t.Errorf("no %s in %s:\n%s", want, mcpPath, written)
				}
			}
			if strings.Contains(string(written), `"type": "stdio"`) && !strings.Contains(string(written), `"command": "`+b.bin+`"`) {
				t.Errorf("the stdio server does not run this binary (%s):\n%s", b.bin, written)
			}
			for path, content := range filesUnder(t, home) {
				if strings.Contains(content, secret) {
					t.Errorf("the API key was written into %s", path)
				}
			}

			r = b.mustRun(t, 0, args...)
			if !strings.Contains(r.stdout, "MCP server is already registered in "+mcpPath) {
				t.Errorf("second install printed:\n%s", r.stdout)
			}
			if again, _ := os.ReadFile(mcpPath); string(again) != string(written) {
				t.Error("the second install changed the MCP file")
			}

			un := append([]string{"uninstall"}, extra...)
			if i := slices.Index(tc.args, "--mcp-scope"); i >= 0 {
				un = append(un, tc.args[i:i+2]...)
			}
			b.mustRun(t, 0, un...)
			after := filesUnder(t, home)
			for path, content := range before {
				if after[path] != content {
					t.Errorf("uninstall did not restore %s byte for byte:\n%s", path, after[path])
				}
			}
			for path := range after {
				if _, ok := before[path]; !ok {
					t.Errorf("uninstall left %s", path)
				}
			}
		})
	}
}

func TestInstallMCPConflictsAndOptOut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	home := strings.TrimPrefix(b.env[0], "HOME=")
	mcpPath := filepath.Join(home, ".claude.json")
	const foreign = `{"mcpServers": {"claude-mem": {"command": "npx", "args": ["claude-mem-mcp"]}}}`
	if err := os.WriteFile(mcpPath, []byte(foreign), 0o600); err != nil {
		t.Fatal(err)
	}
	r := b.run(t, "install")
	if r.code != ExitFailure || !strings.Contains(r.stderr, "mcpServers.claude-mem") || !strings.Contains(r.stderr, "--mcp-replace") {
		t.Errorf("install over a foreign entry: %d %q", r.code, r.stderr)
	}
	if got, _ := os.ReadFile(mcpPath); string(got) != foreign {
		t.Errorf("the refused install changed %s:\n%s", mcpPath, got)
	}
	if r := b.run(t, "install", "--mcp-transport", "sse"); r.code != ExitFailure || !strings.Contains(r.stderr, "is not stdio or http") {
		t.Errorf("--mcp-transport sse: %d %q", r.code, r.stderr)
	}

	r = b.mustRun(t, 0, "install", "--mcp-replace")
	if !strings.Contains(r.stdout, "registered claude-mem's MCP server") {
		t.Errorf("install --mcp-replace printed:\n%s", r.stdout)
	}
	b.mustRun(t, 0, "uninstall")
	if got, _ := os.ReadFile(mcpPath); string(got) != foreign {
		t.Errorf("uninstall did not put the replaced entry back:\n%s", got)
	}

	r = b.mustRun(t, 0, "install", "--mcp=false")
	if strings.Contains(r.stdout, "MCP server") {
		t.Errorf("install --mcp=false printed:\n%s", r.stdout)
	}
	if got, _ := os.ReadFile(mcpPath); string(got) != foreign {
		t.Errorf("install --mcp=false changed %s:\n%s", mcpPath, got)
	}
}
