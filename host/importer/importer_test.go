package importer_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/store/storetest"

	"github.com/claude-mem/claude-mem-server/host/importer"
	"github.com/claude-mem/claude-mem-server/host/importer/importertest"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/store"
)

type testBundle struct {
	st     *store.Store
	source string
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	dir := t.TempDir()
	st := storetest.Open(t, filepath.Join(dir, store.FileName))
	src := filepath.Join(dir, "claude-mem.db")
	importertest.Build(t, src)
	return &testBundle{st: st, source: src}
}

func (b *testBundle) run(t *testing.T, progress *bytes.Buffer) importer.Report {
	t.Helper()
	opts := importer.Options{Source: b.source, Store: b.st, BatchSize: 2, Now: func() time.Time { return time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC) }}
	if progress != nil {
		opts.Progress, opts.ProgressTTY = progress, true
	}
	rep, err := importer.Import(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func (b *testBundle) counts(t *testing.T) map[string]int64 {
	t.Helper()
	c, err := memory.Counts(context.Background(), b.st.Reader())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestImportKeepsEveryRowWithItsTimesAndProjects(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var progress bytes.Buffer
	rep := b.run(t, &progress)

	want := importer.Report{
		Source:       b.source,
		Sessions:     importer.Counts{Read: 4, Imported: 4},
		Prompts:      importer.Counts{Read: 5, Imported: 5},
		Observations: importer.Counts{Read: 6, Imported: 6},
		Summaries:    importer.Counts{Read: 3, Imported: 3},
		// shop, infra, and shop-legacy is only a merge target: not created.
		Projects:       2,
		OrphanSessions: 1, // manual-shop
	}
	if rep != want {
		t.Fatalf("report %+v\nwant   %+v", rep, want)
	}
	if got := b.counts(t); got["sdk_sessions"] != 5 || got["user_prompts"] != 5 || got["observations"] != 6 || got["session_summaries"] != 3 || got["projects"] != 2 {
		t.Fatalf("store counts %v", got)
	}
	out := progress.String()
	if !strings.Contains(out, "[##############################] 100%  18/18 rows") {
		t.Errorf("progress bar: %q", out)
	}

	ctx := context.Background()
	db := b.st.Reader()
	// Sessions: platform, project, times, status and prompt counter as they were.
	type sess struct {
		project, platform, memoryID, status, startedAt string
		started, completed                             int64
		counter                                        int
	}
	for content, w := range map[string]sess{
		"0a1b2c3d-shop-1":  {"shop", "claude", "sdk-7f3e9a", "completed", "2026-01-12T09:15:02.114Z", 1768209302114, 1768212165870, 2},
		"5e6f7a8b-infra-1": {"infra", "claude", "sdk-a41c07", "active", "2026-01-15T14:40:10.002Z", 1768488010002, 0, 1},
		"codex-019a-shop":  {"shop", "codex", "codex-mem-19a", "completed", "2026-01-20T08:00:00.000Z", 1768896000000, 1768897800000, 1},
		// no platform: claude's; no memory session id: a derived one.
		"f00dfeed-old": {"shop", "claude", memory.MemorySessionID(memory.LocalTeam, "claude", "f00dfeed-old"), "failed", "2025-11-02T17:00:00.000Z", 1762102800000, 0, 0},
	} {
		var g sess
		var completed sql.NullInt64
		err := db.QueryRowContext(ctx, `SELECT project, platform_source, memory_session_id, status, started_at, started_at_epoch,
			completed_at_epoch, prompt_counter FROM sdk_sessions WHERE content_session_id = ?`, content).Scan(
			&g.project, &g.platform, &g.memoryID, &g.status, &g.startedAt, &g.started, &completed, &g.counter)
		if err != nil {
			t.Fatalf("session %s: %v", content, err)
		}
		g.completed = completed.Int64
		if g != w {
			t.Errorf("session %s: %+v\nwant %+v", content, g, w)
		}
	}
	var customTitle string
	if err := db.QueryRowContext(ctx, `SELECT custom_title FROM sdk_sessions WHERE content_session_id = '5e6f7a8b-infra-1'`).Scan(&customTitle); err != nil || customTitle != "deploy timeouts" {
		t.Errorf("custom title %q %v", customTitle, err)
	}

	// Prompts, numbered and timed as they were (a time in seconds scaled).
	rows, err := db.QueryContext(ctx, `SELECT p.content_session_id, p.prompt_number, p.prompt_text, p.created_at, p.created_at_epoch
		FROM user_prompts p JOIN sdk_sessions s ON s.id = p.session_db_id ORDER BY p.created_at_epoch`)
	if err != nil {
		t.Fatal(err)
	}
	var prompts []string
	for rows.Next() {
		var content, text, at string
		var n int
		var ms int64
		if err := rows.Scan(&content, &n, &text, &at, &ms); err != nil {
			t.Fatal(err)
		}
		prompts = append(prompts, fmt.Sprintf("%s#%d %d %s %q", content, n, ms, at, text))
	}
	rows.Close()
	wantPrompts := []string{
		`f00dfeed-old#1 1762102800000 2025-11-02T17:00:00.000Z "hello"`,
		`0a1b2c3d-shop-1#1 1768209302120 2026-01-12T09:15:02.120Z "The checkout total is off by a cent; fix the rounding."`,
		`0a1b2c3d-shop-1#2 1768211310500 2026-01-12T09:48:30.500Z "Now add a regression test for the cents."`,
		`5e6f7a8b-infra-1#1 1768488010010 2026-01-15T14:40:10.010Z "Why does the deploy job time out on staging?"`,
		`codex-019a-shop#1 1768896000100 2026-01-20T08:00:00.100Z "add discount codes"`,
	}
	if strings.Join(prompts, "\n") != strings.Join(wantPrompts, "\n") {
		t.Errorf("prompts:\n%s\nwant:\n%s", strings.Join(prompts, "\n"), strings.Join(wantPrompts, "\n"))
	}

	// Observations: every column as claude-mem wrote it.
	var o struct {
		memoryID, typ, title, facts, concepts, read, modified, hash, model, createdAt string
		tokens, created, relevance                                                    int64
		sessionContent                                                                string
	}
	err = db.QueryRowContext(ctx, `SELECT o.memory_session_id, o.type, o.title, o.facts, o.concepts, o.files_read, o.files_modified,
		o.content_hash, o.generated_by_model, o.created_at, o.discovery_tokens, o.created_at_epoch, o.relevance_count, s.content_session_id
		FROM observations o JOIN sdk_sessions s ON s.id = o.session_id WHERE o.title = 'Cart totals are summed as float64'`).Scan(
		&o.memoryID, &o.typ, &o.title, &o.facts, &o.concepts, &o.read, &o.modified, &o.hash, &o.model, &o.createdAt, &o.tokens, &o.created,
		&o.relevance, &o.sessionContent)
	if err != nil {
		t.Fatal(err)
	}
	if o.memoryID != "sdk-7f3e9a" || o.typ != "discovery" || o.facts != `["Total() sums item prices as float64","10.000000001 != 10 in cart_test.go:14"]` ||
		o.concepts != `["how-it-works","problem-solution"]` || o.read != `["/home/dev/src/shop/cart/cart.go","/home/dev/src/shop/cart/cart_test.go"]` ||
		o.modified != `[]` || o.hash != "1a2b3c4d5e6f7a8b" || o.model != "claude-haiku-4-5-20251001" || o.createdAt != "2026-01-12T09:21:40.333Z" ||
		o.tokens != 1840 || o.created != 1768209700333 || o.relevance != 3 || o.sessionContent != "0a1b2c3d-shop-1" {
		t.Errorf("observation %+v", o)
	}
	var hash, agent, meta string
	if err := db.QueryRowContext(ctx, `SELECT content_hash, agent_id, metadata FROM observations WHERE title = 'Regression test for cent rounding'`).Scan(&hash, &agent, &meta); err != nil {
		t.Fatal(err)
	}
	if hash != memory.ContentHash("sdk-7f3e9a", "Regression test for cent rounding", "Added TestTotalCents covering 0.1 + 0.2 style sums.") ||
		agent != "agent-42" || meta != `{"source":"subagent"}` {
		t.Errorf("hashless observation: hash %s agent %s metadata %s", hash, agent, meta)
	}
	var orphanProject, merged, orphanSession string
	if err := db.QueryRowContext(ctx, `SELECT o.project, o.merged_into_project, s.content_session_id FROM observations o
		JOIN sdk_sessions s ON s.id = o.session_id WHERE o.memory_session_id = 'manual-shop'`).Scan(&orphanProject, &merged, &orphanSession); err != nil {
		t.Fatal(err)
	}
	if orphanProject != "shop" || merged != "shop-legacy" || orphanSession != "claude-mem-orphan-manual-shop" {
		t.Errorf("manual memory: project %s merged %s session %s", orphanProject, merged, orphanSession)
	}

	// Summaries, two for one session.
	sums, err := query(db, `SELECT m.prompt_number || ' ' || m.created_at || ' ' || COALESCE(m.completed, '-') FROM session_summaries m
		JOIN sdk_sessions s ON s.id = m.session_id WHERE s.content_session_id = '0a1b2c3d-shop-1' ORDER BY m.created_at_epoch`)
	if err != nil {
		t.Fatal(err)
	}
	if want := "1 2026-01-12T09:45:00.000Z Totals kept in integer cents; test passes\n2 2026-01-12T10:02:40.000Z TestTotalCents added"; sums != want {
		t.Errorf("summaries:\n%s", sums)
	}

	// Imported memory is searchable like recorded memory.
	hits, err := memory.SearchObservations(ctx, db, memory.LocalTeam, "probe", 5)
	if err != nil || len(hits) != 1 || hits[0].Project != "infra" {
		t.Errorf("FTS over imported observations: %v %+v", err, hits)
	}
	if n, err := count(db, `SELECT COUNT(*) FROM session_summaries_fts WHERE session_summaries_fts MATCH 'cents'`); err != nil || n != 2 {
		t.Errorf("FTS over imported summaries: %d %v", n, err)
	}
	if n, err := count(db, `SELECT COUNT(*) FROM user_prompts_fts WHERE user_prompts_fts MATCH 'deploy'`); err != nil || n != 1 {
		t.Errorf("FTS over imported prompts: %d %v", n, err)
	}
}

func TestSecondImportAddsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.run(t, nil)
	before := b.counts(t)
	second := b.run(t, nil)
	if second.Added() != 0 || second.Projects != 0 || second.OrphanSessions != 0 {
		t.Fatalf("second import added rows: %+v", second)
	}
	for name, c := range map[string][2]importer.Counts{
		"sessions": {first.Sessions, second.Sessions}, "prompts": {first.Prompts, second.Prompts},
		"observations": {first.Observations, second.Observations}, "summaries": {first.Summaries, second.Summaries},
	} {
		if c[1].Read != c[0].Read || c[1].Existing != c[0].Read {
			t.Errorf("%s: second import %+v, want every row existing", name, c[1])
		}
	}
	if after := b.counts(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("second import changed the store: %v -> %v", before, after)
	}
}

func TestImportJoinsASessionRecordedLive(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	now := time.Now()
	// This server recorded the shop session live too (both ran side by
	// side), with its own memory session id and one prompt.
	err := b.st.Tx(ctx, func(tx *sql.Tx) error {
		pid, err := memory.EnsureProject(ctx, tx, memory.LocalTeam, "shop", "/home/dev/src/shop", now)
		if err != nil {
			return err
		}
		s, _, err := memory.EnsureSession(ctx, tx, memory.NewSession{TeamID: memory.LocalTeam, ProjectID: pid, Project: "shop",
			PlatformSource: "claude", ContentSessionID: "0a1b2c3d-shop-1", StartedAt: now})
		if err != nil {
			return err
		}
		_, err = memory.InsertPrompt(ctx, tx, memory.Prompt{SessionID: s.ID, ContentSessionID: s.ContentSessionID, Number: 1, Text: "live", CreatedAt: now})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := b.run(t, nil)
	if rep.Sessions.Existing != 1 || rep.Sessions.Imported != 3 || rep.Prompts.Existing != 1 || rep.Prompts.Imported != 4 || rep.Observations.Imported != 6 {
		t.Fatalf("report %+v", rep)
	}
	live, err := memory.FindSession(ctx, b.st.Reader(), memory.LocalTeam, "claude", "0a1b2c3d-shop-1")
	if err != nil {
		t.Fatal(err)
	}
	obs, err := memory.ListObservations(ctx, b.st.Reader(), live.ID)
	if err != nil || len(obs) != 3 {
		t.Fatalf("the live session holds %d imported observations (%v), want 3", len(obs), err)
	}
	for _, o := range obs {
		if o.MemorySessionID != live.MemorySessionID {
			t.Errorf("observation %d has memory session %s, want the live session's %s", o.ID, o.MemorySessionID, live.MemorySessionID)
		}
	}
	if again := b.run(t, nil); again.Added() != 0 {
		t.Fatalf("second import added rows: %+v", again)
	}
}

func TestImportRefusesWhatIsNotClaudeMem(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := importer.Import(context.Background(), importer.Options{Source: b.st.Path() + ".missing", Store: b.st})
	if err == nil {
		t.Fatal("a missing file was imported")
	}
	other := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", "file:"+other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE notes (id INTEGER)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := importer.Import(context.Background(), importer.Options{Source: other, Store: b.st}); err == nil || !strings.Contains(err.Error(), "not a claude-mem database") {
		t.Fatalf("err = %v", err)
	}
}

func count(db *sql.DB, q string) (int64, error) {
	var n int64
	err := db.QueryRow(q).Scan(&n)
	return n, err
}

func query(db *sql.DB, q string) (string, error) {
	rows, err := db.Query(q)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return "", err
		}
		out = append(out, s)
	}
	return strings.Join(out, "\n"), rows.Err()
}
