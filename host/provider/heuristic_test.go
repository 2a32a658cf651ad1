package provider_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/provider"
)

const bigPatch = `*** Begin Patch
*** Update File: host/store/migrate.go
@@ func (s *Store) Migrate
-	return done, nil
+	return done, s.vacuum(ctx)
*** Add File: host/store/vacuum.go
+package store
*** Delete File: host/store/old.go
*** End Patch`

func TestHeuristicObserve(t *testing.T) {
	t.Parallel()
	mig := testCwd + "/host/store/migrate.go"
	type want struct {
		Type, Title, Subtitle    string
		FilesRead, FilesModified []string
		Concepts                 []string
		FactsContain             []string
	}
	tests := map[string]struct {
		events []provider.ToolEvent
		want   []want
	}{
		"Edit": {
			events: []provider.ToolEvent{ev(0, "Edit", map[string]any{"file_path": mig, "old_string": "a\nb\nc", "new_string": "a\nb\nc\nd\ne"}, map[string]any{"filePath": mig})},
			want: []want{{Type: "change", Title: "Edited host/store/migrate.go", Subtitle: "Replaced 3 lines with 5",
				FilesModified: []string{mig}, Concepts: []string{"what-changed"}, FactsContain: []string{"Replaced 3 lines with 5 in host/store/migrate.go"}}},
		},
		"Write creating a file": {
			events: []provider.ToolEvent{ev(0, "Write", map[string]any{"file_path": testCwd + "/README.md", "content": "# x\n\nhello\n"}, map[string]any{"type": "create", "filePath": testCwd + "/README.md"})},
			want: []want{{Type: "change", Title: "Created README.md", Subtitle: "Created 3 lines",
				FilesModified: []string{testCwd + "/README.md"}, Concepts: []string{"what-changed"}}},
		},
		"Write outside the working directory": {
			events: []provider.ToolEvent{ev(0, "Write", map[string]any{"file_path": "/etc/hosts", "content": "x"}, map[string]any{"type": "update"})},
			want: []want{{Type: "change", Title: "Wrote /etc/hosts", Subtitle: "Wrote 1 line",
				FilesModified: []string{"/etc/hosts"}, Concepts: []string{"what-changed"}}},
		},
		"MultiEdit": {
			events: []provider.ToolEvent{ev(0, "MultiEdit", map[string]any{"file_path": mig, "edits": []any{map[string]any{"old_string": "a", "new_string": "b"}, map[string]any{"old_string": "c", "new_string": "d"}}}, map[string]any{})},
			want: []want{{Type: "change", Title: "Edited host/store/migrate.go", Subtitle: "Applied 2 edits",
				FilesModified: []string{mig}, Concepts: []string{"what-changed"}}},
		},
		"apply_patch over three files": {
			events: []provider.ToolEvent{ev(0, "apply_patch", map[string]any{"input": bigPatch}, "Success. Updated the following files:\nM host/store/migrate.go")},
			want: []want{{Type: "change", Title: "Patched 3 files: host/store/migrate.go, host/store/vacuum.go, host/store/old.go",
				Subtitle:      "Updated 1 file, Added 1 file, Deleted 1 file",
				FilesModified: []string{"host/store/migrate.go", "host/store/vacuum.go", "host/store/old.go"}, Concepts: []string{"what-changed"},
				FactsContain: []string{"Updated host/store/migrate.go", "Added host/store/vacuum.go", "Deleted host/store/old.go"}}},
		},
		"Codex shell apply_patch argv": {
			events: []provider.ToolEvent{ev(0, "apply_patch", map[string]any{"command": []string{"apply_patch", "*** Begin Patch\n*** Add File: docs/a.md\n+x\n*** End Patch"}}, "")},
			want: []want{{Type: "change", Title: "Created docs/a.md", Subtitle: "Added a new file",
				FilesModified: []string{"docs/a.md"}, Concepts: []string{"what-changed"}}},
		},
		"Bash go test passing": {
			events: []provider.ToolEvent{ev(0, "Bash", map[string]any{"command": "go test ./..."}, map[string]any{"stdout": "ok  \tgithub.com/x/a\t0.1s\nok  \tgithub.com/x/b\t0.2s\n", "stderr": ""})},
			want: []want{{Type: "discovery", Title: "Ran `go test ./...`", Subtitle: "Passed; 2 packages ok",
				FactsContain: []string{"Command: `go test ./...`", "Tests: 2 packages ok"}}},
		},
		"Bash failing then passing is a bugfix": {
			events: []provider.ToolEvent{
				ev(0, "Bash", map[string]any{"command": "pytest -q"}, map[string]any{"stdout": "F.\nFAILED tests/test_a.py::test_x - AssertionError: 1 != 2\n1 failed, 1 passed in 0.1s\n"}),
				ev(1, "Edit", map[string]any{"file_path": testCwd + "/a.py", "old_string": "1", "new_string": "2"}, map[string]any{}),
				ev(2, "Bash", map[string]any{"command": "pytest  -q"}, map[string]any{"stdout": "..\n2 passed in 0.1s\n"}),
			},
			want: []want{
				{Type: "discovery", Title: "Ran `pytest -q`", Subtitle: "Failed; 1 failed, 1 passed; FAILED tests/test_a.py::test_x - AssertionError: 1 != 2",
					FactsContain: []string{"Tests: 1 failed, 1 passed", "First error: FAILED tests/test_a.py::test_x - AssertionError: 1 != 2"}},
				{Type: "change", Title: "Edited a.py", Subtitle: "Replaced 1 line with 1", FilesModified: []string{testCwd + "/a.py"}, Concepts: []string{"what-changed"}},
				{Type: "bugfix", Title: "Made `pytest  -q` pass", Subtitle: "Passed after failing earlier; 2 passed", Concepts: []string{"problem-solution"}},
			},
		},
		"Codex exec with exit code": {
			events: []provider.ToolEvent{ev(0, "exec_command", map[string]any{"cmd": []string{"bash", "-lc", "make build"}}, map[string]any{"exit_code": 2, "output": "cc: error: foo.c: No such file\nmake: *** [all] Error 2"})},
			want: []want{{Type: "discovery", Title: "Ran `make build`", Subtitle: "Failed (exit 2); cc: error: foo.c: No such file",
				FactsContain: []string{"Exit code: 2"}}},
		},
		"git commit is a change": {
			events: []provider.ToolEvent{ev(0, "Bash", map[string]any{"command": `git add -A && git commit -m "store: vacuum"`}, map[string]any{"stdout": "[main abc123] store: vacuum"})},
			want:   []want{{Type: "change", Title: "Ran `git add -A && git commit -m \"store: vacuum\"`", Subtitle: "Succeeded", Concepts: []string{"what-changed"}}},
		},
		"reads and searches fold into one discovery": {
			events: []provider.ToolEvent{
				ev(0, "Read", map[string]any{"file_path": mig}, map[string]any{"file": map[string]any{"content": "x"}}),
				ev(1, "Grep", map[string]any{"pattern": "Migrate", "path": testCwd + "/host"}, map[string]any{}),
				ev(2, "Bash", map[string]any{"command": "ls -la host/store"}, map[string]any{"stdout": "x"}),
				ev(3, "Read", map[string]any{"file_path": testCwd + "/README.md"}, map[string]any{}),
				ev(4, "Read", map[string]any{"file_path": mig}, map[string]any{}),
				ev(5, "TodoWrite", map[string]any{"todos": []any{}}, map[string]any{}),
			},
			want: []want{{Type: "discovery", Title: "Read host/store/migrate.go, README.md and ran 2 searches",
				Subtitle: "2 files read, 2 searches or listing", FilesRead: []string{mig, testCwd + "/README.md"},
				FactsContain: []string{"Searched for `Migrate` in host", "Ran `ls -la host/store`"}}},
		},
		"single Read": {
			events: []provider.ToolEvent{ev(0, "Read", map[string]any{"file_path": testCwd + "/README.md"}, map[string]any{})},
			want:   []want{{Type: "discovery", Title: "Read README.md", Subtitle: "1 file read", FilesRead: []string{testCwd + "/README.md"}}},
		},
		"secrets file edit is a security note": {
			events: []provider.ToolEvent{ev(0, "Edit", map[string]any{"file_path": testCwd + "/.env", "old_string": "A=1", "new_string": "A=2"}, map[string]any{})},
			want: []want{{Type: "security_note", Title: "Edited .env", Subtitle: "Replaced 1 line with 1",
				FilesModified: []string{testCwd + "/.env"}, Concepts: []string{"what-changed"}}},
		},
		"MCP tool": {
			events: []provider.ToolEvent{ev(0, "mcp__github__create_issue", map[string]any{"title": "x"}, map[string]any{"content": []any{map[string]any{"type": "text", "text": "Created issue #12"}}})},
			want:   []want{{Type: "discovery", Title: "Used create_issue (MCP github)", FactsContain: []string{`Input: {"title":"x"}`}}},
		},
		"noise only": {
			events: []provider.ToolEvent{ev(0, "TodoWrite", map[string]any{}, map[string]any{}), ev(1, "AskUserQuestion", map[string]any{}, map[string]any{})},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res, err := provider.NewHeuristic().Observe(context.Background(), provider.ObserveRequest{Project: "p", Events: tc.events})
			if err != nil {
				t.Fatal(err)
			}
			if res.Usage != (provider.Usage{Model: "heuristic"}) {
				t.Errorf("usage = %+v", res.Usage)
			}
			if len(res.Observations) != len(tc.want) {
				t.Fatalf("got %d observations, want %d: %+v", len(res.Observations), len(tc.want), res.Observations)
			}
			for i, w := range tc.want {
				o := res.Observations[i]
				got := want{Type: o.Type, Title: o.Title, Subtitle: o.Subtitle, FilesRead: o.FilesRead, FilesModified: o.FilesModified, Concepts: o.Concepts, FactsContain: w.FactsContain}
				if !reflect.DeepEqual(got, w) {
					t.Errorf("observation %d =\n%+v\nwant\n%+v", i, got, w)
				}
				for _, f := range w.FactsContain {
					found := false
					for _, have := range o.Facts {
						found = found || have == f
					}
					if !found {
						t.Errorf("observation %d: fact %q missing from %q", i, f, o.Facts)
					}
				}
				if o.Narrative == "" {
					t.Errorf("observation %d has no narrative", i)
				}
			}
		})
	}
}

