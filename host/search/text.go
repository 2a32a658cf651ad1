package search

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/claude-mem/claude-mem-server/host/memory"
)

// The code mode's observation types in legend order, with their icons, and
// its concepts (claude-mem's plugin/modes/code.json).
var (
	CodeTypes    = []string{"bugfix", "feature", "refactor", "change", "discovery", "decision", "security_alert", "security_note", "sensitive"}
	CodeConcepts = []string{"how-it-works", "why-it-exists", "what-changed", "problem-solution", "gotcha", "pattern", "trade-off"}
	typeIcons    = map[string]string{"bugfix": "●", "feature": "◆", "refactor": "↻", "change": "✓", "discovery": "○",
		"decision": "⚖", "security_alert": "⚠", "security_note": "⚷", "sensitive": "⊘"}
)

// Icons of the rows that are not observations.
const (
	SummaryIcon = "🎯"
	PromptIcon  = "💬"
	unknownIcon = "•"
)

// TypeIcon is the icon of an observation type ("•" for a type the code
// mode does not know).
func TypeIcon(typ string) string {
	if icon, ok := typeIcons[typ]; ok {
		return icon
	}
	return unknownIcon
}

// Chars is the length of s as JavaScript counts it (UTF-16 code units),
// which is what claude-mem's token estimates divide by four.
func Chars(s string) int {
	n := 0
	for _, r := range s {
		if r == utf8.RuneError {
			n++
			continue
		}
		n += utf16.RuneLen(r)
	}
	return n
}

// EstimateTokens is claude-mem's token estimate: ceil(Chars(s) / 4).
func EstimateTokens(s string) int { return (Chars(s) + 3) / 4 }

// ReadTokens is what reading an observation in full costs, as claude-mem
// estimates it: ceil((title + subtitle + narrative + facts as JSON) / 4).
func ReadTokens(o memory.Observation) int {
	facts := o.Facts
	if facts == nil {
		facts = []string{}
	}
	b, _ := json.Marshal(facts)
	return int(math.Ceil(float64(Chars(o.Title)+Chars(o.Subtitle)+Chars(o.Narrative)+Chars(string(b))) / 4))
}

// Time formats of claude-mem's en-US locale output.
const (
	timeLayout     = "3:04 PM"
	dateLayout     = "Jan 2, 2006"
	dateTimeLayout = "Jan 2, 3:04 PM"
)

// TextOptions are how text is rendered.
type TextOptions struct {
	// Location is the time zone of times and days; nil is time.Local.
	Location *time.Location
	// Cwd makes absolute file paths relative, as claude-mem shows them.
	Cwd string
}

func (o TextOptions) in(t time.Time) time.Time {
	if o.Location == nil {
		return t.Local()
	}
	return t.In(o.Location)
}

// FirstFile is the file an observation is grouped under: its first
// modified file, else its first read file, relative to cwd when absolute,
// else "General".
func FirstFile(o memory.Observation, cwd string) string {
	for _, list := range [][]string{o.FilesModified, o.FilesRead} {
		if len(list) > 0 {
			f := list[0]
			if cwd != "" && filepath.IsAbs(f) {
				if rel, err := filepath.Rel(cwd, f); err == nil {
					return rel
				}
			}
			return f
		}
	}
	return "General"
}

// quoteText is user text shown between quotes: valid UTF-8 on one line.
func quoteText(s string) string { return oneLine(strings.ToValidUTF8(s, "\uFFFD")) }

// oneLine keeps a value on its table row.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// cut shortens s to n runes, adding suffix when it does.
func cut(s string, n int, suffix string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + suffix
}

// title is what an index row shows for a hit.
func (h Hit) title() string {
	switch {
	case h.Observation != nil:
		return oneLine(cmp.Or(h.Observation.Title, "Untitled"))
	case h.Summary != nil:
		if h.Summary.Request != "" {
			return oneLine(h.Summary.Request)
		}
		return "Session " + cut(h.Summary.MemorySessionID, 8, "")
	case h.Prompt != nil:
		t := oneLine(h.Prompt.Text)
		if utf8.RuneCountInString(t) > 60 {
			t = cut(t, 57, "...")
		}
		return t
	}
	return ""
}

