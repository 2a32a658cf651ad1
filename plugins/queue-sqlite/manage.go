package queuesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// Get returns one job.
func (e *Engine) Get(ctx context.Context, id string) (queue.Job, error) {
	var j queue.Job
	err := e.do(ctx, func(t *txn) error {
		var err error
		j, err = scanJob(t.st.get.QueryRow(id))
		if isNoRows(err) {
			return queue.ErrNotFound
		}
		return err
	})
	if err != nil {
		return queue.Job{}, fmt.Errorf("queue-sqlite: get %q: %w", id, err)
	}
	return j, nil
}

// Counts counts the jobs of lane per state, or of every lane for "". The
// total count scans the table; it is meant for dashboards, not hot paths.
func (e *Engine) Counts(ctx context.Context, lane string) (queue.Counts, error) {
	var c queue.Counts
	err := e.do(ctx, func(t *txn) error {
		c = queue.Counts{}
		var (
			rows *sql.Rows
			err  error
		)
		if lane == "" {
			rows, err = t.st.countsAll.Query()
		} else {
			rows, err = t.st.countsLane.Query(lane)
		}
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var state int
			var n int64
			if err := rows.Scan(&state, &n); err != nil {
				return err
			}
			switch queue.State(state) {
			case queue.StateWaiting:
				c.Waiting = n
			case queue.StateActive:
				c.Active = n
			case queue.StateDelayed:
				c.Delayed = n
			case queue.StateCompleted:
				c.Completed = n
			case queue.StateFailed:
				c.Failed = n
			}
		}
		return errors.Join(rows.Err(), rows.Close())
	})
	if err != nil {
		return queue.Counts{}, fmt.Errorf("queue-sqlite: counts: %w", err)
	}
	return c, nil
}

// Retry puts a failed job back to waiting with its attempts reset. The job
// goes to the back of its lane, as if enqueued now (it keeps its CreatedAt).
func (e *Engine) Retry(ctx context.Context, id string) error {
	err := e.do(ctx, func(t *txn) error {
		var seq int64
		j, err := scanJob(t.queryRow(`SELECT seq, `+jobColumns+` FROM jobs WHERE id = ?`, id), &seq)
		if isNoRows(err) {
			return queue.ErrNotFound
		}
		if err != nil {
			return err
		}
		if j.State != queue.StateFailed {
			return fmt.Errorf("%w: job is %v", queue.ErrInvalidState, j.State)
		}
		// Delete and re-insert to take a new seq: the lane's FIFO order and
		// head rule then hold without special cases.
		if _, err := t.exec(`DELETE FROM jobs WHERE seq = ?`, seq); err != nil {
			return err
		}
		_, err = t.exec(`INSERT INTO jobs (id, lane, kind, payload, state, head, attempts, max_attempts, backoff_ns,
				available_at_ms, last_error, created_at_ms)
			VALUES (?1, ?2, ?3, ?4, 1, NOT `+laneHasUnfinished+`, 0, ?5, ?6,
				?7, ?8, ?9)`,
			j.ID, j.Lane, j.Kind, j.Payload, j.MaxAttempts, int64(j.Backoff), t.now, j.LastError, j.CreatedAt.UnixMilli())
		if err != nil {
			return err
		}
		t.woke = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue-sqlite: retry %q: %w", id, err)
	}
	return nil
}

// Cancel removes a job that is not active and, if it held its lane, frees
// the lane.
func (e *Engine) Cancel(ctx context.Context, id string) error {
	err := e.do(ctx, func(t *txn) error {
		var (
			seq         int64
			state, head int
			lane        string
		)
		err := t.queryRow(`SELECT seq, state, head, lane FROM jobs WHERE id = ?`, id).Scan(&seq, &state, &head, &lane)
		if isNoRows(err) {
			return queue.ErrNotFound
		}
		if err != nil {
			return err
		}
		if queue.State(state) == queue.StateActive {
			return fmt.Errorf("%w: job is active", queue.ErrInvalidState)
		}
		if _, err := t.exec(`DELETE FROM jobs WHERE seq = ?`, seq); err != nil {
			return err
		}
		if head == 1 {
			return t.promote(lane)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue-sqlite: cancel %q: %w", id, err)
	}
	return nil
}

// ClearLane removes every job of lane that is not active.
func (e *Engine) ClearLane(ctx context.Context, lane string) (int, error) {
	var n int64
	err := e.do(ctx, func(t *txn) error {
		res, err := t.exec(`DELETE FROM jobs WHERE lane = ? AND state IN (1, 3, 4, 5)`, lane)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		// Only an active job can be left, and it already is the head; this
		// keeps the rule explicit should that ever change.
		return t.promote(lane)
	})
	if err != nil {
		return 0, fmt.Errorf("queue-sqlite: clear lane %q: %w", lane, err)
	}
	return int(n), nil
}
