package queuesqlite

import (
	"context"
	"database/sql"
	"errors"
	"math"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// maxGroup caps how many calls share one transaction, so that one commit
// never holds up the callers at the back for long.
const maxGroup = 256

// stallReason is the LastError of a job whose lease expired.
const stallReason = "stalled: the lease expired before the job was completed, failed or extended"

// op is one engine call waiting for the writer.
type op struct {
	ctx  context.Context
	fn   func(t *txn) error
	done chan error
}

// txn is the state one group transaction shares between its calls.
type txn struct {
	e     *Engine
	tx    *sql.Tx
	now   int64 // Unix ms, one clock reading for the whole group
	woke  bool  // the commit may make a job ready: wake blocked reservers
	stall int64 // nextStall to publish after commit
	cache map[*sql.Stmt]*sql.Stmt
}

// bg is the context of statements inside a group: a caller that gives up
// must not abort the other callers' work mid-transaction. Callers are
// checked for cancellation before their work starts instead.
var bg = context.Background()

// stmt returns s bound to the transaction.
func (t *txn) stmt(s *sql.Stmt) *sql.Stmt {
	if ts, ok := t.cache[s]; ok {
		return ts
	}
	ts := t.tx.StmtContext(bg, s)
	t.cache[s] = ts
	return ts
}

// do runs fn in a write transaction, possibly shared with other calls, and
// returns fn's error. Once submitted, fn runs unless ctx is done before the
// writer reaches it; do then waits for the outcome even if ctx ends, so that a
// committed lease is never dropped on the floor.
func (e *Engine) do(ctx context.Context, fn func(t *txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.isClosed() {
		return queue.ErrClosed
	}
	o := &op{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case e.ops <- o:
	case <-ctx.Done():
		return ctx.Err()
	case <-e.closing:
		return queue.ErrClosed
	}
	select {
	case err := <-o.done:
		return err
	case <-e.writerDone:
		// The writer may have answered just before it exited.
		select {
		case err := <-o.done:
			return err
		default:
			return queue.ErrClosed
		}
	}
}

// writer is the only user of the write connection. It takes the calls that
// queued up while the previous transaction ran and commits them together.
func (e *Engine) writer() {
	defer close(e.writerDone)
	batch := make([]*op, 0, maxGroup)
	for {
		select {
		case <-e.closing:
			return
		case o := <-e.ops:
			batch = append(batch[:0], o)
		fill:
			for len(batch) < maxGroup {
				select {
				case o := <-e.ops:
					batch = append(batch, o)
				default:
					break fill
				}
			}
			e.runGroup(batch)
			clear(batch) // drop references to finished calls
		}
	}
}

func (e *Engine) runGroup(ops []*op) {
	live := make([]*op, 0, len(ops))
	for _, o := range ops {
		if err := o.ctx.Err(); err != nil {
			o.done <- err
			continue
		}
		live = append(live, o)
	}
	if len(live) == 0 {
		return
	}
	errs, err := e.runTx(live)
	if err != nil {
		if len(live) > 1 {
			// One call broke the shared transaction. Run each alone so that
			// only the guilty one sees an error.
			for _, o := range live {
				e.runGroup([]*op{o})
			}
			return
		}
		live[0].done <- err
		return
	}
	for i, o := range live {
		o.done <- errs[i]
	}
}

// runTx runs ops in one transaction. A domain error (lease lost, not found,
// invalid state) belongs to its call only: the call's function returns it
// before writing anything. Any other error aborts the transaction.
func (e *Engine) runTx(ops []*op) ([]error, error) {
	tx, err := e.wdb.BeginTx(bg, nil)
	if err != nil {
		return nil, err
	}
	t := &txn{e: e, tx: tx, now: e.nowMS(), stall: e.nextStall.Load(), cache: make(map[*sql.Stmt]*sql.Stmt, 4)}
	if err := t.sweep(); err != nil {
		tx.Rollback()
		return nil, err
	}
	errs := make([]error, len(ops))
	for i, o := range ops {
		err := o.fn(t)
		if err != nil && !isDomain(err) {
			tx.Rollback()
			return nil, err
		}
		errs[i] = err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	e.nextStall.Store(t.stall)
	if t.woke {
		e.notify()
	}
	return errs, nil
}

func isDomain(err error) bool {
	return errors.Is(err, queue.ErrNotFound) || errors.Is(err, queue.ErrLeaseLost) ||
		errors.Is(err, queue.ErrInvalidState) || errors.Is(err, queue.ErrInvalidJob)
}

// sweep moves expired leases back to waiting, or to failed when they have
// used up their attempts. It is a comparison only until a lease may have
// expired.
func (t *txn) sweep() error {
	if t.now < t.stall {
		return nil
	}
	rows, err := t.stmt(t.e.st.stall).Query(t.now, stallReason)
	if err != nil {
		return err
	}
	var failedLanes []string
	n := 0
	for rows.Next() {
		var lane string
		var state int
		if err := rows.Scan(&lane, &state); err != nil {
			rows.Close()
			return err
		}
		n++
		if queue.State(state) == queue.StateFailed {
			failedLanes = append(failedLanes, lane)
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, lane := range failedLanes {
		if err := t.promote(lane); err != nil {
			return err
		}
	}
	if n > 0 {
		t.woke = true
	}
	var minLock sql.NullInt64
	if err := t.stmt(t.e.st.minLock).QueryRow().Scan(&minLock); err != nil {
		return err
	}
	t.stall = math.MaxInt64
	if minLock.Valid {
		t.stall = minLock.Int64
	}
	return nil
}

// promote makes the first unfinished job of lane its head, after the head
// finished or was removed.
func (t *txn) promote(lane string) error {
	res, err := t.stmt(t.e.st.promote).Exec(lane)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		t.woke = true
	}
	return nil
}

// leaseError explains why a call with id and a token matched no lease.
func (t *txn) leaseError(id string) error {
	var state int
	err := t.stmt(t.e.st.stateOf).QueryRow(id).Scan(&state)
	switch {
	case isNoRows(err):
		return queue.ErrNotFound
	case err != nil:
		return err
	default:
		return queue.ErrLeaseLost
	}
}
