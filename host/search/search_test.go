package search_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/search"
	"github.com/claude-mem/claude-mem-server/host/search/searchtest"
)

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	hosttest.Golden(t, filepath.Join("testdata", name), got)
}

var base = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

// fixture is a small memory with two teams, three projects, two platforms.
type fixture struct {
	env *searchtest.Env
	// ids by name
	obs     map[string]int64
	sums    map[string]int64
	prompts map[string]int64
	sess    map[string]memory.Session
}

func setup(t testing.TB) *fixture {
	t.Helper()
	env := searchtest.New(t)
	env.Team(t, "acme")
	f := &fixture{env: env, obs: map[string]int64{}, sums: map[string]int64{}, prompts: map[string]int64{}, sess: map[string]memory.Session{}}
	f.sess["api"] = env.Session(t, memory.LocalTeam, "api", "claude", "s-api", base)
	f.sess["web"] = env.Session(t, memory.LocalTeam, "web", "codex", "s-web", base)
	f.sess["acme"] = env.Session(t, "acme", "api", "claude", "s-acme", base)

	at := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	add := func(name, sess string, o memory.Observation) {
		f.obs[name] = env.Observation(t, f.sess[sess], o)
	}
	add("jwt", "api", memory.Observation{Type: "feature", Title: "Added JWT authentication", Subtitle: "tokens signed with ed25519",
		Narrative: "The login handler now issues a signed token; the middleware verifies it on every request.",
		Facts:     []string{"Token lifetime is fifteen minutes", "Refresh uses a rotating cookie"},
		Concepts:  []string{"how-it-works", "what-changed"}, FilesModified: []string{"/src/api/auth/jwt.go"},
		FilesRead: []string{"/src/api/auth/middleware.go"}, DiscoveryTokens: 4200, CreatedAt: at(0)})
	add("expiry", "api", memory.Observation{Type: "bugfix", Title: "Fixed token expiry check",
		Narrative: "Expired tokens were accepted because the clock skew was added twice.",
		Facts:     []string{"Skew tolerance is thirty seconds"}, Concepts: []string{"problem-solution", "gotcha"},
		FilesModified: []string{"/src/api/auth/jwt.go"}, DiscoveryTokens: 1800, CreatedAt: at(0)})
	add("schema", "api", memory.Observation{Type: "discovery", Title: "Database schema uses WAL",
		Narrative: "SQLite runs in write-ahead logging with one writer connection.",
		Facts:     []string{"busy_timeout is ten seconds"}, Concepts: []string{"how-it-works"},
		FilesRead: []string{"/src/api/store/store.go"}, DiscoveryTokens: 900, CreatedAt: at(90)})
	add("css", "web", memory.Observation{Type: "change", Title: "Dark theme colours",
		Narrative: "The palette moved to CSS variables so the theme switch is instant.",
		Facts:     []string{"Variables live in theme.css"}, Concepts: []string{"what-changed"},
		FilesModified: []string{"web/theme.css"}, DiscoveryTokens: 300, CreatedAt: at(24 * 60)})
	add("decision", "web", memory.Observation{Type: "decision", Title: "Keep server rendering",
		Narrative: "Client rendering would double the bundle; the token budget of the page matters more.",
		Concepts:  []string{"trade-off"}, CreatedAt: at(24*60 + 30)})
	add("secret", "acme", memory.Observation{Type: "feature", Title: "Acme JWT authentication secret",
		Narrative: "Another team's token work that must never show up for the local team.",
		Facts:     []string{"Token lifetime is fifteen minutes"}, Concepts: []string{"how-it-works"},
		FilesModified: []string{"/src/api/auth/jwt.go"}, CreatedAt: at(5)})
	f.sums["api"] = env.Summary(t, f.sess["api"], memory.Summary{Request: "Add token authentication to the API",
		Investigated: "How the middleware reads headers", Learned: "Clock skew was applied twice",
		Completed: "JWT login and expiry fix", NextSteps: "Rotate refresh cookies",
		FilesRead: []string{"/src/api/auth/middleware.go"}, FilesEdited: []string{"/src/api/auth/jwt.go"}, CreatedAt: at(100)})
	f.sums["acme"] = env.Summary(t, f.sess["acme"], memory.Summary{Request: "Acme token authentication", CreatedAt: at(10)})
	f.prompts["api1"] = env.Prompt(t, f.sess["api"], 1, "please add token authentication with refresh cookies", at(-1))
	f.prompts["web1"] = env.Prompt(t, f.sess["web"], 1, "switch the theme to dark colours", at(24*60-1))
	f.prompts["private"] = env.Prompt(t, f.sess["web"], 2, "", at(24*60+1))
	f.prompts["acme1"] = env.Prompt(t, f.sess["acme"], 1, "acme token authentication please", at(4))
	return f
}

