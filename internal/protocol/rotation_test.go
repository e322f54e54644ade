package protocol_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/sigil-idp/sigil/apiauth"
	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// TestKeyRotation walks the signing keys' schedule with the test clock: a next key is
// published ahead of use, a forced rotation before publishAhead is refused, the scheduled
// rotation makes the next key sign; tokens signed before it still validate with apiauth and
// go-oidc (which fetch the JWKS) until the retired key is deleted after the longest token
// lifetime; a second node sees the new key when it runs the schedule (every minute).
func TestKeyRotation(t *testing.T) {
	cert := newTestCert(t)
	e := newEnv(t, withDaemon(cert))
	ctx := t.Context()
	appToken := func() string {
		t.Helper()
		_, body := e.token("contoso.test", url.Values{"grant_type": {"client_credentials"}, "client_id": {daemonClient},
			"client_secret": {daemonSecret}, "scope": {"api://todo/.default"}}, nil)
		if str(body, "access_token") == "" {
			t.Fatalf("client credentials: %v", body)
		}
		return str(body, "access_token")
	}
	kid := func(jwt string) string {
		t.Helper()
		b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
		var h struct {
			Kid string `json:"kid"`
		}
		if err != nil || json.Unmarshal(b, &h) != nil || h.Kid == "" {
			t.Fatalf("no kid in %q", jwt)
		}
		return h.Kid
	}
	issuer := e.url + "/" + tenantID + "/v2.0"
	jwks := e.url + "/" + tenantID + "/discovery/v2.0/keys"
	verifyAPI := func(jwt string) error {
		keys := &apiauth.RemoteKeySet{URL: jwks, Client: e.api(), Now: e.clock.Now}
		_, err := apiauth.NewVerifier(keys, apiauth.Config{Issuer: issuer, Audiences: []string{"api://todo"}, Now: e.clock.Now}).
			Verify(ctx, jwt)
		return err
	}
	verifyOIDC := func(jwt string) error {
		keys := oidc.NewRemoteKeySet(oidc.ClientContext(ctx, e.api()), jwks)
		_, err := keys.VerifySignature(ctx, jwt)
		return err
	}
	policy := e.cfg.KeyRotation()

	// The schedule publishes a next key; it does not sign yet.
	if rotated, err := e.app.Keys(ctx); err != nil || len(rotated) != 4 { // a current and a next key of RS256 and ES256
		t.Fatalf("keys after the first schedule run: %v, %v", rotated, err)
	}
	if _, err := e.app.RotateKeys(ctx, false); !errors.Is(err, tokens.ErrNotPublishedLongEnough) {
		t.Fatalf("a forced rotation right after publishing: %v, want ErrNotPublishedLongEnough", err)
	}
	// A second node on the same store.
	node2, err := app.New(ctx, e.cfg, app.Options{HashParams: cheapHashes, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer node2.Close()

	e.clock.Advance(policy.Period - time.Minute)
	before := appToken() // a minute before the rotation is due
	first := kid(before)
	e.clock.Advance(time.Minute)
	if _, err := e.app.Keys(ctx); err != nil { // the scheduled run: rotates
		t.Fatal(err)
	}
	after := appToken()
	if kid(after) == first {
		t.Fatalf("the token after rotation carries the old kid %s", first)
	}
	for name, verify := range map[string]func(string) error{"apiauth": verifyAPI, "go-oidc": verifyOIDC} {
		for _, tok := range []string{before, after} {
			if err := verify(tok); err != nil {
				t.Errorf("%s: token of kid %s: %v", name, kid(tok), err)
			}
		}
	}
	// The second node signs with the new key once it runs the schedule.
	if _, err := node2.Keys(ctx); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", e.url+"/contoso.test/oauth2/v2.0/token", strings.NewReader(url.Values{
		"grant_type": {"client_credentials"}, "client_id": {daemonClient}, "client_secret": {daemonSecret},
		"scope": {"api://todo/.default"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	node2.Handler().ServeHTTP(rec, req)
	var fromNode2 struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(rec.Body.Bytes(), &fromNode2)
	if fromNode2.AccessToken == "" || kid(fromNode2.AccessToken) != kid(after) {
		t.Errorf("the second node signs with %q, want the new key %s (%s)", fromNode2.AccessToken, kid(after), rec.Body)
	}
	// After the longest token lifetime the retired key goes, and with it the old token.
	e.clock.Advance(policy.RetireAfter + time.Minute)
	if _, err := e.app.Keys(ctx); err != nil {
		t.Fatal(err)
	}
	if err := verifyOIDC(before); err == nil {
		t.Errorf("the retired key's token still verifies after the key was deleted")
	}
	if err := verifyOIDC(after); err != nil {
		t.Errorf("the current key's token: %v", err)
	}
}
