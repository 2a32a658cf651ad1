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
		fmt.Fprintf(p.w, "imported %s: %d/%d rows\n", p.label, p.n, p.size)
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
