package importer

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws the import's progress bar.
type progress struct {
	w     io.Writer
	tty   bool
	total int64
	doneN int64
	label string
	// n and size are the current table's.
	n, size int64
	last    time.Time
	// verb starts a non-TTY table line: "imported" by default.
	verb string
	// grow adds each table's size to total (total unknown up front).
	grow bool
}

const barWidth = 30

func newProgress(w io.Writer, tty bool, total int64) *progress {
	return &progress{w: w, tty: tty, total: total}
}

// table starts a table of size rows.
func (p *progress) table(label string, size int64) {
	if p.w == nil {
		return
	}
	p.finishTable()
	if p.grow && size > 0 {
		p.total += size
	}
	p.label, p.n, p.size = label, 0, size
	p.draw(true)
}

// add counts n more rows done.
func (p *progress) add(n int64) {
	if p.w == nil {
		return
	}
	p.n += n
	p.doneN += n
	p.draw(false)
}

func (p *progress) finishTable() {
	if p.label == "" {
		return
	}
	if !p.tty {
		verb := p.verb
		if verb == "" {
			verb = "imported"
		}
		fmt.Fprintf(p.w, "%s %s: %d/%d rows\n", verb, p.label, p.n, p.size)
	}
	p.label = ""
}

// done ends the bar.
func (p *progress) done() {
	if p.w == nil {
		return
	}
	if p.tty {
		p.draw(true)
		fmt.Fprintln(p.w)
		return
	}
	p.finishTable()
}

func (p *progress) draw(force bool) {
	if !p.tty {
		return
	}
	if !force && time.Since(p.last) < 50*time.Millisecond && p.doneN < p.total {
		return
	}
	p.last = time.Now()
	frac := 1.0
	if p.total > 0 {
		frac = float64(p.doneN) / float64(p.total)
	}
	filled := int(frac * barWidth)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%%  %d/%d rows  %-14s", strings.Repeat("#", filled), strings.Repeat("-", barWidth-filled),
		frac*100, p.doneN, p.total, p.label)
}

// Progress is the import's progress bar, for the other importers and
// exporters (host/exchange): a bar redrawn in place on a TTY, else one
// "<verb> <label>: n/size rows" line per table.
type Progress struct{ p *progress }

// NewProgress returns a bar on w; the total grows with each table's size.
// verb starts the non-TTY lines ("imported", "exported").
func NewProgress(w io.Writer, tty bool, verb string) *Progress {
	p := newProgress(w, tty, 0)
	p.verb, p.grow = verb, true
	return &Progress{p}
}

// Table starts a table of size rows.
func (p *Progress) Table(label string, size int64) { p.p.table(label, size) }

// Add counts n more rows done.
func (p *Progress) Add(n int64) { p.p.add(n) }

// Done ends the bar.
func (p *Progress) Done() { p.p.done() }
