// Package queuesqlite is the embedded default queue engine: queue.Engine on a
// single SQLite file (pure Go, modernc.org/sqlite).
//
// # Storage
//
// All jobs live in one table, ordered by seq (the rowid). A lane's jobs run in
// seq order, one at a time: the unfinished job with the lowest seq of each
// lane carries head = 1, and only heads are reserved. A head keeps the mark
// while it is active or delayed for a retry, so the lane stays blocked until
// the job completes, fails for good or is cancelled; then the next unfinished
// job of the lane is promoted. Reserve is therefore a range scan of a partial
// index over ready heads, and no lane ever has two jobs in flight.
//
// Stalled leases are recovered lazily: every transaction first moves active
// jobs whose lock has expired back to waiting (or to failed once their
// attempts are used up). An in-memory lower bound of the earliest lock expiry
// makes this a single comparison in the common case. A blocked Reserve wakes
// when the earliest lock expires, so recovery does not wait for new traffic.
//
// # Transactions
//
// Every call, reads included, runs on one connection, one transaction at a
// time. Calls that arrive while a transaction runs are coalesced into the next
// one (group commit): concurrent Complete calls share a commit and, when
// several meet, a single UPDATE. The file is opened in exclusive locking
// mode: no other connection or process can use it while the engine is open,
// which the in-process wake-ups and stall recovery rely on, SQLITE_BUSY cannot
// happen, and SQLite skips the shared-memory locking it would otherwise do on
// every transaction.
//
// # Blocking reserve
//
// A Reserve that finds nothing waits on an in-process wake channel that is
// closed and replaced after every commit that may make a job ready, and on a
// timer set to the next moment something becomes due (a delayed job's retry
// time or a lease's expiry), capped by the caller's wait. There is no polling.
//
// # Durability
//
// The file runs in WAL mode with synchronous=NORMAL. A transaction is written
// to the WAL (at least into the OS page cache) before the call returns, so it
// survives kill -9 of the process, which is what the contract asks. Only an OS
// crash or power loss could lose the last transactions (never corrupt the
// file); in exchange a commit needs no fsync, only checkpoints do.
//
// # Retention
//
// Completed and failed jobs are kept, and their IDs deduplicated, for
// Options.CompletedRetention and Options.FailedRetention; a background sweep
// then deletes them, after which their IDs may be enqueued again.
package queuesqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/claude-mem/claude-mem-server/sdk/queue"
)

// Options configures an Engine. The zero value is ready to use.
type Options struct {
	// CompletedRetention is how long a completed job is kept (and its ID
	// deduplicated) before the background sweep deletes it. Zero means 7
	// days; a negative value keeps completed jobs forever.
	CompletedRetention time.Duration
	// FailedRetention is the same for failed jobs. Zero means 30 days; a
	// negative value keeps failed jobs forever.
	FailedRetention time.Duration
	// PruneInterval is how often the retention sweep runs. Zero means 10
	// minutes.
	PruneInterval time.Duration
	// BusyTimeout is how long Open waits for the file while another
	// process (or engine) holds it, before failing. Zero means 5 seconds.
	BusyTimeout time.Duration
	// Logger receives background errors (pruning). Nil means silent.
	Logger *slog.Logger
	// Now is the clock used for every stored timestamp. Nil means
	// time.Now. Only tests should set it; blocking waits always use real
	// timers.
	Now func() time.Time

	// manualPrune turns the background sweep off, for tests that call Prune
	// themselves.
	manualPrune bool
}

