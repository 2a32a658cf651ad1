// Package queue is the contract between the claude-mem host and a queue
// engine plugin (protocol claudemem.queue.v1).
//
// A queue engine carries generation jobs. Its rules, which every engine must
// pass in the conformance suite of package queuetest, are:
//
//  1. Deduplication: job IDs are deterministic and contain no colon.
//     Enqueueing an ID that already exists, in any state, is a no-op that is
//     reported as such (EnqueueResult.Created is false).
//  2. Lanes: every job has a lane (one agent session). A lane has at most one
//     job in flight, and its jobs run in FIFO (enqueue) order. A job that
//     waits for a retry still holds its lane, so order is kept across
//     retries. Different lanes run in parallel.
//  3. Reserve takes a lease with a lock duration; Extend renews it. A reserve
//     that finds nothing blocks up to its wait time and wakes promptly (within
//     50 ms) after an enqueue, without busy polling.
//  4. A job ends completed, or failed: a retryable failure is retried with
//     exponential backoff (Backoff × 2^(attempt−1)) until MaxAttempts
//     attempts have failed; a non-retryable failure fails at once.
//  5. A lease that is not extended in time stalls: the job goes back to
//     waiting and the attempt counts. Once the attempts reach MaxAttempts the
//     job fails instead.
//  6. Management: counts per state, per lane and in total; retry a failed
//     job; cancel a job that is not active; clear a lane.
//  7. Enqueue takes up to MaxBatch jobs in one call, atomically.
//  8. Durability: everything an engine acknowledged survives kill -9 of the
//     engine process and of the host.
package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ProtocolVersion is the major version of claudemem.queue.v1 that this
// package speaks.
const ProtocolVersion = 1

// SchemaVersion is the version of the Job and NewJob shapes.
const SchemaVersion = 1

// MaxBatch is the most jobs one Enqueue call may carry.
const MaxBatch = 500

// Defaults applied to a NewJob that leaves a field zero.
const (
	DefaultMaxAttempts = 3
	DefaultBackoff     = time.Second
	// MaxBackoff caps the exponential retry delay.
	MaxBackoff = time.Hour
)

// State is where a job is in its life.
type State int

// The job states. Their numeric values are part of the protocol.
const (
	StateUnknown State = iota
	StateWaiting
	StateActive
	StateDelayed
	StateCompleted
	StateFailed
)

func (s State) String() string {
	switch s {
	case StateWaiting:
		return "waiting"
	case StateActive:
		return "active"
	case StateDelayed:
		return "delayed"
	case StateCompleted:
		return "completed"
	case StateFailed:
		return "failed"
	default:
		return "unknown"
	}
}

// NewJob is a job to enqueue.
type NewJob struct {
	// ID is deterministic (derived from what the job is about) so that a
	// repeated enqueue is a no-op. It must not be empty, longer than 200
	// bytes, or contain a colon.
	ID string
	// Lane groups jobs that must run one at a time, in order.
	Lane string
	// Kind tells the host which handler runs the job.
	Kind string
	// Payload carries IDs and routing data only, never user content: the
	// content stays in the host's SQLite store.
	Payload []byte
	// MaxAttempts is how many attempts may fail before the job fails for
	// good. Zero means DefaultMaxAttempts.
	MaxAttempts int
	// Backoff is the delay before the first retry; each further retry
	// doubles it, up to MaxBackoff. Zero means DefaultBackoff.
	Backoff time.Duration
}

// Job is a job as an engine reports it.
type Job struct {
	SchemaVersion int
	ID            string
	Lane          string
	Kind          string
	Payload       []byte
	State         State
	// Attempts counts the attempts that failed or stalled.
	Attempts    int
	MaxAttempts int
	Backoff     time.Duration
	CreatedAt   time.Time
	// AvailableAt is when a delayed job may run again.
	AvailableAt time.Time
	// FinishedAt is set once the job is completed or failed.
	FinishedAt time.Time
	LastError  string
}

// EnqueueResult reports what Enqueue did with one job, in request order.
type EnqueueResult struct {
	ID string
	// Created is false when a job with this ID already existed.
	Created bool
}

// ReserveRequest asks for work.
type ReserveRequest struct {
	// Max is the most jobs to return; zero means one.
	Max int
	// Lock is how long the lease lasts unless extended. It must be positive.
	Lock time.Duration
	// Wait is how long to block when nothing is ready. Zero returns at once.
	Wait time.Duration
	// Worker names the caller, for diagnostics.
	Worker string
}

// Lease is a reserved job. Token proves ownership to Extend, Complete and
// Fail; it changes on every reservation.
type Lease struct {
	Job         Job
	Token       string
	LockedUntil time.Time
}

// Failure describes a failed attempt.
type Failure struct {
	Reason    string
	Retryable bool
}

// FailResult says where a failed attempt left the job.
type FailResult struct {
	// State is StateDelayed when the job will be retried, else StateFailed.
	State       State
	AvailableAt time.Time
}

