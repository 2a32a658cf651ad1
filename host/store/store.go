// Package store is the host's SQLite database, the source of truth for
// memory and for the job outbox. It opens the file in WAL mode with one
// writer connection and a pool of readers, and applies numbered migrations.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// FileName is the store's file inside the data directory. It differs from
// the TypeScript claude-mem's claude-mem.db, which may sit in the same
// directory and is imported, never opened in place.
const FileName = "server.db"

// Store is the host database.
type Store struct {
	path  string
	write *sql.DB
	read  *sql.DB
}

// dsn sets the pragmas on every connection. synchronous=NORMAL in WAL mode
// keeps every committed transaction across a process kill; only a power
// loss can take the last ones.
func dsn(path string, readOnly bool) string {
	q := "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_txlock=immediate"
	if readOnly {
		q = "?_pragma=busy_timeout(10000)&_pragma=query_only(1)&_pragma=foreign_keys(ON)&_pragma=cache_size(-32768)"
	}
	return "file:" + path + q
}

// Open opens the store at path, creating the file and its directory. It does
// not migrate; call Migrate.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: create %s: %w", filepath.Dir(path), err)
	}
	wc, err := newConnector(dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	write := sql.OpenDB(wc)
	// One writer: SQLite serialises writes anyway, and a single connection
	// turns lock contention into queueing instead of SQLITE_BUSY errors.
	write.SetMaxOpenConns(1)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	rc, err := newConnector(dsn(path, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open %s for reading: %w", path, err)
	}
	read := sql.OpenDB(rc)
	read.SetMaxOpenConns(max(4, runtime.NumCPU()))
	return &Store{path: path, write: write, read: read}, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Writer is the single write connection. Use Tx for anything that writes
// more than one statement.
func (s *Store) Writer() *sql.DB { return s.write }

// Reader is the pool for queries.
func (s *Store) Reader() *sql.DB { return s.read }

// Tx runs fn in a write transaction, committing if it returns nil.
func (s *Store) Tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, rollback(tx))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("store: rollback: %w", err)
	}
	return nil
}

// Close closes both pools.
func (s *Store) Close() error {
	return errors.Join(s.read.Close(), s.write.Close())
}
