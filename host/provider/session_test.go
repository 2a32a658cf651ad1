package provider_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/claude-mem/claude-mem-server/host/provider"
)

const testCwd = "/home/dev/claude-mem-server"

var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func ev(i int, tool string, in, out any) provider.ToolEvent {
	return provider.ToolEvent{
		ToolName: tool, Input: js(in), Output: js(out), Cwd: testCwd,
		OccurredAt: t0.Add(time.Duration(i) * time.Second), PromptNumber: 1 + i/25,
	}
}

// goSource is a plausible Go file of about n bytes.
func goSource(n int) string {
	var b strings.Builder
	b.WriteString("package store\n\nimport (\n\t\"context\"\n\t\"database/sql\"\n)\n\n")
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "// step%d applies one migration step and reports \"%d\" rows.\nfunc step%d(ctx context.Context, tx *sql.Tx) error {\n\t_, err := tx.ExecContext(ctx, `UPDATE t SET v = %d WHERE id = ?`, %d)\n\treturn err\n}\n\n", i, i, i, i, i)
	}
	return b.String()
}

// testLog is go test -v output of about n bytes.
func testLog(n int, fail bool) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "=== RUN   TestMigrate/case_%d\n--- PASS: TestMigrate/case_%d (0.00s)\n", i, i)
	}
	if fail {
		b.WriteString("--- FAIL: TestBudget (0.02s)\n    budget_test.go:42: spent 12000, want <= 10000\nFAIL\nFAIL\tgithub.com/claude-mem/claude-mem-server/host/provider\t0.41s\n")
	} else {
		b.WriteString("PASS\nok  \tgithub.com/claude-mem/claude-mem-server/host/store\t0.311s\n")
	}
	return b.String()
}

// sessionEvents is a realistic Claude Code session of n tool events: reads
// of source files (2-24 KB), edits, go test runs, greps, globs, and every
// 50th event a 1 MB log dump.
func sessionEvents(n int) []provider.ToolEvent {
	out := make([]provider.ToolEvent, 0, n)
	for i := range n {
		file := fmt.Sprintf("%s/host/store/file%d.go", testCwd, i%37)
		var e provider.ToolEvent
		switch {
		case i%50 == 49:
			e = ev(i, "Bash", map[string]any{"command": "cat /var/log/app.log", "description": "Show the log"},
				map[string]any{"stdout": strings.Repeat("2026-03-14T09:00:00Z INFO request served path=/v1/events status=200 dur=1.2ms\n", 1<<20/80), "stderr": "", "interrupted": false})
		case i%7 == 0:
			src := goSource(2000 + (i%11)*2000)
			e = ev(i, "Read", map[string]any{"file_path": file},
				map[string]any{"type": "text", "file": map[string]any{"filePath": file, "content": src, "numLines": strings.Count(src, "\n")}})
		case i%7 == 1:
			e = ev(i, "Edit", map[string]any{"file_path": file, "old_string": "return err\n}", "new_string": "if err != nil {\n\t\treturn fmt.Errorf(\"step: %w\", err)\n\t}\n\treturn nil\n}"},
				map[string]any{"filePath": file, "oldString": "return err\n}", "newString": "…", "structuredPatch": []any{map[string]any{"oldStart": 12, "lines": []string{"-\treturn err", "+\tif err != nil {"}}}})
		case i%7 == 2:
			e = ev(i, "Bash", map[string]any{"command": "go test ./host/store/...", "description": "Run the store tests"},
				map[string]any{"stdout": testLog(1500+(i%5)*3000, i%3 == 0), "stderr": "", "interrupted": false})
		case i%7 == 3:
			e = ev(i, "Grep", map[string]any{"pattern": "ExecContext", "path": testCwd + "/host", "output_mode": "content"},
				map[string]any{"mode": "content", "numFiles": 4, "content": strings.Repeat("host/store/migrate.go:120:\t\tif _, err := tx.ExecContext(ctx, m.SQL); err != nil {\n", 40)})
		case i%7 == 4:
			e = ev(i, "Glob", map[string]any{"pattern": "**/*.sql"},
				map[string]any{"filenames": []string{testCwd + "/host/store/migrations/0001_generation_jobs.sql"}, "numFiles": 1})
		case i%7 == 5:
			e = ev(i, "Write", map[string]any{"file_path": file, "content": goSource(3000)},
				map[string]any{"type": "create", "filePath": file, "content": goSource(3000)})
		default:
			e = ev(i, "MultiEdit", map[string]any{"file_path": file, "edits": []any{
				map[string]any{"old_string": "v1", "new_string": "v2"},
				map[string]any{"old_string": "a", "new_string": "b", "replace_all": true},
			}}, map[string]any{"filePath": file})
		}
		out = append(out, e)
	}
	return out
}
