package queuevalkey

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Event is one entry of the queue's event stream. It carries IDs and routing
// only, never payloads or failure reasons (which may quote user content).
type Event struct {
	// StreamID is the entry's stream ID ("<ms>-<seq>").
	StreamID string
	// Time is when the event happened, by the server's clock.
	Time time.Time
	// Type is one of enqueued, active, completed, delayed (a retry was
	// scheduled), failed, stalled, retried (Retry), cancelled, cleared
	// (ClearLane; JobID is empty).
	Type  string
	JobID string
	Lane  string
}

// Events returns the newest n events (at most 1000), newest first. The
// stream is capped at about 10000 entries.
func (e *Engine) Events(ctx context.Context, n int) ([]Event, error) {
	n = min(max(n, 1), 1000)
	msgs, err := e.rdb.XRevRangeN(ctx, e.base+"events", "+", "-", int64(n)).Result()
	if err != nil {
		return nil, e.fail("events", err)
	}
	out := make([]Event, 0, len(msgs))
	for _, m := range msgs {
		ev := Event{StreamID: m.ID}
		if ms, _, ok := strings.Cut(m.ID, "-"); ok {
			if v, err := strconv.ParseInt(ms, 10, 64); err == nil {
				ev.Time = time.UnixMilli(v)
			}
		}
		ev.Type, _ = m.Values["type"].(string)
		ev.JobID, _ = m.Values["job"].(string)
		ev.Lane, _ = m.Values["lane"].(string)
		out = append(out, ev)
	}
	return out, nil
}

// Stats are the queue's running totals since it was created (they survive
// restarts, and are shared by every Engine on the queue).
type Stats struct {
	// Enqueued counts created jobs (duplicates excluded).
	Enqueued  int64
	Completed int64
	// Failed counts jobs that failed for good, stalls included.
	Failed int64
	// Retries counts retryable failures that were scheduled for a retry.
	Retries int64
	// Stalls counts leases that expired without Extend, Complete or Fail.
	Stalls int64
	// Retried counts failed jobs put back by Retry.
	Retried int64
}

// Stats reads the queue's counters: one HGETALL, cheap enough for every
// /v1/info request.
func (e *Engine) Stats(ctx context.Context) (Stats, error) {
	h, err := e.rdb.HGetAll(ctx, e.base+"stats").Result()
	if err != nil {
		return Stats{}, e.fail("stats", err)
	}
	num := func(k string) int64 { n, _ := strconv.ParseInt(h[k], 10, 64); return n }
	return Stats{
		Enqueued:  num("enqueued"),
		Completed: num("completed"),
		Failed:    num("failed"),
		Retries:   num("retries"),
		Stalls:    num("stalled"),
		Retried:   num("retried"),
	}, nil
}

// String names the server and prefix, never the password.
func (e *Engine) String() string {
	return fmt.Sprintf("queue-valkey(%s, prefix %q)", e.url, e.opts.Prefix)
}
