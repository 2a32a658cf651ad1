package provider

import (
	"encoding/json"
	"slices"
	"strings"
)

// toolKind groups the tools of the agents we know by what they do. Names
// are compared lowercased, so Claude Code's "Edit" and OpenCode's "edit" are
// the same tool.
type toolKind int

const (
	kindOther    toolKind = iota
	kindWrite             // changes files: Edit, MultiEdit, Write, NotebookEdit, write_file, apply_patch, …
	kindRead              // reads one file: Read, NotebookRead, read_file
	kindSearch            // looks around: Glob, Grep, LS, list_dir, …
	kindShell             // runs a command: Bash, shell, exec_command, …
	kindWeb               // WebFetch, WebSearch
	kindDelegate          // Task / Agent: a subagent's work
	kindPlan              // ExitPlanMode: a plan the user approved
	kindNoise             // TodoWrite, AskUserQuestion, …: nothing to remember
)

var toolKinds = map[string]toolKind{
	// Claude Code, Codex, Gemini CLI, OpenCode and friends.
	"edit": kindWrite, "multiedit": kindWrite, "write": kindWrite, "notebookedit": kindWrite,
	"write_file": kindWrite, "apply_patch": kindWrite, "patch": kindWrite, "replace": kindWrite,
	"str_replace_based_edit_tool": kindWrite, "create_file": kindWrite, "edit_file": kindWrite,

	"read": kindRead, "notebookread": kindRead, "read_file": kindRead, "view_file": kindRead,

	"glob": kindSearch, "grep": kindSearch, "ls": kindSearch, "list": kindSearch, "list_dir": kindSearch,
	"list_directory": kindSearch, "search_file_content": kindSearch, "codebase_search": kindSearch,
	"file_search": kindSearch, "find": kindSearch, "listmcpresourcestool": kindSearch,

	"bash": kindShell, "shell": kindShell, "exec_command": kindShell, "run_shell_command": kindShell,
	"local_shell": kindShell, "container.exec": kindShell, "run_terminal_cmd": kindShell,

	"webfetch": kindWeb, "web_fetch": kindWeb, "websearch": kindWeb, "web_search": kindWeb,
	"google_web_search": kindWeb,

	"task": kindDelegate, "agent": kindDelegate,

	"exitplanmode": kindPlan,

	"todowrite": kindNoise, "todoread": kindNoise, "askuserquestion": kindNoise, "bashoutput": kindNoise,
	"killshell": kindNoise, "killbash": kindNoise, "update_plan": kindNoise, "write_stdin": kindNoise,
}

func kindOf(tool string) toolKind {
	return toolKinds[strings.ToLower(strings.TrimSpace(tool))]
}

// decodeObject decodes a tool input or output. A JSON object comes back as
// the map; anything else (a JSON string, an array, plain text) as nil and
// its text: a JSON string is unquoted, everything else returned as given.
func decodeObject(s string) (map[string]any, string) {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil, ""
	}
	switch t[0] {
	case '{':
		var m map[string]any
		if json.Unmarshal([]byte(t), &m) == nil {
			return m, ""
		}
	case '"':
		var str string
		if json.Unmarshal([]byte(t), &str) == nil {
			return nil, str
		}
	}
	return nil, s
}

