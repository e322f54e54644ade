package protocol

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
)

// TestUnavailableIs503: a database that cannot be reached answers temporarily_unavailable
// (503, AADSTS90033) with Retry-After, never server_error; other failures stay 500 without it.
func TestUnavailableIs503(t *testing.T) {
	down := fmt.Errorf("sqlstore: rotate: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
	for _, c := range []struct {
		err        error
		status     int
		code       string
		retryAfter string
	}{
		{down, 503, "temporarily_unavailable", retryAfterSeconds},
		{errors.New("tokens: sign: boom"), 500, "server_error", ""},
		{errBadRefresh.new(""), 400, "invalid_grant", ""},
	} {
		e := asError(c.err)
		w := httptest.NewRecorder()
		retryAfter(w, e)
		if e.Status != c.status || e.Code != c.code || w.Header().Get("Retry-After") != c.retryAfter {
			t.Errorf("%v: %d %s Retry-After %q, want %d %s %q", c.err, e.Status, e.Code, w.Header().Get("Retry-After"),
				c.status, c.code, c.retryAfter)
		}
		if c.status == http.StatusServiceUnavailable && (e.AADSTS != 90033 || !errors.Is(e, syscall.ECONNREFUSED)) {
			t.Errorf("503 row: AADSTS%d, cause kept: %v", e.AADSTS, errors.Is(e, syscall.ECONNREFUSED))
		}
	}
}
