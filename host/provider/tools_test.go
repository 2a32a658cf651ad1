package provider

import (
	"reflect"
	"testing"
)

func TestFilesFromEvents(t *testing.T) {
	t.Parallel()
	patch := "*** Begin Patch\n*** Update File: a.go\n@@\n-x\n+y\n*** Update File: b.go\n*** Move to: c.go\n*** Delete File: d.go\n*** End Patch"
	tests := map[string]struct {
		events       []ToolEvent
		read, modded []string
	}{
		"read tools": {
			events: []ToolEvent{
				{ToolName: "Read", Input: `{"file_path":"/r/a.go"}`},
				{ToolName: "NotebookRead", Input: `{"notebook_path":"/r/n.ipynb"}`},
				{ToolName: "read_file", Input: `{"absolute_path":"/r/g.go"}`},
				{ToolName: "Read", Input: `{"file_path":"/r/a.go"}`},
				{ToolName: "Grep", Input: `{"pattern":"x","path":"/r/dir"}`},
				{ToolName: "Glob", Input: `{"pattern":"**/*.go"}`},
			},
			read: []string{"/r/a.go", "/r/n.ipynb", "/r/g.go"},
		},
		"write tools": {
			events: []ToolEvent{
				{ToolName: "Edit", Input: `{"file_path":"/r/e.go","old_string":"a","new_string":"b"}`},
				{ToolName: "MultiEdit", Input: `{"file_path":"/r/m.go","edits":[]}`},
				{ToolName: "Write", Input: `{"file_path":"/r/w.go","content":"x"}`},
				{ToolName: "NotebookEdit", Input: `{"notebook_path":"/r/n.ipynb","new_source":"x"}`},
				{ToolName: "write_file", Input: `{"path":"/r/wf.go","content":"x"}`},
				{ToolName: "edit", Input: `{"filePath":"/r/oc.go"}`},
				{ToolName: "Edit", Input: `{"file_path":"/r/e.go","old_string":"b","new_string":"c"}`},
				{ToolName: "Read", Input: `{"file_path":"/r/not-modified.go"}`},
			},
			read:   []string{"/r/not-modified.go"},
			modded: []string{"/r/e.go", "/r/m.go", "/r/w.go", "/r/n.ipynb", "/r/wf.go", "/r/oc.go"},
		},
		"apply_patch forms": {
			events: []ToolEvent{
				{ToolName: "apply_patch", Input: `{"input":` + quote(patch) + `}`},
				{ToolName: "apply_patch", Input: quote("*** Add File: e.go\n+x")},
				{ToolName: "apply_patch", Input: "*** Add File: raw.go\n+x"},
				{ToolName: "apply_patch", Input: `["apply_patch",` + quote("*** Delete File: argv.go") + `]`},
			},
			modded: []string{"a.go", "b.go", "c.go", "d.go", "e.go", "raw.go", "argv.go"},
		},
		"garbage inputs": {
			events: []ToolEvent{
				{ToolName: "Edit", Input: `not json`},
				{ToolName: "Read", Input: `{"file_path": 12}`},
				{ToolName: "apply_patch", Input: `{"input": "*** Update File:   "}`},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := filesRead(tc.events); !reflect.DeepEqual(got, tc.read) {
				t.Errorf("filesRead = %q, want %q", got, tc.read)
			}
			if got := filesModified(tc.events); !reflect.DeepEqual(got, tc.modded) {
				t.Errorf("filesModified = %q, want %q", got, tc.modded)
			}
		})
	}
}

func quote(s string) string {
	b := []byte{'"'}
	for _, r := range s {
		switch r {
		case '\n':
			b = append(b, '\\', 'n')
		case '"', '\\':
			b = append(b, '\\', byte(r))
		default:
			b = append(b, string(r)...)
		}
	}
	return string(append(b, '"'))
}

func TestClassifyCommand(t *testing.T) {
	t.Parallel()
	tests := map[string]commandClass{
		"ls -la":                           cmdLook,
		"cd host && cat a.go | head -n 20": cmdLook,
		"git status":                       cmdLook,
		"git diff HEAD~1 -- a.go":          cmdLook,
		"sed -n '1,20p' a.go":              cmdLook,
		"go test -race ./...":              cmdTest,
		"CGO_ENABLED=0 go build ./cmd/x":   cmdBuild,
		"cd web && npm run test -- --ci":   cmdTest,
		"npm run build":                    cmdBuild,
		"make lint":                        cmdBuild,
		"make test":                        cmdTest,
		"git add -A && git commit -m x":    cmdCommit,
		"rm -rf build":                     cmdOther,
		"sed -i 's/a/b/' a.go":             cmdOther,
		"python3 -m pytest -q":             cmdTest,
		"cargo clippy":                     cmdBuild,
		"/usr/local/go/bin/go test ./x":    cmdTest,
	}
	for cmd, want := range tests {
		if got := classifyCommand(cmd); got != want {
			t.Errorf("classifyCommand(%q) = %v, want %v", cmd, got, want)
		}
	}
}

func TestRelPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ p, cwd, want string }{
		{"/w/a/b.go", "/w", "a/b.go"},
		{"/w/a/b.go", "/w/", "a/b.go"},
		{"/wx/b.go", "/w", "/wx/b.go"},
		{"/w", "/w", "/w"},
		{`C:\w\a.go`, `C:\w`, "a.go"},
		{"rel.go", "", "rel.go"},
	} {
		if got := relPath(tc.p, tc.cwd); got != tc.want {
			t.Errorf("relPath(%q, %q) = %q, want %q", tc.p, tc.cwd, got, tc.want)
		}
	}
}
