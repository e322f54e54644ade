package app_test

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/password"
)

// TestTracing: with tracing on, a token request is one server span named by its route, with
// the store's statements and the token signature as spans under it; an error's trace_id is
// the span's trace id.
func TestTracing(t *testing.T) {
	c := config.Default()
	c.PublicURL, c.DataDir = "https://login.example.test", t.TempDir()
	c.Tenants = []config.Tenant{{ID: "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10", Domains: []string{"contoso.test"},
		Apps: []config.App{{DisplayName: "Daemon", ClientID: "1a2b3c4d-1111-4222-8333-944455556666",
			ClientSecrets: []string{"daemon-secret-value"}, ApplicationPermissions: []string{"api://sigil-admin/Directory.Read.All"}}}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	spans := tracetest.NewInMemoryExporter()
	a, err := app.New(t.Context(), c, app.Options{HashParams: password.Params{Memory: 64, Time: 1, Threads: 1}, TraceExporter: spans})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	post := func(secret string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/contoso.test/oauth2/v2.0/token", strings.NewReader(url.Values{
			"grant_type": {"client_credentials"}, "client_id": {"1a2b3c4d-1111-4222-8333-944455556666"},
			"client_secret": {secret}, "scope": {"api://sigil-admin/.default"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		a.Handler().ServeHTTP(rec, req)
		return rec
	}
	spans.Reset()
	if rec := post("daemon-secret-value"); rec.Code != 200 {
		t.Fatalf("token: %d %s", rec.Code, rec.Body)
	}
	var server string
	children := map[string]int{}
	all := spans.GetSpans()
	for _, s := range all {
		if s.Name == "/{tenant}/oauth2/v2.0/token" {
			server = s.SpanContext.SpanID().String()
		}
	}
	for _, s := range all {
		if s.Parent.SpanID().String() == server {
			children[strings.Fields(s.Name)[0]]++
		}
	}
	if server == "" || children["sql"] == 0 || children["sign"] != 1 {
		t.Errorf("spans: server %q, children %v (of %d spans)", server, children, len(all))
	}

	spans.Reset()
	rec := post("wrong")
	var body struct {
		TraceID string `json:"trace_id"`
	}
	json.Unmarshal(rec.Body.Bytes(), &body)
	all = spans.GetSpans()
	if rec.Code != 401 || len(all) == 0 {
		t.Fatalf("wrong secret: %d, %d spans", rec.Code, len(all))
	}
	want := strings.ReplaceAll(body.TraceID, "-", "")
	if got := all[len(all)-1].SpanContext.TraceID().String(); got != want || rec.Header().Get("x-ms-request-id") != body.TraceID {
		t.Errorf("trace id %s, error trace_id %s (x-ms-request-id %s)", got, body.TraceID, rec.Header().Get("x-ms-request-id"))
	}
}
