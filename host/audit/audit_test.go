package audit_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/store/storetest"

	"github.com/claude-mem/claude-mem-server/host/audit"
	"github.com/claude-mem/claude-mem-server/host/store"
)

type testBundle struct {
	st  *store.Store
	log *audit.Log
}

func setup(t *testing.T, opts audit.Options) *testBundle {
	t.Helper()
	st := storetest.New(t)
	l := audit.New(st, opts)
	t.Cleanup(func() { l.Close() }) // before the store closes
	return &testBundle{st: st, log: l}
}

func TestRecordAndQuery(t *testing.T) {
	t.Parallel()
	b := setup(t, audit.Options{FlushEvery: time.Hour}) // only Flush writes
	ctx := context.Background()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 10 {
		team, key := "a", "key_a"
		if i%2 == 1 {
			team, key = "b", "key_b"
		}
		b.log.Record(audit.Entry{
			Time: base.Add(time.Duration(i) * time.Minute), Actor: "u" + team, KeyID: key, TeamID: team, ProjectID: int64(i%3 + 1),
			Action: []string{"event.write", "search"}[i%4/2], Resource: fmt.Sprintf("r%d", i), RequestID: fmt.Sprintf("req-%d", i),
			Status: 200, MemoryIDs: []string{audit.MemoryID(audit.KindObservation, int64(i))},
		})
	}
	if err := b.log.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	all, next, err := b.log.Query(ctx, audit.Filter{})
	if err != nil || len(all) != 10 || next != 0 {
		t.Fatalf("all: %d entries, next %d, %v", len(all), next, err)
	}
	if all[0].Resource != "r9" || all[9].Resource != "r0" {
		t.Fatalf("not newest first: %s … %s", all[0].Resource, all[9].Resource)
	}
	want := audit.Entry{ID: all[9].ID, Time: base, Actor: "ua", KeyID: "key_a", TeamID: "a", ProjectID: 1, Action: "event.write",
		Resource: "r0", RequestID: "req-0", Status: 200, MemoryIDs: []string{"obs:0"}}
	if !reflect.DeepEqual(want, all[9]) {
		t.Fatalf("entry\n got %+v\nwant %+v", all[9], want)
	}

	count := func(f audit.Filter) int {
		t.Helper()
		got, _, err := b.log.Query(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	tests := map[string]struct {
		f    audit.Filter
		want int
	}{
		"team":          {audit.Filter{TeamID: "a"}, 5},
		"team and key":  {audit.Filter{TeamID: "a", KeyID: "key_b"}, 0},
		"action":        {audit.Filter{Action: "search"}, 4},
		"actor":         {audit.Filter{Actor: "ub"}, 5},
		"project":       {audit.Filter{ProjectID: 1}, 4},
		"since":         {audit.Filter{Since: base.Add(5 * time.Minute)}, 5},
		"until":         {audit.Filter{Until: base.Add(5 * time.Minute)}, 6},
		"since & until": {audit.Filter{Since: base.Add(2 * time.Minute), Until: base.Add(3 * time.Minute)}, 2},
	}
	for name, tc := range tests {
		if got := count(tc.f); got != tc.want {
			t.Errorf("%s: %d entries, want %d", name, got, tc.want)
		}
	}

	// Paging walks every entry once.
	var seen []string
	var before int64
	for page := 0; ; page++ {
		got, next, err := b.log.Query(ctx, audit.Filter{Limit: 3, Before: before})
		if err != nil || page > 5 {
			t.Fatalf("page %d: %v", page, err)
		}
		for _, e := range got {
			seen = append(seen, e.Resource)
		}
		if next == 0 {
			break
		}
		before = next
	}
	if len(seen) != 10 || seen[0] != "r9" || seen[9] != "r0" {
		t.Fatalf("paging saw %v", seen)
	}
	if _, _, err := b.log.Query(ctx, audit.Filter{Limit: audit.MaxLimit + 1}); err == nil {
		t.Fatal("a limit past the maximum must fail")
	}
}

func TestAppendOnlyAndRetention(t *testing.T) {
	t.Parallel()
	now := time.Now()
	b := setup(t, audit.Options{Retention: 30 * 24 * time.Hour})
	ctx := context.Background()
	b.log.Record(audit.Entry{Time: now.Add(-40 * 24 * time.Hour), TeamID: "a", Action: "old"})
	b.log.Record(audit.Entry{Time: now.Add(-2 * 24 * time.Hour), TeamID: "a", Action: "recent"})
	b.log.Record(audit.Entry{TeamID: "a", Action: "now"})
	if err := b.log.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.Writer().ExecContext(ctx, `UPDATE audit_log SET action = 'tampered'`); err == nil {
		t.Fatal("an audit row was updated")
	}
	if _, err := b.st.Writer().ExecContext(ctx, `DELETE FROM audit_log WHERE action = 'now'`); err == nil {
		t.Fatal("a fresh audit row was deleted")
	}
	n, err := b.log.Prune(ctx, now.Add(-30*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	got, _, err := b.log.Query(ctx, audit.Filter{})
	if err != nil || len(got) != 2 || got[0].Action != "now" || got[1].Action != "recent" {
		t.Fatalf("after prune: %+v %v", got, err)
	}
}

func TestPruneOnStartAndCloseFlushes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.New(t)
	first := audit.New(st, audit.Options{FlushEvery: time.Hour})
	first.Record(audit.Entry{Time: time.Now().Add(-100 * 24 * time.Hour), Action: "ancient"})
	first.Record(audit.Entry{Action: "kept"})
	first.Close() // writes what is pending
	first.Close()
	first.Record(audit.Entry{Action: "dropped after close"})
	second := audit.New(st, audit.Options{Retention: 90 * 24 * time.Hour})
	defer second.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _, err := second.Query(ctx, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 && got[0].Action == "kept" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("entries %+v, want only the kept one", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAnnotate(t *testing.T) {
	t.Parallel()
	audit.Annotate(context.Background(), audit.Action("ignored")) // no note: no-op
	ctx, n := audit.WithNote(context.Background())
	audit.Annotate(ctx, audit.Action("search"), audit.Resource("q"), audit.Project(4), audit.Memories("obs:1"))
	audit.Annotate(ctx, audit.Memories("sum:2"), audit.Team("b"))
	action, resource, team, project, ids := n.Values()
	if action != "search" || resource != "q" || team != "b" || project != 4 || !slices.Equal(ids, []string{"obs:1", "sum:2"}) {
		t.Fatalf("note: %q %q %q %d %v", action, resource, team, project, ids)
	}
}