// Defaults for Options.
const (
	DefaultCompletedRetention = 7 * 24 * time.Hour
	DefaultFailedRetention    = 30 * 24 * time.Hour
	DefaultPruneInterval      = 10 * time.Minute
	DefaultBusyTimeout        = 5 * time.Second
)

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if o.CompletedRetention == 0 {
		o.CompletedRetention = DefaultCompletedRetention
	}
	if o.FailedRetention == 0 {
		o.FailedRetention = DefaultFailedRetention
	}
	if o.PruneInterval <= 0 {
		o.PruneInterval = DefaultPruneInterval
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Engine is a queue.Engine stored in one SQLite file.
type Engine struct {
	opts Options
	db   *sql.DB
	conn *sql.Conn // the only connection; do serialises its use
	st   stmts     // prepared on conn

	// Transaction queue, see submit. qmu guards the fields below it.
	qmu     sync.Mutex
	idle    *sync.Cond // signalled when leading turns false
	pending []*op
	leading bool // a caller is running transactions
	closed  bool

	closing   chan struct{} // closed by Close: wakes blocked Reserve calls
	bgDone    chan struct{} // closed when the prune goroutine has exited
	closeOnce sync.Once
	closeErr  error

	// nextStall is a lower bound (Unix ms) of the earliest lock expiry of
	// any active job; math.MaxInt64 when none is active. Only the leader in
	// submit stores it, after a commit.
	nextStall atomic.Int64

	wakeMu sync.Mutex
	wake   chan struct{} // closed and replaced when a job may have become ready
}

var _ queue.Engine = (*Engine)(nil)

// Open opens (creating if needed) the queue file at path, brings its schema up
// to date and starts the engine. ctx bounds only the opening.
//
// The engine holds an exclusive lock on the file until Close: a second
// engine, in this process or another, cannot open it, which matters because
// wake-ups and stall recovery assume one engine per file.
func Open(ctx context.Context, path string, opts Options) (*Engine, error) {
	opts = opts.WithDefaults()
	e, err := open(ctx, path, opts)
	if err != nil {
		return nil, fmt.Errorf("queue-sqlite: open %s: %w", path, err)
	}
	go e.pruneLoop()
	return e, nil
}

func open(ctx context.Context, path string, opts Options) (*Engine, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	// One connection, never recycled, used through do one transaction at a
	// time; its prepared statements stay valid for the engine's life.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	fail := func(err error) (*Engine, error) {
		conn.Close()
		db.Close()
		return nil, err
	}
	// locking_mode must come before the first WAL access: SQLite then keeps
	// the WAL index in process memory instead of a shared-memory file, which
	// saves a handful of fcntl calls per transaction (about a third of the
	// cost of a small commit).
	for _, p := range []string{"PRAGMA locking_mode = EXCLUSIVE", "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA wal_autocheckpoint = 4000"} {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			return fail(fmt.Errorf("%s: %w", p, err))
		}
	}
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fail(err)
	}
	if mode != "wal" {
		return fail(fmt.Errorf("journal_mode is %q, want wal", mode))
	}
	if err := migrate(ctx, conn); err != nil {
		return fail(err)
	}
	st, err := prepare(ctx, conn)
	if err != nil {
		return fail(err)
	}
	e := &Engine{
		opts:    opts,
		db:      db,
		conn:    conn,
		st:      st,
		closing: make(chan struct{}),
		bgDone:  make(chan struct{}),
		wake:    make(chan struct{}),
	}
	e.idle = sync.NewCond(&e.qmu)
	// Leases left by a previous process are recovered once they expire: the
	// bound makes the first transaction after that sweep them.
	var minLock sql.NullInt64
	if err := st.minLock.QueryRowContext(ctx).Scan(&minLock); err != nil {
		e.closeDBs()
		return nil, err
	}
	e.nextStall.Store(math.MaxInt64)
	if minLock.Valid {
		e.nextStall.Store(minLock.Int64)
	}
	return e, nil
}

// Close stops the engine. Blocked Reserve calls return ErrClosed. It is
// safe to call more than once.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		e.qmu.Lock()
		e.closed = true
		close(e.closing)
		// Let a running leader finish the calls already queued.
		for e.leading {
			e.idle.Wait()
		}
		e.qmu.Unlock()
		<-e.bgDone
		e.closeErr = e.closeDBs()
	})
	return e.closeErr
}

func (e *Engine) closeDBs() error {
	e.st.close()
	return errors.Join(e.conn.Close(), e.db.Close())
}

func (e *Engine) nowMS() int64 { return e.opts.Now().UnixMilli() }

// wakeCh returns the channel the next wake-up will close. Take it before
// looking for work, so a wake-up between the look and the wait is not lost.
func (e *Engine) wakeCh() <-chan struct{} {
	e.wakeMu.Lock()
	defer e.wakeMu.Unlock()
	return e.wake
}

// notify wakes every blocked Reserve.
func (e *Engine) notify() {
	e.wakeMu.Lock()
	close(e.wake)
	e.wake = make(chan struct{})
	e.wakeMu.Unlock()
}

// newToken returns 128 random bits in hex.
func newToken() (string, error) {
	var buf [16]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(buf[:]), nil
}

func msToTime(ms sql.NullInt64) time.Time {
	if !ms.Valid || ms.Int64 == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms.Int64)
}

// ceilMS converts d to whole milliseconds, rounding up so that a lock or a
// delay is never shorter than asked.
func ceilMS(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}
