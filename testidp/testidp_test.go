package testidp_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"github.com/sigil-idp/sigil/testidp"
)

// tenant is a bootstrap file: a tenant, a user, an API, and a CLI app allowed the password
// grant (its access tokens live 2 minutes, so MSAL Go refreshes on every silent call).
const tenant = `
loginThrottle: {accountFailures: 3}
tenants:
  - id: 0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9
    domains: [fabrikam.test]
    users:
      - {username: dana@fabrikam.test, password: "Passw0rd!dana", displayName: Dana}
    apis:
      - displayName: Orders API
        appIdUri: api://orders
        scopes: [{value: Orders.Read}]
    apps:
      - displayName: Orders CLI
        clientId: 7d8e9f00-1a2b-4c3d-8e4f-5a6b7c8d9e0f
        allowPublicClientFlows: true
        publicClient: {redirectUris: ["http://localhost"]}
        adminConsent: [api://orders/Orders.Read]
        tokenLifetimes: {accessToken: 2m}
`

const cli = "7d8e9f00-1a2b-4c3d-8e4f-5a6b7c8d9e0f"

var scopes = []string{"api://orders/Orders.Read"}

func newClient(t *testing.T, idp *testidp.IdP) public.Client {
	t.Helper()
	c, err := public.New(cli, public.WithAuthority(idp.Authority), public.WithHTTPClient(idp.HTTPClient),
		public.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestStartAndControl runs Sigil in the test and proves each control with MSAL Go: a created
// user signs in; a lockout is lifted by ClearThrottles; a revoked user's refresh token stops
// working; the clock expires a refresh token; Reset forgets the created user.
func TestStartAndControl(t *testing.T) {
	idp := testidp.Start(t, testidp.Options{Config: tenant})
	ctx := t.Context()
	if idp.Authority != idp.URL+"/fabrikam.test" || idp.KnownAuthority != strings.TrimPrefix(idp.URL, "https://") {
		t.Fatalf("authority %q, known authority %q", idp.Authority, idp.KnownAuthority)
	}
	if _, err := idp.Control.CreateUser(ctx, testidp.User{Tenant: "fabrikam.test", Username: "erin@fabrikam.test",
		Password: "Passw0rd!erin", GivenName: "Erin"}); err != nil {
		t.Fatal(err)
	}
	client := newClient(t, idp)
	//lint:ignore SA1019 the password grant signs test users in without a browser
	r, err := client.AcquireTokenByUsernamePassword(ctx, scopes, "erin@fabrikam.test", "Passw0rd!erin")
	if err != nil || r.Account.PreferredUsername != "erin@fabrikam.test" {
		t.Fatalf("the created user: %+v, %v", r.Account, err)
	}

	// Three wrong passwords lock dana out; ClearThrottles lets her in again.
	for range 3 {
		//lint:ignore SA1019 as above
		client.AcquireTokenByUsernamePassword(ctx, scopes, "dana@fabrikam.test", "wrong")
	}
	//lint:ignore SA1019 as above
	if _, err := client.AcquireTokenByUsernamePassword(ctx, scopes, "dana@fabrikam.test", "Passw0rd!dana"); err == nil ||
		!strings.Contains(err.Error(), "AADSTS50053") {
		t.Fatalf("after three wrong passwords: %v, want AADSTS50053", err)
	}
	if err := idp.Control.ClearThrottles(ctx); err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 as above
	dana, err := client.AcquireTokenByUsernamePassword(ctx, scopes, "dana@fabrikam.test", "Passw0rd!dana")
	if err != nil {
		t.Fatalf("after ClearThrottles: %v", err)
	}
	if _, err := client.AcquireTokenSilent(ctx, scopes, public.WithSilentAccount(dana.Account)); err != nil {
		t.Fatalf("silent refresh: %v", err)
	}

	// Revoked: the refresh token MSAL holds is refused.
	if err := idp.Control.RevokeUser(ctx, "dana@fabrikam.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AcquireTokenSilent(ctx, scopes, public.WithSilentAccount(dana.Account)); err == nil {
		t.Fatal("silent refresh after RevokeUser succeeded")
	}

	// 25 hours on, erin's refresh token (24 h idle) has expired.
	if err := idp.Control.SetClockOffset(ctx, 25*time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AcquireTokenSilent(ctx, scopes, public.WithSilentAccount(r.Account)); err == nil {
		t.Fatal("silent refresh 25 hours later succeeded")
	}

	if err := idp.Control.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	var e *testidp.Error
	if err := idp.Control.DeleteUser(ctx, "erin@fabrikam.test"); !errors.As(err, &e) || e.Status != 404 {
		t.Fatalf("erin after Reset: %v, want 404", err)
	}
	//lint:ignore SA1019 as above
	if _, err := client.AcquireTokenByUsernamePassword(ctx, scopes, "dana@fabrikam.test", "Passw0rd!dana"); err != nil {
		t.Fatalf("dana after Reset: %v", err)
	}
}

// TestStartReportsConfigProblems: a bad file fails the test with the problem and its line.
func TestStartReportsConfigProblems(t *testing.T) {
	ft := &fakeTB{TB: t}
	func() {
		defer func() { recover() }()
		testidp.Start(ft, testidp.Options{Config: "tenants:\n  - id: not-a-guid\n"})
	}()
	if !strings.Contains(ft.msg, "testidp.Options.Config:2:") || !strings.Contains(ft.msg, "not-a-guid") {
		t.Errorf("Start reported %q", ft.msg)
	}
}

// fakeTB records Fatalf, and stops Start there, instead of failing the real test.
type fakeTB struct {
	testing.TB
	msg string
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.msg = strings.TrimSpace(fmt.Sprintf(format, args...))
	panic("fatal")
}
