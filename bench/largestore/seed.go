package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/password"
	"github.com/sigil-idp/sigil/internal/store/sqlstore"
)

// The tenant and apps of bench/load/sigil.yaml: the seeded families belong to its SPA (the
// refresh the load run measures) and to its middle tier (on-behalf-of families).
const (
	tenantID   = "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10"
	spaClient  = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	oboClient  = "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"
	spaScopes  = "openid api://todo/Todo.Read profile offline_access"
	oboScopes  = "openid api://mail/Mail.Send profile offline_access"
	reuse      = 30 * time.Second // the default reuse interval
	idle       = 24 * time.Hour
	spaAbs     = 24 * time.Hour
	webAbs     = 90 * 24 * time.Hour
	pruneEvery = 10 * time.Minute // DeleteExpired's cadence on every node (internal/app)
)

// b64 is the base64url (no padding) of the first n bytes of SHA-256(parts): the shape of the
// store's ids and hashes (tokens.RandomID, tokens.Hash), deterministic so that a later run
// can find the seeded rows again.
func b64(n int, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return base64.RawURLEncoding.EncodeToString(h[:n])
}

// successor is the hash of a token's successor of generation gen.
func successor(parent string, gen int) string { return b64(32, "succ", parent, strconv.Itoa(gen)) }

// table is the rows of one table, produced one at a time.
type table struct {
	name    string
	columns []string
	n       int                            // rows
	row     func(i int, emit func(...any)) // emits the rows of item i (one or more)
}

// seedStats counts what the families' generator produced.
type seedStats struct {
	families, tokens, live, pending, spent, superseded, revoked int
}

type seeder struct {
	now      time.Time
	users    int
	families int
	hash     string // one real argon2id hash, shared by every seeded user
	stats    seedStats
}

func (sd *seeder) userID(u int) string { return config.UserID(tenantID, sd.username(u)) }
func (sd *seeder) username(u int) string {
	return fmt.Sprintf("user%06d@contoso.test", u)
}
func sessionID(u int) string { return b64(24, "session", strconv.Itoa(u)) }

func msOf(t time.Time) int64 { return t.UnixMilli() }

func (sd *seeder) tables() []table {
	now := sd.now
	users := table{name: "users", n: sd.users,
		columns: []string{"id", "tenant_id", "username", "display_name", "given_name", "surname", "email", "password_hash", "enabled", "updated_at", "admin"},
		row: func(u int, emit func(...any)) {
			name := sd.username(u)
			emit(sd.userID(u), tenantID, name, fmt.Sprintf("User %06d", u), "User", fmt.Sprintf("%06d", u), name, sd.hash,
				true, msOf(now.Add(-time.Duration(u)*time.Second)), false)
		}}
	sessions := table{name: "sessions", n: sd.users,
		columns: []string{"id", "browser_hash", "tenant_id", "user_id", "auth_time", "amr", "remember", "created_at", "expires_at"},
		row: func(u int, emit func(...any)) {
			r := rand.New(rand.NewPCG(uint64(u), 2))
			created := now.Add(-time.Duration(r.Int64N(int64(23 * time.Hour))))
			remember := r.IntN(10) == 0
			life := 24 * time.Hour
			if remember {
				life = 90 * 24 * time.Hour
			}
			emit(sessionID(u), b64(32, "browser", strconv.Itoa(u)), tenantID, sd.userID(u), msOf(created), "pwd", remember,
				msOf(created), msOf(created.Add(life)))
		}}
	families := table{name: "refresh_families", n: sd.families,
		columns: []string{"id", "tenant_id", "client_id", "user_id", "session_id", "platform", "resource", "scopes", "auth_time", "amr",
			"remember", "code_hash", "created_at", "absolute_expires_at", "revoked_at", "claims"},
		row: func(i int, emit func(...any)) {
			f := sd.family(i)
			emit(f.id, tenantID, f.client, sd.userID(f.user), sessionID(f.user), f.platform, f.resource, f.scopes, msOf(f.created),
				f.amr, false, f.code, msOf(f.created), msOf(f.abs), f.revoked, "")
		}}
	tokens := table{name: "refresh_tokens", n: sd.families,
		columns: []string{"hash", "family_id", "created_at", "expires_at", "rotated_at", "successor_hash", "successor_seq", "reuse_until", "superseded_at"},
		row: func(i int, emit func(...any)) {
			f := sd.family(i)
			sd.count(f)
			for _, t := range f.tokens {
				emit(t.hash, f.id, msOf(t.created), msOf(t.expires), t.rotated, t.succ, t.seq, t.reuseUntil, t.superseded)
			}
		}}
	return []table{users, sessions, families, tokens}
}

// family is one seeded family and its token rows.
type family struct {
	id, client, platform, resource, scopes, amr, code string
	user                                              int
	created, abs                                      time.Time
	revoked                                           int64
	tokens                                            []token
	live                                              string // the live token's hash
	kind                                              int    // 0 live only, 1 pending, 2 spent, 3 superseded
}

