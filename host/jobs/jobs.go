// Package jobs runs the host's durable generation jobs. A job is first
// written to the outbox table in the host store, inside the same transaction
// as whatever caused it, and only then handed to the queue engine. The
// outbox is the truth: at startup, after an engine restart, and whenever an
// enqueue failed, open jobs are enqueued again. Job IDs are deterministic,
// so the engine's deduplication makes that safe.
//
// Workers reserve jobs from the engine, run the handler registered for the
// job's kind, and record the outcome in the outbox before acknowledging the
// engine. A handler must be idempotent: after a crash between its commit
// and the acknowledgement, the job runs again and finds its work done.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// Outbox statuses.
const (
	StatusQueued         = "queued"
	StatusEnqueued       = "enqueued"
	StatusProcessing     = "processing"
	StatusRetryScheduled = "retry_scheduled"
	StatusCompleted      = "completed"
	StatusFailed         = "failed"
	StatusCancelled      = "cancelled"
)

// openStatuses are the statuses of jobs that still have to run.
var openStatuses = []string{StatusQueued, StatusEnqueued, StatusProcessing, StatusRetryScheduled}

// Job is a job to run.
type Job struct {
	// ID is deterministic: derived from what the job is about, colon-free.
	ID   string
	Lane string
	Kind string
	// Payload carries IDs and routing only; content stays in the store.
	Payload     []byte
	MaxAttempts int
	Backoff     time.Duration
	// Attempt is set for handlers: 1 for the first run.
	Attempt int
}

// Handler runs one job. It must be idempotent.
type Handler func(ctx context.Context, job Job) error

// errPermanent marks an error that retrying cannot fix.
type errPermanent struct{ err error }

func (e errPermanent) Error() string { return e.err.Error() }
func (e errPermanent) Unwrap() error { return e.err }

// Permanent wraps err so the job fails at once instead of being retried.
func Permanent(err error) error { return errPermanent{err} }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p errPermanent
	return errors.As(err, &p)
}

// Add records jobs in the outbox inside tx. A job whose ID is already there
// is left as it is. It returns, per job, whether it was new.
func Add(ctx context.Context, tx *sql.Tx, jobs []Job) ([]bool, error) {
	now := time.Now().UnixMilli()
	created := make([]bool, len(jobs))
	for i, j := range jobs {
		nj := toNewJob(j)
		if err := nj.Validate(); err != nil {
			return nil, fmt.Errorf("jobs: add: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO generation_jobs (id, lane, kind, payload, status, max_attempts, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
			j.ID, j.Lane, j.Kind, j.Payload, StatusQueued, nj.MaxAttempts, now, now)
		if err != nil {
			return nil, fmt.Errorf("jobs: add %s: %w", j.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			created[i] = true
			if err := appendEvent(ctx, tx, j.ID, StatusQueued, 0, ""); err != nil {
				return nil, err
			}
		}
	}
	return created, nil
}

func appendEvent(ctx context.Context, tx *sql.Tx, id, status string, attempt int, detail string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO generation_job_events (job_id, status, attempt, detail, created_at) VALUES (?, ?, ?, ?, ?)`,
		id, status, attempt, detail, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("jobs: record %s %s: %w", id, status, err)
	}
	return nil
}

func toNewJob(j Job) queue.NewJob {
	return queue.NewJob{ID: j.ID, Lane: j.Lane, Kind: j.Kind, Payload: j.Payload, MaxAttempts: j.MaxAttempts, Backoff: j.Backoff}
}
