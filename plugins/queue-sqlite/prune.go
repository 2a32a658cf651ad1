package queuesqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// pruneChunk bounds how many rows one prune transaction deletes, so that the
// sweep never holds the writer for long.
const pruneChunk = 1000

// Prune deletes completed and failed jobs older than their retention and
// reports how many it deleted. Their IDs become free for a new enqueue. The
// engine runs it every PruneInterval; it is exported for operators and tests.
func (e *Engine) Prune(ctx context.Context) (int, error) {
	total := 0
	for _, r := range []struct {
		state     queue.State
		retention time.Duration
	}{
		{queue.StateCompleted, e.opts.CompletedRetention},
		{queue.StateFailed, e.opts.FailedRetention},
	} {
		if r.retention < 0 {
			continue
		}
		for {
			var n int64
			err := e.do(ctx, func(t *txn) error {
				cutoff := t.now - r.retention.Milliseconds()
				res, err := t.exec(`DELETE FROM jobs WHERE seq IN (
					SELECT seq FROM jobs WHERE state = ?1 AND finished_at_ms < ?2 LIMIT ?3)`,
					int(r.state), cutoff, pruneChunk)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return total, fmt.Errorf("queue-sqlite: prune %v jobs: %w", r.state, err)
			}
			total += int(n)
			if n < pruneChunk {
				break
			}
		}
	}
	return total, nil
}

// pruneLoop runs Prune at start and then every PruneInterval until Close.
func (e *Engine) pruneLoop() {
	defer close(e.bgDone)
	if e.opts.manualPrune {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-e.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	ticker := time.NewTicker(e.opts.PruneInterval)
	defer ticker.Stop()
	for {
		if n, err := e.Prune(ctx); err != nil {
			if !errors.Is(err, queue.ErrClosed) && !errors.Is(err, context.Canceled) {
				e.opts.Logger.Error("prune finished jobs", "component", "queue-sqlite", "err", err)
			}
		} else if n > 0 {
			e.opts.Logger.Debug("pruned finished jobs", "component", "queue-sqlite", "count", n)
		}
		select {
		case <-e.closing:
			return
		case <-ticker.C:
		}
	}
}
