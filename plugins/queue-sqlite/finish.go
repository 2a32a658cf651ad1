package queuesqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// Extend renews a lease for lock from now.
func (e *Engine) Extend(ctx context.Context, id, token string, lock time.Duration) (time.Time, error) {
	if lock <= 0 {
		return time.Time{}, fmt.Errorf("queue-sqlite: extend %q: lock %v is not positive", id, lock)
	}
	var until int64
	err := e.do(ctx, func(t *txn) error {
		until = t.now + ceilMS(lock)
		res, err := t.st.extend.Exec(until, id, token, t.now)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return t.leaseError(id)
		}
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("queue-sqlite: extend %q: %w", id, err)
	}
	return time.UnixMilli(until), nil
}

// Complete finishes a leased job and frees its lane.
func (e *Engine) Complete(ctx context.Context, id, token string) error {
	err := e.submit(&op{ctx: ctx, complete: &completeArgs{id, token}, fn: func(t *txn) error {
		var lane string
		err := t.st.complete.QueryRow(t.now, id, token).Scan(&lane)
		if isNoRows(err) {
			return t.leaseError(id)
		}
		if err != nil {
			return err
		}
		return t.promote(lane)
	}})
	if err != nil {
		return fmt.Errorf("queue-sqlite: complete %q: %w", id, err)
	}
	return nil
}

// Fail records a failed attempt: the job is delayed for a retry while it has
// attempts left and the failure is retryable, else it fails for good and its
// lane moves on.
func (e *Engine) Fail(ctx context.Context, id, token string, f queue.Failure) (queue.FailResult, error) {
	var res queue.FailResult
	err := e.do(ctx, func(t *txn) error {
		var (
			seq, backoff          int64
			lane                  string
			attempts, maxAttempts int
		)
		err := t.st.leased.QueryRow(t.now, id, token).Scan(&seq, &lane, &attempts, &maxAttempts, &backoff)
		if isNoRows(err) {
			return t.leaseError(id)
		}
		if err != nil {
			return err
		}
		attempts++
		if f.Retryable && attempts < maxAttempts {
			at := t.now + ceilMS(queue.RetryDelay(time.Duration(backoff), attempts))
			if _, err := t.st.delay.Exec(attempts, at, f.Reason, seq); err != nil {
				return err
			}
			// Blocked reservers re-arm their timers for the new due time.
			t.woke = true
			res = queue.FailResult{State: queue.StateDelayed, AvailableAt: time.UnixMilli(at)}
			return nil
		}
		if _, err := t.st.fail.Exec(attempts, t.now, f.Reason, seq); err != nil {
			return err
		}
		res = queue.FailResult{State: queue.StateFailed}
		return t.promote(lane)
	})
	if err != nil {
		return queue.FailResult{}, fmt.Errorf("queue-sqlite: fail %q: %w", id, err)
	}
	return res, nil
}
