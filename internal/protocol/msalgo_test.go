package protocol_test

import (
	"crypto/x509"
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
