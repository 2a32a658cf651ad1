package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// Start reconciles the outbox fully, then runs the workers and the
// reconciler until ctx ends. Stop waits for them.
func (s *Service) Start(ctx context.Context) {
	if n, err := s.Reconcile(ctx, true); err != nil {
		s.log.Warn("startup reconcile failed; will retry", "error", err)
		s.Kick(true)
	} else if n > 0 {
		s.log.Info("re-enqueued open jobs from the outbox", "jobs", n)
	}
	s.wg.Go(func() { s.reconcileLoop(ctx) })
	s.wg.Go(func() { s.dispatchLoop(ctx) })
	for i := range s.opts.Concurrency {
		worker := fmt.Sprintf("%s-%d", s.opts.Worker, i)
		s.wg.Go(func() { s.workLoop(ctx, worker) })
	}
}

// Wait blocks until the workers have stopped (after ctx given to Start
// ends and in-flight jobs are done).
func (s *Service) Wait() { s.wg.Wait() }

func (s *Service) reconcileLoop(ctx context.Context) {
	t := time.NewTicker(s.opts.ReconcileEvery)
	defer t.Stop()
	for {
		full := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case full = <-s.kick:
		}
		if n, err := s.Reconcile(ctx, full); err != nil {
			if ctx.Err() == nil {
				s.log.Debug("reconcile failed", "error", err)
			}
			if full {
				s.Kick(true)
			}
		} else if n > 0 {
			s.log.Info("re-enqueued jobs from the outbox", "jobs", n, "full", full)
		}
	}
}

func (s *Service) workLoop(ctx context.Context, worker string) {
	pause := 50 * time.Millisecond
	for ctx.Err() == nil {
		eng, err := s.engine()
		if err != nil {
			sleep(ctx, pause)
			pause = min(pause*2, 2*time.Second)
			continue
		}
		leases, err := eng.Reserve(ctx, queue.ReserveRequest{Max: 1, Lock: s.opts.Lock, Wait: 5 * time.Second, Worker: worker})
		if err != nil {
			if ctx.Err() == nil {
				s.log.Debug("reserve failed", "error", err)
				sleep(ctx, pause)
				pause = min(pause*2, 2*time.Second)
			}
			continue
		}
		pause = 50 * time.Millisecond
		for _, l := range leases {
			// In-flight work finishes even when the host is stopping: the
			// lease is ours, and abandoning it would only delay the job.
			s.process(context.WithoutCancel(ctx), eng, l)
		}
	}
}

// process runs one leased job and records the outcome.
func (s *Service) process(ctx context.Context, eng queue.Engine, l queue.Lease) {
	id := l.Job.ID
	log := s.log.With("job", id, "kind", l.Job.Kind)
	status, _, err := s.Status(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		// Not in this host's outbox (another host's store, or pruned): do
		// not run what this host never acknowledged.
		_, _ = eng.Fail(ctx, id, l.Token, queue.Failure{Reason: "job is not in the host outbox"})
		return
	}
	if err != nil {
		log.Error("read outbox", "error", err)
		return // the lease stalls and the job comes back
	}
	switch status {
	case StatusCompleted, StatusCancelled:
		// Done before a crash cut the acknowledgement short.
		if err := eng.Complete(ctx, id, l.Token); err != nil {
			log.Warn("complete", "error", err)
		}
		return
	case StatusFailed:
		_, _ = eng.Fail(ctx, id, l.Token, queue.Failure{Reason: "job already failed in the outbox"})
		return
	}
	attempt := l.Job.Attempts + 1
	if err := s.mark(ctx, id, StatusProcessing, attempt, ""); err != nil {
		log.Error("mark processing", "error", err)
		return
	}
	h, ok := s.handlers[l.Job.Kind]
	var runErr error
	if !ok {
		runErr = Permanent(fmt.Errorf("%w %q", ErrNoHandler, l.Job.Kind))
	} else {
		runErr = s.run(ctx, eng, l, h, attempt)
	}
	if runErr == nil {
		if err := s.mark(ctx, id, StatusCompleted, attempt, ""); err != nil {
			log.Error("mark completed", "error", err)
			return
		}
		if err := eng.Complete(ctx, id, l.Token); err != nil {
			log.Warn("complete", "error", err)
		}
		return
	}
	res, err := eng.Fail(ctx, id, l.Token, queue.Failure{Reason: runErr.Error(), Retryable: !IsPermanent(runErr)})
	if err != nil {
		log.Warn("fail", "error", err)
		return
	}
	next := StatusRetryScheduled
	if res.State == queue.StateFailed {
		next = StatusFailed
	}
	log.Warn("job attempt failed", "attempt", attempt, "next", next, "error", runErr)
	if s.opts.Observer != nil {
		s.opts.Observer.JobAttemptFailed(l.Job.Kind, next == StatusFailed)
	}
	if err := s.mark(ctx, id, next, attempt, runErr.Error()); err != nil {
		log.Error("mark "+next, "error", err)
	}
}

// run calls the handler while keeping the lease alive.
func (s *Service) run(ctx context.Context, eng queue.Engine, l queue.Lease, h Handler, attempt int) error {
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(s.opts.Lock / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if _, err := eng.Extend(hctx, l.Job.ID, l.Token, s.opts.Lock); errors.Is(err, queue.ErrLeaseLost) {
					s.log.Warn("lease lost; abandoning attempt", "job", l.Job.ID)
					cancel()
					return
				}
			}
		}
	}()
	job := Job{ID: l.Job.ID, Lane: l.Job.Lane, Kind: l.Job.Kind, Payload: l.Job.Payload, MaxAttempts: l.Job.MaxAttempts, Backoff: l.Job.Backoff, Attempt: attempt}
	return h(hctx, job)
}

func (s *Service) mark(ctx context.Context, id, status string, attempt int, detail string) error {
	return s.store.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE generation_jobs SET status = ?, attempts = ?, last_error = ?, updated_at = ? WHERE id = ?`,
			status, attempt, detail, time.Now().UnixMilli(), id)
		if err != nil {
			return fmt.Errorf("jobs: mark %s %s: %w", id, status, err)
		}
		return appendEvent(ctx, tx, id, status, attempt, detail)
	})
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
