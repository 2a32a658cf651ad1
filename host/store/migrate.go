package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// MigrationState says whether a migration has been applied.
type MigrationState struct {
	Migration
	AppliedAt time.Time // zero when pending
}

// Migrations lists every migration, in order. File names are
// NNNN_description.sql; numbers must be unique and are never reused.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration file %q is not named NNNN_description.sql", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("store: migrations %q and %q share number %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		body, err := fs.ReadFile(migrationFiles, path.Join("migrations", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at INTEGER NOT NULL
)`

// Status reports every migration and whether it has been applied.
func (s *Store) Status(ctx context.Context) ([]MigrationState, error) {
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	if _, err := s.write.ExecContext(ctx, createMigrationsTable); err != nil {
		return nil, fmt.Errorf("store: migration table: %w", err)
	}
	applied := map[int]int64{}
	rows, err := s.write.QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		var at int64
		if err := rows.Scan(&v, &at); err != nil {
			return nil, fmt.Errorf("store: read migrations: %w", err)
		}
		applied[v] = at
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	out := make([]MigrationState, len(all))
	for i, m := range all {
		out[i] = MigrationState{Migration: m}
		if at, ok := applied[m.Version]; ok {
			out[i].AppliedAt = time.UnixMilli(at)
		}
	}
	for v := range applied {
		if v > all[len(all)-1].Version {
			return nil, fmt.Errorf("store: %s has migration %d, newer than this binary knows (%d): upgrade claude-mem", s.path, v, all[len(all)-1].Version)
		}
	}
	return out, nil
}

// Migrate applies every pending migration, each in its own transaction, and
// returns the ones it applied.
func (s *Store) Migrate(ctx context.Context) ([]Migration, error) {
	states, err := s.Status(ctx)
	if err != nil {
		return nil, err
	}
	var done []Migration
	for _, st := range states {
		if !st.AppliedAt.IsZero() {
			continue
		}
		m := st.Migration
		err := s.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("store: migration %04d_%s: %w", m.Version, m.Name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return done, err
		}
		done = append(done, m)
	}
	return done, nil
}
