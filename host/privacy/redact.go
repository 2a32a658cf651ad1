package privacy

import (
	"fmt"
	"regexp"
	"strings"
)

// Placeholder returns the visible marker left where a secret of kind was.
func Placeholder(kind string) string { return "[REDACTED:" + kind + "]" }

const placeholderPrefix = "[REDACTED:"

// rule is one redaction pattern. group is the submatch replaced (0: the
// whole match); the text around it, such as "password=", stays visible.
type rule struct {
	kind  string
	re    *regexp.Regexp
	group int
}

// pairKeys are the names whose values are secrets in key=value, key: value
// and JSON "key": "value" pairs.
const pairKeys = `password|passwd|pwd|secret|client[_-]?secret|token|access[_-]?token|auth[_-]?token|refresh[_-]?token|api[_-]?key|apikey|private[_-]?key`

// builtin are the patterns every Redactor applies, in order. Specific
// shapes come before the generic pairs so they get the specific name.
var builtin = []rule{
	{"private-key", regexp.MustCompile(`-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\z)`), 0},
	{"anthropic-key", regexp.MustCompile(`\bsk-ant-[A-Za-z0-9_\-]{8,}`), 0},
	{"api-key", regexp.MustCompile(`\bsk-[A-Za-z0-9_\-]{16,}`), 0},
	{"claude-mem-key", regexp.MustCompile(`\bcm_[A-Za-z0-9]{16,}`), 0},
	{"github-token", regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})`), 0},
	{"slack-token", regexp.MustCompile(`\bxox[baprs]-[A-Za-z0-9\-]{10,}`), 0},
	{"google-api-key", regexp.MustCompile(`\bAIza[0-9A-Za-z_\-]{35}`), 0},
	{"aws-access-key", regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`), 0},
	{"aws-secret-key", regexp.MustCompile(`(?i)(aws_secret_access_key["']?\s*[=:]\s*["']?)([A-Za-z0-9/+=]{16,})`), 2},
	{"bearer-token", regexp.MustCompile(`(?i)(\bbearer\s+)([A-Za-z0-9\-._~+/]{8,}=*)`), 2},
	{"basic-auth", regexp.MustCompile(`(?i)(\bauthorization["']?\s*[:=]\s*["']?basic\s+)([A-Za-z0-9+/]{8,}=*)`), 2},
	{"url-password", regexp.MustCompile(`(?i)(\b[a-z][a-z0-9+.\-]*://[^/\s:@"']+:)([^@\s/"']+)(@)`), 2},
	{"password", regexp.MustCompile(`(?i)(\\?"(?:` + pairKeys + `)\\?"\s*:\s*\\?")((?:[^"\\]|\\[^"])+)`), 2},
	{"password", regexp.MustCompile(`(?i)(\b(?:` + pairKeys + `)\b["']?\s*[=:]\s*)("[^"\n]+"|'[^'\n]+'|[^\s"',;&<>]+)`), 2},
}

// secretKey matches a JSON object key whose string value is a secret.
var secretKey = regexp.MustCompile(`(?i)^(?:` + pairKeys + `|aws_secret_access_key|authorization|cookie|set-cookie)$`)

// Redactor replaces secrets with placeholders.
type Redactor struct {
	rules []rule
}

// NewRedactor returns a Redactor applying the built-in patterns and then
// extra, whose whole matches become [REDACTED:custom].
func NewRedactor(extra []string) (*Redactor, error) {
	r := &Redactor{rules: append([]rule(nil), builtin...)}
	for _, p := range extra {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("privacy: redact pattern %q: %w", p, err)
		}
		r.rules = append(r.rules, rule{kind: "custom", re: re})
	}
	return r, nil
}

// Redact returns s with every secret replaced by a placeholder, and
// whether it replaced any.
func (r *Redactor) Redact(s string) (string, bool) {
	changed := false
	for _, ru := range r.rules {
		out, ok := ru.apply(s)
		if ok {
			s, changed = out, true
		}
	}
	return s, changed
}

// RedactValue returns the placeholder for the value of a JSON object key
// that names a secret ("password", "api_key", …), and whether key is one.
func RedactValue(key string) (string, bool) {
	if !secretKey.MatchString(key) {
		return "", false
	}
	return Placeholder("password"), true
}

func (ru rule) apply(s string) (string, bool) {
	matches := ru.re.FindAllStringSubmatchIndex(s, -1)
	if matches == nil {
		return s, false
	}
	var b strings.Builder
	last, changed := 0, false
	for _, m := range matches {
		start, end := m[2*ru.group], m[2*ru.group+1]
		if start < 0 || start == end || strings.HasPrefix(s[start:], placeholderPrefix) {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(Placeholder(ru.kind))
		last, changed = end, true
	}
	if !changed {
		return s, false
	}
	b.WriteString(s[last:])
	return b.String(), true
}
