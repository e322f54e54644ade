package protocol_test

import (
	"crypto/x509"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
)

// TestMSALGoConfidentialClient drives MSAL Go's confidential client — client credentials
// with a secret and with a certificate (PS256 assertion, x5t#S256 in standard base64) — and
// checks that its second call is served from its token cache.
func TestMSALGoConfidentialClient(t *testing.T) {
	cert := newTestCert(t)
	e := newEnv(t, withDaemon(cert))
	secret, err := confidential.NewCredFromSecret(daemonSecret)
	if err != nil {
		t.Fatal(err)
	}
	certCred, err := confidential.NewCredFromCert([]*x509.Certificate{cert.cert}, cert.key)
	if err != nil {
		t.Fatal(err)
	}
	for name, cred := range map[string]confidential.Credential{"secret": secret, "certificate": certCred} {
		t.Run(name, func(t *testing.T) {
			client, err := confidential.New(e.url+"/contoso.test", daemonClient, cred,
				confidential.WithHTTPClient(e.api()), confidential.WithInstanceDiscovery(false))
			if err != nil {
				t.Fatal(err)
			}
			scopes := []string{"api://todo/.default"}
			first, err := client.AcquireTokenByCredential(t.Context(), scopes)
			if err != nil {
				t.Fatalf("AcquireTokenByCredential: %v", err)
			}
			c := claims(t, first.AccessToken)
			if c["idtyp"] != "app" || c["azp"] != daemonClient {
				t.Errorf("claims %v", c)
			}
			if roles, _ := c["roles"].([]any); len(roles) != 1 || roles[0] != "Todo.ReadAll" {
				t.Errorf("roles %v", c["roles"])
			}
			second, err := client.AcquireTokenByCredential(t.Context(), scopes)
			if err != nil {
				t.Fatal(err)
			}
			if second.AccessToken != first.AccessToken || second.Metadata.TokenSource != confidential.TokenSourceCache {
				t.Errorf("second call: source %v, same token %v; want the cached token", second.Metadata.TokenSource,
					second.AccessToken == first.AccessToken)
			}
		})
	}
}

// TestMSALGoOnBehalfOf drives MSAL Go's AcquireTokenOnBehalfOf: alice signs in to the spa app
// through the real pages over HTTP, the middle tier exchanges her access token for the Todo
// API for one for the Mail API, and a second call with the same assertion is served from
// MSAL's cache. A scope nobody granted comes back as MSAL's error with Sigil's
// consent_required answer.
func TestMSALGoOnBehalfOf(t *testing.T) {
	e := newEnv(t, withOBO)
	user := str(e.spaTokens(e.client, "contoso.test", alice, spaTodoAuth), "access_token")
	secret, err := confidential.NewCredFromSecret(midSecret)
	if err != nil {
		t.Fatal(err)
	}
	client, err := confidential.New(e.url+"/contoso.test", apiClient, secret,
		confidential.WithHTTPClient(e.api()), confidential.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	scopes := []string{mailSend}
	first, err := client.AcquireTokenOnBehalfOf(t.Context(), user, scopes)
	if err != nil {
		t.Fatalf("AcquireTokenOnBehalfOf: %v", err)
	}
	c, in := claims(t, first.AccessToken), claims(t, user)
	if c["aud"] != "api://mail" || c["scp"] != "Mail.Send" || c["oid"] != in["oid"] || c["azp"] != apiClient {
		t.Errorf("claims %v", c)
	}
	if first.Account.PreferredUsername != alice || first.IDToken.Oid != in["oid"] || first.Metadata.TokenSource != confidential.TokenSourceIdentityProvider {
		t.Errorf("account %+v, ID token oid %q, source %v", first.Account, first.IDToken.Oid, first.Metadata.TokenSource)
	}
	second, err := client.AcquireTokenOnBehalfOf(t.Context(), user, scopes)
	if err != nil {
		t.Fatal(err)
	}
	if second.AccessToken != first.AccessToken || second.Metadata.TokenSource != confidential.TokenSourceCache {
		t.Errorf("second call: source %v, same token %v; want the cached token", second.Metadata.TokenSource,
			second.AccessToken == first.AccessToken)
	}
	_, err = client.AcquireTokenOnBehalfOf(t.Context(), user, []string{"api://mail/Mail.Read"})
	if err == nil || !strings.Contains(err.Error(), "AADSTS65001") || !strings.Contains(err.Error(), "consent_required") {
		t.Errorf("ungranted scope: %v, want AADSTS65001 consent_required", err)
	}
}
