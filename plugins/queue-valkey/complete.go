package queuevalkey

import (
	"context"
	"fmt"
	"sync"
)

// Completions are group-committed: a Complete that finds another one's
// script call in flight queues its lease, and the next call takes every
// queued lease (up to maxReserve) in one script run. Concurrent workers
// finishing a reserved batch then cost a few round trips instead of one
// each, while a lone Complete goes straight out as before. Each lease still
// gets its own answer, the script handles the leases in order exactly as
// that many separate calls would, and a Complete returns only once the
// server has run the script, so nothing is acknowledged early.

// maxCompleteFlights is how many completion script calls may be in flight at
// once: two keep the server busy while a reply travels back.
const maxCompleteFlights = 2

type completion struct {
	id, token string
	done      chan error // buffered; receives the lease's result
}

type completer struct {
	mu      sync.Mutex
	queue   []*completion
	flights int
}

// Complete implements queue.Engine.
func (e *Engine) Complete(ctx context.Context, id, token string) error {
	c := &completion{id: id, token: token, done: make(chan error, 1)}
	cm := &e.completer
	cm.mu.Lock()
	cm.queue = append(cm.queue, c)
	if cm.flights >= maxCompleteFlights {
		cm.mu.Unlock()
		select {
		case err := <-c.done:
			return err
		case <-ctx.Done():
			// The lease may still be completed by the queued call, as
			// when a context ends while a request is on the wire.
			return fmt.Errorf("queue-valkey: complete %q: %w", id, ctx.Err())
		}
	}
	cm.flights++
	batch := cm.take()
	cm.mu.Unlock()
	e.completeBatch(ctx, c, batch)
	// Leases queued meanwhile fly on in a goroutine of their own: waiting
	// for them here would delay this caller's return by their round trips.
	cm.mu.Lock()
	if len(cm.queue) > 0 {
		go e.flyQueued()
	} else {
		cm.flights--
	}
	cm.mu.Unlock()
	return <-c.done
}

// take removes and returns up to maxReserve queued completions. The caller
// holds mu.
func (cm *completer) take() []*completion {
	batch := cm.queue[:min(len(cm.queue), maxReserve)]
	cm.queue = cm.queue[len(batch):]
	if len(cm.queue) == 0 {
		cm.queue = nil
	}
	return batch
}

// flyQueued runs the queued completions, batch after batch, until none is
// left; it holds the flight its starter handed over.
func (e *Engine) flyQueued() {
	cm := &e.completer
	for {
		cm.mu.Lock()
		if len(cm.queue) == 0 {
			cm.flights--
			cm.mu.Unlock()
			return
		}
		batch := cm.take()
		cm.mu.Unlock()
		e.completeBatch(context.Background(), nil, batch)
	}
}

// completeBatch runs the complete script for a batch and hands each lease
// its result. The batch runs under ctx when it is the caller's own lease
// alone; with others' leases aboard, the caller's cancellation must not fail
// them, so it runs under a context without cancel (go-redis's timeouts still
// bound it).
func (e *Engine) completeBatch(ctx context.Context, own *completion, batch []*completion) {
	if len(batch) > 1 || batch[0] != own {
		ctx = context.WithoutCancel(ctx)
	}
	args := make([]any, 0, 1+2*len(batch))
	args = append(args, e.keepOK)
	for _, c := range batch {
		args = append(args, c.id, c.token)
	}
	res, err := e.run(ctx, completeScript, args...)
	vals, ok := res.([]any)
	if err == nil && (!ok || len(vals) != len(batch)) {
		err = fmt.Errorf("unexpected reply %T", res)
	}
	for i, c := range batch {
		switch {
		case err != nil:
			c.done <- e.fail(fmt.Sprintf("complete %q", c.id), err)
		default:
			c.done <- codeErr("complete", c.id, toInt(vals[i]))
		}
	}
}
