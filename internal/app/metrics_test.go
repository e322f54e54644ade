package app_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/password"
)

// TestMetrics scrapes the admin listener's /metrics with Prometheus's text parser and checks
// that the counters move with the requests made: token responses by grant and resource,
// requests by route, status and AADSTS code.
func TestMetrics(t *testing.T) {
	idp := httptest.NewUnstartedServer(nil)
	adminLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := config.Default()
	c.PublicURL, c.DataDir, c.Admin.Listen = "https://"+idp.Listener.Addr().String(), t.TempDir(), adminLn.Addr().String()
	adminLn.Close()
	c.Tenants = []config.Tenant{{ID: "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10", Domains: []string{"contoso.test"},
		Apps: []config.App{{DisplayName: "Daemon", ClientID: "1a2b3c4d-1111-4222-8333-944455556666",
			ClientSecrets: []string{"daemon-secret-value"}, ApplicationPermissions: []string{"api://sigil-admin/Directory.Read.All"}}}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(t.Context(), c, app.Options{HashParams: password.Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	idp.Config.Handler = a.Handler()
	idp.StartTLS()
	defer idp.Close()
	form := func(secret string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {"1a2b3c4d-1111-4222-8333-944455556666"},
			"client_secret": {secret}, "scope": {"api://sigil-admin/.default"}}
	}
	for _, secret := range []string{"daemon-secret-value", "daemon-secret-value", "wrong"} {
		resp, err := idp.Client().PostForm(c.PublicURL+"/contoso.test/oauth2/v2.0/token", form(secret))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	rec := httptest.NewRecorder()
	a.AdminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil || rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d %v\n%s", rec.Code, err, rec.Body)
	}
	value := func(family string, labels map[string]string) float64 {
		f := families[family]
		if f == nil {
			t.Fatalf("no metric %s", family)
		}
	next:
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue next
				}
			}
			return counter(m)
		}
		return 0
	}
	route := "/{tenant}/oauth2/v2.0/token"
	if v := value("sigil_tokens_issued_total", map[string]string{"grant_type": "client_credentials", "resource": "api://sigil-admin"}); v != 2 {
		t.Errorf("tokens issued: %v, want 2", v)
	}
	if v := value("sigil_http_requests_total", map[string]string{"route": route, "status": "200", "aadsts": "0"}); v != 2 {
		t.Errorf("token requests answered 200: %v, want 2", v)
	}
	if v := value("sigil_http_requests_total", map[string]string{"route": route, "status": "401", "aadsts": "7000215"}); v != 1 {
		t.Errorf("token requests answered 401 AADSTS7000215: %v, want 1", v)
	}
	if v := value("sigil_security_events_total", map[string]string{"event": "clientauth.failure"}); v != 1 {
		t.Errorf("security events clientauth.failure: %v, want 1", v)
	}
	if h := families["sigil_store_statement_duration_seconds"]; h == nil || len(h.Metric) == 0 {
		t.Errorf("store statement durations: %v", h)
	}
	if h := families["sigil_store_commit_batch_writes"]; h == nil || h.Metric[0].Histogram.GetSampleCount() == 0 {
		t.Errorf("commit batch sizes (SQLite): %v", h)
	}
	if h := families["sigil_token_signing_duration_seconds"]; h == nil || len(h.Metric) != 1 || h.Metric[0].Histogram.GetSampleCount() != 2 ||
		len(h.Metric[0].Label) != 1 || h.Metric[0].Label[0].GetName() != "alg" || h.Metric[0].Label[0].GetValue() != "RS256" {
		t.Errorf("signing durations: %v, want two RS256 signatures", h)
	}
	if g := families["sigil_signing_key_current_age_seconds"]; g == nil || g.Metric[0].Gauge.GetValue() < 0 {
		t.Errorf("current key age: %v", g)
	}
	if families["go_goroutines"] == nil || families["sigil_http_request_duration_seconds"] == nil {
		t.Errorf("runtime or latency metrics missing")
	}
}

func counter(m *dto.Metric) float64 {
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return 0
}
