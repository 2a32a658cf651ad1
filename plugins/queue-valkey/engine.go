// Package queuevalkey is a queue.Engine on Valkey or Redis (≥ 7), for
// deployments where several claude-mem hosts share one queue.
//
// It follows BullMQ's semantics (deduplicated IDs, a lock per active job,
// stalled-job recovery, retries through a delayed set, an event stream) with
// its own key layout and its own Lua; it is not readable by Node BullMQ.
//
// # Keys
//
// Every key of a queue is "<prefix>:{<prefix>}:<name>", so all of them share
// the hash tag {<prefix>} and live in one Valkey Cluster slot, which the
// multi-key scripts require. The scripts also build keys from job IDs and
// lane names (which cannot be declared up front); that is fine on a single
// server and, because of the shared tag, lands in the same slot on a cluster.
// Job IDs are colon-free by contract, so they sit safely in key names.
//
//	job:<id>               hash: lane, kind, pl (payload), st (state), att,
//	                       max, bo (backoff ns), created/avail/fin/lock (ms),
//	                       tok (lease token), wk (worker), err, seq
//	lane:<lane>            list: the lane's unfinished job IDs in FIFO order
//	ready                  zset: lanes whose head job is waiting, by its seq
//	active                 zset: active job IDs by lock expiry (ms)
//	delayed                zset: job IDs waiting for a retry, by due time
//	completed, failed      zset: finished job IDs by finish time
//	lanecompleted:<lane>   zset: the same per lane, for Counts and ClearLane
//	lanefailed:<lane>
//	stats                  hash: seq, waiting, and event counters
//	events                 stream: job events, up to 16 per entry (one
//	                       entry per call, or per 16 events of a batch),
//	                       MAXLEN ~ 10000 entries
//	wake                   pub/sub channel (not a key)
//
// # Scripts
//
// Every operation that changes state is one Lua script (scripts.go), so it
// is atomic even with several hosts on one server. Only the head of a lane
// may be reserved, and a lane is in the ready set only while its head is
// waiting; Reserve pops lanes from ready, so two hosts can never take two
// jobs of one lane. A job that fails with a retry keeps heading its lane while
// delayed. Scripts take the time from the server (TIME), so hosts with skewed
// clocks agree on lock expiry and retry times. Every script but Enqueue
// and Complete (Get and Counts included) first sweeps: due retries become
// waiting, and expired locks are recovered, so a stalled job goes back to
// waiting with its attempt counted, or fails once its attempts are used up.
// When nothing is due that costs two O(log n) range queries, and stalled
// jobs are found without a separate checker. Complete sweeps only when the
// lease it is given has expired (the lease is then lost), since completing
// a live lease changes nothing a sweep looks at. Counters and events are
// gathered during a script and written once at its end: one HINCRBY per
// counter and one XADD per 16 events, whatever the batch size. Finished jobs are pruned by age, a few per
// Complete or Fail, so retention needs no background task. At maxmemory the
// server refuses Enqueue whole (scripts carry a shebang, so the memory check
// happens before any write); every other operation keeps working, so work
// in flight can finish and lanes can be cleared.
//
// # Blocking reserve
//
// A Reserve that finds nothing waits on an in-process channel that is closed
// whenever a lane may have become ready, plus a timer for the next delayed
// job or lock expiry (the script returns that delay, measured on the server's
// clock). Scripts that make a lane ready PUBLISH on the wake channel; each
// Engine keeps one subscription whose goroutine closes the channel, waking
// every blocked Reserve on every host at once. A Redis list popped with BLPOP
// would wake only one waiter on one host, and go-redis rounds blocking
// timeouts to whole seconds; pub/sub has neither problem and costs one
// connection per Engine. Local calls wake local waiters through the same
// channel (a sub-millisecond detour), so each change wakes each waiter once,
// and only when a lane really became ready. Messages sent while a
// subscription is down are lost, so when it (re)subscribes the goroutine
// wakes every waiter to look again; while it is down, local calls wake local
// waiters directly and waiters re-check every 500 ms instead of sleeping.
// The in-process channel is taken before the reserve script runs,
// so a wake-up between the script and the wait is never lost.
//
// # Completions
//
// Concurrent Complete calls are group-committed (complete.go): while two
// complete scripts are in flight, further calls queue, and the next script
// call takes every queued lease at once. The script handles them in order,
// exactly as separate calls would, each call gets its own answer, and none
// returns before the server has run its script, so acknowledgement and
// durability are unchanged. A lone Complete goes out at once, as before.
//
// # Durability
//
// Acknowledged writes survive kill -9 of the server only if it runs with
// appendonly yes and appendfsync always; with everysec up to a second can
// be lost, and Open logs a warning for anything less. Open insists on
// maxmemory-policy noeviction, since eviction would silently drop jobs.
package queuevalkey

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/claude-mem/claude-mem-server/sdk/plugin"
	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// Defaults for Options.