type token struct {
	hash, succ                      string
	created, expires                time.Time
	rotated, reuseUntil, superseded int64
	seq                             int
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// family derives family i (deterministic in i): 80 % the SPA's (24 h absolute lifetime,
// created within the last 23 h), 20 % the middle tier's on-behalf-of families (90 days,
// created within the last 89). Token rows as DeleteExpired leaves them between runs:
//
//	20 %   one live token (never refreshed)
//	72.5 % a pending token (refreshed once, its successor unused yet) and the live one
//	7 %    also a spent token before the pending one — refreshed twice since the last
//	       DeleteExpired (within 10 minutes): what the next run prunes
//	0.5 %  a pending token whose first successor was superseded (a lost answer), the
//	       superseded one and the live one
//
// and 1 % of the families revoked (sign-out, reuse).
func (sd *seeder) family(i int) family {
	r := rand.New(rand.NewPCG(uint64(i), 1))
	now := sd.now
	f := family{id: b64(16, "family", strconv.Itoa(i)), user: r.IntN(sd.users)}
	if r.IntN(5) == 0 {
		f.client, f.platform, f.resource, f.scopes = oboClient, string(directory.PlatformWeb), "api://mail", oboScopes
		f.created = now.Add(-time.Minute - time.Duration(r.Int64N(int64(89*24*time.Hour))))
		f.abs = f.created.Add(webAbs)
	} else {
		f.client, f.platform, f.resource, f.scopes, f.amr = spaClient, string(directory.PlatformSPA), "api://todo", spaScopes, "pwd"
		f.code = b64(32, "code", strconv.Itoa(i))
		f.created = now.Add(-time.Minute - time.Duration(r.Int64N(int64(23*time.Hour))))
		f.abs = f.created.Add(spaAbs)
	}
	if r.IntN(100) == 0 {
		f.revoked = msOf(now.Add(-time.Duration(r.Int64N(int64(now.Sub(f.created))))))
	}
	root := b64(32, "token", f.id)
	expires := func(t time.Time) time.Time { return minTime(t.Add(idle), f.abs) }
	// at is a time between the family's creation and now (at most a day before now).
	at := func(from time.Time) time.Time {
		if d := now.Sub(from); d > 0 {
			if d > 24*time.Hour {
				from = now.Add(-24 * time.Hour)
			}
			return from.Add(time.Duration(r.Int64N(int64(now.Sub(from)))))
		}
		return now
	}
	switch p := r.IntN(1000); {
	case p < 200:
		f.tokens = []token{{hash: root, created: f.created, expires: expires(f.created)}}
		f.live = root
	case p < 925:
		t1 := at(f.created)
		live := successor(root, 1)
		f.tokens = []token{
			{hash: root, created: f.created, expires: expires(f.created), rotated: msOf(t1), succ: live, seq: 1, reuseUntil: msOf(t1.Add(reuse))},
			{hash: live, created: t1, expires: expires(t1)},
		}
		f.live, f.kind = live, 1
	case p < 995:
		// Refreshed twice within the last 10 minutes, 30 s or more apart.
		t1 := now.Add(-pruneEvery + time.Duration(r.Int64N(int64(pruneEvery/2))))
		t2 := t1.Add(reuse + time.Duration(r.Int64N(int64(pruneEvery/2-reuse))))
		p1 := successor(root, 1)
		live := successor(p1, 1)
		f.tokens = []token{
			{hash: root, created: f.created, expires: expires(f.created), rotated: msOf(t1), succ: p1, seq: 1, reuseUntil: msOf(t1.Add(reuse))},
			{hash: p1, created: t1, expires: expires(t1), rotated: msOf(t2), succ: live, seq: 1, reuseUntil: msOf(t2.Add(reuse))},
			{hash: live, created: t2, expires: expires(t2)},
		}
		f.live, f.kind = live, 2
	default:
		// Presented, the answer lost; presented again after the interval.
		t1 := now.Add(-pruneEvery + time.Duration(r.Int64N(int64(pruneEvery/2))))
		t2 := t1.Add(reuse + time.Duration(r.Int64N(int64(pruneEvery/2-reuse))))
		lost, live := successor(root, 1), successor(root, 2)
		f.tokens = []token{
			{hash: root, created: f.created, expires: expires(f.created), rotated: msOf(t2), succ: live, seq: 2, reuseUntil: msOf(t2.Add(reuse))},
			{hash: lost, created: t1, expires: expires(t1), superseded: msOf(t2)},
			{hash: live, created: t2, expires: expires(t2)},
		}
		f.live, f.kind = live, 3
	}
	return f
}

// count adds a family to the statistics.
func (sd *seeder) count(f family) {
	s := &sd.stats
	s.families++
	s.live++
	s.tokens += len(f.tokens)
	if f.revoked != 0 {
		s.revoked++
	}
	if f.kind > 0 {
		s.pending++
	}
	if f.kind == 2 {
		s.spent++
	}
	if f.kind == 3 {
		s.superseded++
	}
}

// seed migrates the store at storage (the store's own migrations, as sigil serve runs them),
// creates the bench tenant, and bulk-inserts the tables.
func seed(ctx context.Context, storage string, sd *seeder) error {
	st, err := openStore(ctx, storage)
	if err != nil {
		return err
	}
	err = st.UpsertTenant(ctx, directory.Tenant{ID: tenantID, Domains: []string{"contoso.test"}, DisplayName: "Contoso"})
	st.Close()
	if err != nil {
		return err
	}
	if sd.hash, err = password.Hash("Passw0rd!seeded", password.Params{Memory: 19 * 1024, Time: 2, Threads: 1}); err != nil {
		return err
	}
	start := time.Now()
	if strings.HasPrefix(storage, "postgres") {
		err = copyPostgres(ctx, storage, sd.tables())
	} else {
		err = insertSQLite(ctx, strings.TrimPrefix(storage, "sqlite:"), sd.tables())
	}
	if err != nil {
		return err
	}
	s := sd.stats
	fmt.Printf("seeded %d users, %d sessions, %d families (%d revoked), %d token rows (%d live, %d pending, %d spent, %d superseded) in %.1fs; now=%d\n",
		sd.users, sd.users, s.families, s.revoked, s.tokens, s.live, s.pending, s.spent, s.superseded, time.Since(start).Seconds(), msOf(sd.now))
	return nil
}

// openStore opens storage ("sqlite:PATH" or a postgres:// URL) through sqlstore, which
// applies the migrations.
func openStore(ctx context.Context, storage string) (*sqlstore.Store, error) {
	if strings.HasPrefix(storage, "postgres") {
		return sqlstore.OpenPostgres(ctx, storage)
	}
	return sqlstore.OpenSQLite(ctx, strings.TrimPrefix(storage, "sqlite:"))
}

// insertSQLite writes the tables with multi-row INSERTs, 100 000 rows a transaction, with
// the journal in memory and no syncing (a seeded file that is cut short is thrown away).
func insertSQLite(ctx context.Context, path string, tables []table) error {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(OFF)", "foreign_keys(0)", "cache_size(-1000000)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, t := range tables {
		const perStmt = 400
		one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(t.columns)), ",") + ")"
		prefix := "INSERT INTO " + t.name + " (" + strings.Join(t.columns, ", ") + ") VALUES "
		var tx *sql.Tx
		var args []any
		rows, inTx := 0, 0
		flush := func() error {
			if rows == 0 {
				return nil
			}
			_, err := tx.ExecContext(ctx, prefix+strings.TrimSuffix(strings.Repeat(one+",", rows), ","), args...)
			args, rows = args[:0], 0
			return err
		}
		var ierr error
		emit := func(v ...any) {
			args = append(args, v...)
			rows++
			inTx++
			if rows == perStmt && ierr == nil {
				ierr = flush()
			}
		}
		for i := 0; i < t.n && ierr == nil; i++ {
			if tx == nil {
				if tx, err = db.BeginTx(ctx, nil); err != nil {
					return err
				}
			}
			t.row(i, emit)
			if inTx >= 100_000 && ierr == nil {
				if ierr = flush(); ierr == nil {
					ierr = tx.Commit()
				}
				tx, inTx = nil, 0
			}
		}
		if ierr == nil && tx != nil {
			if ierr = flush(); ierr == nil {
				ierr = tx.Commit()
			}
		}
		if ierr != nil {
			return fmt.Errorf("seed %s: %w", t.name, ierr)
		}
	}
	_, err = db.ExecContext(ctx, "ANALYZE")
	if err == nil {
		_, err = db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	}
	return err
}

// copyPostgres writes the tables with COPY, each in one transaction, then ANALYZEs.
func copyPostgres(ctx context.Context, dsn string, tables []table) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, t := range tables {
		src := &rowSource{t: t}
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{t.name}, t.columns, src); err != nil {
			return fmt.Errorf("seed %s: %w", t.name, err)
		}
	}
	_, err = conn.Exec(ctx, "ANALYZE")
	return err
}

// rowSource feeds a table's rows to pgx's CopyFrom.
type rowSource struct {
	t       table
	i       int
	pending [][]any
	cur     []any
}

func (s *rowSource) Next() bool {
	for len(s.pending) == 0 {
		if s.i >= s.t.n {
			return false
		}
		s.t.row(s.i, func(v ...any) { s.pending = append(s.pending, v) })
		s.i++
	}
	s.cur, s.pending = s.pending[0], s.pending[1:]
	return true
}

func (s *rowSource) Values() ([]any, error) { return s.cur, nil }
func (s *rowSource) Err() error             { return nil }
