package queuesqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// maxGroup caps how many calls share one transaction, so that one commit
// never holds up the callers at the back for long.
const maxGroup = 256

// maxLead is how long a caller goes on running other callers' groups after
// its own before it passes the lead on.
const maxLead = 2 * time.Millisecond

// stallReason is the LastError of a job whose lease expired.
const stallReason = "stalled: the lease expired before the job was completed, failed or extended"

// op is one engine call queued for a transaction.
type op struct {
	ctx  context.Context
	fn   func(t *txn) error
	done chan error    // receives the outcome
	lead chan struct{} // signalled when this call's goroutine is to lead
	// complete, when set, marks a Complete call that may run together with
	// the other Complete calls of its group in one statement.
	complete *completeArgs
}

type completeArgs struct{ id, token string }

// txn is the state one group transaction shares between its calls.
type txn struct {
	e     *Engine
	st    *stmts
	now   int64 // Unix ms, one clock reading for the whole group
	woke  bool  // the commit may make a job ready: wake blocked reservers
	stall int64 // nextStall to publish after commit
}

// bg is the context of statements inside a group: a caller that gives up
// must not abort the other callers' work mid-transaction. Callers are
// checked for cancellation before their work starts instead.
var bg = context.Background()

// exec and queryRow run ad-hoc SQL on the connection.
func (t *txn) exec(q string, args ...any) (sql.Result, error) {
	return t.e.conn.ExecContext(bg, q, args...)
}

func (t *txn) queryRow(q string, args ...any) *sql.Row {
	return t.e.conn.QueryRowContext(bg, q, args...)
}

// do runs fn in a transaction, possibly shared with other calls, and returns
// fn's error.
func (e *Engine) do(ctx context.Context, fn func(t *txn) error) error {
	return e.submit(&op{ctx: ctx, fn: fn})
}

// submit queues o and returns its outcome.
//
// Group commit without a dedicated goroutine: a caller that finds no
// transaction running becomes the leader and runs, in its own goroutine, the
// queued calls (its own first) as one transaction. Calls that arrive
// meanwhile queue up and form the next group, which the leader runs too,
// until the queue is empty or maxLead has passed; then it passes the lead to
// the first queued call, whose goroutine carries on. A lone caller thus pays
// no goroutine hand-off, concurrent callers share commits, and no caller is
// held up for long by others' work.
//
// Once queued, o runs unless its ctx is done before its group starts; submit
// then waits for the outcome even if ctx ends, so that a committed lease is
// never dropped on the floor.
func (e *Engine) submit(o *op) error {
	if err := o.ctx.Err(); err != nil {
		return err
	}
	o.done = make(chan error, 1)
	o.lead = make(chan struct{}, 1)
	e.qmu.Lock()
	if e.closed {
		e.qmu.Unlock()
		return queue.ErrClosed
	}
	e.pending = append(e.pending, o)
	if e.leading {
		e.qmu.Unlock()
		select {
		case err := <-o.done:
			return err
		case <-o.lead:
			// Handed the lead: o is first in the queue.
		}
		e.qmu.Lock()
	}
	e.leading = true
	start := time.Now()
	for {
		n := min(len(e.pending), maxGroup)
		group := make([]*op, n)
		copy(group, e.pending)
		e.pending = append(e.pending[:0], e.pending[n:]...)
		e.qmu.Unlock()
		e.runGroup(group) // the first group holds o
		e.qmu.Lock()
		// Keep leading for a little while: waking another goroutine to
		// lead costs more than a small transaction.
		if len(e.pending) == 0 || time.Since(start) > maxLead {
			break
		}
	}
	if len(e.pending) > 0 {
		e.pending[0].lead <- struct{}{}
	} else {
		e.leading = false
		e.idle.Broadcast()
	}
	e.qmu.Unlock()
	return <-o.done
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
	// BEGIN and COMMIT as statements on the pinned connection rather than
	// sql.Tx, which would start a goroutine per transaction.
	if _, err := e.conn.ExecContext(bg, "BEGIN IMMEDIATE"); err != nil {
		return nil, err
	}
	rollback := func() { _, _ = e.conn.ExecContext(bg, "ROLLBACK") }
	t := &txn{e: e, st: &e.st, now: e.nowMS(), stall: e.nextStall.Load()}
	if err := t.sweep(); err != nil {
		rollback()
		return nil, err
	}
	errs := make([]error, len(ops))
	handled, err := t.completeMany(ops, errs)
	if err != nil {
		rollback()
		return nil, err
	}
	for i, o := range ops {
		if handled[i] {
			continue
		}
		err := o.fn(t)
		if err != nil && !isDomain(err) {
			rollback()
			return nil, err
		}
		errs[i] = err
	}
	if _, err := e.conn.ExecContext(bg, "COMMIT"); err != nil {
		rollback()
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
	rows, err := t.st.stall.Query(t.now, stallReason)
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
	if err := t.promote(failedLanes...); err != nil {
		return err
	}
	if n > 0 {
		t.woke = true
	}
	var minLock sql.NullInt64
	if err := t.st.minLock.QueryRow().Scan(&minLock); err != nil {
		return err
	}
	t.stall = math.MaxInt64
	if minLock.Valid {
		t.stall = minLock.Int64
	}
	return nil
}

// promote makes the first unfinished job of each lane its head, after the
// head finished or was removed.
func (t *txn) promote(lanes ...string) error {
	if len(lanes) == 0 {
		return nil
	}
	arg, err := json.Marshal(lanes)
	if err != nil {
		return err
	}
	res, err := t.st.promote.Exec(string(arg))
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
	err := t.st.stateOf.QueryRow(id).Scan(&state)
	switch {
	case isNoRows(err):
		return queue.ErrNotFound
	case err != nil:
		return err
	default:
		return queue.ErrLeaseLost
	}
}

// completeMany runs the Complete calls of a group, when there are several,
// as one statement, and reports which calls it handled. Calls in one group
// were made concurrently, so running them ahead of the group's other calls
// is a valid order.
func (t *txn) completeMany(ops []*op, errs []error) ([]bool, error) {
	handled := make([]bool, len(ops))
	var pairs [][2]string
	for _, o := range ops {
		if o.complete != nil {
			pairs = append(pairs, [2]string{o.complete.id, o.complete.token})
		}
	}
	if len(pairs) < 2 {
		return handled, nil
	}
	arg, err := json.Marshal(pairs)
	if err != nil {
		return nil, err
	}
	rows, err := t.st.completeMany.Query(t.now, string(arg))
	if err != nil {
		return nil, err
	}
	done := map[completeArgs]bool{}
	var lanes []string
	for rows.Next() {
		var c completeArgs
		var lane string
		if err := rows.Scan(&c.id, &c.token, &lane); err != nil {
			rows.Close()
			return nil, err
		}
		done[c] = true
		lanes = append(lanes, lane)
	}
	if err := errors.Join(rows.Close(), rows.Err()); err != nil {
		return nil, err
	}
	for i, o := range ops {
		if o.complete == nil {
			continue
		}
		handled[i] = true
		if done[*o.complete] {
			// A second call with the same lease finds it gone.
			delete(done, *o.complete)
			continue
		}
		if errs[i] = t.leaseError(o.complete.id); !isDomain(errs[i]) {
			return nil, errs[i]
		}
	}
	return handled, t.promote(lanes...)
}