const (
	DefaultURL                = "redis://127.0.0.1:6379/0"
	DefaultPrefix             = "claude_mem"
	DefaultConnectTimeout     = 5 * time.Second
	DefaultCompletedRetention = 7 * 24 * time.Hour
	DefaultFailedRetention    = 30 * 24 * time.Hour
)

// maxReserve caps ReserveRequest.Max, so one script run stays short.
const maxReserve = 1000

// degradedRecheck is how often a blocked Reserve looks for work while the
// wake subscription is down and wake-ups from other hosts may be missed.
const degradedRecheck = 500 * time.Millisecond

// Options configures an Engine.
type Options struct {
	// URL is the server, redis://[user:password@]host:port/db or rediss://
	// for TLS. go-redis query options such as pool_size or max_retries are
	// honoured, except dial_timeout, which ConnectTimeout sets. Empty means
	// DefaultURL.
	URL string
	// Prefix starts every key. Engines that share a prefix share a queue.
	// It must not contain braces, which would break the hash tag. Empty
	// means DefaultPrefix.
	Prefix string
	// ConnectTimeout bounds Open's checks and each dial. Zero means 5 s.
	ConnectTimeout time.Duration
	// CompletedRetention is how long a completed job is kept (and its ID
	// deduplicated) before it is pruned. Zero means 7 days; a negative
	// value keeps completed jobs forever. (Same convention as queue-sqlite.)
	CompletedRetention time.Duration
	// FailedRetention is the same for failed jobs. Zero means 30 days; a
	// negative value keeps them forever.
	FailedRetention time.Duration
	// SkipPolicyCheck skips the maxmemory-policy check in Open. Set it only
	// for a managed service that disables CONFIG and whose policy you have
	// confirmed to be noeviction by other means.
	SkipPolicyCheck bool
	// Logger receives background errors (the wake subscription). Nil means
	// silent. Payloads are never logged.
	Logger *slog.Logger
}

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.CompletedRetention == 0 {
		o.CompletedRetention = DefaultCompletedRetention
	}
	if o.FailedRetention == 0 {
		o.FailedRetention = DefaultFailedRetention
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Errors Open returns, wrapped with the details; test them with errors.Is.
var (
	// ErrUnreachable means the server did not answer PING.
	ErrUnreachable = errors.New("queue-valkey: cannot reach")
	// ErrEvictionPolicy means the server may evict keys, or its policy
	// could not be read.
	ErrEvictionPolicy = errors.New("queue-valkey: unsafe maxmemory-policy")
)

// Engine is a queue.Engine on Valkey/Redis. Several Engines, in one process
// or on several hosts, may share a queue (the same server and Prefix).
type Engine struct {
	opts    Options
	url     string // redacted, for messages
	base    string // "<prefix>:{<prefix>}:"
	keys    []string
	keepOK  string // completed retention in ms, or "-1"
	keepBad string // failed retention in ms, or "-1"
	rdb     *redis.Client
	ps      *redis.PubSub

	closing   chan struct{}
	closeOnce sync.Once
	bgCancel  context.CancelFunc
	bgDone    chan struct{}

	subscribed atomic.Bool
	subs       atomic.Int64 // successful (re)subscriptions, for tests

	wakeMu sync.Mutex
	wake   chan struct{} // closed and replaced when a lane may have become ready

	completer completer // group commit of Complete (complete.go)
}

var (
	_ queue.Engine         = (*Engine)(nil)
	_ plugin.HealthChecker = (*Engine)(nil)
)

// Open connects to the server, checks that it is usable for a queue, and
// starts the engine. ctx bounds only the opening. It fails fast, with an
// error that says how to fix it, when the server is unreachable
// (ErrUnreachable) or may evict keys (ErrEvictionPolicy).
func Open(ctx context.Context, opts Options) (*Engine, error) {
	opts = opts.withDefaults()
	shown := redact(opts.URL)
	if strings.ContainsAny(opts.Prefix, "{}") {
		return nil, fmt.Errorf("queue-valkey: open: prefix %q contains a brace; braces would break the key hash tag", opts.Prefix)
	}
	ro, err := redis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("queue-valkey: open: parse URL %s: %w", shown, err)
	}
	ro.DialTimeout = opts.ConnectTimeout
	// A few quick retries ride over a blip; during a real outage calls
	// must fail promptly rather than pile up behind long backoffs.
	if ro.MaxRetries == 0 {
		ro.MaxRetries = 2
	}
	ro.DialerRetries = 2
	ro.DialerRetryTimeout = 50 * time.Millisecond
	// Let the caller's ctx deadline bound every call, so nothing hangs
	// beyond it while the server is away.
	ro.ContextTimeoutEnabled = true
	if ro.ClientName == "" {
		ro.ClientName = "claude-mem-queue"
	}
	// Maintenance push notifications are for Redis Enterprise/Cloud; with
	// a plain server they only cost a probe per connection.
	ro.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}

	e := &Engine{
		opts:    opts,
		url:     shown,
		base:    opts.Prefix + ":{" + opts.Prefix + "}:",
		keepOK:  retentionMS(opts.CompletedRetention),
		keepBad: retentionMS(opts.FailedRetention),
		rdb:     redis.NewClient(ro),
		closing: make(chan struct{}),
		bgDone:  make(chan struct{}),
		wake:    make(chan struct{}),
	}
	e.keys = []string{e.base + "stats"}
	if err := e.check(ctx); err != nil {
		_ = e.rdb.Close()
		return nil, err
	}
	if err := e.subscribe(ctx); err != nil {
		_ = e.rdb.Close()
		return nil, err
	}
	bg, cancel := context.WithCancel(context.Background())
	e.bgCancel = cancel
	go e.wakeLoop(bg)
	return e, nil
}

