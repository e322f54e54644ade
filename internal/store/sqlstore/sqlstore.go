// Package sqlstore is the store.Store implementation over database/sql: embedded SQLite
// (modernc.org/sqlite, pure Go, WAL) and PostgreSQL (pgx), with one SQL text for both —
// PostgreSQL-style $N placeholders, which the SQLite driver binds by number — and forward-only
// migrations embedded in the binary.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver

	"github.com/sigil-idp/sigil/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a store.Store on a SQL database.
type Store struct {
	db      *sql.DB
	engine  string // "sqlite" or "postgres"
	stmts   stmtCache
	commits *committer // SQLite only: the writer goroutine (commit.go)
	cache   *dirCache  // tenants, apps, APIs (cache.go)
	// PostgreSQL: the goroutine listening for directory changes, its end and its stop.
	listening  chan struct{}
	stopListen context.CancelFunc
	applied    []int64                                       // the migrations this Store applied when it opened
	version    int64                                         // the schema version after migrate
	tracer     trace.Tracer                                  // spans for statements; nil: none (SetTracer)
	observe    func(verb string, d time.Duration, err error) // statement metrics; nil: none
	batches    func(writes int)                              // SQLite: the writes of each COMMIT; nil: none
	pruneBatch int                                           // rows per pruning transaction (prune.go)
	pruneRead  int                                           // refresh tokens per pruning read (prune.go)
}

// SetBatchObserver has observe learn, on SQLite, how many write transactions each COMMIT
// carried (group commit: commit.go). Call it before the store is used concurrently.
func (s *Store) SetBatchObserver(observe func(writes int)) { s.batches = observe }

// SetTracer makes every statement a span of the request's trace (tracing on). Call it before
// the store is used concurrently.
func (s *Store) SetTracer(t trace.Tracer) { s.tracer = t }

// SetObserver has observe learn of every statement — its first word (SELECT, INSERT, …), how
// long it took, and its error — for metrics. Call it before the store is used concurrently.
func (s *Store) SetObserver(observe func(verb string, d time.Duration, err error)) {
	s.observe = observe
}

// span starts watching one statement: a client span named by its first word ("sql SELECT")
// when tracing, a measurement when observed. The returned func ends it with the statement's
// error.
func (s *Store) span(ctx context.Context, query string) (context.Context, func(error)) {
	if s.tracer == nil && s.observe == nil {
		return ctx, func(error) {}
	}
	verb, _, _ := strings.Cut(strings.TrimSpace(query), " ")
	verb = strings.ToUpper(verb)
	var sp trace.Span
	if s.tracer != nil {
		ctx, sp = s.tracer.Start(ctx, "sql "+verb, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system", s.engine)))
	}
	start := time.Now()
	return ctx, func(err error) {
		if s.observe != nil {
			s.observe(verb, time.Since(start), err)
		}
		if sp != nil {
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				sp.SetStatus(codes.Error, err.Error())
			}
			sp.End()
		}
	}
}

// OpenSQLite opens (creating it if needed) the SQLite database file at path and brings its
// schema up to date. Write transactions take the write lock when they begin, so concurrent
// writers queue on the busy timeout instead of failing halfway.
//
// The file is created 0600 before SQLite opens it (SQLite gives its -wal and -shm files the
// database's permissions), and an existing database and its -wal and -shm are narrowed to
// 0600: the database holds password hashes, refresh-token hashes and the sealed signing keys.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	if err := ownerOnly(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	// journal_size_limit: the WAL file shrinks back to 64 MiB when a checkpoint restarts it,
	// instead of keeping the size of its largest burst (a pruning backlog grew it to 325 MB).
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)",
		"journal_size_limit(67108864)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(0)
	if err := firstConnection(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	return open(ctx, db, "sqlite")
}

