package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/claude-mem/claude-mem-server/host/store"
	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// EngineFunc returns the queue engine as it is now, or an error while it is
// unavailable (its plugin restarting, say).
type EngineFunc func() (queue.Engine, error)

// Options configure a Service.
type Options struct {
	// Concurrency is the number of workers. Default 2.
	Concurrency int
	// Lock is the lease duration; workers extend it while a handler runs.
	// Default 5m.
	Lock time.Duration
	// ReconcileEvery is how often jobs whose enqueue failed are retried.
	// Default 2s.
	ReconcileEvery time.Duration
	// Worker names this host in leases. Default "host".
	Worker string
	Logger hclog.Logger
	// Observer, when set, is told of every failed attempt (host/metrics).
	Observer Observer
}

// Observer is told of failed job attempts. It must not block.
type Observer interface {
	// JobAttemptFailed reports a failed attempt of a job of kind: final
	// when the job failed for good, otherwise it is scheduled for a retry.
	JobAttemptFailed(kind string, final bool)
}

// Service owns the outbox and the workers.
type Service struct {
	store    *store.Store
	engine   EngineFunc
	opts     Options
	log      hclog.Logger
	handlers map[string]Handler

	kick    chan bool     // true asks for a full reconcile
	pending chan []string // jobs committed to the outbox, to enqueue
	wg      sync.WaitGroup
}

// New returns a Service. Register handlers before Start.
func New(st *store.Store, engine EngineFunc, opts Options) *Service {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 2
	}
	if opts.Lock <= 0 {
		opts.Lock = 5 * time.Minute
	}
	if opts.ReconcileEvery <= 0 {
		opts.ReconcileEvery = 2 * time.Second
	}
	if opts.Worker == "" {
		opts.Worker = "host"
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	return &Service{store: st, engine: engine, opts: opts, log: opts.Logger.Named("jobs"), handlers: map[string]Handler{}, kick: make(chan bool, 1), pending: make(chan []string, 1024)}
}

// Handle registers the handler for a kind.
func (s *Service) Handle(kind string, h Handler) { s.handlers[kind] = h }

// Submit records jobs in the outbox and enqueues them. Once it returns nil
// the jobs are acknowledged: they will run even if the engine is down now.
func (s *Service) Submit(ctx context.Context, jobs []Job) error {
	err := s.store.Tx(ctx, func(tx *sql.Tx) error {
		_, err := Add(ctx, tx, jobs)
		return err
	})
	if err != nil {
		return err
	}
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	s.Dispatch(ctx, ids)
	return nil
}

// Dispatch enqueues outbox jobs after their transaction committed. A failure
// is logged, not returned: the job stays queued and the reconciler retries.
// It reports whether the engine took them.
func (s *Service) Dispatch(ctx context.Context, ids []string) bool {
	if err := s.enqueue(ctx, ids); err != nil {
		s.log.Warn("enqueue failed; the outbox will retry", "jobs", len(ids), "error", err)
		select {
		case s.kick <- false:
		default:
		}
		return false
	}
	return true
}

// DispatchAsync hands jobs committed to the outbox to a background
// dispatcher, which enqueues them in batches. The caller does not wait for
// the engine: the jobs are acknowledged once committed, and batching the
// enqueues of concurrent requests keeps the engine's round trip off every
// request's path. If the dispatcher is saturated, the reconciler picks the
// jobs up from the outbox instead.
func (s *Service) DispatchAsync(ids []string) {
	if len(ids) == 0 {
		return
	}
	select {
	case s.pending <- ids:
	default:
		s.Kick(false)
	}
}

// dispatchLoop drains DispatchAsync: it gathers what arrives within a
// millisecond, up to a full engine batch, and enqueues it in one call.
func (s *Service) dispatchLoop(ctx context.Context) {
	for {
		var batch []string
		select {
		case <-ctx.Done():
			return
		case ids := <-s.pending:
			batch = append(batch, ids...)
		}
		linger := time.NewTimer(time.Millisecond)
	gather:
		for len(batch) < queue.MaxBatch {
			select {
			case ids := <-s.pending:
				batch = append(batch, ids...)
			case <-linger.C:
				break gather
			}
		}
		linger.Stop()
		s.Dispatch(ctx, batch)
	}
}

