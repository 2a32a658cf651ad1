package provider

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ParsedKind says what a model's answer held.
type ParsedKind int

const (
	// ParsedEmpty is an empty (or whitespace-only) answer: the model's way
	// to say nothing was worth recording.
	ParsedEmpty ParsedKind = iota
	// ParsedObservations is an answer whose first root tag is
	// <observation>.
	ParsedObservations
	// ParsedSummary is an answer whose first root tag is <summary>.
	ParsedSummary
	// ParsedSkipSummary is an answer holding <skip_summary … />.
	ParsedSkipSummary
)

func (k ParsedKind) String() string {
	switch k {
	case ParsedObservations:
		return "observations"
	case ParsedSummary:
		return "summary"
	case ParsedSkipSummary:
		return "skip_summary"
	default:
		return "empty"
	}
}

// Parsed is a model's answer in claude-mem's XML protocol.
type Parsed struct {
	Kind         ParsedKind
	Observations []Observation // for ParsedObservations; never empty then
	Summary      *Summary      // for ParsedSummary; never nil then
	SkipReason   string        // for ParsedSkipSummary; may be empty
}

// DefaultObservationType is the type an observation without one gets: the
// first type of claude-mem's "code" mode, as claude-mem does.
const DefaultObservationType = "bugfix"

var (
	reFence       = regexp.MustCompile("(?is)^\\s*```(?:xml)?\\s*\\n(.*?)\\n```\\s*$")
	reSkipSummary = regexp.MustCompile(`(?i)<skip_summary(?:\s+reason="([^"]*)")?\s*/>`)
	reFirstRoot   = regexp.MustCompile(`(?i)<(observation|summary)\b`)
	reObservation = regexp.MustCompile(`(?is)<observation>(.*?)</observation>`)
	reSummary     = regexp.MustCompile(`(?is)<summary>(.*?)</summary>`)
	reFields      = map[string]*regexp.Regexp{}
)

func init() {
	for _, name := range []string{
		"type", "title", "subtitle", "narrative", "facts", "fact", "concepts", "concept",
		"files_read", "files_modified", "file",
		"request", "investigated", "learned", "completed", "next_steps", "notes",
	} {
		reFields[name] = regexp.MustCompile(`(?is)<` + name + `>(.*?)</` + name + `>`)
	}
}

// Parse reads a model's answer with claude-mem's rules (parseAgentXml):
//
//   - one ```xml (or bare ```) fence wrapping the whole answer is removed;
//   - <skip_summary reason="…"/> anywhere makes the answer valid with no
//     summary (and no observations);
//   - otherwise the first <observation or <summary tag decides the mode;
//   - fields are trimmed, XML character references decoded, and an empty
//     field is absent; empty list elements are dropped;
//   - concepts are cut at their first ':' and the observation's own type
//     is removed from them; a missing type becomes DefaultObservationType,
//     an unknown one is kept as it is;
//   - an observation with no title, narrative, facts or concepts is
//     dropped, and an answer whose observations were all dropped is
//     invalid, as is a summary with none of request, investigated,
//     learned, completed and next_steps.
//
// An answer with neither root tag is invalid. Invalid answers return an
// error wrapping ErrUnparseable. One deviation from claude-mem: an empty
// answer is valid (ParsedEmpty), since the prompts tell the model to answer
// with nothing when nothing is worth recording.
func Parse(text string) (Parsed, error) {
	if strings.TrimSpace(text) == "" {
		return Parsed{Kind: ParsedEmpty}, nil
	}
	if m := reFence.FindStringSubmatch(text); m != nil {
		text = m[1]
	}
	if m := reSkipSummary.FindStringSubmatch(text); m != nil {
		return Parsed{Kind: ParsedSkipSummary, SkipReason: strings.TrimSpace(decodeRefs(m[1]))}, nil
	}
	root := reFirstRoot.FindStringSubmatch(text)
	if root == nil {
		return Parsed{}, unparseable("no <observation> or <summary> element", text)
	}
	if strings.EqualFold(root[1], "observation") {
		obs := parseObservations(text)
		if len(obs) == 0 {
			return Parsed{}, unparseable("every <observation> was empty or unterminated", text)
		}
		return Parsed{Kind: ParsedObservations, Observations: obs}, nil
	}
	s := parseSummary(text)
	if s == nil {
		return Parsed{}, unparseable("<summary> is unterminated or has none of request, investigated, learned, completed, next_steps", text)
	}
	return Parsed{Kind: ParsedSummary, Summary: s}, nil
}

