package queuesqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// Reserve leases up to req.Max ready jobs (at most queue.MaxBatch), one per
// lane, oldest due first. When none is ready it blocks until an enqueue or
// finish wakes it, until the next job falls due, or until req.Wait is over.
func (e *Engine) Reserve(ctx context.Context, req queue.ReserveRequest) ([]queue.Lease, error) {
	if req.Lock <= 0 {
		return nil, fmt.Errorf("queue-sqlite: reserve: lock %v is not positive", req.Lock)
	}
	if req.Max < 0 {
		return nil, fmt.Errorf("queue-sqlite: reserve: max %d is negative", req.Max)
	}
	limit := min(max(req.Max, 1), queue.MaxBatch)
	deadline := time.Now().Add(req.Wait)
	for {
		// Take the wake channel before looking, so that a wake-up between
		// the look and the wait is not missed.
		wake := e.wakeCh()
		var (
			leases  []queue.Lease
			nextDue int64
		)
		err := e.do(ctx, func(t *txn) error {
			var err error
			leases, nextDue, err = t.reserve(limit, req.Lock, req.Worker)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("queue-sqlite: reserve: %w", err)
		}
		if len(leases) > 0 {
			return leases, nil
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return []queue.Lease{}, nil
		}
		sleep := remaining
		if nextDue != math.MaxInt64 {
			// +1 ms: due times are whole milliseconds and must have passed.
			untilDue := time.Duration(nextDue-e.nowMS()+1) * time.Millisecond
			sleep = min(sleep, max(untilDue, time.Millisecond))
		}
		timer := time.NewTimer(sleep)
		select {
		case <-wake:
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("queue-sqlite: reserve: %w", ctx.Err())
		case <-e.closing:
			timer.Stop()
			return nil, fmt.Errorf("queue-sqlite: reserve: %w", queue.ErrClosed)
		}
		timer.Stop()
	}
}

// reserve leases ready lane heads. When there are none it reports the next
// time something may become ready (math.MaxInt64 for never, until woken).
func (t *txn) reserve(limit int, lock time.Duration, worker string) ([]queue.Lease, int64, error) {
	prefix, err := newToken()
	if err != nil {
		return nil, 0, err
	}
	until := t.now + ceilMS(lock)
	rows, err := t.st.reserve.Query(prefix, worker, until, t.now, limit)
	if err != nil {
		return nil, 0, err
	}
	type leased struct {
		seq   int64
		lease queue.Lease
	}
	var got []leased
	for rows.Next() {
		var l leased
		j, err := scanJob(rows, &l.seq, &l.lease.Token)
		if err != nil {
			rows.Close()
			return nil, 0, err
		}
		l.lease.Job, l.lease.LockedUntil = j, time.UnixMilli(until)
		got = append(got, l)
	}
	if err := errors.Join(rows.Close(), rows.Err()); err != nil {
		return nil, 0, err
	}
	if len(got) == 0 {
		next, err := t.nextDue()
		return nil, next, err
	}
	// Oldest due first, as selected; RETURNING does not keep that order.
	slices.SortFunc(got, func(a, b leased) int {
		return cmp.Or(a.lease.Job.AvailableAt.Compare(b.lease.Job.AvailableAt), cmp.Compare(a.seq, b.seq))
	})
	out := make([]queue.Lease, len(got))
	for i, l := range got {
		out[i] = l.lease
	}
	t.stall = min(t.stall, until)
	return out, 0, nil
}

// nextDue is the earliest of the next delayed head's retry time and the next
// lease expiry.
func (t *txn) nextDue() (int64, error) {
	var ready, lock sql.NullInt64
	if err := t.st.nextReady.QueryRow().Scan(&ready); err != nil {
		return 0, err
	}
	if err := t.st.minLock.QueryRow().Scan(&lock); err != nil {
		return 0, err
	}
	next := int64(math.MaxInt64)
	if ready.Valid {
		next = min(next, ready.Int64)
	}
	if lock.Valid {
		next = min(next, lock.Int64)
	}
	return next, nil
}
