package queuesqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; migration i brings the file to
// PRAGMA user_version i+1. Never edit a released migration: append a new one.
var migrations = []string{
	// 1: the jobs table.
	//
	// seq orders jobs for FIFO within a lane. A new row gets a seq above
	// every existing row (rowid allocation: max + 1), which is all FIFO and
	// Retry (it re-inserts a job at the back of its lane) need. No
	// AUTOINCREMENT: it would rewrite sqlite_sequence on every enqueue.
	//
	// head = 1 marks the unfinished job with the lowest seq in its lane: the
	// only job of the lane that may be reserved. The invariant is kept by
	// every statement that creates, finishes or removes an unfinished job.
	//
	// finished_at_ms is NULL exactly while a job is unfinished (waiting,
	// active, delayed), and locked_until_ms is set exactly while it is
	// active. The partial indexes select rows by those columns rather than by
	// state, so that Reserve, the hottest update, moves no entry of
	// jobs_unfinished or jobs_finished: every index page a commit touches is
	// a WAL frame written.
	`CREATE TABLE jobs (
		seq             INTEGER PRIMARY KEY,
		id              TEXT    NOT NULL UNIQUE,
		lane            TEXT    NOT NULL,
		kind            TEXT    NOT NULL,
		payload         BLOB,
		state           INTEGER NOT NULL,
		head            INTEGER NOT NULL DEFAULT 0,
		attempts        INTEGER NOT NULL DEFAULT 0,
		max_attempts    INTEGER NOT NULL,
		backoff_ns      INTEGER NOT NULL,
		available_at_ms INTEGER NOT NULL,
		token           TEXT,
		worker          TEXT,
		locked_until_ms INTEGER,
		last_error      TEXT    NOT NULL DEFAULT '',
		created_at_ms   INTEGER NOT NULL,
		finished_at_ms  INTEGER
	);
	-- Reserve: ready lane heads in due order.
	CREATE INDEX jobs_ready ON jobs (available_at_ms, seq) WHERE head = 1 AND state IN (1, 3);
	-- Head maintenance: the unfinished jobs of a lane in FIFO order.
	CREATE INDEX jobs_unfinished ON jobs (lane, seq) WHERE finished_at_ms IS NULL;
	-- Stall sweep and the blocking timer: leases by expiry.
	CREATE INDEX jobs_locked ON jobs (locked_until_ms) WHERE locked_until_ms IS NOT NULL;
	-- Counts and ClearLane.
	CREATE INDEX jobs_lane ON jobs (lane);
	-- Retention pruning.
	CREATE INDEX jobs_finished ON jobs (state, finished_at_ms) WHERE finished_at_ms IS NOT NULL;`,
}

// migrate brings the schema up to date. Each migration runs in its own
// transaction together with its user_version bump, so a crash mid-way leaves
// the file at a consistent version and the next Open resumes.
func migrate(ctx context.Context, db *sql.Conn) error {
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this engine knows (%d)", version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		if err := applyMigration(ctx, db, v); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.Conn, v int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %d: %w", v+1, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
		return fmt.Errorf("migration %d: %w", v+1, err)
	}
	// PRAGMA takes no bind parameters; v is an int we control.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return fmt.Errorf("migration %d: set version: %w", v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %d: commit: %w", v+1, err)
	}
	return nil
}
