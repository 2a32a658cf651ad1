package searchtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/store"
)

// words is the corpus vocabulary: the 3,000 most frequent words of the
// comments in Go's standard library, most frequent first. Text drawn from it
// with a Zipf distribution reads like (shuffled) programming prose: common
// English words, then the vocabulary of code.
//
//go:embed words.txt
var wordsFile string

// Words is the vocabulary, most frequent first.
var Words = strings.Fields(wordsFile)

// The code mode's observation types and concepts, with the share of
// generated observations of each type.
var (
	typeWeights = []struct {
		Type   string
		Weight int
	}{{"discovery", 35}, {"change", 25}, {"feature", 12}, {"bugfix", 12}, {"refactor", 8}, {"decision", 6},
		{"security_note", 1}, {"security_alert", 1}}
	Concepts  = []string{"how-it-works", "why-it-exists", "what-changed", "problem-solution", "gotcha", "pattern", "trade-off"}
	platforms = []string{"claude", "claude", "claude", "claude", "claude", "claude", "claude", "claude", "codex", "cursor"}
	exts      = []string{".go", ".go", ".go", ".ts", ".md", ".sql", ".py", ".yaml"}
)

// Corpus describes a generated memory: sessions of projects of two teams,
// with observations, user prompts and one summary per session, spread
// evenly over a year. The same Corpus always generates the same rows.
type Corpus struct {
	// Observations is the number of observations.
	Observations int
	// Seed seeds the generator; 0 is 1.
	Seed uint64
	// Projects is the number of projects (default 20); their sizes follow
	// a Zipf distribution. The last tenth (at least one) belong to team
	// OtherTeam, the rest to memory.LocalTeam.
	Projects int
	// PerSession is the number of observations per session (default 25).
	PerSession int
	// Start is the time of the first row (default 2025-01-01 UTC); rows
	// are spread over Span (default 365 days).
	Start time.Time
	Span  time.Duration
}

// OtherTeam owns a tenth of a generated corpus's projects.
const OtherTeam = "acme"

// ProjectName is the name of generated project i.
func ProjectName(i int) string { return fmt.Sprintf("proj-%02d", i) }

func (c *Corpus) defaults() {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Projects <= 0 {
		c.Projects = 20
	}
	if c.PerSession <= 0 {
		c.PerSession = 25
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if c.Span <= 0 {
		c.Span = 365 * 24 * time.Hour
	}
}

// Team is the team of generated project i.
func (c Corpus) Team(i int) string {
	c.defaults()
	if i >= c.Projects-max(1, c.Projects/10) {
		return OtherTeam
	}
	return memory.LocalTeam
}

// gen draws text from the vocabulary.
type gen struct {
	r    *rand.Rand
	zipf *rand.Zipf
}

func newGen(seed uint64) *gen {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return &gen{r: r, zipf: rand.NewZipf(r, 1.1, 2, uint64(len(Words)-1))}
}

func (g *gen) word() string { return Words[g.zipf.Uint64()] }

func (g *gen) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

func (g *gen) words(n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = g.word()
	}
	return strings.Join(w, " ")
}

func (g *gen) sentence(lo, hi int) string {
	s := g.words(g.between(lo, hi))
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *gen) obsType() string {
	n := g.r.IntN(100)
	for _, t := range typeWeights {
		if n < t.Weight {
			return t.Type
		}
		n -= t.Weight
	}
	return "discovery"
}

// files are a project's source files.
func (g *gen) files(n int) []string {
	dirs := []string{"host", "cmd", "internal", "pkg", "sdk", "plugins", "docs", "web", "api", "scripts"}
	out := make([]string, n)
	for i := range out {
		out[i] = g.pick(dirs) + "/" + g.word() + "/" + g.word() + g.pick(exts)
	}
	return out
}

