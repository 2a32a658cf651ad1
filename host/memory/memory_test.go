package memory_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/pipeline"
	"github.com/claude-mem/claude-mem-server/host/store/storetest"

	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/store"
)

type testBundle struct {
	st   *store.Store
	sess memory.Session
	now  time.Time
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	st := storetest.New(t)
	b := &testBundle{st: st, now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	err := st.Tx(ctx, func(tx *sql.Tx) error {
		pid, err := memory.EnsureProject(ctx, tx, memory.LocalTeam, "proj", "/src/proj", b.now)
		if err != nil {
			return err
		}
		b.sess, _, err = memory.EnsureSession(ctx, tx, memory.NewSession{TeamID: memory.LocalTeam, ProjectID: pid, Project: "proj",
			PlatformSource: "claude", ContentSessionID: "s1", Cwd: "/src/proj", StartedAt: b.now})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *testBundle) tx(t *testing.T, fn func(tx *sql.Tx) error) {
	t.Helper()
	if err := b.st.Tx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func TestSessionsAndProjects(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	if b.sess.Status != memory.StatusActive || b.sess.MemorySessionID == "" || b.sess.StartedAt != b.now || b.sess.PromptCounter != 0 {
		t.Fatalf("new session %+v", b.sess)
	}
	b.tx(t, func(tx *sql.Tx) error {
		pid, err := memory.EnsureProject(ctx, tx, memory.LocalTeam, "proj", "", b.now)
		if err != nil || pid != b.sess.ProjectID {
			t.Errorf("project again: %d, %v; want %d", pid, err, b.sess.ProjectID)
		}
		again, created, err := memory.EnsureSession(ctx, tx, memory.NewSession{TeamID: memory.LocalTeam, ProjectID: pid, Project: "proj",
			PlatformSource: "claude", ContentSessionID: "s1", StartedAt: b.now.Add(time.Hour)})
		if err != nil || created || again.ID != b.sess.ID {
			t.Errorf("session again: %+v created=%v %v", again, created, err)
		}
		// Another team's session of the same ids is a session of its own,
		// with a memory session id of its own.
		if _, err := tx.Exec(`INSERT INTO teams (id, name, slug, created_at_epoch, updated_at_epoch) VALUES ('other', 'Other', 'other', 0, 0)`); err != nil {
			t.Fatal(err)
		}
		otherPID, err := memory.EnsureProject(ctx, tx, "other", "proj", "", b.now)
		if err != nil {
			t.Fatal(err)
		}
		theirs, created, err := memory.EnsureSession(ctx, tx, memory.NewSession{TeamID: "other", ProjectID: otherPID, Project: "proj",
			PlatformSource: "claude", ContentSessionID: "s1", StartedAt: b.now})
		if err != nil || !created || theirs.ID == b.sess.ID || theirs.TeamID != "other" || theirs.MemorySessionID == b.sess.MemorySessionID {
			t.Errorf("the other team's session of the same ids: %+v created=%v %v", theirs, created, err)
		}
		if mine, err := memory.FindSession(ctx, tx, memory.LocalTeam, "claude", "s1"); err != nil || mine.ID != b.sess.ID {
			t.Errorf("FindSession for the first team: %+v %v", mine, err)
		}
		other, created, err := memory.EnsureSession(ctx, tx, memory.NewSession{TeamID: memory.LocalTeam, ProjectID: pid, Project: "proj",
			PlatformSource: "codex", ContentSessionID: "s1", StartedAt: b.now})
		if err != nil || !created || other.ID == b.sess.ID {
			t.Errorf("same content id on another platform: %+v %v %v", other, created, err)
		}
		for want := 1; want <= 3; want++ {
			n, err := memory.NextPrompt(ctx, tx, b.sess.ID, "first prompt", b.now)
			if err != nil || n != want {
				t.Errorf("NextPrompt = %d, %v; want %d", n, err, want)
			}
		}
		s, err := memory.CompleteSession(ctx, tx, memory.LocalTeam, b.sess.ID, b.now.Add(time.Minute))
		if err != nil || s.Status != memory.StatusCompleted || s.UserPrompt != "first prompt" || s.PromptCounter != 3 || s.CompletedAt.IsZero() {
			t.Errorf("completed session %+v %v", s, err)
		}
		if _, err := memory.GetSession(ctx, tx, "other", b.sess.ID); !errors.Is(err, memory.ErrNotFound) {
			t.Errorf("another team's session: err = %v", err)
		}
		return nil
	})
	var startedAt string
	if err := b.st.Reader().QueryRowContext(ctx, `SELECT started_at FROM sdk_sessions WHERE id = ?`, b.sess.ID).Scan(&startedAt); err != nil || startedAt != "2026-05-01T12:00:00.000Z" {
		t.Errorf("started_at = %q, %v; want claude-mem's ISO format", startedAt, err)
	}
}

func TestPromptsAndPrivacy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.tx(t, func(tx *sql.Tx) error {
		for i, text := range []string{"fix the flaky migration test", ""} {
			if _, err := memory.InsertPrompt(ctx, tx, memory.Prompt{SessionID: b.sess.ID, ContentSessionID: "s1", Number: i + 1,
				Text: text, Private: text == "", CreatedAt: b.now}); err != nil {
				return err
			}
		}
		return nil
	})
	r := b.st.Reader()
	if p, _ := memory.TurnPrivate(ctx, r, b.sess.ID, 1); p {
		t.Error("turn 1 is private")
	}
	if p, _ := memory.TurnPrivate(ctx, r, b.sess.ID, 2); !p {
		t.Error("turn 2 is not private")
	}
	if p, err := memory.TurnPrivate(ctx, r, b.sess.ID, 7); p || err != nil {
		t.Errorf("an unknown turn: %v %v", p, err)
	}
	var n int
	if err := r.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_prompts_fts WHERE user_prompts_fts MATCH 'flaky'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("prompt FTS hits %d, %v", n, err)
	}
	err := b.st.Tx(ctx, func(tx *sql.Tx) error {
		_, err := memory.InsertPrompt(ctx, tx, memory.Prompt{SessionID: b.sess.ID, ContentSessionID: "s1", Number: 1, Text: "dup", CreatedAt: b.now})
		return err
	})
	if err == nil {
		t.Error("a second prompt 1 was stored")
	}
	long := make([]rune, memory.MaxPromptChars+10)
	for i := range long {
		long[i] = 'é'
	}
	if got := memory.Truncate(string(long), memory.MaxPromptChars); len([]rune(got)) != memory.MaxPromptChars {
		t.Errorf("Truncate kept %d runes", len([]rune(got)))
	}
}

func insertEvent(t *testing.T, b *testBundle, key, typ, job string, prompt int) memory.Event {
	t.Helper()
	e := memory.Event{IdempotencyKey: key, TeamID: memory.LocalTeam, ProjectID: b.sess.ProjectID, SessionID: b.sess.ID,
		SourceAdapter: "api", Type: typ, PlatformSource: "claude", ToolName: "Read", PromptNumber: prompt,
		Payload: json.RawMessage(`{"type":"` + typ + `"}`), OccurredAt: b.now, ReceivedAt: b.now, JobID: job}
	b.tx(t, func(tx *sql.Tx) error { return memory.InsertEvent(context.Background(), tx, &e) })
	return e
}

func TestEventsAndBatches(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	var evs []memory.Event
	for i, key := range []string{"k1", "k2", "k3", "k4"} {
		job := "job" + key
		if i == 2 {
			job = "" // stored with generate=false: never batched
		}
		evs = append(evs, insertEvent(t, b, key, memory.EventToolUse, job, 1))
	}
	insertEvent(t, b, "k5", memory.EventUserPrompt, "", 1)
	err := b.st.Tx(ctx, func(tx *sql.Tx) error {
		e := memory.Event{IdempotencyKey: "k1", TeamID: memory.LocalTeam, ProjectID: b.sess.ProjectID, SessionID: b.sess.ID,
			SourceAdapter: "api", Type: "tool_use", PlatformSource: "claude", Payload: json.RawMessage(`{}`), OccurredAt: b.now, ReceivedAt: b.now}
		return memory.InsertEvent(ctx, tx, &e)
	})
	if err == nil {
		t.Fatal("a duplicate idempotency key was stored")
	}
	r := b.st.Reader()
	got, err := memory.EventByKey(ctx, r, "k2")
	if err != nil || got.ID != evs[1].ID || got.JobID != "jobk2" || string(got.Payload) != `{"type":"tool_use"}` || !got.OccurredAt.Equal(b.now) {
		t.Fatalf("EventByKey = %+v, %v", got, err)
	}
	if _, err := memory.EventByKey(ctx, r, "nope"); !errors.Is(err, memory.ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
	batch, err := memory.PendingToolEvents(ctx, r, b.sess.ID, evs[1].ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range batch {
		ids = append(ids, e.ID)
	}
	if want := []int64{evs[0].ID, evs[1].ID, evs[3].ID}; len(ids) != 3 || ids[0] != want[0] || ids[1] != want[1] || ids[2] != want[2] {
		t.Fatalf("batch %v, want %v (ordered, job-less event left out)", ids, want)
	}
	if small, _ := memory.PendingToolEvents(ctx, r, b.sess.ID, evs[3].ID, 2); len(small) != 2 || small[1].ID != evs[3].ID {
		t.Fatalf("batch of 2 = %+v; must include its own event", small)
	}
	b.tx(t, func(tx *sql.Tx) error {
		return memory.MarkObserved(ctx, tx, "jobk1", []int64{evs[0].ID, evs[1].ID}, b.now)
	})
	err = b.st.Tx(ctx, func(tx *sql.Tx) error {
		return memory.MarkObserved(ctx, tx, "jobk4", []int64{evs[1].ID, evs[3].ID}, b.now)
	})
	if err == nil {
		t.Fatal("an event was observed twice")
	}
	if e, _ := memory.GetEvent(ctx, r, memory.LocalTeam, evs[3].ID); e.ObservedByJob != "" {
		t.Fatal("the failed mark was not rolled back")
	}
	if left, _ := memory.PendingToolEvents(ctx, r, b.sess.ID, evs[0].ID, 10); len(left) != 0 {
		t.Fatalf("an observed event is still pending: %+v", left)
	}
}

func TestObservationsAreIdempotentAndSearchable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ev := insertEvent(t, b, "k1", memory.EventToolUse, "job1", 1)
	obs := func(key, title string) *memory.Observation {
		return &memory.Observation{TeamID: memory.LocalTeam, ProjectID: b.sess.ProjectID, SessionID: b.sess.ID,
			MemorySessionID: b.sess.MemorySessionID, Project: "proj", Type: "change", Title: title, Narrative: "n",
			Facts: []string{"uses WAL"}, Concepts: []string{"how-it-works"}, FilesModified: []string{"host/store/migrate.go"},
			PromptNumber: 1, DiscoveryTokens: 42, GeneratedByModel: "heuristic", GenerationKey: key, CreatedAt: b.now,
			SourceEventIDs: []int64{ev.ID}}
	}
	var first int64
	b.tx(t, func(tx *sql.Tx) error {
		id, created, err := memory.InsertObservation(ctx, tx, obs("gen_a", "Edited host/store/migrate.go"))
		if err != nil || !created {
			t.Errorf("first insert: %d %v %v", id, created, err)
		}
		first = id
		again, created, err := memory.InsertObservation(ctx, tx, obs("gen_a", "Edited host/store/migrate.go"))
		if err != nil || created || again != id {
			t.Errorf("same generation key: %d %v %v", again, created, err)
		}
		same, created, err := memory.InsertObservation(ctx, tx, obs("gen_b", "Edited host/store/migrate.go"))
		if err != nil || created || same != id {
			t.Errorf("same content hash: %d %v %v", same, created, err)
		}
		_, created, err = memory.InsertObservation(ctx, tx, obs("gen_c", "Ran go test"))
		if err != nil || !created {
			t.Errorf("other observation: %v %v", created, err)
		}
		return nil
	})
	r := b.st.Reader()
	list, err := memory.ListObservations(ctx, r, b.sess.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("observations %d, %v", len(list), err)
	}
	o := list[0]
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(o.ContentHash) || o.ContentHash != memory.ContentHash(b.sess.MemorySessionID, o.Title, "n") ||
		o.Facts[0] != "uses WAL" || o.FilesModified[0] != "host/store/migrate.go" || len(o.FilesRead) != 0 || o.DiscoveryTokens != 42 {
		t.Fatalf("observation %+v", o)
	}
	var facts, read string
	if err := r.QueryRowContext(ctx, `SELECT facts, files_read FROM observations WHERE id = ?`, first).Scan(&facts, &read); err != nil || facts != `["uses WAL"]` || read != "[]" {
		t.Fatalf("stored facts %q files_read %q (%v): want JSON array text", facts, read, err)
	}
	hits, err := memory.SearchObservations(ctx, r, memory.LocalTeam, "migrate", 10)
	if err != nil || len(hits) != 1 || hits[0].ID != first {
		t.Fatalf("search: %+v %v", hits, err)
	}
	if hits, _ := memory.SearchObservations(ctx, r, "other", "migrate", 10); len(hits) != 0 {
		t.Fatal("search crossed teams")
	}
	if linked, _ := memory.EventObservations(ctx, r, ev.ID); len(linked) != 2 {
		t.Fatalf("event observations %d", len(linked))
	}
	// The triggers keep the index in sync with updates and deletes.
	b.tx(t, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE observations SET title = 'Renamed the store package' WHERE id = ?`, first)
		return err
	})
	if hits, _ := memory.SearchObservations(ctx, r, memory.LocalTeam, "migrate", 10); len(hits) != 0 {
		t.Fatalf("stale index after update: %+v", hits)
	}
	if hits, _ := memory.SearchObservations(ctx, r, memory.LocalTeam, "renamed", 10); len(hits) != 1 {
		t.Fatal("update not indexed")
	}
	b.tx(t, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM observations WHERE id = ?`, first)
		return err
	})
	if hits, _ := memory.SearchObservations(ctx, r, memory.LocalTeam, "renamed", 10); len(hits) != 0 {
		t.Fatal("deleted observation still indexed")
	}
}

func TestSummaries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	s := &memory.Summary{TeamID: memory.LocalTeam, ProjectID: b.sess.ProjectID, SessionID: b.sess.ID, MemorySessionID: b.sess.MemorySessionID,
		Project: "proj", Request: "fix the flaky test", Completed: "Fixed the race in the outbox", FilesEdited: []string{"a.go"},
		PromptNumber: 1, GenerationKey: "gen_sum_0_x", CreatedAt: b.now}
	b.tx(t, func(tx *sql.Tx) error {
		if _, created, err := memory.InsertSummary(ctx, tx, s); err != nil || !created {
			t.Errorf("insert: %v %v", created, err)
		}
		again := *s
		if id, created, err := memory.InsertSummary(ctx, tx, &again); err != nil || created || id != s.ID {
			t.Errorf("again: %d %v %v", id, created, err)
		}
		return nil
	})
	list, err := memory.ListSummaries(ctx, b.st.Reader(), b.sess.ID)
	if err != nil || len(list) != 1 || list[0].Completed != s.Completed || list[0].FilesEdited[0] != "a.go" {
		t.Fatalf("summaries %+v %v", list, err)
	}
	var n int
	if err := b.st.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM session_summaries_fts WHERE session_summaries_fts MATCH 'outbox'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("summary FTS hits %d, %v", n, err)
	}
	counts, err := memory.Counts(ctx, b.st.Reader())
	if err != nil || counts["session_summaries"] != 1 || counts["sdk_sessions"] != 1 {
		t.Fatalf("counts %v %v", counts, err)
	}
}

