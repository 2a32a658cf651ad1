package installer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// userSettings is a settings file as a user keeps it: four-space indent,
// no final newline, escapes, an exponent, hooks of their own (one on an
// event claude-mem also uses) and keys this package knows nothing about.
const userSettings = `{
    "model": "opus",
    "env": {"GREETING": "b\u00e4r \"quoted\"", "PATH_X": "/opt/bin"},
    "permissions": {
        "allow": ["Bash(git status)", "Read(./**)"],
        "deny": []
    },
    "hooks": {
        "PostToolUse": [
            {"matcher": "Edit|Write", "hooks": [{"type": "command", "command": "prettier --write \"$FILE\"", "timeout": 30}]}
        ],
        "Notification": [{"hooks": [{"type": "command", "command": "notify-send 'Claude <done> & co'"}]}]
    },
    "statusLine": {"type": "command", "command": "~/.claude/statusline.sh"},
    "cleanupPeriodDays": 1e2,
    "feedbackSurveyState": {"lastShownTime": 1754000000000}
}`

func clock() func() time.Time {
	t := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// decode parses a settings file.
func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("settings are not JSON: %v\n%s", err, s)
	}
	return m
}

// entries lists the handlers of an event's groups, as "type:url-or-command".
func entries(t *testing.T, settings map[string]any, event string) []string {
	t.Helper()
	hooks, _ := settings["hooks"].(map[string]any)
	groups, _ := hooks[event].([]any)
	var out []string
	for _, g := range groups {
		for _, h := range g.(map[string]any)["hooks"].([]any) {
			m := h.(map[string]any)
			target, _ := m["url"].(string)
			if target == "" {
				target, _ = m["command"].(string)
			}
			out = append(out, m["type"].(string)+":"+target)
		}
	}
	return out
}

// dirFiles lists the names in dir.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list {
		out = append(out, e.Name())
	}
	return out
}

func TestInstallUninstallRestoresTheFileByteForByte(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]Options{
		"http":         {HookType: HookHTTP, ServerURL: "http://127.0.0.1:37701"},
		"http-api-key": {HookType: HookHTTP, ServerURL: "http://127.0.0.1:37701", APIKeyEnv: "CLAUDE_MEM_API_KEY"},
		"command":      {HookType: HookCommand, Command: "'/opt/my tools/claude-mem'"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "settings.json")
			if err := os.WriteFile(path, []byte(userSettings), 0o640); err != nil {
				t.Fatal(err)
			}
			opts.SettingsPath, opts.Now = path, clock()

			res, err := Install(opts)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Changed || res.Backup == "" || len(res.Events) != len(Hooks) {
				t.Fatalf("install: %+v", res)
			}
			if got := readFile(t, res.Backup); got != userSettings {
				t.Fatalf("the backup is not the original:\n%s", got)
			}
			installed := readFile(t, path)
			s := decode(t, installed)
			// Unknown keys and values survive, escapes and numbers as written.
			for _, want := range []string{`"GREETING": "b\u00e4r \"quoted\""`, `"cleanupPeriodDays": 1e2`, `"lastShownTime": 1754000000000`,
				`"command": "notify-send 'Claude <done> & co'"`, `"statusLine": {`} {
				if !strings.Contains(installed, want) {
					t.Errorf("installed file lost %s:\n%s", want, installed)
				}
			}
			if s["model"] != "opus" {
				t.Errorf("model = %v", s["model"])
			}
			// The user's own hook comes first, then claude-mem's.
			post := entries(t, s, "PostToolUse")
			if len(post) != 2 || post[0] != `command:prettier --write "$FILE"` {
				t.Errorf("PostToolUse hooks: %q", post)
			}
			for _, spec := range Hooks {
				got := entries(t, s, spec.Event)
				last := got[len(got)-1]
				want := "http:http://127.0.0.1:37701/v1/hooks/claude-code/" + spec.Event
				if opts.HookType == HookCommand {
					want = "command:'/opt/my tools/claude-mem' hook claude-code " + spec.Event
				}
				if last != want {
					t.Errorf("%s: last hook %q, want %q", spec.Event, last, want)
				}
			}
			if strings.Contains(installed, `"matcher": ""`) {
				t.Error("an empty matcher was written")
			}
			if opts.APIKeyEnv != "" {
				if !strings.Contains(installed, `"Authorization": "Bearer $CLAUDE_MEM_API_KEY"`) || !strings.Contains(installed, `"allowedEnvVars": [`) {
					t.Errorf("no header from the environment:\n%s", installed)
				}
			} else if strings.Contains(installed, "Authorization") {
				t.Errorf("a header without an API key:\n%s", installed)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
				t.Errorf("mode %v, want the original 0640", fi.Mode().Perm())
			}

			// Twice: the same file, no new backup.
			again, err := Install(opts)
			if err != nil {
				t.Fatal(err)
			}
			if again.Changed || again.Backup != "" || readFile(t, path) != installed {
				t.Fatalf("second install changed the file: %+v", again)
			}

			un, err := Uninstall(path)
			if err != nil {
				t.Fatal(err)
			}
			if !un.Restored || !un.Changed {
				t.Errorf("uninstall: %+v", un)
			}
			if got := readFile(t, path); got != userSettings {
				t.Fatalf("uninstall did not restore the original byte for byte:\n%s", got)
			}
			if files := dirFiles(t, dir); len(files) != 1 || files[0] != "settings.json" {
				t.Errorf("left behind: %v", files)
			}
		})
	}
}