// firstConnection opens db's first connection, retrying for up to 10 s while SQLite answers
// busy. Switching a new file to WAL needs a moment alone with it and SQLite does not wait on
// its busy timeout for that, so processes opening one new file together would otherwise fail
// at once; once the file is in WAL mode the pragma costs nothing and connections open at once.
func firstConnection(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		err := db.PingContext(ctx)
		if err == nil || !store.Unavailable(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// ownerOnly creates the database file path 0600 when it does not exist, and narrows it and
// its -wal and -shm files to 0600 when they do.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlstore: %w", err)
		}
		if info.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return fmt.Errorf("sqlstore: narrow %s to 0600: %w", p, err)
			}
		}
	}
	return nil
}

// OpenPostgres opens the PostgreSQL database named by a postgres:// URL and brings its
// schema up to date.
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open postgres: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	return open(ctx, db, "postgres")
}

func open(ctx context.Context, db *sql.DB, engine string) (*Store, error) {
	s := &Store{db: db, engine: engine, pruneBatch: pruneBatch, pruneRead: pruneRead}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if engine == "postgres" {
		s.cache = newDirCache(pgCacheTTL, false) // on once listening
		var lctx context.Context
		lctx, s.stopListen = context.WithCancel(context.WithoutCancel(ctx))
		s.listening = make(chan struct{})
		go s.listen(lctx)
	}
	if engine == "sqlite" {
		s.cache = newDirCache(sqliteCacheTTL, true)
		s.commits = startCommitter(db)
		s.commits.observe = func(n int, d time.Duration, err error) {
			if s.observe != nil {
				s.observe("COMMIT", d, err)
			}
			if s.batches != nil {
				s.batches(n)
			}
		}
	}
	for _, q := range txStatements {
		if s.stmts.get(ctx, db, q) == nil {
			s.Close()
			return nil, fmt.Errorf("sqlstore: prepare: %s", q)
		}
	}
	return s, nil
}

// txStatements are the statements the security-relevant transactions run, prepared when the
// store opens because transactions never prepare (see conn.stmt).
var txStatements = []string{qRedeem, qClaimCode, qInsertFamily, qInsertToken, qTokenFamily, qRotate, qSupersedeGate, qSupersede, qRevokeFamily, qRevokeClientFamily,
	qMarkReplay, qRevokeCodeFamilies, qBurnChildCodes, qRevokeChildFamilies, qInsertCode, qDeleteSession, qRevokeSessionFamilies,
	qEnterUserCode, qPollDevice, qRedeemDevice, qDeviceByHash, qReserveAttempt}

// Close closes the database, after the batch of writes being committed, if any; writes
// after it fail.
func (s *Store) Close() error {
	if s.commits != nil {
		s.commits.stop()
	}
	if s.stopListen != nil {
		s.stopListen()
		<-s.listening
	}
	s.stmts.close()
	return s.db.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Store.migrate takes this PostgreSQL advisory lock (a session lock on one connection) for
// the whole run, so that nodes starting together apply each migration exactly once.
const migrationLock = 7438120

// migration is one embedded migration file.
type migration struct {
	version int64
	name    string // the file name, 0001_init.sql
	body    string
}

// embeddedMigrations lists the migrations this binary carries, oldest first.
func embeddedMigrations() ([]migration, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []migration
	for _, f := range files {
		name := strings.TrimPrefix(f, "migrations/")
		version, err := strconv.ParseInt(strings.SplitN(name, "_", 2)[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: migration %s: name must start with a number", name)
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: version, name: name, body: string(body)})
	}
	return out, nil
}

// SchemaTooNewError is the refusal to open a database whose schema a newer Sigil migrated:
// this binary does not know what the newer migrations changed.
type SchemaTooNewError struct {
	Database int64 // the newest migration recorded in the database
	Known    int64 // the newest migration this binary carries
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("sqlstore: the database schema is at migration %04d, newer than this sigil knows (%04d): "+
		"a newer sigil migrated it; run that version (or a newer one), never an older one, on this database", e.Database, e.Known)
}

// migrate applies, in order and each in its own transaction, the embedded migrations newer
// than the schema_migrations record, after refusing a schema newer than the binary
// ([SchemaTooNewError]). On PostgreSQL the whole run holds an advisory lock, so nodes that
// start together apply each migration exactly once and the losers find the work done;
// SQLite's immediate transactions serialise processes by themselves, and each migration's
// transaction checks its version before it runs.
func (s *Store) migrate(ctx context.Context) error {
	all, err := embeddedMigrations()
	if err != nil {
		return err
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer c.Close()
	if s.engine == "postgres" {
		if _, err := c.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("sqlstore: migrate: lock: %w", err)
		}
		defer c.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	}
	if _, err := c.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("sqlstore: create schema_migrations: %w", err)
	}
	var newest int64
	if err := c.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("sqlstore: schema version: %w", err)
	}
	if known := all[len(all)-1].version; newest > known {
		return &SchemaTooNewError{Database: newest, Known: known}
	}
	for _, m := range all {
		applied, err := applyMigration(ctx, c, m)
		if err != nil {
			return fmt.Errorf("sqlstore: migration %s: %w", m.name, err)
		}
		if applied {
			s.applied = append(s.applied, m.version)
		}
		s.version = m.version
	}
	return nil
}

