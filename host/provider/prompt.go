package provider

import (
	"strconv"
	"strings"
	"time"
)

// Label is an observation type or concept and what it means.
type Label struct{ ID, Meaning string }

// ObservationTypes are the observation types of claude-mem's "code" mode,
// in its order (the first is the default for an observation without a
// type), with the guidance the prompts give for each.
var ObservationTypes = []Label{
	{"bugfix", "something that was broken now works"},
	{"feature", "a new capability or behaviour was added"},
	{"refactor", "code was restructured without changing what it does"},
	{"change", "any other modification: configuration, documentation, dependencies, chores"},
	{"discovery", "something was learned about how the existing system works"},
	{"decision", "a choice between approaches was made, with its reasons"},
	{"security_alert", "a vulnerability, leaked secret or dangerous behaviour was found"},
	{"security_note", "a security-relevant fact or hardening that is not an emergency"},
	{"sensitive", "the work touched personal or confidential data that deserves care"},
}

// Concepts are the concept tags of claude-mem's "code" mode.
var Concepts = []Label{
	{"how-it-works", "explains a mechanism"},
	{"why-it-exists", "explains the reason behind code or a design"},
	{"what-changed", "records a modification"},
	{"problem-solution", "pairs a problem with what solved it"},
	{"gotcha", "a trap, surprise or non-obvious constraint"},
	{"pattern", "a reusable convention or idiom of the codebase"},
	{"trade-off", "what was gained and what was given up"},
}

// Prompt is one model call: a system prompt and one user message.
type Prompt struct {
	System string
	User   string
}

// EstimateTokens estimates the prompt's input tokens (characters / 4).
func (p Prompt) EstimateTokens() int64 { return EstimateTokens(p.System) + EstimateTokens(p.User) }

// Caps on the short fields of an event block; the payloads get the
// configured MaxInputChars.
const (
	maxToolNameChars = 200
	maxCwdChars      = 1000
)

var observeSystem = buildObserveSystem()

func buildObserveSystem() string {
	var b strings.Builder
	b.WriteString(`You keep the long-term memory of a software project. A coding agent is working in the project (the "primary session"); you are shown the tool calls it made and what they returned. You have no tools of your own and you do not talk to the agent: you only read the events and write memory entries.

Write down what a developer picking this project up next week would want to find again: what was learned about the code, what was built, fixed, changed or decided, and why. Leave out the mechanics of the session ("opened a file", "ran ls"), routine steps that taught nothing, and anything you would have to guess.

Guidelines:
- Describe the work and the project in the past tense ("Added a retry to the queue client"), never the agent or yourself.
- Be specific: name files, functions, commands, error messages and numbers.
- One observation per distinct piece of knowledge; several events that belong to the same piece of work become one observation.
- When nothing in the events is worth keeping, answer with an empty message.
- Answer only with <observation> elements: no prose before or after them, no Markdown, no code fences.

Each observation has this shape:
<observation>
  <type>exactly one type from the list below</type>
  <title>a short headline naming the subject</title>
  <subtitle>one sentence, at most 24 words</subtitle>
  <facts>
    <fact>one self-contained, specific statement per fact</fact>
  </facts>
  <narrative>two to five sentences: the context, what happened, and why it matters</narrative>
  <concepts>
    <concept>two to five concept keywords from the list below, bare, without explanations</concept>
  </concepts>
  <files_read>
    <file>a path the events read</file>
  </files_read>
  <files_modified>
    <file>a path the events changed</file>
  </files_modified>
</observation>

Types:
`)
	for _, t := range ObservationTypes {
		b.WriteString("- " + t.ID + ": " + t.Meaning + "\n")
	}
	b.WriteString("\nConcepts (the type is not a concept):\n")
	for _, c := range Concepts {
		b.WriteString("- " + c.ID + ": " + c.Meaning + "\n")
	}
	return b.String()
}

const summarizeSystem = `You keep the long-term memory of a software project. A coding agent has just finished a turn of work for its user (the "primary session"). You have no tools and you do not talk to the agent: you read the user's request, the tools the agent used and its final answer, and you write a progress summary of the turn.

Answer with exactly one <summary> element and nothing else (no prose, no Markdown, no code fences):
<summary>
  <request>what the user asked for, in one or two sentences</request>
  <investigated>what was looked at or explored to do it</investigated>
  <learned>what was found out about the project or the problem</learned>
  <completed>what was done and now works</completed>
  <next_steps>what remains to be done, or what the user is likely to ask next</next_steps>
  <notes>anything else worth keeping: caveats, open questions, decisions</notes>
</summary>

Leave an element empty when there is nothing to say. When the turn did no real work (a greeting, a question answered from memory, an aborted request), answer instead with <skip_summary reason="a few words on why"/>.
`

