package protocol_test

import (
	"net/http"
	"testing"
)

// TestReadyzWhileDraining: once the app drains (the start of a graceful stop), /readyz
// answers 503 while the other endpoints still answer, each closing its connection.
func TestReadyzWhileDraining(t *testing.T) {
	e := newEnv(t, nil)
	c := e.newBrowser()
	get := func(path string) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return e.do(c, req)
	}
	if resp, body := get("/readyz"); resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("/readyz before draining: %d %q (close %v)", resp.StatusCode, body, resp.Close)
	}
	e.app.Drain()
	if resp, body := get("/readyz"); resp.StatusCode != http.StatusServiceUnavailable || body != "shutting down\n" {
		t.Fatalf("/readyz while draining: %d %q, want 503 shutting down", resp.StatusCode, body)
	}
	if resp, body := get("/contoso.test/v2.0/.well-known/openid-configuration"); resp.StatusCode != http.StatusOK || !resp.Close {
		t.Fatalf("discovery while draining: %d (close %v) %.80s, want 200 with Connection: close", resp.StatusCode, resp.Close, body)
	}
}
