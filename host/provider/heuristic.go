package provider

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// HeuristicName is the heuristic provider's Name and the model it reports.
const HeuristicName = "heuristic"

// Heuristic derives observations and summaries from tool events by rules,
// without a network or a key. Its output is deterministic: the same events
// give the same observations.
//
// The rules, one observation per meaningful event:
//
//   - a write tool (Edit, MultiEdit, Write, NotebookEdit, write_file,
//     apply_patch, …) gives a "change" observation titled "Edited x",
//     "Created x", "Wrote x", "Deleted x" or "Patched N files", with the
//     paths, relative to the working directory, and concept what-changed;
//     touching a secrets-looking file (.env, *.pem, *.key, id_rsa,
//     credentials) makes it a "security_note" instead;
//   - a shell command gives a "discovery" titled "Ran `cmd`", with the
//     command, exit code, test counts, failing tests and first error line
//     as facts; a commit-like git command is a "change"; a test or build
//     command that failed earlier in the same batch and now passes is a
//     "bugfix" (concept problem-solution);
//   - web fetches and searches, subagent tasks (Task) and approved plans
//     (ExitPlanMode, a "decision") each give one observation; so does any
//     other tool (MCP tools included), titled "Used <tool>".
//
// Pure looking around — Read, Glob, Grep, LS and shell commands that only
// look (ls, cat, grep, git status, …) — does not give one observation per
// event, which would bury the useful ones: all of it in a batch is folded
// into one "discovery" titled "Read x" or "Read N files…", which carries the
// batch's files_read. TodoWrite, AskUserQuestion and similar bookkeeping
// tools give nothing.
type Heuristic struct{}

var _ Provider = (*Heuristic)(nil)

// NewHeuristic returns the heuristic provider.
func NewHeuristic() *Heuristic { return &Heuristic{} }

// Name is "heuristic".
func (*Heuristic) Name() string { return HeuristicName }

// Observe derives the observations of the request's events.
func (*Heuristic) Observe(ctx context.Context, req ObserveRequest) (ObserveResult, error) {
	if err := ctx.Err(); err != nil {
		return ObserveResult{}, err
	}
	var (
		out        []Observation
		exploreIdx = -1
		ex         exploration
		failed     = map[string]bool{} // test/build commands that failed earlier in the batch
	)
	noteExplore := func() {
		if exploreIdx < 0 {
			out = append(out, Observation{})
			exploreIdx = len(out) - 1
		}
	}
	for _, e := range req.Events {
		switch kindOf(e.ToolName) {
		case kindNoise:
			continue
		case kindRead:
			m, _ := decodeObject(e.Input)
			if p := str(m, pathKeys...); p != "" {
				ex.read(p, e.Cwd)
				noteExplore()
			}
		case kindSearch:
			ex.search(searchFact(e))
			noteExplore()
		case kindShell:
			cmd := shellCommand(e.Input)
			if cmd == "" {
				continue
			}
			if classifyCommand(cmd) == cmdLook {
				ex.search("Ran `" + shorten(oneLine(cmd), 120) + "`")
				noteExplore()
				continue
			}
			out = append(out, shellObservation(e, cmd, failed))
		case kindWrite:
			if o, ok := writeObservation(e); ok {
				out = append(out, o)
			}
		case kindWeb:
			out = append(out, webObservation(e))
		case kindDelegate:
			out = append(out, delegateObservation(e))
		case kindPlan:
			if o, ok := planObservation(e); ok {
				out = append(out, o)
			}
		default:
			out = append(out, genericObservation(e))
		}
	}
	if exploreIdx >= 0 {
		out[exploreIdx] = ex.observation()
	}
	return ObserveResult{Observations: out, Usage: Usage{Model: HeuristicName}}, nil
}

// exploration gathers a batch's reads and searches.
type exploration struct {
	files    []string // as given, for files_read
	rel      []string // relative to the working directory, for the title
	searches []string
}

func (x *exploration) read(p, cwd string) {
	if !slices.Contains(x.files, p) {
		x.files = append(x.files, p)
		x.rel = append(x.rel, relPath(p, cwd))
	}
}

func (x *exploration) search(fact string) {
	if fact != "" {
		x.searches = appendUnique(x.searches, fact)
	}
}

