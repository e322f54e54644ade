package protocol_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"github.com/sigil-idp/sigil/internal/config"
)

// TestMSALGoUsernamePassword drives MSAL Go's public client through the password grant:
// its user realm discovery, the token request, the account it builds from the answer, the
// token cache, and a silent refresh (access tokens of the CLI app live 2 minutes, which MSAL
// treats as about to expire) with the scope string MSAL sends. A wrong password and an
// ungranted scope are MSAL errors carrying Sigil's AADSTS codes.
func TestMSALGoUsernamePassword(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		withROPC(c)
		for i, a := range c.Tenants[0].Apps {
			if a.ClientID == ropcCLI {
				c.Tenants[0].Apps[i].TokenLifetimes.AccessToken = config.Duration(2 * time.Minute)
			}
		}
	})
	client, err := public.New(ropcCLI, public.WithAuthority(e.url+"/contoso.test"),
		public.WithHTTPClient(e.api()), public.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	scopes := []string{todoRead}
	//lint:ignore SA1019 the password grant is what is under test
	first, err := client.AcquireTokenByUsernamePassword(t.Context(), scopes, alice, pw)
	if err != nil {
		t.Fatalf("AcquireTokenByUsernamePassword: %v", err)
	}
	c := claims(t, first.AccessToken)
	if c["aud"] != "api://todo" || c["scp"] != "Todo.Read" || c["azp"] != ropcCLI || first.Account.PreferredUsername != alice {
		t.Errorf("claims %v, account %+v", c, first.Account)
	}
	accounts, err := client.Accounts(t.Context())
	if err != nil || len(accounts) != 1 {
		t.Fatalf("accounts %v, %v", accounts, err)
	}
	second, err := client.AcquireTokenSilent(t.Context(), scopes, public.WithSilentAccount(accounts[0]))
	if err != nil {
		t.Fatalf("AcquireTokenSilent: %v", err)
	}
	if second.AccessToken == first.AccessToken || second.Metadata.TokenSource != public.TokenSourceIdentityProvider {
		t.Errorf("silent: source %v, same token %v; want a refreshed token", second.Metadata.TokenSource,
			second.AccessToken == first.AccessToken)
	}
	//lint:ignore SA1019 the password grant is what is under test
	_, err = client.AcquireTokenByUsernamePassword(t.Context(), scopes, alice, "wrong")
	if err == nil || !strings.Contains(err.Error(), "AADSTS50126") {
		t.Errorf("wrong password: %v, want AADSTS50126", err)
	}
	//lint:ignore SA1019 the password grant is what is under test
	_, err = client.AcquireTokenByUsernamePassword(t.Context(), []string{"User.Read"}, alice, pw)
	if err == nil || !strings.Contains(err.Error(), "AADSTS65001") {
		t.Errorf("ungranted scope: %v, want AADSTS65001", err)
	}
}

// TestUserRealm: the user realm answer depends on the domain only (Managed for a tenant's
// domain, Unknown otherwise), never on whether the account exists.
func TestUserRealm(t *testing.T) {
	e := newEnv(t, nil)
	for user, want := range map[string]string{alice: "Managed", "nobody@contoso.test": "Managed",
		"x@elsewhere.test": "Unknown", "no-domain": "Unknown"} {
		resp, body := e.get(e.api(), e.url+"/common/UserRealm/"+user+"?api-version=1.0")
		m := decodeJSON(t, body)
		if resp.StatusCode != http.StatusOK || m["account_type"] != want || m["cloud_instance_name"] == "" {
			t.Errorf("%s: %d %v, want account_type %s", user, resp.StatusCode, m, want)
		}
	}
}