func (f *fixture) search(t testing.TB, req search.Request) search.Result {
	t.Helper()
	if req.TeamID == "" {
		req.TeamID = memory.LocalTeam
	}
	res, err := search.Search(context.Background(), f.env.Reader(), req)
	if err != nil {
		t.Fatalf("search %+v: %v", req, err)
	}
	return res
}

type hitKey struct {
	kind search.Kind
	id   int64
}

func keys(res search.Result) []hitKey {
	var out []hitKey
	for _, h := range res.Hits {
		out = append(out, hitKey{h.Kind, h.ID})
	}
	return out
}

func (f *fixture) o(name string) hitKey { return hitKey{search.KindObservation, f.obs[name]} }
func (f *fixture) s(name string) hitKey { return hitKey{search.KindSummary, f.sums[name]} }
func (f *fixture) p(name string) hitKey { return hitKey{search.KindPrompt, f.prompts[name]} }

func sameSet(a, b []hitKey) bool {
	less := func(x, y hitKey) int {
		if c := strings.Compare(string(x.kind), string(y.kind)); c != 0 {
			return c
		}
		return int(x.id - y.id)
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, less)
	slices.SortFunc(b, less)
	return slices.Equal(a, b)
}

func TestSearchFindsWordsOfEveryField(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for name, tc := range map[string]struct {
		query string
		want  hitKey
	}{
		"title":     {"schema", f.o("schema")},
		"subtitle":  {"ed25519", f.o("jwt")},
		"narrative": {"middleware verifies", f.o("jwt")},
		"facts":     {"rotating cookie", f.o("jwt")},
		"fact only": {"tolerance", f.o("expiry")},
		"concept":   {"gotcha", f.o("expiry")},
		"case":      {"SQLITE WRITE-AHEAD", f.o("schema")},
		"summary":   {"headers", f.s("api")},
		"prompt":    {"dark colours", f.p("web1")},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := f.search(t, search.Request{Query: tc.query})
			if !slices.Contains(keys(res), tc.want) {
				t.Errorf("query %q: got %v, want it to contain %v", tc.query, keys(res), tc.want)
			}
			if res.Match != search.MatchAll {
				t.Errorf("query %q: match %q, want all", tc.query, res.Match)
			}
		})
	}
}

func TestSearchAllTermsThenAnyTerm(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// Both words are in one observation only: AND finds just it.
	res := f.search(t, search.Request{Query: "clock skew", Kinds: []search.Kind{search.KindObservation}})
	if !sameSet(keys(res), []hitKey{f.o("expiry")}) || res.Match != search.MatchAll {
		t.Errorf("clock skew: %v %s", keys(res), res.Match)
	}
	// No row has both: every row with either word, best first.
	res = f.search(t, search.Request{Query: "palette ed25519", Kinds: []search.Kind{search.KindObservation}})
	if !sameSet(keys(res), []hitKey{f.o("css"), f.o("jwt")}) || res.Match != search.MatchAny {
		t.Errorf("palette ed25519: %v %s", keys(res), res.Match)
	}
	// Not a phrase: the words need not be adjacent or in order.
	res = f.search(t, search.Request{Query: "verifies login", Kinds: []search.Kind{search.KindObservation}})
	if !sameSet(keys(res), []hitKey{f.o("jwt")}) || res.Match != search.MatchAll {
		t.Errorf("verifies login: %v %s", keys(res), res.Match)
	}
	// A later page past the end of an AND result stays empty.
	res = f.search(t, search.Request{Query: "clock skew", Offset: 5})
	if len(res.Hits) != 0 || res.Match != search.MatchAll {
		t.Errorf("offset past the end: %v %s", keys(res), res.Match)
	}
}