// check runs Open's fail-fast checks: reachability and eviction policy.
func (e *Engine) check(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, e.opts.ConnectTimeout)
	defer cancel()
	if err := e.rdb.Ping(cctx).Err(); err != nil {
		return fmt.Errorf("%w %s: %w; start Valkey or set CLAUDE_MEM_REDIS_URL to a reachable server (there is no fallback to SQLite)",
			ErrUnreachable, e.url, err)
	}
	if e.opts.SkipPolicyCheck {
		return nil
	}
	const fix = "set maxmemory-policy noeviction in valkey.conf or run CONFIG SET maxmemory-policy noeviction"
	cfg, err := e.rdb.ConfigGet(cctx, "maxmemory-policy").Result()
	if err != nil {
		return fmt.Errorf("%w: cannot read maxmemory-policy on %s: %w; the queue needs noeviction (eviction would silently drop jobs): %s, "+
			"or, if the service disables CONFIG and you have confirmed its policy, set SkipPolicyCheck",
			ErrEvictionPolicy, e.url, err, fix)
	}
	if policy := cfg["maxmemory-policy"]; policy != "noeviction" {
		return fmt.Errorf("%w on %s: the server runs with maxmemory-policy %q, so eviction would silently drop jobs; %s",
			ErrEvictionPolicy, e.url, policy, fix)
	}
	// Durability is the operator's call (a replicated managed service may
	// be durable enough without fsync always), so it only earns a warning.
	if aof, err := e.rdb.ConfigGet(cctx, "append*").Result(); err == nil &&
		(aof["appendonly"] != "yes" || aof["appendfsync"] != "always") {
		e.opts.Logger.Warn("the server may lose acknowledged jobs if it crashes; for full durability set appendonly yes and appendfsync always",
			"component", "queue-valkey", "url", e.url, "appendonly", aof["appendonly"], "appendfsync", aof["appendfsync"])
	}
	return nil
}

// Close stops the engine. Blocked Reserve calls return queue.ErrClosed. It is
// safe to call more than once.
func (e *Engine) Close() error {
	var err error
	e.closeOnce.Do(func() {
		close(e.closing)
		e.bgCancel()
		perr := e.ps.Close()
		<-e.bgDone
		err = errors.Join(perr, e.rdb.Close())
		if err != nil {
			err = fmt.Errorf("queue-valkey: close: %w", err)
		}
	})
	return err
}

