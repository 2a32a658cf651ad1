package queuesqlite

import (
	"context"
	"fmt"
	"slices"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// Enqueue stores jobs atomically. An existing ID, in any state, is left
// untouched and reported with Created false.
func (e *Engine) Enqueue(ctx context.Context, jobs []queue.NewJob) ([]queue.EnqueueResult, error) {
	// Validate fills in defaults; work on a copy so the caller's slice is
	// left as it was.
	jobs = slices.Clone(jobs)
	if err := queue.ValidateBatch(jobs); err != nil {
		return nil, fmt.Errorf("queue-sqlite: enqueue: %w", err)
	}
	res := make([]queue.EnqueueResult, len(jobs))
	err := e.do(ctx, func(t *txn) error {
		ins := t.st.insert
		for i, j := range jobs {
			r, err := ins.Exec(j.ID, j.Lane, j.Kind, j.Payload, j.MaxAttempts, int64(j.Backoff), t.now)
			if err != nil {
				return fmt.Errorf("insert %q: %w", j.ID, err)
			}
			n, err := r.RowsAffected()
			if err != nil {
				return err
			}
			res[i] = queue.EnqueueResult{ID: j.ID, Created: n == 1}
			if n == 1 {
				t.woke = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("queue-sqlite: enqueue: %w", err)
	}
	return res, nil
}