// str returns the first of keys that holds a non-empty string.
func str(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if v, ok := m[k].(string); ok && strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// num returns the first of keys that holds a number.
func num(m map[string]any, keys ...string) (int, bool) {
	for _, k := range keys {
		switch v := m[k].(type) {
		case float64:
			return int(v), true
		case json.Number:
			if n, err := v.Int64(); err == nil {
				return int(n), true
			}
		}
	}
	return 0, false
}

// pathKeys are the input fields that name the file a tool worked on, across
// agents: Claude Code's file_path/notebook_path, Gemini's absolute_path,
// the generic path.
var pathKeys = []string{"file_path", "notebook_path", "absolute_path", "filePath", "path", "target_file"}

// filesRead lists the files the read tools of events read, in order,
// without duplicates. Search tools (Glob, Grep, LS) name directories and
// patterns, not files read, and are left out.
func filesRead(events []ToolEvent) []string {
	var out []string
	for _, e := range events {
		if kindOf(e.ToolName) != kindRead {
			continue
		}
		m, _ := decodeObject(e.Input)
		out = appendUnique(out, str(m, pathKeys...))
	}
	return out
}

// filesModified lists the files the write tools of events changed, in order,
// without duplicates. This, never a model's list, is what an observation's
// files_modified holds.
func filesModified(events []ToolEvent) []string {
	var out []string
	for _, e := range events {
		for _, f := range writtenFiles(e) {
			out = appendUnique(out, f.path)
		}
	}
	return out
}

// patchOp is one file a write tool touched.
type patchOp struct {
	op   string // "update", "add", "delete"
	path string
}

// writtenFiles lists the files one write tool event changed. apply_patch
// events are parsed for their "*** Update File:", "*** Add File:",
// "*** Delete File:" and "*** Move to:" headers; the other write tools name
// their file in their input.
func writtenFiles(e ToolEvent) []patchOp {
	if kindOf(e.ToolName) != kindWrite {
		return nil
	}
	m, text := decodeObject(e.Input)
	name := strings.ToLower(e.ToolName)
	if name == "apply_patch" || name == "patch" {
		return patchFiles(e.Input, m, text)
	}
	p := str(m, pathKeys...)
	if p == "" {
		// Some agents send a patch through a generic edit tool.
		return patchFiles(e.Input, m, text)
	}
	op := "update"
	if name == "write" || name == "write_file" || name == "create_file" {
		op = "write"
	}
	return []patchOp{{op: op, path: p}}
}

// patchFiles finds the file headers of an apply_patch envelope in the
// strings of a tool input (or in its raw text when it is not JSON).
func patchFiles(raw string, m map[string]any, text string) []patchOp {
	var texts []string
	if m != nil {
		collectStrings(m, &texts)
	} else if text != raw {
		texts = []string{text}
	} else {
		var v any
		if json.Unmarshal([]byte(raw), &v) == nil {
			collectStrings(v, &texts)
		} else {
			texts = []string{raw}
		}
	}
	var out []patchOp
	for _, t := range texts {
		if !strings.Contains(t, "*** ") {
			continue
		}
		for line := range strings.Lines(t) {
			line = strings.TrimSpace(line)
			for _, h := range patchHeaders {
				if rest, ok := strings.CutPrefix(line, h.prefix); ok {
					if p := strings.TrimSpace(rest); p != "" && !slices.Contains(out, patchOp{h.op, p}) {
						out = append(out, patchOp{op: h.op, path: p})
					}
				}
			}
		}
	}
	return out
}

var patchHeaders = []struct{ prefix, op string }{
	{"*** Update File:", "update"},
	{"*** Add File:", "add"},
	{"*** Delete File:", "delete"},
	{"*** Move to:", "add"},
}

func collectStrings(v any, out *[]string) {
	switch v := v.(type) {
	case string:
		*out = append(*out, v)
	case []any:
		for _, x := range v {
			collectStrings(x, out)
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys) // deterministic order
		for _, k := range keys {
			collectStrings(v[k], out)
		}
	}
}

func appendUnique(list []string, s ...string) []string {
	for _, x := range s {
		if x = strings.TrimSpace(x); x != "" && !slices.Contains(list, x) {
			list = append(list, x)
		}
	}
	return list
}

// shellCommand extracts the command line of a shell tool input: a string
// "command" (Claude Code), or an argv array (Codex: ["bash", "-lc", "…"]).
func shellCommand(input string) string {
	m, text := decodeObject(input)
	if m == nil {
		return strings.TrimSpace(text)
	}
	for _, k := range []string{"command", "cmd", "script"} {
		switch v := m[k].(type) {
		case string:
			return strings.TrimSpace(v)
		case []any:
			var argv []string
			for _, a := range v {
				if s, ok := a.(string); ok {
					argv = append(argv, s)
				}
			}
			if len(argv) >= 3 && (argv[1] == "-lc" || argv[1] == "-c") {
				return strings.TrimSpace(argv[len(argv)-1])
			}
			return strings.TrimSpace(strings.Join(argv, " "))
		}
	}
	return ""
}

// relPath shows p relative to cwd when it lies under it.
func relPath(p, cwd string) string {
	cwd = strings.TrimRight(cwd, `/\`)
	if cwd == "" {
		return p
	}
	for _, sep := range []string{"/", `\`} {
		if rest, ok := strings.CutPrefix(p, cwd+sep); ok && rest != "" {
			return rest
		}
	}
	return p
}
