// Package privacy keeps what must never be remembered out of the store, the
// queue and every model: it strips claude-mem's private tag blocks, redacts
// secrets, and decides which tools and projects are not recorded at all.
//
// Stripping comes first, then redaction; both run on every text before it
// is stored, and on decoded JSON strings, so a JSON document stays valid.
package privacy

import "strings"

// Tags are the tag names whose whole blocks are removed, as claude-mem's
// stripTags does (behaviour §5.7). Matching ignores case and allows
// attributes: <private reason="x">…</private>.
var Tags = []string{
	"private",
	"claude-mem-context",
	"system_instruction",
	"system-instruction",
	"persisted-output",
	"system-reminder",
}

// Strip removes every tagged block from s and reports whether it removed
// anything.
//
// Blocks may span lines and nest. A block whose closing tag is missing is
// removed to the end of s (fail closed: an unclosed <private> hides the
// rest rather than leaking it), and a stray closing tag is removed. Removal
// repeats until nothing changes, so pieces joined by a removal cannot form
// a new tag.
func Strip(s string) (string, bool) {
	if !strings.Contains(s, "<") {
		return s, false
	}
	changed := false
	for {
		out, ok := stripOnce(s)
		if !ok {
			return s, changed
		}
		s, changed = out, true
	}
}

// tagAt describes the tag starting at s[i] (s[i] == '<'): which of Tags it
// is, whether it closes, and where it ends (exclusive). ok is false when
// s[i:] is not one of our tags.
func tagAt(s string, i int) (name string, closing bool, end int, ok bool) {
	j := i + 1
	if j < len(s) && s[j] == '/' {
		closing = true
		j++
	}
	for _, t := range Tags {
		if len(s)-j < len(t) || !strings.EqualFold(s[j:j+len(t)], t) {
			continue
		}
		k := j + len(t)
		if k >= len(s) {
			return "", false, 0, false
		}
		switch c := s[k]; {
		case c == '>':
			return t, closing, k + 1, true
		case c == '/' && !closing && k+1 < len(s) && s[k+1] == '>':
			// <private/>: an empty block; report it as a closed pair.
			return t, true, k + 2, true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			gt := strings.IndexByte(s[k:], '>')
			if gt < 0 {
				return "", false, 0, false
			}
			end := k + gt + 1
			if !closing && s[end-2] == '/' {
				return t, true, end, true // <private reason="x"/>
			}
			return t, closing, end, true
		}
	}
	return "", false, 0, false
}

// stripOnce removes one layer of blocks and stray closing tags.
func stripOnce(s string) (string, bool) {
	var b strings.Builder
	changed := false
	last := 0 // s[last:i] is kept text not yet written
	for i := 0; i < len(s); {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			break
		}
		i += lt
		name, closing, end, ok := tagAt(s, i)
		if !ok {
			i++
			continue
		}
		if !changed {
			b.Grow(len(s))
			changed = true
		}
		b.WriteString(s[last:i])
		if closing {
			// A stray closing tag, or a self-closing empty block.
			i, last = end, end
			continue
		}
		i = blockEnd(s, name, end)
		last = i
	}
	if !changed {
		return s, false
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// blockEnd returns where the block of name opened just before from ends:
// after its matching closing tag, counting nested blocks of the same name,
// or len(s) when it never closes.
func blockEnd(s, name string, from int) int {
	depth := 1
	for i := from; i < len(s); {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			break
		}
		i += lt
		n, closing, end, ok := tagAt(s, i)
		if !ok || n != name {
			i++
			continue
		}
		switch {
		case closing && s[i+1] != '/':
			// self-closing <name/>: no effect on depth
		case closing:
			depth--
		default:
			depth++
		}
		i = end
		if depth == 0 {
			return end
		}
	}
	return len(s)
}
