package contextpack_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/contextpack"
	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/search"
	"github.com/claude-mem/claude-mem-server/host/search/searchtest"
)

func golden(t *testing.T, name, got string) {
	t.Helper()
	hosttest.Golden(t, filepath.Join("testdata", name), got)
}

var (
	day1 = time.Date(2026, 3, 9, 14, 5, 0, 0, time.UTC)
	now  = time.Date(2026, 3, 12, 9, 30, 0, 0, time.UTC)
)

type fixture struct {
	env *searchtest.Env
}

// setup stores three days of work on project "api" (two sessions, each
// with a summary), one observation on "web", and another team's work.
func setup(t testing.TB) *fixture {
	t.Helper()
	env := searchtest.New(t)
	env.Team(t, "acme")
	s1 := env.Session(t, memory.LocalTeam, "api", "claude", "s1", day1)
	s2 := env.Session(t, memory.LocalTeam, "api", "claude", "s2", day1.Add(24*time.Hour))
	web := env.Session(t, memory.LocalTeam, "web", "claude", "w1", day1)
	acme := env.Session(t, "acme", "api", "claude", "a1", day1)
	at := func(d time.Duration) time.Time { return day1.Add(d) }
	env.Prompt(t, s1, 1, "add token authentication", at(0))
	env.Observation(t, s1, memory.Observation{Type: "discovery", Title: "Middleware reads the Authorization header",
		Narrative: "Requests pass through auth.Middleware, which parses the bearer token.", Facts: []string{"Header name is Authorization"},
		Concepts: []string{"how-it-works"}, FilesRead: []string{"/src/api/auth/middleware.go"}, DiscoveryTokens: 3100, CreatedAt: at(time.Minute)})
	env.Observation(t, s1, memory.Observation{Type: "feature", Title: "Added JWT authentication", Subtitle: "ed25519 signed",
		Narrative: "The login handler issues a signed token that expires after fifteen minutes.", Facts: []string{"Lifetime is fifteen minutes"},
		Concepts: []string{"what-changed"}, FilesModified: []string{"/src/api/auth/jwt.go"}, DiscoveryTokens: 5200, CreatedAt: at(time.Minute)})
	env.Observation(t, s1, memory.Observation{Type: "bugfix", Title: "Fixed token expiry check",
		Narrative: "Expired tokens were accepted because clock skew was added twice.", Facts: []string{"Skew tolerance is thirty seconds"},
		Concepts: []string{"problem-solution"}, FilesModified: []string{"/src/api/auth/jwt.go"}, DiscoveryTokens: 2400, CreatedAt: at(40 * time.Minute)})
	env.Summary(t, s1, memory.Summary{Request: "Add token authentication", Investigated: "How requests are authenticated",
		Learned: "Clock skew was applied twice", Completed: "JWT login and the expiry fix", NextSteps: "Rotate refresh tokens",
		CreatedAt: at(50 * time.Minute)})
	env.Prompt(t, s2, 1, "rotate the refresh tokens", at(24*time.Hour))
	env.Observation(t, s2, memory.Observation{Type: "feature", Title: "Refresh tokens rotate on use",
		Narrative: "Each refresh returns a new cookie and revokes the old one.", Facts: []string{"Revoked tokens live in refresh_tokens"},
		Concepts: []string{"what-changed"}, FilesModified: []string{"/src/api/auth/refresh.go"}, DiscoveryTokens: 6100, CreatedAt: at(24*time.Hour + 10*time.Minute)})
	env.Observation(t, s2, memory.Observation{Type: "decision", Title: "Keep refresh tokens in SQLite",
		Narrative: "A separate store is not worth it at this scale.", Concepts: []string{"trade-off"},
		DiscoveryTokens: 1500, CreatedAt: at(48*time.Hour + 3*time.Hour)})
	env.Summary(t, s2, memory.Summary{Request: "Rotate refresh tokens", Investigated: "Where refresh cookies are issued",
		Learned: "Cookies were never revoked", Completed: "Rotation with revocation", NextSteps: "Expire the revocation list",
		CreatedAt: at(48*time.Hour + 4*time.Hour)})
	env.Observation(t, web, memory.Observation{Type: "change", Title: "Dark theme colours", Narrative: "Palette moved to CSS variables.",
		Concepts: []string{"what-changed"}, FilesModified: []string{"web/theme.css"}, DiscoveryTokens: 800, CreatedAt: at(2 * time.Hour)})
	env.Observation(t, acme, memory.Observation{Type: "feature", Title: "Acme secret token work", Narrative: "Never shown to the local team.",
		Concepts: []string{"what-changed"}, DiscoveryTokens: 9999, CreatedAt: at(3 * time.Hour)})
	return &fixture{env: env}
}