// applyMigration runs m in a transaction on c unless schema_migrations records it, and says
// whether it ran.
func applyMigration(ctx context.Context, c *sql.Conn, m migration) (bool, error) {
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	for _, stmt := range splitStatements(m.body) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return false, fmt.Errorf("%w\n%s", err, stmt)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
		m.version, time.Now().UnixMilli()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// Migrations reports what opening the store did to its schema: the versions of the
// migrations this Store applied (none when the schema was up to date), and the schema's
// version now.
func (s *Store) Migrations() (applied []int64, version int64) { return s.applied, s.version }

// splitStatements splits a migration file on ";" at line ends and drops "--" comment lines.
// Migrations hold no semicolons inside statements.
func splitStatements(body string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if t := strings.TrimSpace(cur.String()); t != "" {
		out = append(out, t)
	}
	return out
}

// tx runs fn in a write transaction and commits it when fn returns nil; fn's writes are
// durable when tx returns nil. On SQLite fn runs on the committer's goroutine, inside a
// batch with the write transactions of concurrent requests (commit.go), and its statements
// run without the context's cancellation; on PostgreSQL it is a transaction of its own,
// whose concurrent commits the server flushes together. Statements inside use s.in(tx); fn
// must not call the store's own methods.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.commits != nil {
		return s.commits.run(ctx, fn)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

// txThen is tx, except that when fn succeeds then runs before txThen returns: on SQLite
// while the batch's COMMIT is pending (committer.runThen), elsewhere after the commit. It
// returns fn's or the commit's error, or then's once fn's writes are durable.
func (s *Store) txThen(ctx context.Context, fn func(*sql.Tx) error, then func() error) error {
	if s.commits != nil {
		return s.commits.runThen(ctx, fn, then)
	}
	if err := s.tx(ctx, fn); err != nil {
		return err
	}
	return then()
}

// ms converts a time to stored unix milliseconds; the zero time is stored as 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS converts stored unix milliseconds back; 0 is the zero time.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// notFound maps sql.ErrNoRows to store.ErrNotFound.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("sqlstore: %s: %w", what, err)
}

// isUniqueViolation reports whether err is a unique-constraint failure on either engine.
func isUniqueViolation(err error) bool {
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		return pg.SQLState() == "23505"
	}
	var lite interface{ Code() int }
	if errors.As(err, &lite) {
		// SQLITE_CONSTRAINT_PRIMARYKEY (1555) and SQLITE_CONSTRAINT_UNIQUE (2067).
		return lite.Code() == 1555 || lite.Code() == 2067
	}
	return false
}

func joinList(v []string) string { return strings.Join(v, " ") }

func splitList(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, " ")
}
