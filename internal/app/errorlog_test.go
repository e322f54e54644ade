package app

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestServerErrorLog: a handler's panic, which net/http recovers and only logs, reaches the
// log at error level; net/http's other reports stay at debug.
func TestServerErrorLog(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	srv.Config.ErrorLog = serverErrorLog(l)
	srv.Start()
	defer srv.Close()
	if resp, err := http.Get(srv.URL); err == nil {
		resp.Body.Close()
		t.Fatalf("status %d, want the connection closed", resp.StatusCode)
	}
	serverErrorLog(l).Print("http: TLS handshake error from 127.0.0.1:1: EOF")
	srv.Close() // the handler's goroutine has logged once the server is closed
	out := buf.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "panic serving") || !strings.Contains(out, "boom") {
		t.Errorf("log %q, want the panic at error level", out)
	}
	if strings.Contains(out, "handshake") {
		t.Errorf("log %q: the handshake error is above debug", out)
	}
}