// Build inserts the corpus into a migrated store, in one transaction with
// prepared statements.
func (c Corpus) Build(ctx context.Context, st *store.Store) error {
	c.defaults()
	g := newGen(c.Seed)
	return st.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO teams (id, name, slug, created_at_epoch, updated_at_epoch)
			VALUES (?, ?, ?, 0, 0) ON CONFLICT DO NOTHING`, OtherTeam, OtherTeam, OtherTeam); err != nil {
			return err
		}
		type project struct {
			id    int64
			name  string
			team  string
			files []string
		}
		projects := make([]project, c.Projects)
		for i := range projects {
			p := project{name: ProjectName(i), team: c.Team(i), files: g.files(150)}
			id, err := memory.EnsureProject(ctx, tx, p.team, p.name, "/src/"+p.name, c.Start)
			if err != nil {
				return err
			}
			p.id = id
			projects[i] = p
		}
		projectZipf := rand.NewZipf(g.r, 1.2, 1, uint64(c.Projects-1))
		fileZipf := rand.NewZipf(g.r, 1.1, 1, 149)

		sessStmt, err := tx.PrepareContext(ctx, `INSERT INTO sdk_sessions (content_session_id, memory_session_id, project,
			platform_source, user_prompt, started_at, started_at_epoch, completed_at, completed_at_epoch, status, prompt_counter,
			team_id, project_id, current_prompt_number, cwd, updated_at_epoch)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'completed', ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer sessStmt.Close()
		obsStmt, err := tx.PrepareContext(ctx, `INSERT INTO observations (memory_session_id, project, type, title, subtitle,
			facts, narrative, concepts, files_read, files_modified, prompt_number, discovery_tokens, content_hash,
			generated_by_model, created_at, created_at_epoch, team_id, project_id, session_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'bench', ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer obsStmt.Close()
		promptStmt, err := tx.PrepareContext(ctx, `INSERT INTO user_prompts (session_db_id, content_session_id, prompt_number,
			prompt_text, created_at, created_at_epoch) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer promptStmt.Close()
		sumStmt, err := tx.PrepareContext(ctx, `INSERT INTO session_summaries (memory_session_id, project, request,
			investigated, learned, completed, next_steps, files_read, files_edited, notes, prompt_number, discovery_tokens,
			created_at, created_at_epoch, team_id, project_id, session_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer sumStmt.Close()

		step := c.Span / time.Duration(c.Observations+1)
		at := func(i int) time.Time { return c.Start.Add(step * time.Duration(i)).Truncate(time.Millisecond) }
		for first, n := 0, 0; first < c.Observations; first, n = first+c.PerSession, n+1 {
			count := min(c.PerSession, c.Observations-first)
			p := projects[projectZipf.Uint64()]
			platform := g.pick(platforms)
			content := fmt.Sprintf("bench-%d", n)
			mem := memory.MemorySessionID(p.team, platform, content)
			start, end := at(first), at(first+count)
			prompts := max(1, count/5)
			request := g.sentence(6, 14)
			res, err := sessStmt.ExecContext(ctx, content, mem, p.name, platform, request, memory.ISO(start), start.UnixMilli(),
				memory.ISO(end), end.UnixMilli(), prompts, p.team, p.id, prompts, "/src/"+p.name, end.UnixMilli())
			if err != nil {
				return fmt.Errorf("session: %w", err)
			}
			sid, _ := res.LastInsertId()
			for k := range prompts {
				t := at(first + k*count/prompts)
				text := request
				if k > 0 {
					text = g.sentence(6, 20)
				}
				if _, err := promptStmt.ExecContext(ctx, sid, content, k+1, text, memory.ISO(t), t.UnixMilli()); err != nil {
					return fmt.Errorf("prompt: %w", err)
				}
			}
			var read, edited []string
			for i := first; i < first+count; i++ {
				t := at(i)
				title := g.sentence(3, 7)
				title = title[:len(title)-1]
				narrative := g.sentence(8, 16) + " " + g.sentence(8, 16) + " " + g.sentence(8, 16)
				facts := make([]string, g.between(2, 5))
				for j := range facts {
					facts[j] = g.sentence(5, 10)
				}
				concepts := []string{g.pick(Concepts)}
				if g.r.IntN(3) == 0 {
					concepts = append(concepts, g.pick(Concepts))
				}
				fr := make([]string, g.between(0, 2))
				for j := range fr {
					fr[j] = p.files[fileZipf.Uint64()]
				}
				fm := make([]string, g.between(0, 2))
				for j := range fm {
					fm[j] = p.files[fileZipf.Uint64()]
				}
				read, edited = append(read, fr...), append(edited, fm...)
				if _, err := obsStmt.ExecContext(ctx, mem, p.name, g.obsType(), title, g.sentence(5, 10), jsonText(facts), narrative,
					jsonText(concepts), jsonText(fr), jsonText(fm), 1+(i-first)*prompts/count, g.between(500, 8000),
					memory.ContentHash(mem, title, narrative), memory.ISO(t), t.UnixMilli(), p.team, p.id, sid); err != nil {
					return fmt.Errorf("observation: %w", err)
				}
			}
			if _, err := sumStmt.ExecContext(ctx, mem, p.name, request, g.sentence(8, 20), g.sentence(8, 20), g.sentence(8, 20),
				g.sentence(6, 14), jsonText(dedupe(read)), jsonText(dedupe(edited)), prompts, g.between(2000, 20000),
				memory.ISO(end), end.UnixMilli(), p.team, p.id, sid); err != nil {
				return fmt.Errorf("summary: %w", err)
			}
		}
		return nil
	})
}

func jsonText(list []string) string {
	if len(list) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(list)
	return string(b)
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// corpusVersion changes whenever the generator changes, so that cached
// databases built by an older generator are not reused.
const corpusVersion = 1

// build builds the corpus into a new database file at path.
func build(ctx context.Context, path string, c Corpus) error {
	st, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	// A big page cache keeps the one large transaction from spilling pages
	// into the WAL over and over, and statement journals (every insert
	// fires FTS triggers) stay in memory.
	for _, pragma := range []string{`PRAGMA cache_size = -524288`, `PRAGMA temp_store = MEMORY`} {
		if _, err := st.Writer().ExecContext(ctx, pragma); err != nil {
			return err
		}
	}
	if err := c.Build(ctx, st); err != nil {
		return err
	}
	if _, err := st.Writer().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return err
	}
	return st.Close()
}

// buildOnce makes the file at path with create (given a temporary path) unless
// it exists. Concurrent test binaries (go test runs packages in parallel)
// wait for the one that builds it, through a lock file.
func buildOnce(tb testing.TB, path string, create func(tmp string) error) error {
	tb.Helper()
	lock := path + ".lock"
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		f, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, os.ErrExist) {
			// Someone builds it; a lock older than an hour is stale.
			if fi, err := os.Stat(lock); err == nil && time.Since(fi.ModTime()) > time.Hour {
				os.Remove(lock)
			}
			time.Sleep(time.Second)
			continue
		}
		if err != nil {
			return err
		}
		f.Close()
		break
	}
	defer os.Remove(lock)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	start := time.Now()
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	defer func() {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(tmp + suffix)
		}
	}()
	if err := create(tmp); err != nil {
		return fmt.Errorf("build %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	tb.Logf("built %s in %s", filepath.Base(path), time.Since(start).Round(time.Millisecond))
	return nil
}

// Cached opens a store holding the corpus, building it on first use into a
// file in os.TempDir() named by the corpus, the generator version and the
// migrations, so that later benchmark runs reuse it. Benchmarks must not
// write to it. The store is closed by cleanup.
func Cached(tb testing.TB, c Corpus) *store.Store {
	tb.Helper()
	c.defaults()
	ctx := context.Background()
	migs, err := store.Migrations()
	if err != nil {
		tb.Fatal(err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%d %+v", corpusVersion, c)
	for _, m := range migs {
		fmt.Fprintf(h, "%d %s\x00", m.Version, m.SQL)
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("claude-mem-bench-%d-%s.db", c.Observations, hex.EncodeToString(h.Sum(nil))[:12]))
	if err := buildOnce(tb, path, func(tmp string) error { return build(ctx, tmp, c) }); err != nil {
		tb.Fatal(err)
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}
