package cli

import (
	"os"
	"path/filepath"
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
