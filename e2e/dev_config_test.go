package e2e

import (
	"testing"

	"github.com/sigil-idp/sigil/e2e/harness"
)

// TestDevConfigOwnApp runs the test tenant and its SPA registration the way a user brings
// their own app to dev mode — `sigil dev --config FILE --no-demo`, FILE holding only tenants —
// and signs in with msal-browser 5: dev mode's defaults (TLS from the local CA, SQLite in the
// data folder, the public URL) are enough for a real app.
func TestDevConfigOwnApp(t *testing.T) {
	e := harness.Start(t, harness.Options{Dev: true})
	p := e.OpenApp("msal5.html")
	r := mustSucceed(t, "loginPopup", e.WithPopup(p, "t.loginPopup("+userRead+")", harness.Alice))
	if r.Account == nil || r.Account.Username != harness.Alice {
		t.Fatalf("loginPopup account: %s", r)
	}
	tokens := e.Requests.TokenRequests()
	r = mustSucceed(t, "forceRefresh", e.Call(p, "t.silent("+userRead+", {forceRefresh: true})"))
	if r.FromCache || e.Requests.TokenRequests() != tokens+1 {
		t.Fatalf("forceRefresh did not use the refresh token: fromCache=%v, token requests %d → %d", r.FromCache, tokens,
			e.Requests.TokenRequests())
	}
}
