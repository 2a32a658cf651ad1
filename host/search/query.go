package search

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the query sanitizer. Text beyond them is ignored, so that no
// input, however long, turns into an expensive FTS query.
const (
	// MaxTerms is the most words of a query that are searched for.
	MaxTerms = 16
	// MaxTokens is the most tokens (letter or digit runs) of a query.
	MaxTokens = 32
	// maxTokenRunes cuts a single token.
	maxTokenRunes = 64
	// maxQueryBytes is how much of the query text is read at all.
	maxQueryBytes = 4096
)

// Term is one word of a sanitized query: a run of letters and digits, or
// several runs that were joined by punctuation in the query ("auth.go",
// "files_read", "col:term"), which are searched for as a phrase.
type Term []string

// Query is a sanitized user query. Its FTS5 expressions contain only quoted
// strings of letters and digits, joined by spaces or OR, so they can never be
// an FTS syntax error.
type Query struct {
	Terms []Term
}

// ParseQuery sanitizes user text into search terms. FTS5 syntax in the text
// (quotes, parentheses, *, ^, +, -, :, column filters, NEAR, AND, OR, NOT)
// is never interpreted: punctuation separates tokens and the upper-case
// operator keywords are dropped. Invalid UTF-8 is replaced. Words past
// MaxTerms, tokens past MaxTokens and text past 4 KiB are ignored; repeated
// words are searched for once.
func ParseQuery(text string) Query {
	if len(text) > maxQueryBytes {
		text = text[:maxQueryBytes]
	}
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	var q Query
	seen := map[string]bool{}
	tokens := 0
	for _, word := range strings.FieldsFunc(text, unicode.IsSpace) {
		if len(q.Terms) == MaxTerms || tokens == MaxTokens {
			break
		}
		var term Term
		for _, tok := range strings.FieldsFunc(word, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if isOperator(tok) || tokens+len(term) == MaxTokens {
				continue
			}
			if utf8.RuneCountInString(tok) > maxTokenRunes {
				tok = string([]rune(tok)[:maxTokenRunes])
			}
			term = append(term, tok)
		}
		if len(term) == 0 {
			continue
		}
		key := strings.ToLower(strings.Join(term, " "))
		if seen[key] {
			continue
		}
		seen[key] = true
		tokens += len(term)
		q.Terms = append(q.Terms, term)
	}
	return q
}

// isOperator reports FTS5 keywords, which are operators only in upper case.
func isOperator(tok string) bool {
	switch tok {
	case "AND", "OR", "NOT", "NEAR":
		return true
	}
	return false
}

// Empty reports whether nothing is left to search for.
func (q Query) Empty() bool { return len(q.Terms) == 0 }

// String is the query's terms, space separated (phrases joined by spaces).
func (q Query) String() string {
	words := make([]string, len(q.Terms))
	for i, t := range q.Terms {
		words[i] = strings.Join(t, " ")
	}
	return strings.Join(words, " ")
}

// content drops stop words when something else is left: they match nearly
// every row, which makes a query slow and ranks nothing.
func (q Query) content() []Term {
	var out []Term
	for _, t := range q.Terms {
		if len(t) == 1 && stopWords[strings.ToLower(t[0])] {
			continue
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return q.Terms
	}
	return out
}

// MatchAll is the FTS5 expression that requires every term: each term
// quoted (a phrase when it has several tokens), joined by implicit AND.
func (q Query) MatchAll() string {
	terms := q.content()
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = quote(strings.Join(t, " "))
	}
	return strings.Join(parts, " ")
}

// MatchAny is the FTS5 expression that requires any token of the query.
func (q Query) MatchAny() string { return anyOf(q.tokens()) }

// tokens are the distinct tokens of the query's content terms.
func (q Query) tokens() []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range q.content() {
		for _, tok := range t {
			if k := strings.ToLower(tok); !seen[k] {
				seen[k] = true
				out = append(out, tok)
			}
		}
	}
	return out
}

func anyOf(tokens []string) string {
	parts := make([]string, len(tokens))
	for i, tok := range tokens {
		parts[i] = quote(tok)
	}
	return strings.Join(parts, " OR ")
}

// single reports whether MatchAny can find nothing that MatchAll did not.
func (q Query) single() bool {
	terms := q.content()
	return len(terms) == 1 && len(terms[0]) == 1
}

// quote makes s an FTS5 string. Terms hold only letters and digits, so the
// doubling of quotes is a second line of defence.
func quote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// stopWords are common English words that carry no meaning in a search.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about above after again against all am an and any are as at be because been
		before being below between both but by can could did do does doing down during each few for from further had has
		have having he her here hers him his how i if in into is it its itself just me more most my no nor not now of off
		on once only or other our ours out over own same she should so some such than that the their theirs them then
		there these they this those through to too under until up very was we were what when where which while who whom
		why will with would you your yours`) {
		m[w] = true
	}
	return m
}()
