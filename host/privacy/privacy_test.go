package privacy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/config"
	"github.com/claude-mem/claude-mem-server/host/privacy"
)

func TestStrip(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ in, want string }{
		"no tags":            {"plain text", "plain text"},
		"a block":            {"keep <private>secret</private> this", "keep  this"},
		"attributes":         {`a<private reason="x">s</private>b`, "ab"},
		"multi-line":         {"a<private>\nline1\nline2\n</private>b", "ab"},
		"case":               {"a<PRIVATE>s</Private>b", "ab"},
		"every tag":          {"<claude-mem-context>c</claude-mem-context><system_instruction>i</system_instruction><system-instruction>j</system-instruction><persisted-output>o</persisted-output><system-reminder>r</system-reminder>x", "x"},
		"nested":             {"a<private>1<private>2</private>3</private>b", "ab"},
		"other tag nested":   {"a<private>1<system-reminder>2</private>3</system-reminder>b", "a3b"},
		"unclosed":           {"a<private>everything after", "a"},
		"stray close":        {"a</private>b", "ab"},
		"self-closing":       {"a<private/>b<private x=1/>c", "abc"},
		"joined by removal":  {"<pri<private>x</private>vate>secret</private>", ""},
		"longer name kept":   {"<privateer>ok</privateer>", "<privateer>ok</privateer>"},
		"no closing bracket": {"a <private b", "a <private b"},
		"two blocks":         {"<private>a</private>mid<private>b</private>", "mid"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, changed := privacy.Strip(tc.in)
			if got != tc.want || changed != (tc.in != tc.want) {
				t.Errorf("Strip(%q) = %q, %v; want %q", tc.in, got, changed, tc.want)
			}
		})
	}
}

func TestStripJSONKeepsJSONValid(t *testing.T) {
	t.Parallel()
	in := `{"command":"echo <private>pw</private> hi","nested":{"list":["<system-reminder>x</system-reminder>ok", 1.50, true, null]},"n":12345678901234567890}`
	out := privacy.StripJSON([]byte(in))
	if !json.Valid(out) {
		t.Fatalf("not valid JSON: %s", out)
	}
	if strings.Contains(string(out), "pw") || strings.Contains(string(out), "<system-reminder>") {
		t.Fatalf("private content left: %s", out)
	}
	for _, keep := range []string{`"echo  hi"`, `"ok"`, `1.50`, `12345678901234567890`} {
		if !strings.Contains(string(out), keep) {
			t.Errorf("%s lost %s", out, keep)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	r, err := privacy.NewRedactor([]string{`INTERNAL-[0-9]{4}`})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		in, secret, kind string
	}{
		"anthropic":       {"key sk-ant-api03-AbCdEfGhIjKlMnOp done", "sk-ant-api03-AbCdEfGhIjKlMnOp", "anthropic-key"},
		"openai":          {"OPENAI=sk-proj-0123456789abcdefABCDEF", "sk-proj-0123456789abcdefABCDEF", "api-key"},
		"claude-mem":      {"cm_0123456789abcdef0123456789abcdef", "cm_0123456789abcdef0123456789abcdef", "claude-mem-key"},
		"github pat":      {"ghp_abcdefghijklmnopqrstuvwxyz0123", "ghp_abcdefghijklmnopqrstuvwxyz0123", "github-token"},
		"github oauth":    {"gho_abcdefghijklmnopqrstuvwxyz0123", "gho_abcdefghijklmnopqrstuvwxyz0123", "github-token"},
		"github fine":     {"github_pat_11ABCDEFG0123456789_abcdefghij", "github_pat_11ABCDEFG0123456789_abcdefghij", "github-token"},
		"slack":           {"xoxb-123456789012-abcdefABCDEF", "xoxb-123456789012-abcdefABCDEF", "slack-token"},
		"google":          {"AIzaSyA1234567890abcdefghijklmnopqrstuv", "AIzaSyA1234567890abcdefghijklmnopqrstuv", "google-api-key"},
		"aws access":      {"id AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE", "aws-access-key"},
		"aws session":     {"ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A", "aws-access-key"},
		"aws secret":      {"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws-secret-key"},
		"bearer":          {"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9.payload.sig", "bearer-token"},
		"pem":             {"-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----", "MIIEabc", "private-key"},
		"pem unclosed":    {"x -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk", "b3BlbnNzaC1rZXk", "private-key"},
		"password=":       {"mysql -u root password=hunter2 -h db", "hunter2", "password"},
		"passwd:":         {"passwd: correcthorse", "correcthorse", "password"},
		"secret=":         {"SECRET=shh123", "shh123", "password"},
		"token=":          {"https://x.test/cb?token=abc123&ok=1", "abc123", "password"},
		"json password":   {`{"user":"bob","password": "p@ss w0rd"}`, "p@ss w0rd", "password"},
		"escaped json":    {`{\"password\":\"tops3cret\"}`, "tops3cret", "password"},
		"url credentials": {"postgres://app:s3cretpw@db:5432/x", "s3cretpw", "url-password"},
		"custom":          {"ticket INTERNAL-1234 open", "INTERNAL-1234", "custom"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, changed := r.Redact(tc.in)
			if !changed || strings.Contains(got, tc.secret) || !strings.Contains(got, privacy.Placeholder(tc.kind)) {
				t.Errorf("Redact(%q) = %q, want %s without %q", tc.in, got, privacy.Placeholder(tc.kind), tc.secret)
			}
			if again, _ := r.Redact(got); again != got {
				t.Errorf("redacting twice changed %q to %q", got, again)
			}
		})
	}
	for _, clean := range []string{"go test ./... -run TestX", "max_tokens=100", "the skip list", "tokens are counted", "sk-short"} {
		if got, changed := r.Redact(clean); changed {
			t.Errorf("Redact(%q) = %q, want it unchanged", clean, got)
		}
	}
}

