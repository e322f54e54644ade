package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/harness"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/testidp"
)

// controlClient is a testidp.Client for the harness's Sigil: it trusts the local CA and dials
// 127.0.0.1 for login.example.test, which only Chromium resolves.
func controlClient(t *testing.T, e *harness.Env) *testidp.Client {
	t.Helper()
	pem, err := os.ReadFile(e.App.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	u, _ := url.Parse(e.IdP)
	addr := net.JoinHostPort("127.0.0.1", u.Port())
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}
	return testidp.Connect(e.IdP, "", &http.Client{Transport: tr, Timeout: 20 * time.Second})
}

// skipCacheAndRefreshToken is msal-browser's CacheLookupPolicy.Skip: straight to the hidden
// iframe, where a forced failure of the authorization endpoint shows.
const skipCacheAndRefreshToken = "{cacheLookupPolicy: 5}"

// TestControlAPIWithMSAL5 proves each control by the client that observes it: a user created
// through the API signs in with msal-browser 5; a forced login_required fails its
// acquireTokenSilent (hidden iframe) once, with the error MSAL reports as interaction required;
// a clock offset past the refresh token's and session's lifetimes makes the refresh token and
// the iframe fail; revoking the user does the same without the clock; deleting the user and
// resetting leave it unknown.
func TestControlAPIWithMSAL5(t *testing.T) {
	e := harness.Start(t, harness.Options{Edit: func(c *config.Config) { c.Testing.ControlAPI = true }})
	ctl := controlClient(t, e)
	ctx := t.Context()
	const dana = "dana@" + harness.Domain
	if _, err := ctl.CreateUser(ctx, testidp.User{Tenant: harness.Domain, Username: dana, Password: harness.Password,
		DisplayName: "Dana Tester", GivenName: "Dana"}); err != nil {
		t.Fatal(err)
	}
	var conflict *testidp.Error
	if _, err := ctl.CreateUser(ctx, testidp.User{Tenant: harness.Domain, Username: dana, Password: "x"}); !errors.As(err, &conflict) ||
		conflict.Status != http.StatusConflict {
		t.Errorf("creating dana twice: %v, want 409", err)
	}

	p := e.OpenApp("msal5.html")
	r := mustSucceed(t, "loginPopup as the created user", e.WithPopup(p, "t.loginPopup("+userRead+")", dana))
	if r.Account == nil || r.Account.Username != dana || r.Account.IDTokenClaims["name"] != "Dana Tester" {
		t.Fatalf("account: %s", r)
	}
	mustSucceed(t, "silent through the iframe", e.Call(p, "t.silent("+userRead+", "+skipCacheAndRefreshToken+")"))

	if err := ctl.FailNext(ctx, testidp.Failure{ClientID: harness.ClientID, Error: "login_required", Description: "forced"}); err != nil {
		t.Fatal(err)
	}
	r = e.Call(p, "t.silent("+userRead+", "+skipCacheAndRefreshToken+")")
	if r.Error == nil || r.Error.ErrorCode != "login_required" || !r.Error.InteractionRequired {
		t.Fatalf("acquireTokenSilent after a forced login_required: %s", r)
	}
	mustSucceed(t, "silent once the failure is used up", e.Call(p, "t.silent("+userRead+", "+skipCacheAndRefreshToken+")"))

	// 25 hours on: past the refresh token's idle and SPA lifetimes and the session's.
	if err := ctl.SetClockOffset(ctx, 25*time.Hour); err != nil {
		t.Fatal(err)
	}
	if now, err := ctl.Now(ctx); err != nil || now.Before(time.Now().Add(24*time.Hour)) {
		t.Fatalf("clock after the offset: %v, %v", now, err)
	}
	refreshes := e.Requests.GrantRequests("refresh_token")
	r = e.Call(p, "t.silent("+userRead+", {forceRefresh: true})")
	if r.Error == nil || !r.Error.InteractionRequired || e.Requests.GrantRequests("refresh_token") != refreshes+1 {
		t.Fatalf("forceRefresh 25 hours later: %s (refresh_token grants %d → %d)", r, refreshes, e.Requests.GrantRequests("refresh_token"))
	}
	if err := ctl.SetClockOffset(ctx, 0); err != nil {
		t.Fatal(err)
	}

	mustSucceed(t, "loginPopup again", e.WithPopup(p, "t.loginPopup("+userRead+", {prompt: 'login'})", dana))
	if err := ctl.RevokeUser(ctx, dana); err != nil {
		t.Fatal(err)
	}
	r = e.Call(p, "t.silent("+userRead+", {forceRefresh: true})")
	if r.Error == nil || !r.Error.InteractionRequired {
		t.Fatalf("forceRefresh after revoking the user: %s", r)
	}

	if err := ctl.DeleteUser(ctx, dana); err != nil {
		t.Fatal(err)
	}
	var missing *testidp.Error
	if err := ctl.DeleteUser(ctx, dana); !errors.As(err, &missing) || missing.Status != http.StatusNotFound {
		t.Errorf("deleting dana twice: %v, want 404", err)
	}
	if _, err := ctl.CreateUser(ctx, testidp.User{Tenant: harness.Domain, Username: dana, Password: harness.Password}); err != nil {
		t.Fatal(err)
	}
	if err := ctl.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ctl.RevokeUser(ctx, dana); !errors.As(err, &missing) || missing.Status != http.StatusNotFound {
		t.Errorf("dana after a reset: %v, want 404 (the bootstrap file has no dana)", err)
	}
	if err := ctl.RevokeUser(ctx, harness.Alice); err != nil {
		t.Errorf("alice after a reset: %v, want her back from the bootstrap file", err)
	}
}