func (f *fixture) build(t testing.TB, req contextpack.Request) contextpack.Pack {
	t.Helper()
	if req.TeamID == "" {
		req.TeamID = memory.LocalTeam
	}
	req.Now = func() time.Time { return now }
	req.Location = time.UTC
	p, err := contextpack.Build(context.Background(), f.env.Reader(), req)
	if err != nil {
		t.Fatalf("build %+v: %v", req, err)
	}
	if p.Tokens != search.EstimateTokens(p.Text) {
		t.Errorf("Tokens = %d, text has %d", p.Tokens, search.EstimateTokens(p.Text))
	}
	if req.MaxTokens > 0 && p.Tokens > req.MaxTokens {
		t.Errorf("budget %d exceeded: %d tokens", req.MaxTokens, p.Tokens)
	}
	return p
}

func TestGolden(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for name, req := range map[string]contextpack.Request{
		"empty":            {Projects: []string{"nothing-here"}},
		"one_day":          {Projects: []string{"web"}},
		"several_days":     {Projects: []string{"api"}},
		"full_count":       {Projects: []string{"api"}, FullCount: 2},
		"budget_truncated": {Projects: []string{"api"}, MaxTokens: 220},
		"budget_header":    {Projects: []string{"api"}, MaxTokens: 30},
		"relevance":        {Projects: []string{"api"}, Prompt: "why was the token expiry check wrong?"},
		"relevance_budget": {Projects: []string{"api"}, Prompt: "refresh token cookies", MaxTokens: 90},
		"relevance_none":   {Projects: []string{"api"}, Prompt: "kubernetes helm chart"},
		"other_team":       {TeamID: "acme", Projects: []string{"api"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			golden(t, name+".golden", f.build(t, req).Text)
		})
	}
}

func TestPackContents(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.build(t, contextpack.Request{Projects: []string{"api"}})
	if p.Mode != contextpack.ModeSessionStart || p.Truncated || p.Empty || len(p.Observations) != 5 || len(p.Summaries) != 2 {
		t.Errorf("api pack: %+v", p)
	}
	if strings.Contains(p.Text, "Acme") || strings.Contains(p.Text, "Dark theme") {
		t.Errorf("api pack shows another team's or project's work:\n%s", p.Text)
	}
	// Oldest first.
	if !slices.IsSorted(p.Observations) {
		t.Errorf("observations %v", p.Observations)
	}
	both := f.build(t, contextpack.Request{Projects: []string{"web", "api"}})
	if len(both.Observations) != 6 || !strings.HasPrefix(both.Text, "# [api] recent context, 2026-03-12 9:30am UTC") {
		t.Errorf("two projects: %v\n%s", both.Observations, both.Text)
	}
	few := f.build(t, contextpack.Request{Projects: []string{"api"}, MaxObservations: 2, MaxSummaries: 1})
	if len(few.Observations) != 2 || len(few.Summaries) != 1 || few.Truncated {
		t.Errorf("counts: %+v", few)
	}
	typed := f.build(t, contextpack.Request{Projects: []string{"api"}, Types: []string{"bugfix"}, Concepts: search.CodeConcepts})
	if len(typed.Observations) != 1 {
		t.Errorf("types: %v", typed.Observations)
	}
	nohint := f.build(t, contextpack.Request{Projects: []string{"api"}, HideLastSummary: true})
	if strings.Contains(nohint.Text, "**Learned**") {
		t.Errorf("HideLastSummary shows the summary")
	}
	rel := f.build(t, contextpack.Request{Projects: []string{"api"}, Prompt: "clock skew expiry"})
	if rel.Mode != contextpack.ModeRelevance || len(rel.Observations) == 0 || !strings.HasPrefix(rel.Text, contextpack.RelevantHeading) {
		t.Errorf("relevance: %+v", rel)
	}
	for _, prompt := range []string{`"" AND ( *`, "kubernetes"} {
		if p := f.build(t, contextpack.Request{Projects: []string{"api"}, Prompt: prompt}); p.Text != "" || !p.Empty {
			t.Errorf("prompt %q: %+v", prompt, p)
		}
	}
	if _, err := contextpack.Build(context.Background(), f.env.Reader(), contextpack.Request{}); !errors.Is(err, contextpack.ErrNoTeam) {
		t.Errorf("no team: %v", err)
	}
}

