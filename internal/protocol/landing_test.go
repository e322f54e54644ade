package protocol_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestLandingPages: / and a tenant's authority URL answer pages that say how to point an app
// at them; an unknown tenant, or common, gets the JSON 404 of any unknown URL; the favicon is
// served.
func TestLandingPages(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := e.get(e.client, e.url+"/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, e.url+"/{your tenant") || !strings.Contains(body, strings.TrimPrefix(e.url, "https://")) {
		t.Errorf("GET /: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = e.get(e.client, e.url+"/contoso.test")
	for _, want := range []string{e.url + "/contoso.test/v2.0/.well-known/openid-configuration", e.url + "/" + tenantID + "/v2.0", "Contoso"} {
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("GET /contoso.test: %d, lacks %q\n%s", resp.StatusCode, want, body)
		}
	}
	for _, path := range []string{"/nope.test", "/common"} {
		resp, body = e.get(e.client, e.url+path)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `"error"`) {
			t.Errorf("GET %s: %d, want the JSON 404\n%s", path, resp.StatusCode, body)
		}
	}
	resp, body = e.get(e.client, e.url+"/favicon.ico")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(body, "<svg") {
		t.Errorf("GET /favicon.ico: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