func (e *Engine) isClosed() bool {
	select {
	case <-e.closing:
		return true
	default:
		return false
	}
}

// fail wraps an error from a call; after Close it is queue.ErrClosed.
func (e *Engine) fail(op string, err error) error {
	if e.isClosed() {
		return fmt.Errorf("queue-valkey: %s: %w", op, queue.ErrClosed)
	}
	return fmt.Errorf("queue-valkey: %s: %w", op, err)
}

// run runs a script with the queue's key base as ARGV[1] and returns what
// its main() returned.
//
// Waiters learn that a lane became ready from the wake channel, on this
// host as on every other, so that each change wakes them once. Only while
// the subscription is down does run wake local waiters itself.
func (e *Engine) run(ctx context.Context, s *redis.Script, args ...any) (any, error) {
	res, err := s.Run(ctx, e.rdb, e.keys, append([]any{e.base}, args...)...).Result()
	if err != nil {
		return nil, err
	}
	pair, ok := res.([]any)
	if !ok || len(pair) != 2 {
		return nil, fmt.Errorf("unexpected script reply %T", res)
	}
	if toInt(pair[0]) == 1 && !e.subscribed.Load() {
		e.notify()
	}
	return pair[1], nil
}

// Enqueue implements queue.Engine.
func (e *Engine) Enqueue(ctx context.Context, jobs []queue.NewJob) ([]queue.EnqueueResult, error) {
	if e.isClosed() {
		return nil, e.fail("enqueue", queue.ErrClosed)
	}
	// Validate a copy: Validate fills in defaults, and the caller's slice
	// is not ours to change.
	jobs = append([]queue.NewJob(nil), jobs...)
	if err := queue.ValidateBatch(jobs); err != nil {
		return nil, fmt.Errorf("queue-valkey: enqueue: %w", err)
	}
	args := make([]any, 0, 1+6*len(jobs))
	args = append(args, len(jobs))
	for _, j := range jobs {
		args = append(args, j.ID, j.Lane, j.Kind, j.Payload, j.MaxAttempts, int64(j.Backoff))
	}
	res, err := e.run(ctx, enqueueScript, args...)
	if err != nil {
		return nil, e.fail("enqueue", err)
	}
	vals, ok := res.([]any)
	if !ok || len(vals) != len(jobs) {
		return nil, fmt.Errorf("queue-valkey: enqueue: unexpected reply %T", res)
	}
	out := make([]queue.EnqueueResult, len(jobs))
	for i, v := range vals {
		out[i] = queue.EnqueueResult{ID: jobs[i].ID, Created: toInt(v) == 1}
	}
	return out, nil
}

// Reserve implements queue.Engine.
func (e *Engine) Reserve(ctx context.Context, req queue.ReserveRequest) ([]queue.Lease, error) {
	if req.Lock <= 0 {
		return nil, fmt.Errorf("queue-valkey: reserve: lock duration %v is not positive", req.Lock)
	}
	n := min(max(req.Max, 1), maxReserve)
	lockMS := ceilMS(req.Lock)
	deadline := time.Now().Add(req.Wait)
	for {
		if e.isClosed() {
			return nil, e.fail("reserve", queue.ErrClosed)
		}
		wake := e.wakeCh()
		leases, next, err := e.reserveOnce(ctx, n, lockMS, req.Worker)
		if err != nil || len(leases) > 0 {
			return leases, err
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return []queue.Lease{}, nil
		}
		if next >= 0 {
			// +1 ms: the script treats a lock as expired once its expiry
			// is not in the future, and timers may fire a hair early.
			wait = min(wait, time.Duration(next+1)*time.Millisecond)
		}
		if !e.subscribed.Load() {
			wait = min(wait, degradedRecheck)
		}
		timer := time.NewTimer(wait)
		select {
		case <-wake:
		case <-timer.C:
		case <-e.closing:
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("queue-valkey: reserve: %w", ctx.Err())
		}
		timer.Stop()
	}
}