// Text renders the result as the index that claude-mem's search tool
// returns: a count line, then per day (oldest first) and per first file
// (observations; other rows are "General") a table
// "| ID | Time | T | Title | Read |" with #<id>, #S<id> and #P<id> ids,
// ″ for a time repeated from the row above, and the estimated tokens of
// reading an observation in full.
func (r Result) Text(opt TextOptions) string {
	var obs, sums, prompts int
	for _, h := range r.Hits {
		switch h.Kind {
		case KindObservation:
			obs++
		case KindSummary:
			sums++
		default:
			prompts++
		}
	}
	if len(r.Hits) == 0 {
		if r.Query == "" {
			return "No results found"
		}
		return `No results found matching "` + quoteText(r.Query) + `"`
	}
	var b strings.Builder
	matching := ""
	if r.Query != "" {
		matching = ` matching "` + quoteText(r.Query) + `"`
	}
	fmt.Fprintf(&b, "Found %d result(s)%s (%d obs, %d sessions, %d prompts)\n\n", len(r.Hits), matching, obs, sums, prompts)
	for _, day := range byDay(r.Hits, opt) {
		fmt.Fprintf(&b, "### %s\n\n", day.name)
		var files []string
		byFile := map[string][]Hit{}
		for _, h := range day.hits {
			f := "General"
			if h.Observation != nil {
				f = FirstFile(*h.Observation, opt.Cwd)
			}
			if _, ok := byFile[f]; !ok {
				files = append(files, f)
			}
			byFile[f] = append(byFile[f], h)
		}
		for _, f := range files {
			fmt.Fprintf(&b, "**%s**\n| ID | Time | T | Title | Read |\n|----|------|---|-------|------|\n", f)
			last := ""
			for _, h := range byFile[f] {
				t := opt.in(h.CreatedAt).Format(timeLayout)
				shown := t
				if t == last {
					shown = "″"
				}
				last = t
				switch h.Kind {
				case KindObservation:
					icon, read := unknownIcon, 0
					if h.Observation != nil {
						icon, read = TypeIcon(h.Observation.Type), ReadTokens(*h.Observation)
					}
					fmt.Fprintf(&b, "| #%d | %s | %s | %s | ~%d |\n", h.ID, shown, icon, h.title(), read)
				case KindSummary:
					fmt.Fprintf(&b, "| #S%d | %s | %s | %s | - |\n", h.ID, shown, SummaryIcon, h.title())
				default:
					fmt.Fprintf(&b, "| #P%d | %s | %s | %s | - |\n", h.ID, shown, PromptIcon, h.title())
				}
			}
			b.WriteString("\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

type dayGroup struct {
	name string
	date time.Time
	hits []Hit
}

// byDay groups hits by their local day, days oldest first, hits in order.
func byDay(hits []Hit, opt TextOptions) []dayGroup {
	var days []dayGroup
	index := map[string]int{}
	for _, h := range hits {
		t := opt.in(h.CreatedAt)
		name := t.Format(dateLayout)
		i, ok := index[name]
		if !ok {
			i = len(days)
			index[name] = i
			days = append(days, dayGroup{name: name, date: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)})
		}
		days[i].hits = append(days[i].hits, h)
	}
	slices.SortStableFunc(days, func(a, b dayGroup) int { return a.date.Compare(b.date) })
	return days
}

// Text renders the timeline as claude-mem's timeline tool does: a title,
// the window, then per day the rows in order: summaries and prompts on
// their own lines, observations in per-file tables with their narrative's
// estimated tokens, the anchor marked.
func (t Timeline) Text(opt TextOptions) string {
	if len(t.Items) == 0 {
		if t.Query != "" {
			return fmt.Sprintf("Found observation matching \"%s\", but no timeline context available (%d records before, %d records after).",
				quoteText(t.Query), t.DepthBefore, t.DepthAfter)
		}
		return fmt.Sprintf("No context found around anchor (%d records before, %d records after)", t.DepthBefore, t.DepthAfter)
	}
	var b strings.Builder
	if t.Query != "" {
		fmt.Fprintf(&b, "# Timeline for query: \"%s\"\n**Anchor:** Observation #%d - %s\n", quoteText(t.Query), t.Anchor.ID, cmp.Or(t.AnchorTitle, "Untitled"))
	} else {
		fmt.Fprintf(&b, "# Timeline around anchor: %s\n", t.Anchor.Label)
	}
	fmt.Fprintf(&b, "**Window:** %d records before -> %d records after | **Items:** %d\n\n", t.DepthBefore, t.DepthAfter, len(t.Items))
	isAnchor := func(h Hit) bool { return t.Anchor.Kind != "" && h.Kind == t.Anchor.Kind && h.ID == t.Anchor.ID }
	for _, day := range byDay(t.Items, opt) {
		fmt.Fprintf(&b, "### %s\n\n", day.name)
		file, last, open := "", "", false
		for _, h := range day.hits {
			marker := ""
			if isAnchor(h) {
				marker = " <- **ANCHOR**"
			}
			when := opt.in(h.CreatedAt)
			switch h.Kind {
			case KindSummary, KindPrompt:
				if open {
					b.WriteString("\n")
					open, file, last = false, "", ""
				}
				if h.Kind == KindSummary {
					title := "Session summary"
					if h.Summary != nil && h.Summary.Request != "" {
						title = oneLine(h.Summary.Request)
					}
					fmt.Fprintf(&b, "**%s #S%d** %s (%s)%s\n\n", SummaryIcon, h.ID, title, when.Format(dateTimeLayout), marker)
				} else {
					number, text := 0, ""
					if h.Prompt != nil {
						number, text = h.Prompt.Number, oneLine(h.Prompt.Text)
					}
					fmt.Fprintf(&b, "**%s User Prompt #%d** (%s)\n> %s\n\n", PromptIcon, number, when.Format(dateTimeLayout), cut(text, 100, "..."))
				}
			default:
				f, title, icon, tokens := "General", "Untitled", unknownIcon, 0
				if h.Observation != nil {
					f, title, icon, tokens = FirstFile(*h.Observation, opt.Cwd), h.title(), TypeIcon(h.Observation.Type), EstimateTokens(h.Observation.Narrative)
				}
				if f != file || !open {
					if open {
						b.WriteString("\n")
					}
					fmt.Fprintf(&b, "**%s**\n| ID | Time | T | Title | Tokens |\n|----|------|---|-------|--------|\n", f)
					file, open, last = f, true, ""
				}
				tm := when.Format(timeLayout)
				shown := tm
				if tm == last {
					shown = `"`
				}
				last = tm
				fmt.Fprintf(&b, "| #%d | %s | %s | %s%s | ~%d |\n", h.ID, shown, icon, title, marker, tokens)
			}
		}
		if open {
			b.WriteString("\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
