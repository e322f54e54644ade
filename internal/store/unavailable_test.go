package store_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/sigil-idp/sigil/internal/store"
)

// pgError has the shape of pgconn.PgError as Unavailable reads it.
type pgError struct{ state string }

func (e pgError) Error() string    { return "ERROR: SQLSTATE " + e.state }
func (e pgError) SQLState() string { return e.state }

// liteError has the shape of modernc's sqlite.Error.
type liteError struct{ code int }

func (e liteError) Error() string { return fmt.Sprintf("sqlite error %d", e.code) }
func (e liteError) Code() int     { return e.code }

func TestUnavailable(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("sqlstore: rotate: %w", err) }
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"not found", store.ErrNotFound, false},
		{"reused", wrap(store.ErrReused), false},
		{"admin shutdown 57P01", wrap(pgError{"57P01"}), true},
		{"cannot connect now 57P03", wrap(pgError{"57P03"}), true},
		{"connection failure 08006", wrap(pgError{"08006"}), true},
		{"too many connections 53300", wrap(pgError{"53300"}), true},
		{"unique violation 23505", wrap(pgError{"23505"}), false},
		{"syntax error 42601", wrap(pgError{"42601"}), false},
		{"sqlite busy", wrap(liteError{5}), true},
		{"sqlite busy snapshot", wrap(liteError{5 | 2<<8}), true},
		{"sqlite constraint", wrap(liteError{2067}), false},
		{"connection refused", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), true},
		{"reset", wrap(syscall.ECONNRESET), true},
		{"bad conn", wrap(driver.ErrBadConn), true},
		{"deadline", wrap(context.DeadlineExceeded), true},
		{"pgx conn closed", wrap(errors.New("conn closed")), true},
		{"other", errors.New("tokens: sign: boom"), false},
	} {
		if got := store.Unavailable(c.err); got != c.want {
			t.Errorf("%s: Unavailable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}
