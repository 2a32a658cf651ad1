package exchange_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/store/storetest"

	"github.com/claude-mem/claude-mem-server/host/exchange"
	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/search"
	"github.com/claude-mem/claude-mem-server/host/store"
)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st := storetest.New(t)
	for _, tm := range []string{"a", "b"} {
		if _, err := st.Writer().Exec(`INSERT INTO teams (id, name, created_at_epoch, updated_at_epoch) VALUES (?, ?, 1, 1)`, tm, tm); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// seed fills the team with one of everything, history included.
func seed(t testing.TB, st *store.Store, team, marker string) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	err := st.Tx(ctx, func(tx *sql.Tx) error {
		for _, proj := range []string{"alpha", "beta"} {
			pid, err := memory.EnsureProject(ctx, tx, team, proj, "/src/"+proj, at)
			if err != nil {
				return err
			}
			sess, _, err := memory.EnsureSession(ctx, tx, memory.NewSession{TeamID: team, ProjectID: pid, Project: proj,
				PlatformSource: "claude", ContentSessionID: team + "-cs-" + proj, Cwd: "/src/" + proj, StartedAt: at})
			if err != nil {
				return err
			}
			ev := memory.Event{IdempotencyKey: team + "-ev-" + proj, TeamID: team, ProjectID: pid, SessionID: sess.ID, SourceAdapter: "api",
				Type: "user_prompt", PlatformSource: "claude", PromptNumber: 1, Payload: []byte(`{"text":"` + marker + `"}`),
				OccurredAt: at, ReceivedAt: at.Add(time.Second), JobID: "job-1"}
			if err := memory.InsertEvent(ctx, tx, &ev); err != nil {
				return err
			}
			if _, err := memory.InsertPrompt(ctx, tx, memory.Prompt{SessionID: sess.ID, ContentSessionID: sess.ContentSessionID, Number: 1,
				Text: marker + " prompt about " + proj, AgentEventID: ev.ID, CreatedAt: at}); err != nil {
				return err
			}
			old, _, err := memory.InsertObservation(ctx, tx, &memory.Observation{TeamID: team, ProjectID: pid, SessionID: sess.ID,
				MemorySessionID: sess.MemorySessionID, Project: proj, Type: "decision", Title: marker + " old " + proj,
				Narrative: "the old way", Facts: []string{"f1"}, Concepts: []string{"how-it-works"}, PromptNumber: 1,
				GeneratedByModel: "m", GenerationKey: team + "-gk-old-" + proj, CreatedAt: at, SourceEventIDs: []int64{ev.ID}})
			if err != nil {
				return err
			}
			cur, _, err := memory.InsertObservation(ctx, tx, &memory.Observation{TeamID: team, ProjectID: pid, SessionID: sess.ID,
				MemorySessionID: sess.MemorySessionID, Project: proj, Type: "manual", Title: marker + " new " + proj,
				Narrative: "the new way", GeneratedByModel: "manual", CreatedAt: at.Add(time.Minute)})
			if err != nil {
				return err
			}
			if _, err := tx.Exec(`UPDATE observations SET valid_from = ?, valid_to = ?, superseded_by = ? WHERE id = ?`,
				at.UnixMilli(), at.Add(time.Minute).UnixMilli(), cur, old); err != nil {
				return err
			}
			if _, _, err := memory.InsertSummary(ctx, tx, &memory.Summary{TeamID: team, ProjectID: pid, SessionID: sess.ID,
				MemorySessionID: sess.MemorySessionID, Project: proj, Request: marker + " request", Learned: "learned",
				FilesRead: []string{"a.go"}, PromptNumber: 1, GeneratedByModel: "m", GenerationKey: team + "-sum-" + proj, CreatedAt: at}); err != nil {
				return err
			}
			if _, err := memory.CompleteSession(ctx, tx, team, sess.ID, at.Add(time.Hour)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func export(t *testing.T, st *store.Store, team string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := exchange.Export(context.Background(), st, team, &buf, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func importInto(t *testing.T, st *store.Store, team, format string, data []byte) exchange.Report {
	t.Helper()
	rep, err := exchange.Import(context.Background(), exchange.ImportOptions{Store: st, Team: team, Format: format}, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	src := openStore(t)
	seed(t, src, "a", "zebra")
	first := export(t, src, "a")
	for _, kind := range []string{`"kind":"header"`, `"kind":"project"`, `"kind":"session"`, `"kind":"event"`, `"kind":"prompt"`,
		`"kind":"observation"`, `"kind":"summary"`, `"kind":"end"`, `"valid_to":`, `"ref_superseded_by":"h:`, `"ref_events":["a-ev-alpha"]`} {
		if !bytes.Contains(first, []byte(kind)) {
			t.Fatalf("export lacks %s:\n%s", kind, first)
		}
	}

	dst := openStore(t)
	rep := importInto(t, dst, "a", exchange.FormatClaudeMem, first)
	if rep.Added() != 14 {
		t.Fatalf("added %d rows, want 14: %+v", rep.Added(), rep)
	}
	if second := export(t, dst, "a"); !bytes.Equal(first, second) {
		t.Fatalf("re-export differs:\n%s\n---\n%s", first, second)
	}

	// Idempotent: a second import adds nothing, into the source too.
	for _, st := range []*store.Store{dst, src} {
		if rep := importInto(t, st, "a", exchange.FormatClaudeMem, first); rep.Added() != 0 {
			t.Fatalf("second import added %d rows: %+v", rep.Added(), rep)
		}
	}
	if again := export(t, dst, "a"); !bytes.Equal(first, again) {
		t.Fatal("export changed after a repeated import")
	}
}

func TestCrossTeam(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	seed(t, st, "a", "zebra")
	seed(t, st, "b", "okapi")
	out := export(t, st, "b")
	if bytes.Contains(out, []byte("zebra")) || bytes.Contains(out, []byte(`"a-`)) {
		t.Fatalf("team b's export holds team a's rows:\n%s", out)
	}
	if !bytes.Contains(out, []byte("okapi")) {
		t.Fatal("team b's export lacks its own rows")
	}
	// Team a's export imported into team b collides on a's session keys.
	if _, err := exchange.Import(context.Background(), exchange.ImportOptions{Store: st, Team: "b"}, bytes.NewReader(export(t, st, "a"))); err == nil {
		t.Fatal("importing team a's sessions into team b succeeded")
	}
}

func TestBadLineIsAtomic(t *testing.T) {
	t.Parallel()
	src := openStore(t)
	seed(t, src, "a", "zebra")
	lines := strings.Split(strings.TrimSpace(string(export(t, src, "a"))), "\n")
	for _, tc := range []struct {
		name string
		at   int
		bad  string
	}{
		{"json", 6, `{"kind":"prompt",`},
		{"column", 8, `{"kind":"summary","nope":1}`},
		{"kind", 7, `{"kind":"martian"}`},
		{"cut short", len(lines) - 1, ""},
		{"lost a line", len(lines) - 1, "-"},
	} {
		bad := append(append(append([]string{}, lines[:tc.at-1]...), tc.bad), lines[tc.at-1:]...)
		switch tc.bad {
		case "": // the end line is missing
			bad = lines[:len(lines)-1]
		case "-": // a prompt line is missing
			bad = append(append([]string{}, lines[:7]...), lines[8:]...)
		}
		dst := openStore(t)
		_, err := exchange.Import(context.Background(), exchange.ImportOptions{Store: dst, Team: "a"}, strings.NewReader(strings.Join(bad, "\n")))
		var le *exchange.LineError
		if !errors.As(err, &le) || le.Line != tc.at {
			t.Fatalf("%s: err %v, want line %d", tc.name, err, tc.at)
		}
		var n int
		if err := dst.Reader().QueryRow(`SELECT (SELECT count(*) FROM projects WHERE team_id = 'a') + (SELECT count(*) FROM sdk_sessions) +
			(SELECT count(*) FROM observations)`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%s: %d rows stored (err %v)", tc.name, n, err)
		}
	}
}

const memoryJSONL = `{"type":"entity","name":"Quokka_Project","entityType":"project","observations":["uses the marsupial build system","deploys on fridays"]}
{"type":"entity","name":"Alice","entityType":"person","observations":["maintains Quokka_Project"]}
{"type":"relation","from":"Alice","to":"Quokka_Project","relationType":"maintains"}
`

func TestMCPMemory(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	rep := importInto(t, st, "a", exchange.FormatMCPMemory, []byte(memoryJSONL))
	if rep.Kinds["entity"].Imported != 2 || rep.Kinds["relation"].Imported != 1 {
		t.Fatalf("report %+v", rep)
	}
	if rep := importInto(t, st, "a", exchange.FormatMCPMemory, []byte(memoryJSONL)); rep.Added() != 0 {
		t.Fatalf("second import added %d", rep.Added())
	}
	res, err := search.Search(context.Background(), st.Reader(), search.Request{TeamID: "a", Query: "marsupial"})
	if err != nil {
		t.Fatal(err)
	}
	obs := res.Observations()
	if len(obs) != 1 || obs[0].Title != "Quokka_Project" {
		t.Fatalf("search found %+v", obs)
	}
	if res, _ := search.Search(context.Background(), st.Reader(), search.Request{TeamID: "b", Query: "marsupial"}); len(res.Hits) != 0 {
		t.Fatal("team b finds team a's memory")
	}
	var meta string
	if err := st.Reader().QueryRow(`SELECT metadata FROM observations WHERE subtitle = 'relation'`).Scan(&meta); err != nil ||
		!strings.Contains(meta, `"relationType":"maintains"`) {
		t.Fatalf("relation metadata %q (%v)", meta, err)
	}
	_, err = exchange.Import(context.Background(), exchange.ImportOptions{Store: st, Team: "a", Format: exchange.FormatMCPMemory},
		strings.NewReader(memoryJSONL+`{"type":"entity"}`+"\n"))
	var le *exchange.LineError
	if !errors.As(err, &le) || le.Line != 4 {
		t.Fatalf("err %v, want line 4", err)
	}
}