func TestSearchRanksTitleMatchesFirst(t *testing.T) {
	t.Parallel()
	f := setup(t)
	res := f.search(t, search.Request{Query: "schema", Kinds: []search.Kind{search.KindObservation}})
	if len(res.Hits) == 0 || res.Hits[0].ID != f.obs["schema"] || res.Hits[0].Score >= 0 {
		t.Fatalf("schema: %+v", res.Hits)
	}
	res = f.search(t, search.Request{Query: "token"})
	for i := 1; i < len(res.Hits); i++ {
		if res.Hits[i].Score < res.Hits[i-1].Score {
			t.Errorf("hits not ordered by score: %v then %v", res.Hits[i-1].Score, res.Hits[i].Score)
		}
	}
	kinds := map[search.Kind]bool{}
	for _, h := range res.Hits {
		kinds[h.Kind] = true
	}
	if len(kinds) != 3 {
		t.Errorf("token: want hits of all three kinds merged, got %v", keys(res))
	}
}

func TestSearchFilters(t *testing.T) {
	t.Parallel()
	f := setup(t)
	day := base.Add(24 * time.Hour)
	apiProject := f.sess["api"].ProjectID
	for name, tc := range map[string]struct {
		req  search.Request
		want []hitKey
	}{
		"team isolation":  {search.Request{Query: "fifteen minutes"}, []hitKey{f.o("jwt")}},
		"other team":      {search.Request{TeamID: "acme", Query: "token"}, []hitKey{f.o("secret"), f.s("acme"), f.p("acme1")}},
		"unknown team":    {search.Request{TeamID: "nobody", Query: "token"}, nil},
		"project":         {search.Request{Query: "token", Projects: []string{"web"}}, []hitKey{f.o("decision")}},
		"project ids":     {search.Request{Query: "token", ProjectIDs: []int64{apiProject}}, []hitKey{f.o("jwt"), f.o("expiry"), f.s("api"), f.p("api1")}},
		"platform":        {search.Request{Query: "token", PlatformSource: "codex"}, []hitKey{f.o("decision")}},
		"type":            {search.Request{Query: "token", Types: []string{"bugfix", "decision"}}, []hitKey{f.o("expiry"), f.o("decision")}},
		"concept":         {search.Request{Query: "token", Concepts: []string{"gotcha"}}, []hitKey{f.o("expiry")}},
		"concept exact":   {search.Request{Query: "token", Concepts: []string{"gotch"}}, nil},
		"file modified":   {search.Request{Query: "token", Files: []string{"auth/jwt"}}, []hitKey{f.o("jwt"), f.o("expiry"), f.s("api")}},
		"file read":       {search.Request{Query: "token", Files: []string{"MIDDLEWARE.go"}}, []hitKey{f.o("jwt"), f.s("api")}},
		"file wildcards":  {search.Request{Query: "token", Files: []string{"%"}}, nil},
		"date start":      {search.Request{Query: "token", DateStart: day}, []hitKey{f.o("decision")}},
		"date end":        {search.Request{Query: "token", DateEnd: base}, []hitKey{f.o("jwt"), f.o("expiry"), f.p("api1")}},
		"date range":      {search.Request{Query: "token", DateStart: base.Add(time.Minute), DateEnd: day}, []hitKey{f.s("api")}},
		"kinds":           {search.Request{Query: "token", Kinds: []search.Kind{search.KindSummary, search.KindPrompt}}, []hitKey{f.s("api"), f.p("api1")}},
		"filter only":     {search.Request{Projects: []string{"web"}}, []hitKey{f.o("decision"), f.o("css"), f.p("web1")}},
		"filter only ops": {search.Request{Query: `"" () * AND`, Types: []string{"change"}}, []hitKey{f.o("css")}},
		"no filter":       {search.Request{}, nil},
		"only operators":  {search.Request{Query: "AND OR NOT NEAR ( ) * ^ -"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := f.search(t, tc.req)
			if !sameSet(keys(res), tc.want) {
				t.Errorf("got %v, want %v", keys(res), tc.want)
			}
		})
	}
}