// TestBudgetNeverExceeded builds packs of random memories with random
// budgets, in both modes: the text never exceeds the budget, and a budget
// that holds the whole pack changes nothing.
func TestBudgetNeverExceeded(t *testing.T) {
	t.Parallel()
	env := searchtest.New(t)
	r := rand.New(rand.NewPCG(7, 11))
	words := []string{"token", "expiry", "clock", "skew", "refresh", "cookie", "handler", "schema", "naïve", "日本語", "🔥", "café", "x",
		"middleware", "a-much-longer-identifier_with_parts", "é"}
	text := func(lo, hi int) string {
		n := lo + r.IntN(hi-lo+1)
		w := make([]string, n)
		for i := range w {
			w[i] = words[r.IntN(len(words))]
		}
		return strings.Join(w, " ")
	}
	var projects []string
	for c := range 6 {
		project := fmt.Sprintf("p%d", c)
		projects = append(projects, project)
		start := now.Add(-time.Duration(r.IntN(20)+1) * 24 * time.Hour)
		for s := range r.IntN(4) {
			sess := env.Session(t, memory.LocalTeam, project, "claude", fmt.Sprintf("%s-%d", project, s), start)
			for range r.IntN(15) {
				start = start.Add(time.Duration(r.IntN(600)) * time.Minute)
				facts := make([]string, r.IntN(4))
				for i := range facts {
					facts[i] = text(1, 12)
				}
				env.Observation(t, sess, memory.Observation{Type: search.CodeTypes[r.IntN(len(search.CodeTypes))], Title: text(0, 12),
					Narrative: text(0, 80), Facts: facts, Concepts: []string{search.CodeConcepts[r.IntN(7)]},
					DiscoveryTokens: int64(r.IntN(9000)), CreatedAt: start})
			}
			if r.IntN(3) > 0 {
				start = start.Add(time.Duration(r.IntN(90)) * time.Minute)
				env.Summary(t, sess, memory.Summary{Request: text(0, 15), Investigated: text(0, 30), Learned: text(0, 30),
					Completed: text(0, 30), NextSteps: text(0, 20), CreatedAt: start})
			}
		}
	}
	f := &fixture{env: env}
	for i := range 40 {
		req := contextpack.Request{Projects: []string{projects[r.IntN(len(projects))]}, FullCount: r.IntN(3)}
		switch r.IntN(4) {
		case 0:
			req.MaxTokens = r.IntN(60)
		case 1:
			req.MaxTokens = r.IntN(400)
		default:
			req.MaxTokens = r.IntN(3000)
		}
		if i%3 == 0 {
			req.Prompt = text(1, 8)
		}
		p := f.build(t, req) // checks the budget
		// A budget that holds the whole pack changes nothing.
		all := req
		all.MaxTokens = 0
		full := f.build(t, all)
		all.MaxTokens = full.Tokens + r.IntN(50)
		if roomy := f.build(t, all); roomy.Text != full.Text || roomy.Truncated {
			t.Errorf("budget %d (pack of %d tokens) changed the pack", all.MaxTokens, full.Tokens)
		}
		if req.MaxTokens >= full.Tokens && p.Text != full.Text {
			t.Errorf("budget %d holds the pack of %d tokens, yet it changed", req.MaxTokens, full.Tokens)
		}
		for _, id := range p.Observations {
			if !strings.Contains(p.Text, strconv.FormatInt(id, 10)) {
				t.Errorf("observation %d listed but not shown", id)
			}
		}
	}
}
