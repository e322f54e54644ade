package protocol_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestClientCredentialsReuse: within the reuse window (5 minutes for a one-hour token) the
// same request gets the same app-only token, with expires_in counting down; another way of
// authenticating (another azpacr) or another client gets its own; after the window a new one.
func TestClientCredentialsReuse(t *testing.T) {
	cert := newTestCert(t)
	e := newEnv(t, withDaemon(cert))
	secretForm := url.Values{"grant_type": {"client_credentials"}, "client_id": {daemonClient},
		"client_secret": {daemonSecret}, "scope": {"api://todo/.default"}}
	get := func(form url.Values) map[string]any {
		t.Helper()
		resp, tok := e.token("contoso.test", form, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("client credentials: %d %v", resp.StatusCode, tok)
		}
		return tok
	}
	first := get(secretForm)
	e.clock.Advance(4 * time.Minute)
	again := get(secretForm)
	if again["access_token"] != first["access_token"] || again["expires_in"] != float64(3600-240) {
		t.Errorf("within the window: same token %v, expires_in %v; want the same token, 3360",
			again["access_token"] == first["access_token"], again["expires_in"])
	}
	certForm := url.Values{"grant_type": {"client_credentials"}, "client_id": {daemonClient},
		"client_assertion_type": {assertionType}, "client_assertion": {e.assertion(t, cert, nil)},
		"scope": {"api://todo/.default"}}
	if byCert := get(certForm); byCert["access_token"] == first["access_token"] || claims(t, str(byCert, "access_token"))["azpacr"] != "2" {
		t.Errorf("a certificate got the secret's token")
	}
	web := get(url.Values{"grant_type": {"client_credentials"}, "client_id": {webClient},
		"client_secret": {webSecret}, "scope": {"api://todo/.default"}})
	if web["access_token"] == first["access_token"] {
		t.Error("another client got the daemon's token")
	}
	e.clock.Advance(time.Minute)
	later := get(secretForm)
	if later["access_token"] == first["access_token"] || later["expires_in"] != float64(3600) {
		t.Errorf("after the window: same token %v, expires_in %v; want a new token", later["access_token"] == first["access_token"], later["expires_in"])
	}
	if c := claims(t, str(later, "access_token")); int64(c["iat"].(float64)) != e.clock.Now().Unix() {
		t.Errorf("iat %v, want now", c["iat"])
	}
}
