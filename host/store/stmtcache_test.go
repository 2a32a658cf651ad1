package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// openCached is a single-connection pool over the caching connector, so
// that every statement of a test meets the same cache.
func openCached(t *testing.T) *sql.DB {
	t.Helper()
	c, err := newConnector(dsn(filepath.Join(t.TempDir(), "cache.db"), false))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := db.Exec(`INSERT INTO t (v) VALUES (?)`, fmt.Sprintf("v%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// cached is how many statements the pool's one connection holds.
func cached(t *testing.T, db *sql.DB) int {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	err = conn.Raw(func(dc any) error {
		cc := dc.(*cachingConn)
		cc.mu.Lock()
		defer cc.mu.Unlock()
		if len(cc.stmts) != cc.lru.Len() {
			return fmt.Errorf("cache index has %d statements, its list %d", len(cc.stmts), cc.lru.Len())
		}
		n = len(cc.stmts)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func values(t *testing.T, q interface {
	Query(string, ...any) (*sql.Rows, error)
}, query string, args ...any) []string {
	t.Helper()
	rows, err := q.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCachedStatementsAreReused(t *testing.T) {
	t.Parallel()
	db := openCached(t)
	before := cached(t, db)
	for range 10 {
		if got := values(t, db, `SELECT v FROM t WHERE id <= ? ORDER BY id`, 2); strings.Join(got, ",") != "v0,v1" {
			t.Fatalf("got %v", got)
		}
	}
	if after := cached(t, db); after != before+1 {
		t.Fatalf("ten runs of one query cached %d statements, want 1", after-before)
	}
}

// TestNestedUseOfOneStatement runs a query inside a loop over the rows of
// the same query on the same connection (a transaction): the inner run
// must not reset the outer one's statement.
func TestNestedUseOfOneStatement(t *testing.T) {
	t.Parallel()
	db := openCached(t)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	const q = `SELECT v FROM t WHERE id >= ? ORDER BY id`
	rows, err := tx.Query(q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var outer []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		outer = append(outer, v)
		if inner := values(t, tx, q, 4); strings.Join(inner, ",") != "v3,v4" {
			t.Fatalf("inner run got %v", inner)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if strings.Join(outer, ",") != "v0,v1,v2,v3,v4" {
		t.Fatalf("outer run got %v: the inner run disturbed it", outer)
	}
}

func TestCacheStaysBounded(t *testing.T) {
	t.Parallel()
	db := openCached(t)
	for i := range maxCachedStmts + 50 {
		// A distinct statement each time, as search's filter shapes are.
		q := fmt.Sprintf(`SELECT v FROM t WHERE id = ? AND %d = %d`, i, i)
		if got := values(t, db, q, 1); len(got) != 1 || got[0] != "v0" {
			t.Fatalf("%s: got %v", q, got)
		}
	}
	if n := cached(t, db); n != maxCachedStmts {
		t.Fatalf("the cache holds %d statements, want at most %d", n, maxCachedStmts)
	}
}

// TestCachedStatementAfterErrorsAndChanges: a statement that failed, a
// canceled query and a schema change leave the cached statement usable and
// right.
func TestCachedStatementAfterErrorsAndChanges(t *testing.T) {
	t.Parallel()
	db := openCached(t)
	const insert = `INSERT INTO t (v) VALUES (?)`
	if _, err := db.Exec(insert, "v0"); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("duplicate insert: %v, want a UNIQUE constraint error", err)
	}
	if _, err := db.Exec(insert, "v5"); err != nil {
		t.Fatalf("the statement after its failure: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.QueryContext(ctx, `SELECT v FROM t`); err == nil {
		t.Fatal("a canceled query ran")
	}
	if got := values(t, db, `SELECT v FROM t`); len(got) != 6 {
		t.Fatalf("after a canceled run: %v", got)
	}

	const star = `SELECT * FROM t WHERE id = 1`
	cols := func() []string {
		rows, err := db.Query(star)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		c, _ := rows.Columns()
		return c
	}
	if c := cols(); len(c) != 2 {
		t.Fatalf("columns %v", c)
	}
	if _, err := db.Exec(`ALTER TABLE t ADD COLUMN w TEXT`); err != nil {
		t.Fatal(err)
	}
	if c := cols(); len(c) != 3 {
		t.Fatalf("the cached SELECT * did not see the new column: %v", c)
	}

	bad := `SELECT nope FROM t`
	if _, err := db.Query(bad); err == nil || !strings.Contains(err.Error(), "no such column") {
		t.Fatalf("a query that does not compile: %v", err)
	}
	// Scripts run through the driver's own path, every statement of them.
	if _, err := db.Exec(`INSERT INTO t (v) VALUES ('s1'); INSERT INTO t (v) VALUES ('s2');`); err != nil {
		t.Fatal(err)
	}
	if got := values(t, db, `SELECT v FROM t WHERE v LIKE 's%' ORDER BY v`); strings.Join(got, ",") != "s1,s2" {
		t.Fatalf("script: %v", got)
	}
}
