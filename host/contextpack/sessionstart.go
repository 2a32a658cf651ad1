package contextpack

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/claude-mem/claude-mem-server/host/memory"
	"github.com/claude-mem/claude-mem-server/host/search"
)

// claude-mem's en-US time formats.
const (
	headerLayout   = "2006-01-02 3:04pm MST"
	dayLayout      = "Jan 2, 2006"
	dateTimeLayout = "Jan 2, 3:04 PM"
	timeLayout     = "3:04 PM"
)

// legend is the agent format's legend, with the code mode's type icons.
var legend = func() string {
	parts := []string{search.SummaryIcon + "session"}
	for _, t := range search.CodeTypes {
		parts = append(parts, search.TypeIcon(t)+t)
	}
	return "Legend: " + strings.Join(parts, " ")
}()

// compactTime is claude-mem's agent row time: "9:05 AM" → "9:05a".
func compactTime(t string) string {
	t = strings.ToLower(t)
	return strings.NewReplacer(" am", "a", " pm", "p").Replace(t)
}

// item is a row of the SessionStart timeline: an observation or a summary.
type item struct {
	obs *memory.Observation
	sum *memory.Summary
	// at places the row: an observation's time; for a summary, the time of
	// the next older summary (roughly when its session began), as
	// claude-mem places them, except for the newest.
	at   time.Time
	id   int64
	full bool // rendered in full

	// Pre-rendered parts: a row is head + time + tail (a summary row is
	// head alone); a full observation is fullHead + time + fullTail, then
	// detail.
	day, time, file    string
	head, tail         string
	fullHead, fullTail string
	detail             string
}

func (it *item) rank() int {
	if it.obs != nil {
		return 0
	}
	return 1
}

// sessionStart lays out claude-mem's agent-format SessionStart context of
// obs and sums (both newest first; sums has one more than is shown) and
// fits it to the budget.
func sessionStart(req *Request, obs []memory.Observation, sums []memory.Summary) Pack {
	now := req.Now().In(req.Location)
	header := fmt.Sprintf("# [%s] recent context, %s", req.project(), now.Format(headerLayout))
	if len(obs) == 0 && len(sums) == 0 {
		text := fit(header+"\n\nNo previous sessions found.", req.MaxTokens)
		return Pack{Text: text, Tokens: search.EstimateTokens(text), Mode: ModeSessionStart, Empty: true}
	}
	l := &layout{req: req, header: header}
	var items []*item
	for i := range obs {
		o := &obs[i]
		at := o.CreatedAt.In(req.Location)
		it := &item{obs: o, at: o.CreatedAt, id: o.ID, full: i < req.FullCount,
			day: at.Format(dayLayout), time: at.Format(timeLayout), file: search.FirstFile(*o, "")}
		title := oneLine(cmp.Or(o.Title, "Untitled"))
		it.head, it.tail = fmt.Sprintf("%d ", o.ID), " "+search.TypeIcon(o.Type)+" "+title
		if it.full {
			it.fullHead, it.fullTail = fmt.Sprintf("**%d** ", o.ID), " "+search.TypeIcon(o.Type)+" **"+title+"**"
			it.detail = o.Narrative
			if req.FullField == "facts" {
				it.detail = strings.Join(o.Facts, "\n")
			}
		}
		items = append(items, it)
	}
	shown := sums[:min(len(sums), req.MaxSummaries)]
	for i := range shown {
		s := &shown[i]
		at := s.CreatedAt
		if i > 0 && i+1 < len(sums) {
			at = sums[i+1].CreatedAt
		}
		local := at.In(req.Location)
		it := &item{sum: s, at: at, id: s.ID, day: local.Format(dayLayout)}
		it.head = fmt.Sprintf("S%d %s (%s)", s.ID, oneLine(cmp.Or(s.Request, "Session started")), local.Format(dateTimeLayout))
		items = append(items, it)
	}
	// The latest summary's fields, when it is newer than every observation.
	if len(sums) > 0 && !req.HideLastSummary {
		s := sums[0]
		if (s.Investigated != "" || s.Learned != "" || s.Completed != "" || s.NextSteps != "") &&
			(len(obs) == 0 || s.CreatedAt.After(obs[0].CreatedAt)) {
			for _, f := range []struct{ label, value string }{
				{"Investigated", s.Investigated}, {"Learned", s.Learned}, {"Completed", s.Completed}, {"Next Steps", s.NextSteps},
			} {
				if f.value != "" {
					l.lastSummary = append(l.lastSummary, "**"+f.label+"**: "+f.value, "")
				}
			}
		}
	}

	// Admit rows newest first, the latest summary's fields right after the
	// newest row, while the whole text stays within the budget.
	slices.SortFunc(items, func(a, b *item) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		if c := cmp.Compare(b.rank(), a.rank()); c != 0 {
			return c
		}
		return cmp.Compare(b.id, a.id)
	})
	units := make([]*item, 0, len(items)+1) // nil is the latest summary's fields
	for i, it := range items {
		units = append(units, it)
		if i == 0 && l.lastSummary != nil {
			units = append(units, nil)
		}
	}
	l.selected = make(map[*item]bool, len(items))
	set := func(u *item, on bool) {
		if u == nil {
			l.withSummary = on
		} else {
			l.selected[u] = on
		}
	}
	for _, u := range units {
		set(u, true)
	}
	text := l.render(items)
	truncated := !within(text, req.MaxTokens)
	if truncated {
		for _, u := range units {
			set(u, false)
		}
		text = l.render(items)
		if !within(text, req.MaxTokens) {
			text = fit(text, req.MaxTokens)
		} else {
			for _, u := range units {
				set(u, true)
				if t := l.render(items); within(t, req.MaxTokens) {
					text = t
				} else {
					set(u, false)
				}
			}
		}
	}
	p := Pack{Text: text, Tokens: search.EstimateTokens(text), Mode: ModeSessionStart, Truncated: truncated}
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		if !l.selected[it] {
			continue
		}
		if it.obs != nil {
			p.Observations = append(p.Observations, it.id)
		} else {
			p.Summaries = append(p.Summaries, it.id)
		}
	}
	return p
}

