package queuevalkey

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Event is one event of the queue's event stream. It carries IDs and routing
// only, never payloads or failure reasons (which may quote user content).
type Event struct {
	// StreamID is the ID ("<ms>-<seq>") of the stream entry that holds the
	// event. One operation writes its events into one entry (a batch into
	// one per eventsPerEntry events), so events of one call share it.
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
// stream is capped at about 10000 entries of up to 16 events each (scripts.go).
func (e *Engine) Events(ctx context.Context, n int) ([]Event, error) {
	n = min(max(n, 1), 1000)
	// An entry holds at least one event, so n entries are enough. The raw
	// reply is read because an entry repeats its field names, which
	// go-redis's XMessage map would collapse.
	res, err := e.rdb.Do(ctx, "XREVRANGE", e.base+"events", "+", "-", "COUNT", n).Slice()
	if err != nil {
		return nil, e.fail("events", err)
	}
	out := make([]Event, 0, n)
	for _, r := range res {
		entry, ok := r.([]any)
		if !ok || len(entry) != 2 {
			return nil, fmt.Errorf("queue-valkey: events: unexpected entry %T", r)
		}
		id := toString(entry[0])
		var at time.Time
		if ms, _, ok := strings.Cut(id, "-"); ok {
			if v, err := strconv.ParseInt(ms, 10, 64); err == nil {
				at = time.UnixMilli(v)
			}
		}
		fields, _ := entry[1].([]any)
		// Fields are type, job, lane per event, oldest first.
		for i := len(fields) - 6; i >= 0 && len(out) < n; i -= 6 {
			out = append(out, Event{StreamID: id, Time: at,
				Type: toString(fields[i+1]), JobID: toString(fields[i+3]), Lane: toString(fields[i+5])})
		}
		if len(out) == n {
			break
		}
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