func (x *exploration) observation() Observation {
	o := Observation{Type: "discovery", FilesRead: x.files}
	nr, ns := len(x.rel), len(x.searches)
	switch {
	case ns == 0 && nr == 1:
		o.Title = "Read " + x.rel[0]
	case ns == 0:
		o.Title = "Read " + strconv.Itoa(nr) + " files: " + shortList(x.rel, 3)
	case nr == 0 && ns == 1:
		o.Title = x.searches[0]
	case nr == 0:
		o.Title = "Explored the code with " + strconv.Itoa(ns) + " searches"
	default:
		o.Title = "Read " + shortList(x.rel, 2) + " and ran " + plural(ns, "search")
	}
	var parts []string
	if nr > 0 {
		parts = append(parts, plural(nr, "file")+" read")
	}
	if ns > 0 {
		parts = append(parts, plural(ns, "search")+" or listing")
	}
	o.Subtitle = strings.Join(parts, ", ")
	const maxFacts = 10
	for i, s := range x.searches {
		if i == maxFacts {
			o.Facts = append(o.Facts, "(+"+strconv.Itoa(ns-maxFacts)+" more searches)")
			break
		}
		o.Facts = append(o.Facts, s)
	}
	var sentence []string
	if nr > 0 {
		sentence = append(sentence, "read "+shortList(x.rel, 5))
	}
	if ns > 0 {
		sentence = append(sentence, "ran "+plural(ns, "search")+" and listing")
		if ns == 1 {
			sentence[len(sentence)-1] = "ran one search or listing"
		}
	}
	o.Narrative = "Explored the project: " + strings.Join(sentence, "; ") + "."
	return o
}

func searchFact(e ToolEvent) string {
	m, text := decodeObject(e.Input)
	where := str(m, "path", "dir_path", "directory", "cwd")
	if where != "" {
		where = " in " + relPath(where, e.Cwd)
	}
	name := strings.ToLower(e.ToolName)
	switch {
	case name == "glob" || name == "file_search" || name == "find":
		if p := str(m, "pattern", "glob", "query"); p != "" {
			return "Listed files matching `" + shorten(oneLine(p), 120) + "`" + where
		}
	case name == "ls" || strings.HasPrefix(name, "list"):
		if where != "" {
			return "Listed the directory" + strings.TrimPrefix(where, " in")
		}
		return "Listed a directory"
	default:
		if p := str(m, "pattern", "query", "regex", "search"); p != "" {
			return "Searched for `" + shorten(oneLine(p), 120) + "`" + where
		}
	}
	if m == nil && strings.TrimSpace(text) != "" {
		return "Used " + e.ToolName + ": " + shorten(oneLine(text), 120)
	}
	return "Used " + e.ToolName + where
}