// reserveOnce runs the reserve script once. next is the ms until something
// becomes due (a delayed job or a lock expiry), or -1.
func (e *Engine) reserveOnce(ctx context.Context, n int, lockMS int64, worker string) ([]queue.Lease, int64, error) {
	// One random base per call; the script numbers the leases under it, so
	// every token is unique and unguessable without sending n of them.
	base, err := newToken()
	if err != nil {
		return nil, 0, fmt.Errorf("queue-valkey: reserve: %w", err)
	}
	args := []any{n, lockMS, worker, base}
	res, err := e.run(ctx, reserveScript, args...)
	if err != nil {
		return nil, 0, e.fail("reserve", err)
	}
	vals, ok := res.([]any)
	if !ok || len(vals) == 0 || (len(vals)-1)%reserveFields != 0 {
		return nil, 0, fmt.Errorf("queue-valkey: reserve: unexpected reply %T", res)
	}
	leases := make([]queue.Lease, 0, (len(vals)-1)/reserveFields)
	for v := vals[1:]; len(v) > 0; v = v[reserveFields:] {
		job := queue.Job{
			SchemaVersion: queue.SchemaVersion,
			ID:            toString(v[0]),
			Lane:          toString(v[1]),
			Kind:          toString(v[2]),
			Payload:       toBytes(v[3]),
			State:         queue.StateActive,
			Attempts:      int(toInt(v[4])),
			MaxAttempts:   int(toInt(v[5])),
			Backoff:       time.Duration(toInt(v[6])),
			CreatedAt:     msTime(toInt(v[7])),
			AvailableAt:   msTime(toInt(v[8])),
			LastError:     toString(v[9]),
		}
		leases = append(leases, queue.Lease{Job: job, Token: toString(v[10]), LockedUntil: msTime(toInt(v[11]))})
	}
	return leases, toInt(vals[0]), nil
}

// Extend implements queue.Engine.
func (e *Engine) Extend(ctx context.Context, id, token string, lock time.Duration) (time.Time, error) {
	if lock <= 0 {
		return time.Time{}, fmt.Errorf("queue-valkey: extend %q: lock duration %v is not positive", id, lock)
	}
	res, err := e.run(ctx, extendScript, id, token, ceilMS(lock))
	if err != nil {
		return time.Time{}, e.fail(fmt.Sprintf("extend %q", id), err)
	}
	v := toInt(res)
	if err := codeErr("extend", id, v); err != nil {
		return time.Time{}, err
	}
	return msTime(v), nil
}

// Fail implements queue.Engine.
func (e *Engine) Fail(ctx context.Context, id, token string, f queue.Failure) (queue.FailResult, error) {
	retryable := "0"
	if f.Retryable {
		retryable = "1"
	}
	res, err := e.run(ctx, failScript, id, token, f.Reason, retryable, e.keepBad)
	if err != nil {
		return queue.FailResult{}, e.fail(fmt.Sprintf("fail %q", id), err)
	}
	vals, ok := res.([]any)
	if !ok {
		if err := codeErr("fail", id, toInt(res)); err != nil {
			return queue.FailResult{}, err
		}
		return queue.FailResult{}, fmt.Errorf("queue-valkey: fail %q: unexpected reply %T", id, res)
	}
	if len(vals) != 2 {
		return queue.FailResult{}, fmt.Errorf("queue-valkey: fail %q: unexpected reply of %d values", id, len(vals))
	}
	st := queue.State(toInt(vals[0]))
	if st == queue.StateFailed {
		return queue.FailResult{State: st}, nil
	}
	return queue.FailResult{State: st, AvailableAt: msTime(toInt(vals[1]))}, nil
}

// Get implements queue.Engine.
func (e *Engine) Get(ctx context.Context, id string) (queue.Job, error) {
	res, err := e.run(ctx, getScript, id)
	if err != nil {
		return queue.Job{}, e.fail(fmt.Sprintf("get %q", id), err)
	}
	flat, ok := res.([]any)
	if !ok || len(flat)%2 != 0 {
		return queue.Job{}, fmt.Errorf("queue-valkey: get %q: unexpected reply %T", id, res)
	}
	h := make(map[string]string, len(flat)/2)
	for i := 0; i < len(flat); i += 2 {
		h[toString(flat[i])] = toString(flat[i+1])
	}
	if len(h) == 0 {
		return queue.Job{}, fmt.Errorf("queue-valkey: get %q: %w", id, queue.ErrNotFound)
	}
	num := func(k string) int64 { n, _ := strconv.ParseInt(h[k], 10, 64); return n }
	j := queue.Job{
		SchemaVersion: queue.SchemaVersion,
		ID:            id,
		Lane:          h["lane"],
		Kind:          h["kind"],
		State:         queue.State(num("st")),
		Attempts:      int(num("att")),
		MaxAttempts:   int(num("max")),
		Backoff:       time.Duration(num("bo")),
		CreatedAt:     msTime(num("created")),
		AvailableAt:   msTime(num("avail")),
		FinishedAt:    msTime(num("fin")),
		LastError:     h["err"],
	}
	if pl := h["pl"]; pl != "" {
		j.Payload = []byte(pl)
	}
	return j, nil
}

