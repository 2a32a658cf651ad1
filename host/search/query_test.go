package search_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/search"
)

func TestParseQuery(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		in, all, any string
	}{
		"words":        {"jwt expiry", `"jwt" "expiry"`, `"jwt" OR "expiry"`},
		"quotes":       {`"jwt expiry"`, `"jwt" "expiry"`, `"jwt" OR "expiry"`},
		"punctuation":  {"auth.go files_read", `"auth go" "files read"`, `"auth" OR "go" OR "files" OR "read"`},
		"column":       {"title:jwt", `"title jwt"`, `"title" OR "jwt"`},
		"operators":    {"jwt AND expiry OR NOT x NEAR(c d)", `"jwt" "expiry" "x" "c" "d"`, `"jwt" OR "expiry" OR "x" OR "c" OR "d"`},
		"lower ops":    {"and or not", `"and" "or" "not"`, `"and" OR "or" OR "not"`},
		"stop words":   {"the token of a session", `"token" "session"`, `"token" OR "session"`},
		"prefix":       {"tok* ^start +plus -minus", `"tok" "start" "plus" "minus"`, `"tok" OR "start" OR "plus" OR "minus"`},
		"repeats":      {"Token token TOKEN", `"Token"`, `"Token"`},
		"unicode":      {"café naïve 日本語", `"café" "naïve" "日本語"`, `"café" OR "naïve" OR "日本語"`},
		"invalid utf8": {"to\xffken \xc3", `"to ken"`, `"to" OR "ken"`},
		"empty":        {` "" () * : - `, ``, ``},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			q := search.ParseQuery(tc.in)
			if got := q.MatchAll(); got != tc.all {
				t.Errorf("MatchAll(%q) = %s, want %s", tc.in, got, tc.all)
			}
			if got := q.MatchAny(); got != tc.any {
				t.Errorf("MatchAny(%q) = %s, want %s", tc.in, got, tc.any)
			}
			if q.Empty() != (tc.all == "") {
				t.Errorf("Empty(%q) = %v", tc.in, q.Empty())
			}
		})
	}
}

func TestParseQueryBounds(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("word"+strings.Repeat("x", 200)+" ", 2000)
	q := search.ParseQuery(long)
	if len(q.Terms) != 1 || utf8.RuneCountInString(q.Terms[0][0]) != 64 {
		t.Errorf("long repeated word: %d terms", len(q.Terms))
	}
	var words []string
	for i := range 100 {
		words = append(words, strings.Repeat(string(rune('a'+i%26)), 1+i/26))
	}
	q = search.ParseQuery(strings.Join(words, " "))
	if len(q.Terms) != search.MaxTerms {
		t.Errorf("%d terms, want %d", len(q.Terms), search.MaxTerms)
	}
	q = search.ParseQuery(strings.Repeat("a.b.c.d.e.f.g.h.i.j ", 10))
	n := 0
	for _, term := range q.Terms {
		n += len(term)
	}
	if n > search.MaxTokens {
		t.Errorf("%d tokens, want at most %d", n, search.MaxTokens)
	}
}

// hostileQueries are inputs that break naive FTS5 MATCH strings.
var hostileQueries = map[string]string{
	"double quote":        `"`,
	"quoted phrase":       `"middleware verifies"`,
	"unbalanced quotes":   `"token "expiry`,
	"single quote":        `it's the token's`,
	"sql injection":       `'; DROP TABLE observations; --`,
	"near":                `NEAR(token expiry, 2)`,
	"near alone":          `NEAR`,
	"star":                `*`,
	"prefix":              `tok*`,
	"caret":               `^token`,
	"open paren":          `(token`,
	"close paren":         `token)`,
	"unbalanced parens":   `((token OR expiry) AND (jwt`,
	"column filter":       `title:token`,
	"column set":          `{title narrative}: token`,
	"minus":               `-token`,
	"not":                 `token NOT expiry`,
	"operators only":      `AND OR NOT`,
	"operator words":      `token AND OR NOT expiry`,
	"plus":                `token + expiry`,
	"colon":               `:`,
	"backslashes":         `\\token\"`,
	"percent":             `%token%`,
	"nul byte":            "token\x00expiry",
	"invalid utf8":        "tok\xff\xfeen \xc3\x28 expiry",
	"lone surrogate utf8": "\xed\xa0\x80token",
	"emoji":               "🔥 token 🚀",
	"ten kilobytes":       strings.Repeat("token expiry (NEAR \"x* ", 450),
	"ten kilobytes word":  strings.Repeat("a", 10240),
	"whitespace":          " \t\n\r ",
	"empty":               "",
	"control characters":  "\x01\x02token\x7f",
	"combining marks":     "e\u0301 \u0301\u0301",
	"right to left":       "\u202etoken\u202c",
}

func TestHostileQueries(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for name, query := range hostileQueries {
		for _, filtered := range []bool{false, true} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				req := search.Request{TeamID: memory.LocalTeam, Query: query}
				if filtered {
					req.Projects, req.Types, req.Files = []string{"api"}, []string{"bugfix"}, []string{`"%_\`}
				}
				res, err := search.Search(context.Background(), f.env.Reader(), req)
				if err != nil {
					t.Fatalf("Search(%q): %v", query, err)
				}
				_ = res.Text(search.TextOptions{})
				if !filtered && strings.Contains(query, "token") && !strings.Contains(query, "\x00") && len(res.Hits) == 0 && name != "ten kilobytes word" {
					t.Errorf("Search(%q) found nothing", query)
				}
			})
		}
	}
}

// FuzzSearch: no query, whatever it holds, is an error.
func FuzzSearch(f *testing.F) {
	for _, q := range hostileQueries {
		f.Add(q)
	}
	fx := setup(f)
	f.Fuzz(func(t *testing.T, query string) {
		_, err := search.Search(context.Background(), fx.env.Reader(), search.Request{TeamID: memory.LocalTeam, Query: query})
		if err != nil {
			t.Fatalf("Search(%q): %v", query, err)
		}
	})
}
