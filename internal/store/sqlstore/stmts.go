package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache prepares each SQL text once per Store. Without it every call parses its SQL
// again, which on the hot paths (a refresh runs about ten statements) costs more than the
// statements themselves.
type stmtCache struct {
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) *sql.Stmt {
	c.mu.RLock()
	st := c.stmts[query]
	c.mu.RUnlock()
	if st != nil {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st = c.stmts[query]; st != nil {
		return st
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil // the caller runs the query unprepared, and reports its error
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = st
	return st
}

func (c *stmtCache) cached(query string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stmts[query]
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
}

// conn runs statements on the database, or in a transaction, through the statement cache.
type conn struct {
	s  *Store
	tx *sql.Tx
}

// auto runs statements outside any transaction (each commits by itself).
func (s *Store) auto() conn { return conn{s: s} }

// in is the transaction tx.
func (s *Store) in(tx *sql.Tx) conn { return conn{s: s, tx: tx} }

// batched is ctx without its cancellation for a statement of a committer's batch (SQLite),
// where interrupting one statement would abort the whole batch's transaction.
func (c conn) batched(ctx context.Context) context.Context {
	if c.tx != nil && c.s.commits != nil {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// stmt returns the prepared statement for query, or nil to run it unprepared. Inside a
// transaction it never prepares: preparing takes a second connection from the pool, and with
// SQLite the other connections may all be waiting for this transaction's write lock. The
// statements transactions run are prepared when the store opens (txStatements).
func (c conn) stmt(ctx context.Context, query string) *sql.Stmt {
	if c.tx == nil {
		return c.s.stmts.get(ctx, c.s.db, query)
	}
	if st := c.s.stmts.cached(query); st != nil {
		return c.tx.StmtContext(ctx, st)
	}
	return nil
}

// exec runs a statement that returns no rows. Outside a transaction it counts as a write:
// on SQLite it joins the committer's next batch.
func (c conn) exec(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	if c.tx == nil && c.s.commits != nil {
		err = c.s.tx(ctx, func(tx *sql.Tx) error {
			res, err = c.s.in(tx).exec(ctx, query, args...)
			return err
		})
		return res, err
	}
	ctx = c.batched(ctx)
	ctx, end := c.s.span(ctx, query)
	defer func() { end(err) }()
	if st := c.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	if c.tx != nil {
		return c.tx.ExecContext(ctx, query, args...)
	}
	return c.s.db.ExecContext(ctx, query, args...)
}

// query runs a SELECT. Writes that return rows (… RETURNING) run in s.tx, so that the write
// lock spans reading them.
func (c conn) query(ctx context.Context, query string, args ...any) (rows *sql.Rows, err error) {
	ctx = c.batched(ctx)
	ctx, end := c.s.span(ctx, query)
	defer func() { end(err) }()
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	if c.tx != nil {
		return c.tx.QueryContext(ctx, query, args...)
	}
	return c.s.db.QueryContext(ctx, query, args...)
}

// queryRow runs a SELECT for one row; see query.
func (c conn) queryRow(ctx context.Context, query string, args ...any) (row *sql.Row) {
	ctx = c.batched(ctx)
	ctx, end := c.s.span(ctx, query)
	defer func() { end(row.Err()) }()
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	if c.tx != nil {
		return c.tx.QueryRowContext(ctx, query, args...)
	}
	return c.s.db.QueryRowContext(ctx, query, args...)
}