func TestFilterJSON(t *testing.T) {
	t.Parallel()
	f, err := privacy.New(config.Privacy{})
	if err != nil {
		t.Fatal(err)
	}
	in := `{"headers":{"Authorization":"Basic dXNlcjpwYXNz"},"api_key":"abc","command":"export TOKEN=xyz; echo <private>mine</private>done","n":1}`
	out := f.JSON([]byte(in))
	if !json.Valid(out) {
		t.Fatalf("invalid JSON: %s", out)
	}
	for _, leak := range []string{"dXNlcjpwYXNz", `"abc"`, "xyz", "mine"} {
		if strings.Contains(string(out), leak) {
			t.Errorf("%s leaks %s", out, leak)
		}
	}
	if !strings.Contains(string(out), "done") || !strings.Contains(string(out), "[REDACTED:") {
		t.Errorf("unexpected output %s", out)
	}
	if got := f.JSON([]byte("not json <private>x</private> sk-ant-api03-AbCdEfGhIjKl")); !json.Valid(got) || strings.Contains(string(got), "AbCdEfGhIjKl") {
		t.Errorf("invalid JSON input became %s", got)
	}
	if got := f.JSON(nil); got != nil {
		t.Errorf("empty input became %s", got)
	}
}

func TestSkipRules(t *testing.T) {
	t.Parallel()
	home, _ := os.UserHomeDir()
	f, err := privacy.New(config.Privacy{
		SkipTools:        config.DefaultSkipTools,
		ExcludedProjects: []string{"secret-*", "~/clients/**", "/srv/?ork", "/data/**/scratch"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !f.SkipTool("TodoWrite") || f.SkipTool("Edit") {
		t.Error("skip tools")
	}
	for cwd, want := range map[string]bool{
		"/home/u/secret-project":                    true, // base name
		"/home/u/public":                            false,
		filepath.Join(home, "clients", "acme", "a"): true,
		filepath.Join(home, "clients"):              false,
		"/srv/work":                                 true,
		"/srv/w/ork":                                false,
		"/data/scratch":                             true,
		"/data/a/b/scratch":                         true,
		"":                                          false,
		filepath.Join(home, "clients-other", "acme"): false,
	} {
		if got := f.ExcludedProject(cwd); got != want {
			t.Errorf("ExcludedProject(%q) = %v, want %v", cwd, got, want)
		}
	}
	if !privacy.SessionMemoryMeta("Read", []byte(`{"file_path":"/x/session-memory/a.md"}`)) || privacy.SessionMemoryMeta("Bash", []byte(`session-memory`)) {
		t.Error("session-memory rule")
	}
	if !privacy.TaskNotificationOnly(" <task-notification>done</task-notification>\n") || privacy.TaskNotificationOnly("fix it <task-notification>x</task-notification>") {
		t.Error("task-notification rule")
	}
	if _, err := privacy.New(config.Privacy{RedactPatterns: []string{"("}}); err == nil {
		t.Error("a bad pattern was accepted")
	}
}

// openTag reports whether s contains an opening tag of Tags, by ASCII
// case-insensitive matching independent of the stripper's scanner.
func openTag(s string) bool {
	lower := strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
	for _, name := range privacy.Tags {
		for rest := lower; ; {
			i := strings.Index(rest, "<"+name)
			if i < 0 {
				break
			}
			after := rest[i+1+len(name):]
			if strings.HasPrefix(after, ">") {
				return true
			}
			if len(after) > 0 && strings.ContainsRune(" \t\n\r\f", rune(after[0])) && strings.Contains(after, ">") {
				return true
			}
			rest = rest[i+1:]
		}
	}
	return false
}

func FuzzStrip(f *testing.F) {
	for _, seed := range []string{
		"plain", "a<private>b</private>c", "<private>unclosed", "</private>", "<pri<private>x</private>vate>y</private>",
		`{"a":"<private>x</private>","b":["<system-reminder>r</system-reminder>"]}`, "<PRIVATE a=b>x</PRIVATE >",
		"<private/>", "<private\n>x</private>", `"<persisted-output>` + "\x00" + `"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, changed := privacy.Strip(in)
		if !changed && out != in {
			t.Fatalf("unchanged but different: %q -> %q", in, out)
		}
		if len(out) > len(in) {
			t.Fatalf("output grew: %q -> %q", in, out)
		}
		if openTag(out) {
			t.Fatalf("output keeps an opening tag: %q -> %q", in, out)
		}
		if again, _ := privacy.Strip(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
		if json.Valid([]byte(in)) {
			js := privacy.StripJSON([]byte(in))
			if !json.Valid(js) {
				t.Fatalf("valid JSON became invalid: %q -> %q", in, js)
			}
		}
	})
}