// layout renders a SessionStart context with the selected rows.
type layout struct {
	req         *Request
	header      string
	lastSummary []string
	selected    map[*item]bool
	withSummary bool
	lines       []string // reused buffer
}

// render is the agent format: header, legend, stats of the rows shown,
// days oldest first with their rows in time order, the latest summary's
// fields, and the footer. items are newest first.
func (l *layout) render(items []*item) string {
	lines := append(l.lines[:0], l.header, "Mode: Code Development (code)", "",
		legend, "Format: ID TIME TYPE TITLE", "Fetch details: get_observations([IDs]) | Search: mem-search skill", "")
	var n int
	var read, work int64
	for _, it := range items {
		if l.selected[it] && it.obs != nil {
			n++
			read += int64(search.ReadTokens(*it.obs))
			work += it.obs.DiscoveryTokens
		}
	}
	stats := fmt.Sprintf("Stats: %d obs (%st read) | %st work", n, humanize.Comma(read), humanize.Comma(work))
	if work > 0 {
		stats += fmt.Sprintf(" | %d%% savings", jsRound(float64(work-read)/float64(work)*100))
	}
	lines = append(lines, stats, "")

	day := ""
	var file *string
	lastTime, open := "", false
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		if !l.selected[it] {
			continue
		}
		if it.day != day {
			if open {
				lines = append(lines, "")
			}
			day, file, lastTime, open = it.day, nil, "", false
			lines = append(lines, "### "+day)
		}
		if it.sum != nil {
			if open {
				lines = append(lines, "")
				open, file, lastTime = false, nil, ""
			}
			lines = append(lines, it.head)
			continue
		}
		shown := `"`
		if it.time != lastTime {
			shown = compactTime(it.time)
		}
		lastTime = it.time
		if file == nil || *file != it.file {
			if open {
				lines = append(lines, "")
			}
			file, open = &it.file, true
		}
		if it.full {
			if open {
				lines = append(lines, "")
				open = false
			}
			lines = append(lines, it.fullHead+shown+it.fullTail)
			if it.detail != "" {
				lines = append(lines, it.detail)
			}
			lines = append(lines, "")
			file = nil
			continue
		}
		lines = append(lines, it.head+shown+it.tail)
	}
	if open {
		lines = append(lines, "")
	}
	if l.withSummary {
		lines = append(lines, l.lastSummary...)
	}
	if work > 0 && work-read > 0 {
		lines = append(lines, "", fmt.Sprintf("Access %dk tokens of past work via get_observations([IDs]) or mem-search skill.", jsRound(float64(work)/1000)))
	}
	l.lines = lines
	return strings.TrimRight(strings.Join(lines, "\n"), " \t\r\n")
}

// oneLine keeps a title on its row.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
