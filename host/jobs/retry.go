package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// ErrNotFailed is Retry's answer for a job that has not failed.
var ErrNotFailed = errors.New("only failed jobs can be retried")

// Retry puts a failed job back in the outbox as queued, with its attempts
// reset, and hands it to the engine again. A job that is not failed is
// ErrNotFailed; one the outbox does not hold is sql.ErrNoRows.
func (s *Service) Retry(ctx context.Context, id string) error {
	err := s.store.Tx(ctx, func(tx *sql.Tx) error {
		now := time.Now().UnixMilli()
		res, err := tx.ExecContext(ctx, `UPDATE generation_jobs SET status = ?, attempts = 0, last_error = '', updated_at = ?
			WHERE id = ? AND status = ?`, StatusQueued, now, id, StatusFailed)
		if err != nil {
			return fmt.Errorf("jobs: retry %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			var st string
			if err := tx.QueryRowContext(ctx, `SELECT status FROM generation_jobs WHERE id = ?`, id).Scan(&st); err != nil {
				return fmt.Errorf("jobs: retry %s: %w", id, err)
			}
			return fmt.Errorf("job %s is %s; %w", id, st, ErrNotFailed)
		}
		return appendEvent(ctx, tx, id, StatusQueued, 0, "retry requested")
	})
	if err != nil {
		return err
	}
	if eng, err := s.engine(); err == nil {
		err := eng.Retry(ctx, id)
		if errors.Is(err, queue.ErrInvalidState) {
			// The engine's copy is not failed (the outbox and the engine
			// disagree, e.g. after a restore): an enqueue of the same id
			// would be a no-op, so remove that copy first, unless it is
			// running, in which case it finishes the job anyway.
			err = eng.Cancel(ctx, id)
		}
		if err != nil && !errors.Is(err, queue.ErrNotFound) {
			s.log.Warn("engine retry failed; the job is enqueued again", "job", id, "error", err)
		}
	}
	s.Dispatch(ctx, []string{id}) // a failure leaves it queued for the reconciler
	return nil
}