// ObservePrompt builds the prompt that asks for the observations of a batch
// of events. Each event's input and output is cut to maxChars (keeping head
// and tail, see Truncate), as is the user request, so the prompt grows by a
// bounded amount per event whatever the tools returned. maxChars <= 0 means
// no cap.
func ObservePrompt(req ObserveRequest, maxChars int) Prompt {
	var b strings.Builder
	b.WriteString("MEMORY PROCESSING\n\n")
	writeRequestBlock(&b, req.UserRequest, firstTime(req.Events), maxChars)
	for i := range req.Events {
		writeEventBlock(&b, &req.Events[i], maxChars)
	}
	b.WriteString("Record what is worth remembering from the ")
	b.WriteString(strconv.Itoa(len(req.Events)))
	if len(req.Events) == 1 {
		b.WriteString(" tool event above")
	} else {
		b.WriteString(" tool events above")
	}
	b.WriteString(" as <observation> elements, or answer with an empty message if nothing is.\n")
	return Prompt{System: observeSystem, User: b.String()}
}

// maxSummaryTools bounds the tool lines a summary prompt lists.
const maxSummaryTools = 50

// SummarizePrompt builds the prompt that asks for a turn's summary. The
// request and the last assistant message are cut to maxChars each; the
// turn's events are listed one line each (tool and file or command, at most
// 50 lines), never with their payloads.
func SummarizePrompt(req SummarizeRequest, maxChars int) Prompt {
	var b strings.Builder
	b.WriteString("--- PROGRESS SUMMARY ---\n\n")
	writeRequestBlock(&b, req.UserRequest, firstTime(req.Events), maxChars)
	if len(req.Events) > 0 {
		b.WriteString("Tools the agent used in this turn (")
		b.WriteString(strconv.Itoa(len(req.Events)))
		b.WriteString("):\n")
		start := max(0, len(req.Events)-maxSummaryTools)
		if start > 0 {
			b.WriteString("- (" + strconv.Itoa(start) + " earlier tool calls left out)\n")
		}
		for _, e := range req.Events[start:] {
			b.WriteString("- " + eventLine(e) + "\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("The agent's final answer to the user:\n<last_assistant_message>\n")
	b.WriteString(Truncate(strings.TrimSpace(req.LastAssistantMessage), maxChars))
	b.WriteString("\n</last_assistant_message>\n\nSummarize this turn as one <summary> element, or answer with <skip_summary reason=\"…\"/>.\n")
	return Prompt{System: summarizeSystem, User: b.String()}
}

func firstTime(events []ToolEvent) time.Time {
	for _, e := range events {
		if !e.OccurredAt.IsZero() {
			return e.OccurredAt
		}
	}
	return time.Time{}
}

func writeRequestBlock(b *strings.Builder, request string, at time.Time, maxChars int) {
	request = strings.TrimSpace(request)
	if request == "" && at.IsZero() {
		return
	}
	b.WriteString("<observed_from_primary_session>\n")
	if request != "" {
		b.WriteString("  <user_request>")
		b.WriteString(Truncate(request, maxChars))
		b.WriteString("</user_request>\n")
	}
	if !at.IsZero() {
		b.WriteString("  <requested_at>")
		b.WriteString(at.UTC().Format(time.DateOnly))
		b.WriteString("</requested_at>\n")
	}
	b.WriteString("</observed_from_primary_session>\n\n")
}

func writeEventBlock(b *strings.Builder, e *ToolEvent, maxChars int) {
	b.WriteString("<observed_from_primary_session>\n  <what_happened>")
	b.WriteString(Truncate(oneLine(e.ToolName), maxToolNameChars))
	b.WriteString("</what_happened>\n")
	if !e.OccurredAt.IsZero() {
		b.WriteString("  <occurred_at>")
		b.WriteString(e.OccurredAt.UTC().Format(time.RFC3339))
		b.WriteString("</occurred_at>\n")
	}
	if e.Cwd != "" {
		b.WriteString("  <working_directory>")
		b.WriteString(Truncate(oneLine(e.Cwd), maxCwdChars))
		b.WriteString("</working_directory>\n")
	}
	b.WriteString("  <parameters>")
	b.WriteString(Truncate(strings.TrimSpace(e.Input), maxChars))
	b.WriteString("</parameters>\n  <outcome>")
	b.WriteString(Truncate(strings.TrimSpace(e.Output), maxChars))
	b.WriteString("</outcome>\n</observed_from_primary_session>\n\n")
}

// eventLine describes an event in one short line for the summary prompt.
func eventLine(e ToolEvent) string {
	name := Truncate(oneLine(e.ToolName), maxToolNameChars)
	switch kindOf(e.ToolName) {
	case kindWrite:
		var paths []string
		for _, f := range writtenFiles(e) {
			paths = append(paths, relPath(f.path, e.Cwd))
		}
		if len(paths) > 0 {
			return name + " " + shortList(paths, 3)
		}
	case kindRead:
		m, _ := decodeObject(e.Input)
		if p := str(m, pathKeys...); p != "" {
			return name + " " + relPath(p, e.Cwd)
		}
	case kindShell:
		if c := shellCommand(e.Input); c != "" {
			return name + " `" + shorten(oneLine(c), 120) + "`"
		}
	}
	return name
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i]) + " …"
	}
	return s
}

// shorten cuts s to at most n bytes, ending it with "…" when cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.TrimSpace(s[:cutBack(s, n)]) + "…"
}

func shortList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + " (+" + strconv.Itoa(len(items)-n) + " more)"
}