func shellObservation(e ToolEvent, cmd string, failedBefore map[string]bool) Observation {
	res := parseShellOutput(e.Output)
	class := classifyCommand(cmd)
	short := shorten(oneLine(cmd), 80)
	o := Observation{Type: "discovery", Title: "Ran `" + short + "`"}
	o.Facts = append(o.Facts, "Command: `"+shorten(oneLine(cmd), 300)+"`")
	if res.hasExit {
		o.Facts = append(o.Facts, "Exit code: "+strconv.Itoa(res.exit))
	}
	if res.interrupted {
		o.Facts = append(o.Facts, "The command was interrupted")
	}
	counts := res.testCounts()
	if counts != "" {
		o.Facts = append(o.Facts, "Tests: "+counts)
	}
	failed := res.failed()
	if tests := res.failingTests(); len(tests) > 0 {
		o.Facts = append(o.Facts, "Failing tests: "+shortList(tests, 5))
	}
	firstErr := ""
	if failed {
		firstErr = res.firstError()
		if firstErr != "" {
			o.Facts = append(o.Facts, "First error: "+firstErr)
		}
	}

	key := strings.Join(strings.Fields(cmd), " ")
	status := "succeeded"
	if failed {
		status = "failed"
	}
	switch {
	case class == cmdCommit:
		o.Type = "change"
		o.Concepts = []string{"what-changed"}
	case (class == cmdTest || class == cmdBuild) && !failed && failedBefore[key]:
		o.Type = "bugfix"
		o.Title = "Made `" + short + "` pass"
		o.Concepts = []string{"problem-solution"}
		status = "passed after failing earlier"
	}
	if class == cmdTest || class == cmdBuild {
		if failed {
			failedBefore[key] = true
		}
		if !failed && status == "succeeded" {
			status = "passed"
		}
	}

	sub := []string{upperFirst(status)}
	if res.hasExit {
		sub[0] += " (exit " + strconv.Itoa(res.exit) + ")"
	}
	if counts != "" {
		sub = append(sub, counts)
	}
	if firstErr != "" {
		sub = append(sub, firstErr)
	}
	o.Subtitle = shorten(strings.Join(sub, "; "), 200)

	o.Narrative = "Ran `" + shorten(oneLine(cmd), 200) + "`"
	if e.Cwd != "" {
		o.Narrative += " in " + e.Cwd
	}
	o.Narrative += "; it " + status + "."
	if firstErr != "" {
		o.Narrative += " The first error was: " + firstErr
	}
	return o
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

var reSensitivePath = regexp.MustCompile(`(?i)(^|[/\\])(\.env(\..*)?|.*\.pem|.*\.key|id_(rsa|ed25519|ecdsa)|credentials(\.json)?|secrets?\.(ya?ml|json|toml))$`)

func writeObservation(e ToolEvent) (Observation, bool) {
	files := writtenFiles(e)
	if len(files) == 0 {
		return Observation{}, false
	}
	m, _ := decodeObject(e.Input)
	name := strings.ToLower(e.ToolName)
	o := Observation{Type: "change", Concepts: []string{"what-changed"}}
	var rel []string
	for _, f := range files {
		o.FilesModified = appendUnique(o.FilesModified, f.path)
		rel = append(rel, relPath(f.path, e.Cwd))
		if reSensitivePath.MatchString(f.path) {
			o.Type = "security_note"
		}
	}
	where := ""
	if e.Cwd != "" {
		where = " in " + e.Cwd
	}
	if len(files) > 1 {
		o.Title = "Patched " + strconv.Itoa(len(files)) + " files: " + shortList(rel, 3)
		var counts []string
		for _, op := range []string{"update", "add", "delete"} {
			n := 0
			for i, f := range files {
				if f.op == op {
					n++
					o.Facts = append(o.Facts, patchVerb(op)+" "+rel[i])
				}
			}
			if n > 0 {
				counts = append(counts, patchVerb(op)+" "+plural(n, "file"))
			}
		}
		o.Subtitle = strings.Join(counts, ", ")
		o.Narrative = "Changed " + plural(len(files), "file") + where + ": " + shortList(rel, 5) + "."
		return o, true
	}
	f, r := files[0], rel[0]
	switch {
	case f.op == "add":
		o.Title = "Created " + r
		o.Subtitle = "Added a new file"
	case f.op == "delete":
		o.Title = "Deleted " + r
		o.Subtitle = "Removed the file"
	case f.op == "write":
		content := str(m, "content", "file_text", "contents")
		out, _ := decodeObject(e.Output)
		verb := "Wrote"
		if str(out, "type") == "create" {
			verb = "Created"
		}
		o.Title = verb + " " + r
		o.Subtitle = verb + " " + plural(lineCount(content), "line")
	case name == "multiedit":
		edits, _ := m["edits"].([]any)
		o.Title = "Edited " + r
		o.Subtitle = "Applied " + plural(len(edits), "edit")
	case name == "notebookedit":
		o.Title = "Edited notebook " + r
		if mode := str(m, "edit_mode"); mode != "" {
			o.Subtitle = upperFirst(mode) + " a cell"
		} else {
			o.Subtitle = "Changed a cell"
		}
	default:
		o.Title = "Edited " + r
		oldS, newS := str(m, "old_string", "old_str", "oldString"), str(m, "new_string", "new_str", "newString")
		if oldS != "" || newS != "" {
			o.Subtitle = "Replaced " + plural(lineCount(oldS), "line") + " with " + strconv.Itoa(lineCount(newS))
			if all, _ := m["replace_all"].(bool); all {
				o.Subtitle += ", every occurrence"
			}
		} else {
			o.Subtitle = "Changed the file"
		}
	}
	o.Facts = append(o.Facts, o.Subtitle+" in "+r)
	o.Narrative = o.Title + where + ": " + strings.ToLower(o.Subtitle[:1]) + o.Subtitle[1:] + "."
	return o, true
}

func patchVerb(op string) string {
	switch op {
	case "add":
		return "Added"
	case "delete":
		return "Deleted"
	}
	return "Updated"
}

func lineCount(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(strings.TrimRight(s, "\n"), "\n") + 1
}

func webObservation(e ToolEvent) Observation {
	m, _ := decodeObject(e.Input)
	o := Observation{Type: "discovery"}
	if u := str(m, "url"); u != "" {
		o.Title = "Fetched " + shorten(oneLine(u), 120)
		if p := str(m, "prompt"); p != "" {
			o.Facts = append(o.Facts, "Looked for: "+shorten(oneLine(p), 200))
		}
	} else {
		q := str(m, "query", "q", "search")
		o.Title = "Searched the web for “" + shorten(oneLine(q), 100) + "”"
	}
	if txt := resultText(e.Output); txt != "" {
		o.Narrative = shorten(firstParagraph(txt), 400)
	} else {
		o.Narrative = o.Title + "."
	}
	return o
}

func delegateObservation(e ToolEvent) Observation {
	m, _ := decodeObject(e.Input)
	desc := str(m, "description", "prompt", "task")
	o := Observation{Type: "discovery", Title: "Delegated: " + shorten(oneLine(desc), 100)}
	if t := str(m, "subagent_type", "agent"); t != "" {
		o.Subtitle = "Subagent " + t
		o.Facts = append(o.Facts, "Subagent: "+t)
	}
	if txt := resultText(e.Output); txt != "" {
		o.Narrative = shorten(firstParagraph(txt), 600)
	} else {
		o.Narrative = "Handed a task to a subagent: " + shorten(oneLine(desc), 200) + "."
	}
	return o
}

var reListItem = regexp.MustCompile(`^\s*(?:[-*+]|\d+[.)])\s+(.+)$`)

func planObservation(e ToolEvent) (Observation, bool) {
	m, text := decodeObject(e.Input)
	plan := str(m, "plan")
	if m == nil {
		plan = text
	}
	plan = strings.TrimSpace(plan)
	if plan == "" {
		return Observation{}, false
	}
	o := Observation{Type: "decision"}
	for line := range strings.Lines(plan) {
		if l := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "#")); l != "" {
			o.Title = "Planned: " + shorten(l, 100)
			break
		}
	}
	for line := range strings.Lines(plan) {
		if sm := reListItem.FindStringSubmatch(line); sm != nil && len(o.Facts) < 8 {
			o.Facts = append(o.Facts, shorten(strings.TrimSpace(sm[1]), 200))
		}
	}
	o.Narrative = shorten(firstParagraph(plan), 600)
	return o, true
}

