package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// Unavailable reports whether err says the database could not be reached or could not serve
// the statement for the moment — the connection was refused, lost or timed out, the server is
// shutting down or starting up (PostgreSQL SQLSTATE classes 08 and 57P, too_many_connections
// 53300), or SQLite stayed busy past its timeout — rather than that the request itself was
// wrong. The client may send the same request again: a transaction that failed this way was
// rolled back, except when the connection broke during COMMIT, where it may have committed
// without an answer — the case a retried refresh or code redemption already meets as a lost
// answer. The protocol answers 503 with Retry-After. It reads the drivers' errors through the interfaces they implement (SQLState
// for pgx, Code for modernc SQLite), so the store interface stays free of driver types.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		state := pg.SQLState()
		return strings.HasPrefix(state, "08") || strings.HasPrefix(state, "57P") || state == "53300"
	}
	var lite interface{ Code() int }
	if errors.As(err, &lite) {
		code := lite.Code() & 0xff    // the primary result code of an extended one
		return code == 5 || code == 6 // SQLITE_BUSY, SQLITE_LOCKED
	}
	var netErr net.Error
	switch {
	case errors.As(err, &netErr),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	// pgx reports a connection it closed after a failure by text only.
	return strings.Contains(err.Error(), "conn closed")
}
