package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"strings"
	"sync"

	"modernc.org/sqlite"
)

// maxCachedStmts bounds each connection's statement cache. The host runs a
// few dozen distinct statements; search builds more (one per shape of
// filter), and the least recently used of those make room.
const maxCachedStmts = 256

// cachingConnector opens SQLite connections that keep their prepared
// statements. database/sql hands a query without arguments to prepare to
// the driver's QueryContext, and modernc.org/sqlite then compiles the SQL
// again on every call: on the hook path that parsing was about a fifth of
// the host's CPU. With the cache each distinct statement is compiled once
// per connection and reused, reset between uses.
type cachingConnector struct {
	driver.Connector
}

func newConnector(dsn string) (driver.Connector, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return cachingConnector{c}, nil
}

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	// The sqlite connection implements every context-aware interface; a
	// wrapper must forward each of them, or database/sql quietly falls
	// back to the context-free methods.
	inner, ok := conn.(sqliteConn)
	if !ok {
		_ = conn.Close()
		return nil, errors.New("store: the sqlite driver's connection lacks a context-aware method")
	}
	return &cachingConn{inner: inner, stmts: map[string]*list.Element{}, lru: list.New()}, nil
}

// sqliteConn is what modernc.org/sqlite's connection implements and the
// cache forwards.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type cachingConn struct {
	inner sqliteConn
	// mu is for the race detector's sake: database/sql already serializes
	// the use of a connection, Rows.Close included.
	mu    sync.Mutex
	stmts map[string]*list.Element // of *cachedStmt, most recent first
	lru   *list.List
}

type cachedStmt struct {
	query string
	stmt  driver.Stmt
	// busy: rows of this statement are open. A second use of the same SQL
	// on the connection meanwhile (a query nested in a loop over the
	// first, inside a transaction) must not reset it under them, so it
	// runs uncached.
	busy bool
}

var _ sqliteConn = (*cachingConn)(nil)

type stmtContext interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cacheable excludes scripts (several statements), which the driver
// re-parses on every use anyway.
func cacheable(query string) bool {
	return !strings.Contains(strings.TrimRight(query, "; \t\r\n"), ";")
}

// take returns the cached statement of query, preparing it on a miss, and
// marks it busy; nil when it is busy already or cannot be cached.
func (c *cachingConn) take(ctx context.Context, query string) (*cachedStmt, error) {
	if !cacheable(query) {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.stmts[query]; ok {
		cs := e.Value.(*cachedStmt)
		if cs.busy {
			return nil, nil
		}
		c.lru.MoveToFront(e)
		cs.busy = true
		return cs, nil
	}
	st, err := c.inner.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if _, ok := st.(stmtContext); !ok {
		_ = st.Close()
		return nil, nil
	}
	cs := &cachedStmt{query: query, stmt: st, busy: true}
	c.stmts[query] = c.lru.PushFront(cs)
	c.evictLocked()
	return cs, nil
}

// evictLocked closes the least recently used idle statements beyond the
// cache's bound.
func (c *cachingConn) evictLocked() {
	for e := c.lru.Back(); e != nil && c.lru.Len() > maxCachedStmts; {
		prev := e.Prev()
		if cs := e.Value.(*cachedStmt); !cs.busy {
			_ = cs.stmt.Close()
			c.lru.Remove(e)
			delete(c.stmts, cs.query)
		}
		e = prev
	}
}

func (c *cachingConn) release(cs *cachedStmt) {
	c.mu.Lock()
	cs.busy = false
	c.mu.Unlock()
}

// ExecContext runs query with its cached statement.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.take(ctx, query)
	if err != nil || cs == nil {
		// Uncached: busy, a script, or SQL that does not compile, whose
		// error the driver's own path then reports as it always has.
		return c.inner.ExecContext(ctx, query, args)
	}
	defer c.release(cs)
	return cs.stmt.(stmtContext).ExecContext(ctx, args)
}

// QueryContext runs query with its cached statement, which stays busy
// until the rows are closed.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.take(ctx, query)
	if err != nil || cs == nil {
		// Uncached: busy, a script, or SQL that does not compile, whose
		// error the driver's own path then reports as it always has.
		return c.inner.QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.(stmtContext).QueryContext(ctx, args)
	if err != nil {
		c.release(cs)
		return nil, err
	}
	return &cachedRows{Rows: rows, release: func() { c.release(cs) }}, nil
}

// Close finalizes the cached statements, then closes the connection.
func (c *cachingConn) Close() error {
	c.mu.Lock()
	var errs []error
	for e := c.lru.Front(); e != nil; e = e.Next() {
		errs = append(errs, e.Value.(*cachedStmt).stmt.Close())
	}
	c.lru.Init()
	clear(c.stmts)
	c.mu.Unlock()
	return errors.Join(append(errs, c.inner.Close())...)
}

// The rest is forwarded as it is.

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }
func (c *cachingConn) Begin() (driver.Tx, error)                 { return c.inner.Begin() }
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner.BeginTx(ctx, opts)
}
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner.PrepareContext(ctx, query)
}
func (c *cachingConn) Ping(ctx context.Context) error         { return c.inner.Ping(ctx) }
func (c *cachingConn) ResetSession(ctx context.Context) error { return c.inner.ResetSession(ctx) }
func (c *cachingConn) IsValid() bool                          { return c.inner.IsValid() }

// cachedRows frees its statement for reuse when closed.
type cachedRows struct {
	driver.Rows
	once    sync.Once
	release func()
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.once.Do(r.release)
	return err
}