func genericObservation(e ToolEvent) Observation {
	name := strings.TrimSpace(e.ToolName)
	o := Observation{Type: "discovery", Title: "Used " + shorten(oneLine(name), 100)}
	if rest, ok := strings.CutPrefix(name, "mcp__"); ok {
		if server, tool, ok := strings.Cut(rest, "__"); ok {
			o.Title = "Used " + tool + " (MCP " + server + ")"
		}
	}
	if in := strings.TrimSpace(e.Input); in != "" && in != "{}" && in != "null" {
		o.Facts = append(o.Facts, "Input: "+shorten(oneLine(in), 200))
	}
	if txt := resultText(e.Output); txt != "" {
		o.Narrative = shorten(firstParagraph(txt), 400)
	} else {
		o.Narrative = o.Title + "."
	}
	return o
}

// resultText is the readable text of a tool response: a string, a "text",
// "result" or "output" field, or the text parts of a "content" array.
func resultText(out string) string {
	m, text := decodeObject(out)
	if m == nil {
		return strings.TrimSpace(text)
	}
	if s := str(m, "result", "text", "output", "content", "summary"); s != "" {
		return strings.TrimSpace(s)
	}
	if parts, ok := m["content"].([]any); ok {
		var b []string
		for _, p := range parts {
			if pm, ok := p.(map[string]any); ok {
				if t := str(pm, "text"); t != "" {
					b = append(b, t)
				}
			}
		}
		return strings.TrimSpace(strings.Join(b, "\n"))
	}
	return ""
}

