// Package audit is the audit log: an append-only table (audit_log, store
// migration 0005) recording who did what, with which key, to which team and
// project, when, in which request, and, for reads, which memories were
// returned, so that it is known what was recalled and by whom.
//
// Entries are written by one goroutine in batches, off the request path;
// Close flushes what is pending. Rows older than the retention are pruned
// hourly. The table refuses updates, and deletes of rows younger than a
// day, so pruning is the only way a row leaves it.
package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/claude-mem/claude-mem-server/host/store"
)

// Entry is one row of the audit log.
type Entry struct {
	ID        int64     `json:"id"`
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor"`
	KeyID     string    `json:"key_id,omitempty"`
	TeamID    string    `json:"team_id"`
	ProjectID int64     `json:"project_id,omitempty"`
	Action    string    `json:"action"`
	Resource  string    `json:"resource,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	Status    int       `json:"status,omitempty"`
	// MemoryIDs are the memories a read returned: "obs:12", "sum:3",
	// "prompt:7".
	MemoryIDs []string `json:"memory_ids"`
}

// Memory ID kinds, see MemoryID.
const (
	KindObservation = "obs"
	KindSummary     = "sum"
	KindPrompt      = "prompt"
	KindEvent       = "event"
)

// MemoryID names a memory in Entry.MemoryIDs: MemoryID("obs", 12) is
// "obs:12".
func MemoryID(kind string, id int64) string { return kind + ":" + strconv.FormatInt(id, 10) }

// Defaults of Options.
const (
	DefaultFlushEvery = 100 * time.Millisecond
	pruneEvery        = time.Hour
	batchSize         = 256
	bufferSize        = 4096
)

// Options configure a Log.
type Options struct {
	// Retention is how long rows are kept; 0 keeps them forever. The
	// table refuses to delete rows younger than a day.
	Retention time.Duration
	// FlushEvery bounds how long an entry waits before it is written.
	// Default: 100ms.
	FlushEvery time.Duration
	Logger     hclog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Log is the audit log.
type Log struct {
	st   *store.Store
	opts Options
	log  hclog.Logger

	mu     sync.RWMutex
	closed bool
	in     chan Entry
	flush  chan chan struct{}
	stop   chan struct{}
	done   chan struct{}
}

// New starts the log's writer and pruner. Close stops them.
func New(st *store.Store, opts Options) *Log {
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = DefaultFlushEvery
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := &Log{
		st: st, opts: opts, log: opts.Logger,
		in: make(chan Entry, bufferSize), flush: make(chan chan struct{}), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go l.run()
	return l
}

// Record queues e. A zero Time is now. It never fails: a write error is
// logged. After Close, entries are dropped with a warning.
func (l *Log) Record(e Entry) {
	if e.Time.IsZero() {
		e.Time = l.opts.Now()
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		l.log.Warn("audit entry after close dropped", "action", e.Action, "request_id", e.RequestID)
		return
	}
	l.in <- e
}

// Flush waits until every entry recorded before it is written.
func (l *Log) Flush(ctx context.Context) error {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return nil
	}
	ack := make(chan struct{})
	select {
	case l.flush <- ack:
	case <-ctx.Done():
		l.mu.RUnlock()
		return ctx.Err()
	}
	l.mu.RUnlock()
	select {
	case <-ack:
		return nil
	case <-l.done: // closed meanwhile: Close wrote everything
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is pending and stops the log. It is idempotent.
func (l *Log) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	close(l.stop)
	l.mu.Unlock()
	<-l.done
}

func (l *Log) run() {
	defer close(l.done)
	tick := time.NewTicker(l.opts.FlushEvery)
	defer tick.Stop()
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	l.prune()
	var batch []Entry
	write := func() {
		if len(batch) > 0 {
			l.write(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case e := <-l.in:
			batch = append(batch, e)
			if len(batch) >= batchSize {
				write()
			}
		case <-tick.C:
			write()
		case ack := <-l.flush:
			// Everything recorded before Flush was called is in l.in.
			for drained := false; !drained; {
				select {
				case e := <-l.in:
					batch = append(batch, e)
				default:
					drained = true
				}
			}
			write()
			close(ack)
		case <-prune.C:
			l.prune()
		case <-l.stop:
			for drained := false; !drained; {
				select {
				case e := <-l.in:
					batch = append(batch, e)
				default:
					drained = true
				}
			}
			write()
			return
		}
	}
}

func (l *Log) write(batch []Entry) {
	err := l.st.Tx(context.Background(), func(tx *sql.Tx) error {
		stmt, err := tx.Prepare(`INSERT INTO audit_log (created_at_epoch, actor, api_key_id, team_id, project_id, action, resource, request_id, status, memory_ids)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, e := range batch {
			ids := e.MemoryIDs
			if ids == nil {
				ids = []string{}
			}
			b, _ := json.Marshal(ids)
			var project sql.NullInt64
			if e.ProjectID != 0 {
				project = sql.NullInt64{Int64: e.ProjectID, Valid: true}
			}
			if _, err := stmt.Exec(e.Time.UnixMilli(), e.Actor, e.KeyID, e.TeamID, project, e.Action, e.Resource, e.RequestID, e.Status, string(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		l.log.Error("audit entries could not be written", "count", len(batch), "error", err)
	}
}

func (l *Log) prune() {
	if l.opts.Retention <= 0 {
		return
	}
	n, err := l.Prune(context.Background(), l.opts.Now().Add(-l.opts.Retention))
	if err != nil {
		l.log.Warn("audit retention pruning failed", "error", err)
		return
	}
	if n > 0 {
		l.log.Info("pruned audit entries past their retention", "count", n, "retention", l.opts.Retention.String())
	}
}

// Prune deletes the entries older than before and returns how many.
func (l *Log) Prune(ctx context.Context, before time.Time) (int64, error) {
	res, err := l.st.Writer().ExecContext(ctx, `DELETE FROM audit_log WHERE created_at_epoch < ?`, before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("audit: prune: %w", err)
	}
	return res.RowsAffected()
}

// Filter selects entries. Zero fields select everything.
type Filter struct {
	// TeamID keeps one team's entries; "" keeps every team's.
	TeamID string
	// ProjectID keeps one project's entries.
	ProjectID int64
	Action    string
	KeyID     string
	Actor     string
	// Since and Until bound the time, both inclusive.
	Since, Until time.Time
	// Before is the paging cursor: only entries with a smaller ID.
	Before int64
	// Limit is the page size: default DefaultLimit, at most MaxLimit.
	Limit int
}

// Page sizes of Query.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// ErrBadFilter is returned for a filter Query cannot run.
var ErrBadFilter = errors.New("audit: bad filter")

// Query returns entries newest first, and the cursor of the next page (0
// when this is the last).
func (l *Log) Query(ctx context.Context, f Filter) ([]Entry, int64, error) {
	switch {
	case f.Limit < 0 || f.Limit > MaxLimit:
		return nil, 0, fmt.Errorf("%w: limit %d is not between 1 and %d", ErrBadFilter, f.Limit, MaxLimit)
	case f.Limit == 0:
		f.Limit = DefaultLimit
	}
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.TeamID != "" {
		add("team_id = ?", f.TeamID)
	}
	if f.ProjectID != 0 {
		add("project_id = ?", f.ProjectID)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.KeyID != "" {
		add("api_key_id = ?", f.KeyID)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if !f.Since.IsZero() {
		add("created_at_epoch >= ?", f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		add("created_at_epoch <= ?", f.Until.UnixMilli())
	}
	if f.Before > 0 {
		add("id < ?", f.Before)
	}
	q := `SELECT id, created_at_epoch, actor, api_key_id, team_id, project_id, action, resource, request_id, status, memory_ids FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit)
	rows, err := l.st.Reader().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: query: %w", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var (
			e       Entry
			at      int64
			project sql.NullInt64
			ids     string
		)
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.KeyID, &e.TeamID, &project, &e.Action, &e.Resource, &e.RequestID, &e.Status, &ids); err != nil {
			return nil, 0, fmt.Errorf("audit: query: %w", err)
		}
		e.Time = time.UnixMilli(at).UTC()
		e.ProjectID = project.Int64
		if err := json.Unmarshal([]byte(ids), &e.MemoryIDs); err != nil || e.MemoryIDs == nil {
			e.MemoryIDs = []string{}
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("audit: query: %w", err)
	}
	var next int64
	if len(out) == f.Limit {
		next = out[len(out)-1].ID
	}
	return out, next, nil
}