func TestHeuristicIsDeterministic(t *testing.T) {
	t.Parallel()
	events := sessionEvents(60)
	h := provider.NewHeuristic()
	a, err := h.Observe(context.Background(), provider.ObserveRequest{Events: events})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := h.Observe(context.Background(), provider.ObserveRequest{Events: events})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs differ")
	}
	if len(a.Observations) == 0 {
		t.Fatal("no observations from a realistic session")
	}
}

func TestHeuristicSummarize(t *testing.T) {
	t.Parallel()
	answer := `## Done

Added per-day token budgets to the provider; spend now stops at the limit.

The root cause was that retries re-sent the whole history.

Next steps:
- wire Status into /v1/info
- add a dashboard`
	events := []provider.ToolEvent{
		ev(0, "Read", map[string]any{"file_path": testCwd + "/host/config/config.go"}, map[string]any{}),
		ev(1, "Edit", map[string]any{"file_path": testCwd + "/host/provider/budget.go", "old_string": "a", "new_string": "b"}, map[string]any{}),
		ev(2, "Bash", map[string]any{"command": "go test ./host/provider/"}, map[string]any{"stdout": "ok"}),
	}
	res, err := provider.NewHeuristic().Summarize(context.Background(), provider.SummarizeRequest{
		UserRequest: "  Add token budgets\n", LastAssistantMessage: answer, Events: events,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := &provider.Summary{
		Request:      "Add token budgets",
		Investigated: "Read host/config/config.go; ran `go test ./host/provider/`.",
		Learned:      "The root cause was that retries re-sent the whole history.",
		Completed:    "Done: Added per-day token budgets to the provider; spend now stops at the limit.",
		NextSteps:    "Next steps: - wire Status into /v1/info - add a dashboard",
		FilesRead:    []string{testCwd + "/host/config/config.go"},
		FilesEdited:  []string{testCwd + "/host/provider/budget.go"},
	}
	if !reflect.DeepEqual(res.Summary, want) {
		t.Errorf("summary =\n%+v\nwant\n%+v", res.Summary, want)
	}

	empty, err := provider.NewHeuristic().Summarize(context.Background(), provider.SummarizeRequest{})
	if err != nil || empty.Summary != nil {
		t.Errorf("empty turn: %+v, %v", empty, err)
	}
}

func FuzzHeuristicObserve(f *testing.F) {
	f.Add("Bash", `{"command":"go test ./..."}`, `{"stdout":"FAIL\tx","exit_code":1}`)
	f.Add("apply_patch", `{"input":"*** Begin Patch\n*** Update File: a\n*** End Patch"}`, `""`)
	f.Add("Edit", `{"file_path":"/a","old_string":"x","new_string":"y"}`, `{}`)
	f.Add("ExitPlanMode", `{"plan":"# Plan\n- a\n- b"}`, `{}`)
	f.Add("Task", `{"description":"d"}`, `{"content":[{"type":"text","text":"t"}]}`)
	f.Add("WebSearch", `{"query":"q"}`, `not json`)
	f.Fuzz(func(t *testing.T, tool, in, out string) {
		e := provider.ToolEvent{ToolName: tool, Input: in, Output: out, Cwd: "/w"}
		res, err := provider.NewHeuristic().Observe(context.Background(), provider.ObserveRequest{Events: []provider.ToolEvent{e, e}})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range res.Observations {
			if o.Type == "" || strings.TrimSpace(o.Title) == "" && o.Narrative == "" {
				t.Fatalf("empty observation %+v", o)
			}
		}
		if _, err := provider.NewHeuristic().Summarize(context.Background(), provider.SummarizeRequest{LastAssistantMessage: out, Events: []provider.ToolEvent{e}}); err != nil {
			t.Fatal(err)
		}
	})
}