// TestManualSession: the session of a project's manual memories is found
// again by its ids, on the platform the write path gives events without
// one, and has claude-mem's manual-<project> id in the local team.
func TestManualSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.tx(t, func(tx *sql.Tx) error {
		pid, err := memory.EnsureProject(ctx, tx, memory.LocalTeam, "proj", "", b.now)
		if err != nil {
			return err
		}
		s, err := memory.EnsureManualSession(ctx, tx, memory.LocalTeam, pid, "proj", b.now)
		if err != nil {
			return err
		}
		again, err := memory.EnsureManualSession(ctx, tx, memory.LocalTeam, pid, "proj", b.now.Add(time.Hour))
		if err != nil || again.ID != s.ID {
			t.Errorf("again: %+v %v, want session %d", again, err, s.ID)
		}
		if s.ContentSessionID != "manual-proj" || s.PlatformSource != pipeline.NormalizePlatform("") {
			t.Errorf("manual session %+v", s)
		}
		if got := memory.ManualSessionID("acme", "proj"); got != "manual-acme-proj" {
			t.Errorf("another team's manual session id %q", got)
		}
		return nil
	})
	if got := memory.FirstLine("  Deploys go out on Tuesdays\nbecause of the freeze", 12); got != "Deploys go o…" {
		t.Errorf("FirstLine = %q", got)
	}
}