// Counts holds the number of jobs in each state.
type Counts struct {
	Waiting   int64
	Active    int64
	Delayed   int64
	Completed int64
	Failed    int64
}

// Total is the sum over all states.
func (c Counts) Total() int64 {
	return c.Waiting + c.Active + c.Delayed + c.Completed + c.Failed
}

// Engine is a queue engine. Every method may be called concurrently.
// ctx bounds only the call it is passed to.
type Engine interface {
	// Enqueue adds jobs atomically: either all of them are stored (or found
	// to exist already) or none is. It takes at most MaxBatch jobs.
	Enqueue(ctx context.Context, jobs []NewJob) ([]EnqueueResult, error)
	// Reserve leases ready jobs, blocking up to req.Wait when there are none.
	// It returns an empty slice, not an error, when the wait ends.
	Reserve(ctx context.Context, req ReserveRequest) ([]Lease, error)
	// Extend renews a lease; it returns ErrLeaseLost when the lease expired
	// and the job went back to waiting or to another worker.
	Extend(ctx context.Context, id, token string, lock time.Duration) (time.Time, error)
	// Complete finishes a leased job.
	Complete(ctx context.Context, id, token string) error
	// Fail records a failed attempt of a leased job.
	Fail(ctx context.Context, id, token string, f Failure) (FailResult, error)
	// Get returns one job, or ErrNotFound.
	Get(ctx context.Context, id string) (Job, error)
	// Counts returns counts for one lane, or for all lanes when lane is "".
	Counts(ctx context.Context, lane string) (Counts, error)
	// Retry puts a failed job back to waiting with its attempts reset.
	// It returns ErrInvalidState for a job that is not failed.
	Retry(ctx context.Context, id string) error
	// Cancel removes a job that is not active. It returns ErrInvalidState
	// for an active job.
	Cancel(ctx context.Context, id string) error
	// ClearLane removes every job of a lane that is not active, and reports
	// how many it removed.
	ClearLane(ctx context.Context, lane string) (int, error)
	// Close releases the engine's resources.
	Close() error
}

// Errors an engine returns. They cross the gRPC boundary intact, so the host
// can test them with errors.Is.
var (
	ErrNotFound     = errors.New("queue: job not found")
	ErrLeaseLost    = errors.New("queue: lease lost")
	ErrInvalidState = errors.New("queue: job is not in a state that allows this")
	ErrInvalidJob   = errors.New("queue: invalid job")
	ErrClosed       = errors.New("queue: engine closed")
)

// Validate checks a job before it is enqueued and fills in defaults. Every
// engine calls it, so all engines accept and refuse the same jobs.
func (j *NewJob) Validate() error {
	switch {
	case j.ID == "":
		return fmt.Errorf("%w: empty id", ErrInvalidJob)
	case len(j.ID) > 200:
		return fmt.Errorf("%w: id %.20q… is longer than 200 bytes", ErrInvalidJob, j.ID)
	case strings.ContainsRune(j.ID, ':'):
		return fmt.Errorf("%w: id %q contains a colon", ErrInvalidJob, j.ID)
	case j.Lane == "":
		return fmt.Errorf("%w: job %q has no lane", ErrInvalidJob, j.ID)
	case j.Kind == "":
		return fmt.Errorf("%w: job %q has no kind", ErrInvalidJob, j.ID)
	case j.MaxAttempts < 0:
		return fmt.Errorf("%w: job %q has negative max attempts", ErrInvalidJob, j.ID)
	case j.Backoff < 0:
		return fmt.Errorf("%w: job %q has negative backoff", ErrInvalidJob, j.ID)
	}
	if j.MaxAttempts == 0 {
		j.MaxAttempts = DefaultMaxAttempts
	}
	if j.Backoff == 0 {
		j.Backoff = DefaultBackoff
	}
	return nil
}

// ValidateBatch validates a whole Enqueue call: size limits and every job.
func ValidateBatch(jobs []NewJob) error {
	if len(jobs) == 0 {
		return fmt.Errorf("%w: empty batch", ErrInvalidJob)
	}
	if len(jobs) > MaxBatch {
		return fmt.Errorf("%w: batch of %d jobs exceeds the limit of %d", ErrInvalidJob, len(jobs), MaxBatch)
	}
	for i := range jobs {
		if err := jobs[i].Validate(); err != nil {
			return err
		}
	}
	return nil
}

// RetryDelay is the delay before the next attempt after `attempts` failed
// attempts (attempts ≥ 1).
func RetryDelay(backoff time.Duration, attempts int) time.Duration {
	if attempts < 1 {
		attempts = 1
	}
	d := backoff
	for i := 1; i < attempts; i++ {
		d *= 2
		if d >= MaxBackoff {
			return MaxBackoff
		}
	}
	return min(d, MaxBackoff)
}