// firstParagraph is the text up to the first blank line, on one line.
func firstParagraph(s string) string {
	s = strings.TrimSpace(s)
	var lines []string
	for line := range strings.Lines(s) {
		l := strings.TrimSpace(line)
		if l == "" {
			if len(lines) > 0 {
				break
			}
			continue
		}
		lines = append(lines, strings.TrimSpace(strings.TrimLeft(l, "#")))
	}
	return strings.Join(lines, " ")
}

var (
	reLearned   = regexp.MustCompile(`(?i)^\W*(?:the )?(root cause|the (bug|issue|problem|cause) (was|is)|learned|i found|found that|it turns out|turns out|the reason)\b`)
	reNextSteps = regexp.MustCompile(`(?i)^\W*(next steps?|todo|to do|remaining|follow[- ]ups?|what'?s left|still to do|left to do)\b`)
)

// Summarize derives a summary: the request is the user's prompt, completed
// is the first paragraph of the agent's final answer, learned and
// next_steps are the paragraphs (or sections) of that answer that start
// like "Root cause…", "It turns out…" or "Next steps:", and investigated
// lists what the turn's events read, searched and ran. It returns no
// summary when there is nothing to say.
func (*Heuristic) Summarize(ctx context.Context, req SummarizeRequest) (SummarizeResult, error) {
	if err := ctx.Err(); err != nil {
		return SummarizeResult{}, err
	}
	s := &Summary{
		Request:     shorten(strings.TrimSpace(req.UserRequest), 2000),
		FilesRead:   filesRead(req.Events),
		FilesEdited: filesModified(req.Events),
	}
	paras := paragraphs(req.LastAssistantMessage)
	if len(paras) > 0 {
		s.Completed = shorten(paras[0], 1000)
	}
	for i, p := range paras {
		switch {
		case s.Learned == "" && i > 0 && reLearned.MatchString(p):
			s.Learned = shorten(p, 1000)
		case s.NextSteps == "" && reNextSteps.MatchString(p):
			s.NextSteps = shorten(p, 1000)
		}
	}
	s.Investigated = investigated(req.Events)
	if s.Request == "" && s.Completed == "" && s.Investigated == "" && s.Learned == "" && s.NextSteps == "" {
		return SummarizeResult{Usage: Usage{Model: HeuristicName}}, nil
	}
	return SummarizeResult{Summary: s, Usage: Usage{Model: HeuristicName}}, nil
}

// paragraphs splits Markdown text at blank lines, joining each paragraph's
// lines; a heading line followed directly by a list stays with the list.
func paragraphs(s string) []string {
	var out, cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, " "))
			cur = nil
		}
	}
	for line := range strings.Lines(strings.TrimSpace(s)) {
		l := strings.TrimSpace(line)
		if l == "" {
			// A heading ("Next steps:") directly followed by a blank line and a
			// list keeps the list.
			if len(cur) == 1 && strings.HasSuffix(cur[0], ":") {
				continue
			}
			flush()
			continue
		}
		if strings.HasPrefix(l, "#") {
			flush()
			l = strings.TrimSpace(strings.TrimLeft(l, "#"))
			if l == "" {
				continue
			}
			l += ":"
			if strings.HasSuffix(l, "::") {
				l = l[:len(l)-1]
			}
		}
		cur = append(cur, l)
	}
	flush()
	return out
}

func investigated(events []ToolEvent) string {
	var reads, cmds []string
	searches := 0
	for _, e := range events {
		switch kindOf(e.ToolName) {
		case kindRead:
			m, _ := decodeObject(e.Input)
			if p := str(m, pathKeys...); p != "" {
				reads = appendUnique(reads, relPath(p, e.Cwd))
			}
		case kindSearch:
			searches++
		case kindShell:
			if c := shellCommand(e.Input); c != "" {
				cmds = appendUnique(cmds, "`"+shorten(oneLine(c), 60)+"`")
			}
		}
	}
	var parts []string
	if len(reads) > 0 {
		parts = append(parts, "read "+shortList(reads, 5))
	}
	if searches > 0 {
		parts = append(parts, "ran "+plural(searches, "search"))
	}
	if len(cmds) > 0 {
		parts = append(parts, "ran "+shortList(cmds, 5))
	}
	if len(parts) == 0 {
		return ""
	}
	return upperFirst(strings.Join(parts, "; ")) + "."
}