func TestSearchMatchKinds(t *testing.T) {
	t.Parallel()
	f := setup(t)
	if res := f.search(t, search.Request{}); res.Match != search.MatchNone || len(res.Hits) != 0 {
		t.Errorf("empty request: %s %v", res.Match, keys(res))
	}
	res := f.search(t, search.Request{Projects: []string{"api"}})
	if res.Match != search.MatchFilter || res.Order != search.OrderDateDesc {
		t.Errorf("filter only: %s %s", res.Match, res.Order)
	}
	for i := 1; i < len(res.Hits); i++ {
		if res.Hits[i].CreatedAt.After(res.Hits[i-1].CreatedAt) {
			t.Errorf("filter only not newest first: %v", keys(res))
		}
	}
	if _, err := search.Search(context.Background(), f.env.Reader(), search.Request{Query: "token"}); !errors.Is(err, search.ErrNoTeam) {
		t.Errorf("no team: err = %v", err)
	}
}

func TestSearchOrderAndPaging(t *testing.T) {
	t.Parallel()
	f := setup(t)
	all := f.search(t, search.Request{Query: "token", OrderBy: search.OrderDateAsc})
	for i := 1; i < len(all.Hits); i++ {
		if all.Hits[i].CreatedAt.Before(all.Hits[i-1].CreatedAt) {
			t.Errorf("date_asc out of order: %v", keys(all))
		}
	}
	desc := f.search(t, search.Request{Query: "token", OrderBy: search.OrderDateDesc})
	if len(desc.Hits) != len(all.Hits) || desc.Hits[0].ID != all.Hits[len(all.Hits)-1].ID {
		t.Errorf("date_desc is not date_asc reversed: %v vs %v", keys(desc), keys(all))
	}
	var paged []hitKey
	for off := 0; off < len(all.Hits)+2; off += 2 {
		paged = append(paged, keys(f.search(t, search.Request{Query: "token", OrderBy: search.OrderDateAsc, Limit: 2, Offset: off}))...)
	}
	if !slices.Equal(paged, keys(all)) {
		t.Errorf("pages %v, want %v", paged, keys(all))
	}
	if res := f.search(t, search.Request{Query: "token", Limit: 1000}); len(res.Hits) != len(all.Hits) {
		t.Errorf("limit above the maximum: %d hits", len(res.Hits))
	}
}

func TestSearchToleratesMalformedLists(t *testing.T) {
	t.Parallel()
	f := setup(t)
	id := f.env.Observation(t, f.sess["api"], memory.Observation{Type: "discovery", Title: "Legacy import row", CreatedAt: base})
	err := f.env.Store.Tx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE observations SET files_read = 'src/legacy/plain.go', concepts = '{not json', facts = 'x' WHERE id = ?`, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, req := range map[string]search.Request{
		"files":    {Query: "legacy", Files: []string{"legacy/plain"}},
		"concepts": {Query: "legacy", Concepts: []string{"gotcha"}},
		"both":     {Files: []string{"plain.go"}, Concepts: []string{"{not json"}},
	} {
		res := f.search(t, req)
		found := slices.Contains(keys(res), hitKey{search.KindObservation, id})
		if want := name != "concepts"; found != want {
			t.Errorf("%s: found %v, want %v (%v)", name, found, want, keys(res))
		}
	}
}

func TestSearchHydratesRows(t *testing.T) {
	t.Parallel()
	f := setup(t)
	res := f.search(t, search.Request{Query: "rotating cookie"})
	var got []string
	for _, h := range res.Hits {
		switch h.Kind {
		case search.KindObservation:
			got = append(got, "o:"+h.Observation.Title)
			if h.Observation.TeamID != memory.LocalTeam || len(h.Observation.Facts) != 2 || h.Observation.Project != "api" {
				t.Errorf("observation row %+v", h.Observation)
			}
		case search.KindSummary:
			got = append(got, "s:"+h.Summary.Request)
		case search.KindPrompt:
			got = append(got, "p:"+h.Prompt.Text)
			if h.Prompt.Project != "api" || h.Prompt.PlatformSource != "claude" {
				t.Errorf("prompt row %+v", h.Prompt)
			}
		}
	}
	slices.Sort(got)
	want := []string{"o:Added JWT authentication"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if obs := res.Observations(); len(obs) != 1 || len(res.Summaries()) != 0 || len(res.Prompts()) != 0 {
		t.Errorf("accessors: %d obs", len(obs))
	}
}
