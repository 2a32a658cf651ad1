// Package storetest opens migrated stores for tests.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/claude-mem/claude-mem-server/host/store"
)

// New is a migrated store in a fresh temporary directory, closed when the
// test ends.
func New(tb testing.TB) *store.Store {
	tb.Helper()
	return Open(tb, filepath.Join(tb.TempDir(), store.FileName))
}

// Open opens and migrates the store at path, and closes it when the test
// ends (after the cleanups registered later, which run first).
func Open(tb testing.TB, path string) *store.Store {
	tb.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return st
}