func TestUninstallKeepsWhatTheUserChangedSince(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "settings.json")
	if err := os.WriteFile(path, []byte(userSettings+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(Options{SettingsPath: path, ServerURL: "http://127.0.0.1:4000", Now: clock()}); err != nil {
		t.Fatal(err)
	}
	// The user (or Claude Code) changes a setting and adds a hook of their
	// own to claude-mem's Stop group.
	m := decode(t, readFile(t, path))
	m["model"] = "sonnet"
	stop := m["hooks"].(map[string]any)["Stop"].([]any)[0].(map[string]any)
	stop["hooks"] = append(stop["hooks"].([]any), map[string]any{"type": "command", "command": "say done"})
	edited, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(path, append(edited, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Uninstall(path); err != nil {
		t.Fatal(err)
	}
	got := decode(t, readFile(t, path))
	want := decode(t, userSettings)
	want["model"] = "sonnet"
	hooks := want["hooks"].(map[string]any)
	hooks["Stop"] = []any{map[string]any{"hooks": []any{map[string]any{"type": "command", "command": "say done"}}}}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("after uninstall:\n%s\nwant:\n%s", gotJSON, wantJSON)
	}
	if !strings.HasSuffix(readFile(t, path), "}\n") {
		t.Error("the final newline was lost")
	}
}

func TestInstallWithoutSettingsFileAndSwitchingHookType(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "claude")
	path := filepath.Join(dir, "settings.json")
	if _, err := Install(Options{SettingsPath: path, ServerURL: "http://127.0.0.1:37701", Now: clock()}); err != nil {
		t.Fatal(err)
	}
	res, err := Install(Options{SettingsPath: path, HookType: HookCommand, Command: "/usr/local/bin/claude-mem", Now: clock()})
	if err != nil || !res.Changed {
		t.Fatalf("switch to command hooks: %+v %v", res, err)
	}
	s := decode(t, readFile(t, path))
	for _, spec := range Hooks {
		if got := entries(t, s, spec.Event); len(got) != 1 || got[0] != "command:/usr/local/bin/claude-mem hook claude-code "+spec.Event {
			t.Errorf("%s: %q, want only the command hook", spec.Event, got)
		}
	}
	if _, err := Uninstall(path); err != nil {
		t.Fatal(err)
	}
	if files := dirFiles(t, dir); len(files) != 0 {
		t.Errorf("uninstall left %v; install had created the file", files)
	}
}

func TestInstallRefusesABrokenFile(t *testing.T) {
	t.Parallel()
	for name, content := range map[string]string{
		"not json":     `{"model": "opus",`,
		"not object":   `["a"]`,
		"hooks string": `{"hooks": "none"}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "settings.json")
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Install(Options{SettingsPath: path, ServerURL: "http://x:1"}); err == nil {
				t.Fatal("install accepted it")
			}
			if got := readFile(t, path); got != content {
				t.Errorf("the file changed: %s", got)
			}
		})
	}
}

func TestSettingsPath(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	if got := SettingsPath(get, "/home/u"); got != "/home/u/.claude/settings.json" {
		t.Errorf("default: %s", got)
	}
	env["CLAUDE_CONFIG_DIR"] = "/etc/claude"
	if got := SettingsPath(get, "/home/u"); got != "/etc/claude/settings.json" {
		t.Errorf("CLAUDE_CONFIG_DIR: %s", got)
	}
}

func TestShellQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/usr/local/bin/claude-mem": "/usr/local/bin/claude-mem",
		"/opt/my tools/claude-mem":  "'/opt/my tools/claude-mem'",
		"/a/it's":                   `'/a/it'\''s'`,
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseDoc(f *testing.F) {
	f.Add([]byte(userSettings))
	f.Add([]byte(`{"a":[1,2,{"b":"\u00e9\\\""}],"a":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := parseDoc(b)
		if err != nil {
			return
		}
		out := doc.encode()
		again, err := parseDoc(out)
		if err != nil {
			t.Fatalf("re-encoded document does not parse: %v\n%s", err, out)
		}
		if string(again.encode()) != string(out) {
			t.Fatalf("encoding is not stable")
		}
		if !json.Valid(out) {
			t.Fatalf("invalid output")
		}
	})
}
