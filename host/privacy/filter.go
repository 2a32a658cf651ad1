package privacy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/claude-mem/claude-mem-server/host/config"
)

// Filter applies the privacy settings: Text and JSON strip and redact, and
// SkipTool and ExcludedProject say what is not recorded at all.
type Filter struct {
	redactor  *Redactor
	skipTools map[string]bool
	excluded  []*regexp.Regexp
}

// New builds a Filter from the privacy settings.
func New(cfg config.Privacy) (*Filter, error) {
	r, err := NewRedactor(cfg.RedactPatterns)
	if err != nil {
		return nil, err
	}
	f := &Filter{redactor: r, skipTools: map[string]bool{}}
	for _, t := range cfg.SkipTools {
		f.skipTools[t] = true
	}
	home, _ := os.UserHomeDir()
	for _, g := range cfg.ExcludedProjects {
		re, err := globRegexp(g, home)
		if err != nil {
			return nil, fmt.Errorf("privacy: excluded project glob %q: %w", g, err)
		}
		f.excluded = append(f.excluded, re)
	}
	return f, nil
}

// Text strips the private tag blocks from s, then redacts its secrets.
func (f *Filter) Text(s string) string {
	s, _ = Strip(s)
	s, _ = f.redactor.Redact(s)
	return s
}

// JSON applies Text to every string of a JSON document, keys included, and
// replaces the string value of every key that names a secret ("password",
// "api_key", …). The result is valid JSON with sorted keys. A document
// that is not valid JSON is filtered as text and returned as a JSON string.
// Empty input stays empty.
func (f *Filter) JSON(raw []byte) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return mustEncode(f.Text(string(raw)))
	}
	return mustEncode(walk(v, f.Text, true))
}

// StripJSON strips the private tag blocks from every string of a JSON
// document (without redaction). Invalid JSON is stripped as text.
func StripJSON(raw []byte) []byte {
	v, err := decodeJSON(raw)
	if err != nil {
		s, _ := Strip(string(raw))
		return []byte(s)
	}
	strip := func(s string) string { out, _ := Strip(s); return out }
	return mustEncode(walk(v, strip, false))
}

func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("privacy: trailing data after JSON value")
	}
	return v, nil
}

// walk applies fn to every string in v; with secrets, string values of
// secret-named keys are replaced whole.
func walk(v any, fn func(string) string, secrets bool) any {
	switch t := v.(type) {
	case string:
		return fn(t)
	case []any:
		for i := range t {
			t[i] = walk(t[i], fn, secrets)
		}
		return t
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			if s, ok := val.(string); ok && secrets && s != "" {
				if p, secret := RedactValue(k); secret && !strings.HasPrefix(s, placeholderPrefix) {
					out[fn(k)] = p
					continue
				}
			}
			out[fn(k)] = walk(val, fn, secrets)
		}
		return out
	default:
		return v
	}
}

// mustEncode encodes v without HTML escaping. Values decoded from JSON
// (and strings) always encode.
func mustEncode(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("privacy: encode decoded JSON: %v", err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// SkipTool reports whether events of the tool are not recorded.
func (f *Filter) SkipTool(name string) bool { return f.skipTools[name] }

// ExcludedProject reports whether a session in cwd is not recorded: an
// excluded-project glob matches cwd or its base name.
func (f *Filter) ExcludedProject(cwd string) bool {
	if cwd == "" || len(f.excluded) == 0 {
		return false
	}
	full := filepath.ToSlash(filepath.Clean(cwd))
	base := filepath.Base(full)
	for _, re := range f.excluded {
		if re.MatchString(full) || re.MatchString(base) {
			return true
		}
	}
	return false
}

// SessionMemoryMeta reports whether a tool event is claude-mem reading or
// writing its own session memory, which it never records.
func SessionMemoryMeta(tool string, input []byte) bool {
	switch tool {
	case "Edit", "Write", "Read", "NotebookEdit", "MultiEdit":
		return bytes.Contains(input, []byte("session-memory"))
	}
	return false
}

// globRegexp compiles an excluded-project glob: ** matches across
// directories, * and ? within one, a leading ~ is the home directory.
func globRegexp(glob, home string) (*regexp.Regexp, error) {
	glob = strings.TrimSpace(glob)
	if glob == "~" || strings.HasPrefix(glob, "~/") {
		glob = home + glob[1:]
	}
	glob = strings.TrimSuffix(filepath.ToSlash(glob), "/")
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; c {
		case '*':
			if i+1 < len(glob) && glob[i+1] == '*' {
				i++
				if i+1 < len(glob) && glob[i+1] == '/' {
					i++
					b.WriteString("(?:.*/)?")
				} else {
					b.WriteString(".*")
				}
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		default:
			j := i + strings.IndexAny(glob[i:]+"*", "*?")
			b.WriteString(regexp.QuoteMeta(glob[i:j]))
			i = j - 1
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// TaskNotificationOnly reports whether a prompt is nothing but a
// <task-notification> block, which claude-mem treats as internal protocol.
func TaskNotificationOnly(prompt string) bool {
	p := strings.TrimSpace(prompt)
	return strings.HasPrefix(p, "<task-notification>") && strings.HasSuffix(p, "</task-notification>") &&
		strings.Count(p, "<task-notification>") == 1
}
