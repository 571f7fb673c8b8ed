package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the statement cache. The statements that go through
// it are fixed texts, plus a few IN lists of varying length; beyond the
// bound they are prepared for each use, as every other statement is.
const maxCachedStmts = 128

// stmtCache keeps the statements of the hot paths (registration, receipts,
// station tokens) prepared: SQLite takes longer to parse a statement such
// as the clip INSERT than to run it. database/sql prepares a cached
// statement once on each connection that runs it.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// get returns the prepared statement of query, or nil if the cache is full.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	if len(c.m) >= maxCachedStmts {
		return nil, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	return st, nil
}

// close closes the cached statements.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// cachedQueryer runs statements through a stmtCache, in tx, or on the pool
// if tx is nil. Its methods are those of *sql.Tx and *sql.DB.
type cachedQueryer struct {
	stmts *stmtCache
	tx    *sql.Tx
}

// stmt returns the cached statement of query, bound to q's transaction, or
// nil if the statement is not cached.
func (q cachedQueryer) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st, err := q.stmts.get(ctx, query)
	if st == nil || err != nil || q.tx == nil {
		return st, err
	}
	return q.tx.StmtContext(ctx, st), nil
}

// uncached is where statements the cache does not hold run.
func (q cachedQueryer) uncached() execQueryer {
	if q.tx != nil {
		return q.tx
	}
	return q.stmts.db
}

func (q cachedQueryer) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := q.stmt(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case st == nil:
		return q.uncached().ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

func (q cachedQueryer) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := q.stmt(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case st == nil:
		return q.uncached().QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext runs query uncached if it cannot be prepared, so that the
// returned row carries the error.
func (q cachedQueryer) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, err := q.stmt(ctx, query); st != nil && err == nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.uncached().QueryRowContext(ctx, query, args...)
}