// Kick asks the reconciler to run now; full re-enqueues every open job,
// which is needed after the engine lost or may have lost its state.
func (s *Service) Kick(full bool) {
	select {
	case s.kick <- full:
	default:
		if full {
			// A pending kick may be a partial one; make room for the full one.
			select {
			case <-s.kick:
			default:
			}
			select {
			case s.kick <- true:
			default:
			}
		}
	}
}

// enqueue loads jobs from the outbox and hands them to the engine.
func (s *Service) enqueue(ctx context.Context, ids []string) error {
	eng, err := s.engine()
	if err != nil {
		return err
	}
	for start := 0; start < len(ids); start += queue.MaxBatch {
		batch := ids[start:min(start+queue.MaxBatch, len(ids))]
		jobs, err := s.load(ctx, batch)
		if err != nil {
			return err
		}
		if len(jobs) == 0 {
			continue
		}
		if _, err := eng.Enqueue(ctx, jobs); err != nil {
			return fmt.Errorf("jobs: enqueue: %w", err)
		}
		err = s.store.Tx(ctx, func(tx *sql.Tx) error {
			for _, j := range jobs {
				res, err := tx.ExecContext(ctx, `UPDATE generation_jobs SET status = ?, updated_at = ? WHERE id = ? AND status = ?`,
					StatusEnqueued, time.Now().UnixMilli(), j.ID, StatusQueued)
				if err != nil {
					return fmt.Errorf("jobs: mark enqueued: %w", err)
				}
				if n, _ := res.RowsAffected(); n == 1 {
					if err := appendEvent(ctx, tx, j.ID, StatusEnqueued, 0, ""); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// load reads the open jobs among ids.
func (s *Service) load(ctx context.Context, ids []string) ([]queue.NewJob, error) {
	args := make([]any, 0, len(ids)+len(openStatuses))
	for _, id := range ids {
		args = append(args, id)
	}
	for _, st := range openStatuses {
		args = append(args, st)
	}
	rows, err := s.store.Reader().QueryContext(ctx, `SELECT id, lane, kind, payload, max_attempts FROM generation_jobs
		WHERE id IN (`+placeholders(len(ids))+`) AND status IN (`+placeholders(len(openStatuses))+`) ORDER BY created_at, rowid`, args...)
	if err != nil {
		return nil, fmt.Errorf("jobs: load: %w", err)
	}
	defer rows.Close()
	var out []queue.NewJob
	for rows.Next() {
		var j queue.NewJob
		if err := rows.Scan(&j.ID, &j.Lane, &j.Kind, &j.Payload, &j.MaxAttempts); err != nil {
			return nil, fmt.Errorf("jobs: load: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// Reconcile enqueues open jobs again: only those still queued, or, with
// full, every job that has not finished.
func (s *Service) Reconcile(ctx context.Context, full bool) (int, error) {
	statuses := []string{StatusQueued}
	if full {
		statuses = openStatuses
	}
	args := make([]any, len(statuses))
	for i, st := range statuses {
		args[i] = st
	}
	rows, err := s.store.Reader().QueryContext(ctx, `SELECT id FROM generation_jobs WHERE status IN (`+placeholders(len(statuses))+`) ORDER BY created_at, rowid`, args...)
	if err != nil {
		return 0, fmt.Errorf("jobs: reconcile: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("jobs: reconcile: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("jobs: reconcile: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	if err := s.enqueue(ctx, ids); err != nil {
		return 0, err
	}
	return len(ids), nil
}

// Counts returns the number of outbox jobs per status.
func (s *Service) Counts(ctx context.Context) (map[string]int64, error) {
	rows, err := s.store.Reader().QueryContext(ctx, `SELECT status, COUNT(*) FROM generation_jobs GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("jobs: counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("jobs: counts: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}

// Status returns a job's outbox status, or sql.ErrNoRows.
func (s *Service) Status(ctx context.Context, id string) (string, int, error) {
	var st string
	var attempts int
	err := s.store.Reader().QueryRowContext(ctx, `SELECT status, attempts FROM generation_jobs WHERE id = ?`, id).Scan(&st, &attempts)
	if err != nil {
		return "", 0, fmt.Errorf("jobs: status %s: %w", id, err)
	}
	return st, attempts, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// ErrNoHandler fails a job whose kind no handler is registered for.
var ErrNoHandler = errors.New("jobs: no handler for this kind")