// Counts implements queue.Engine.
func (e *Engine) Counts(ctx context.Context, lane string) (queue.Counts, error) {
	res, err := e.run(ctx, countsScript, lane)
	if err != nil {
		return queue.Counts{}, e.fail("counts", err)
	}
	v, ok := res.([]any)
	if !ok || len(v) != 5 {
		return queue.Counts{}, fmt.Errorf("queue-valkey: counts: unexpected reply %T", res)
	}
	return queue.Counts{Waiting: toInt(v[0]), Active: toInt(v[1]), Delayed: toInt(v[2]), Completed: toInt(v[3]), Failed: toInt(v[4])}, nil
}

// Retry implements queue.Engine.
func (e *Engine) Retry(ctx context.Context, id string) error {
	res, err := e.run(ctx, retryScript, id)
	if err != nil {
		return e.fail(fmt.Sprintf("retry %q", id), err)
	}
	if err := codeErr("retry", id, toInt(res)); err != nil {
		return err
	}
	return nil
}

// Cancel implements queue.Engine.
func (e *Engine) Cancel(ctx context.Context, id string) error {
	res, err := e.run(ctx, cancelScript, id)
	if err != nil {
		return e.fail(fmt.Sprintf("cancel %q", id), err)
	}
	if err := codeErr("cancel", id, toInt(res)); err != nil {
		return err
	}
	return nil
}

// ClearLane implements queue.Engine.
func (e *Engine) ClearLane(ctx context.Context, lane string) (int, error) {
	res, err := e.run(ctx, clearLaneScript, lane)
	if err != nil {
		return 0, e.fail(fmt.Sprintf("clear lane %q", lane), err)
	}
	return int(toInt(res)), nil
}

// Health reports whether the server answers and the wake subscription is
// up. It never takes longer than a second.
func (e *Engine) Health(ctx context.Context) plugin.Health {
	if e.isClosed() {
		return plugin.Health{Status: plugin.HealthDegraded, Detail: "queue-valkey: engine closed"}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := e.rdb.Ping(ctx).Err(); err != nil {
		return plugin.Health{Status: plugin.HealthDegraded, Detail: fmt.Sprintf("queue-valkey: cannot reach %s: %v", e.url, err)}
	}
	if !e.subscribed.Load() {
		return plugin.Health{Status: plugin.HealthDegraded,
			Detail: fmt.Sprintf("queue-valkey: %s answers, but the wake subscription is down; blocked reserves re-check every %v", e.url, degradedRecheck)}
	}
	return plugin.Health{Status: plugin.HealthOK, Detail: "queue-valkey: " + e.url}
}

// codeErr maps a script's negative status code to the contract's errors.
func codeErr(op, id string, code int64) error {
	switch code {
	case codeNotFound:
		return fmt.Errorf("queue-valkey: %s %q: %w", op, id, queue.ErrNotFound)
	case codeLeaseLost:
		return fmt.Errorf("queue-valkey: %s %q: %w", op, id, queue.ErrLeaseLost)
	case codeInvalidState:
		return fmt.Errorf("queue-valkey: %s %q: %w", op, id, queue.ErrInvalidState)
	}
	return nil
}

// redact returns the URL with its password masked, for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}

func retentionMS(d time.Duration) string {
	if d < 0 {
		return "-1"
	}
	return strconv.FormatInt(ceilMS(d), 10)
}

// ceilMS converts d to whole milliseconds, rounding up so that a lock or a
// delay is never shorter than asked.
func ceilMS(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

func msTime(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// newToken returns a random lease token base.
func newToken() (string, error) {
	var buf [16]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(buf[:]), nil
}

// Script replies arrive as int64, string or nil (a Lua false).

func toInt(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

func toString(v any) string {
	s, _ := v.(string)
	return s
}

func toBytes(v any) []byte {
	s, _ := v.(string)
	if s == "" {
		return nil
	}
	return []byte(s)
}
