package store_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/store"
)

func open(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", store.FileName)
	st := open(t, path)
	all, err := store.Migrations()
	if err != nil || len(all) == 0 {
		t.Fatalf("migrations: %v, %d", err, len(all))
	}
	before, err := st.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range before {
		if !m.AppliedAt.IsZero() {
			t.Fatalf("migration %d applied on a new file", m.Version)
		}
	}
	applied, err := st.Migrate(ctx)
	if err != nil || len(applied) != len(all) {
		t.Fatalf("first migrate applied %d of %d: %v", len(applied), len(all), err)
	}
	again, err := st.Migrate(ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate applied %d: %v", len(again), err)
	}
	after, err := st.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range after {
		if m.AppliedAt.IsZero() {
			t.Errorf("migration %d still pending", m.Version)
		}
	}
	var mode string
	if err := st.Reader().QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q, %v", mode, err)
	}
}

func TestRefusesANewerSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), store.FileName))
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Writer().ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	_, err := st.Migrate(ctx)
	if err == nil || !strings.Contains(err.Error(), "upgrade claude-mem") {
		t.Fatalf("err = %v, want a refusal that says to upgrade", err)
	}
}

func TestTxRollsBackOnError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), store.FileName))
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := st.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO generation_jobs (id, lane, kind, status, max_attempts, created_at, updated_at) VALUES ('a', 'l', 'k', 'queued', 3, 0, 0)`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	var n int
	if err := st.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM generation_jobs`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows after a rolled-back tx (%v)", n, err)
	}
}