func unparseable(why, text string) error {
	return fmt.Errorf("%w: %s; answer began %q", ErrUnparseable, why, snippet(text, 160))
}

func snippet(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:cutBack(s, n)] + "…"
}

func parseObservations(text string) []Observation {
	var out []Observation
	for _, m := range reObservation.FindAllStringSubmatch(text, -1) {
		body := m[1]
		o := Observation{
			Type:      field(body, "type"),
			Title:     field(body, "title"),
			Subtitle:  field(body, "subtitle"),
			Narrative: field(body, "narrative"),
			Facts:     list(body, "facts", "fact"),
			FilesRead: list(body, "files_read", "file"),
			// The model's files_modified is parsed but replaced by the
			// write tools' paths in post-processing.
			FilesModified: list(body, "files_modified", "file"),
		}
		if o.Type == "" {
			o.Type = DefaultObservationType
		}
		for _, c := range list(body, "concepts", "concept") {
			if i := strings.IndexByte(c, ':'); i >= 0 {
				c = c[:i]
			}
			if c = strings.TrimSpace(c); c != "" && c != o.Type {
				o.Concepts = append(o.Concepts, c)
			}
		}
		if o.Title == "" && o.Narrative == "" && len(o.Facts) == 0 && len(o.Concepts) == 0 {
			continue
		}
		out = append(out, o)
	}
	return out
}

func parseSummary(text string) *Summary {
	m := reSummary.FindStringSubmatch(text)
	if m == nil {
		return nil
	}
	s := &Summary{
		Request:      field(m[1], "request"),
		Investigated: field(m[1], "investigated"),
		Learned:      field(m[1], "learned"),
		Completed:    field(m[1], "completed"),
		NextSteps:    field(m[1], "next_steps"),
		Notes:        field(m[1], "notes"),
	}
	if s.Request == "" && s.Investigated == "" && s.Learned == "" && s.Completed == "" && s.NextSteps == "" {
		return nil
	}
	return s
}

// field is the trimmed, decoded text of the first <name> element of body.
func field(body, name string) string {
	m := reFields[name].FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(decodeRefs(strings.TrimSpace(m[1])))
}

// list is the trimmed, decoded, non-empty <elem> children of the first
// <wrapper> element of body.
func list(body, wrapper, elem string) []string {
	m := reFields[wrapper].FindStringSubmatch(body)
	if m == nil {
		return nil
	}
	var out []string
	for _, e := range reFields[elem].FindAllStringSubmatch(m[1], -1) {
		if v := strings.TrimSpace(decodeRefs(strings.TrimSpace(e[1]))); v != "" {
			out = append(out, v)
		}
	}
	return out
}

var xmlEntities = map[string]string{"amp": "&", "lt": "<", "gt": ">", "quot": `"`, "apos": "'"}

// decodeRefs replaces the five predefined XML entities and numeric
// character references in one pass (so "&amp;lt;" becomes "&lt;"), leaving
// CDATA sections, unknown entities and references to characters XML does
// not allow untouched.
func decodeRefs(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "<![CDATA[") {
			end := strings.Index(s[i:], "]]>")
			if end < 0 {
				b.WriteString(s[i:])
				break
			}
			b.WriteString(s[i : i+end+3])
			i += end + 3
			continue
		}
		if s[i] != '&' {
			b.WriteByte(s[i])
			i++
			continue
		}
		semi := strings.IndexByte(s[i:], ';')
		if semi < 2 || semi > 12 {
			b.WriteByte('&')
			i++
			continue
		}
		name := s[i+1 : i+semi]
		if r, ok := xmlEntities[name]; ok {
			b.WriteString(r)
			i += semi + 1
			continue
		}
		if r, ok := charRef(name); ok {
			b.WriteRune(r)
			i += semi + 1
			continue
		}
		b.WriteByte('&')
		i++
	}
	return b.String()
}

func charRef(name string) (rune, bool) {
	if len(name) < 2 || name[0] != '#' {
		return 0, false
	}
	var n uint64
	var err error
	if name[1] == 'x' {
		if len(name) < 3 {
			return 0, false
		}
		n, err = strconv.ParseUint(name[2:], 16, 32)
	} else {
		n, err = strconv.ParseUint(name[1:], 10, 32)
	}
	if err != nil {
		return 0, false
	}
	r := rune(n)
	legal := r == 0x9 || r == 0xA || r == 0xD ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
	return r, legal
}
