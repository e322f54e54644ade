package app_test

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/password"
)

// TestAccessLog: with accessLog, one line per request with method, path, route, status,
// AADSTS code and trace id — and nothing of the query string.
func TestAccessLog(t *testing.T) {
	c := config.Default()
	c.PublicURL, c.DataDir, c.AccessLog = "https://login.example.test", t.TempDir(), true
	c.Tenants = []config.Tenant{{ID: "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10", Domains: []string{"contoso.test"}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	a, err := app.New(t.Context(), c, app.Options{Logger: slog.New(slog.NewTextHandler(&log, nil)),
		HashParams: password.Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest("GET",
		"/contoso.test/oauth2/v2.0/authorize?client_id=99999999-8888-4777-8666-555555555555&state=SECRET-STATE-VALUE", nil))
	var line string
	for l := range strings.Lines(log.String()) {
		if strings.Contains(l, "msg=access") {
			line = l
		}
	}
	for _, want := range []string{"method=GET", "path=/contoso.test/oauth2/v2.0/authorize", `route="GET /{tenant}/oauth2/v2.0/authorize"`,
		"status=400", "aadsts=700016", "trace_id=" + rec.Header().Get("x-ms-request-id")} {
		if !strings.Contains(line, want) {
			t.Errorf("access line lacks %s:\n%s", want, line)
		}
	}
	if strings.Contains(log.String(), "SECRET-STATE-VALUE") {
		t.Errorf("the log holds the query string:\n%s", log.String())
	}
}
