package protocol_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/sigil-idp/sigil/apiauth"
	"github.com/sigil-idp/sigil/internal/config"
)

// jwsHeader decodes a compact JWS's protected header.
func jwsHeader(t *testing.T, jwt string) map[string]string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	var h map[string]string
	if err != nil || json.Unmarshal(b, &h) != nil {
		t.Fatalf("no JWS header in %q", jwt)
	}
	return h
}

// signature decodes a compact JWS's signature.
func signature(t *testing.T, jwt string) []byte {
	t.Helper()
	parts := strings.Split(jwt, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[len(parts)-1])
	if err != nil {
		t.Fatalf("signature of %q: %v", jwt, err)
	}
	return sig
}

// withES256API makes the Todo API's access tokens ES256.
func withES256API(c *config.Config) { c.Tenants[0].APIs[0].SigningAlg = config.SigningAlgES256 }

// TestMSALGoES256API: MSAL Go's confidential client gets an app-only token for an API with
// signingAlg ES256; its header names ES256 and the P-256 key, its signature is the 64-byte
// JWS form, and apiauth verifies it from the JWKS by default (a verifier pinned to RS256
// refuses it). A user's tokens from the SPA, redeemed and refreshed, carry an ES256 access
// token for the API and an RS256 ID token (the app did not opt in); a token for the profile
// API stays RS256.
func TestMSALGoES256API(t *testing.T) {
	cert := newTestCert(t)
	daemon := withDaemon(cert)
	e := newEnv(t, func(c *config.Config) { daemon(c); withES256API(c) })
	secret, err := confidential.NewCredFromSecret(daemonSecret)
	if err != nil {
		t.Fatal(err)
	}
	client, err := confidential.New(e.url+"/contoso.test", daemonClient, secret,
		confidential.WithHTTPClient(e.api()), confidential.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.AcquireTokenByCredential(t.Context(), []string{"api://todo/.default"})
	if err != nil {
		t.Fatalf("AcquireTokenByCredential: %v", err)
	}
	at := res.AccessToken
	if h := jwsHeader(t, at); h["alg"] != "ES256" || h["kid"] == "" || h["typ"] != "JWT" {
		t.Fatalf("header %v, want alg ES256 and a kid", h)
	}
	if n := len(signature(t, at)); n != 64 {
		t.Fatalf("signature of %d bytes, want 64 (r||s)", n)
	}
	issuer := e.url + "/" + tenantID + "/v2.0"
	keys := &apiauth.RemoteKeySet{URL: e.url + "/" + tenantID + "/discovery/v2.0/keys", Client: e.api(), Now: e.clock.Now}
	conf := apiauth.Config{Issuer: issuer, Audiences: []string{"api://todo"}, Now: e.clock.Now}
	tok, err := apiauth.NewVerifier(keys, conf).Verify(t.Context(), at)
	if err != nil {
		t.Fatalf("apiauth: %v", err)
	}
	if tok.AuthorizedParty != daemonClient || len(tok.Roles) != 1 || tok.Roles[0] != "Todo.ReadAll" {
		t.Errorf("token %+v", tok)
	}
	pinned := conf
	pinned.Algorithms = []string{"RS256"}
	if _, err := apiauth.NewVerifier(keys, pinned).Verify(t.Context(), at); !errors.Is(err, apiauth.ErrAlgorithm) {
		t.Errorf("an RS256-only verifier: %v, want ErrAlgorithm", err)
	}

	// A user's tokens: ES256 access token for the API, RS256 ID token; the same on refresh.
	user := e.spaTokens(e.client, "contoso.test", alice, spaTodoAuth)
	for round := range 2 {
		if h := jwsHeader(t, str(user, "access_token")); h["alg"] != "ES256" {
			t.Errorf("round %d: access token header %v, want ES256", round, h)
		}
		if h := jwsHeader(t, str(user, "id_token")); h["alg"] != "RS256" {
			t.Errorf("round %d: ID token header %v, want RS256", round, h)
		}
		if _, err := apiauth.NewVerifier(keys, conf).Verify(t.Context(), str(user, "access_token")); err != nil {
			t.Errorf("round %d: apiauth: %v", round, err)
		}
		_, user = e.token("contoso.test", refreshForm(spaClient, str(user, "refresh_token"), spaTodoAuth), spaOriginHeader())
		if str(user, "access_token") == "" {
			t.Fatalf("refresh: %v", user)
		}
	}
	// Without a scope parameter the refresh reads the API for its algorithm.
	_, user = e.token("contoso.test", refreshForm(spaClient, str(user, "refresh_token"), ""), spaOriginHeader())
	if str(user, "access_token") == "" {
		t.Fatalf("refresh without scope: %v", user)
	}
	if h := jwsHeader(t, str(user, "access_token")); h["alg"] != "ES256" {
		t.Errorf("refresh without scope: access token header %v (%v), want ES256", h, user)
	}
	_, graph := e.token("contoso.test", refreshForm(spaClient, str(user, "refresh_token"), "openid profile offline_access"), spaOriginHeader())
	if str(graph, "access_token") == "" {
		t.Fatalf("refresh for the profile API: %v", graph)
	}
	if h := jwsHeader(t, str(graph, "access_token")); h["alg"] != "RS256" {
		t.Errorf("profile API token header %v (%v), want RS256", h, graph)
	}
}

// TestOIDCClientES256IDToken: coreos/go-oidc, configured from discovery (whose
// id_token_signing_alg_values_supported lists RS256 and ES256), verifies the ES256 ID token
// of an app with idTokenSigningAlg ES256, from the code flow and from a refresh; a verifier
// pinned to RS256 — what a fixed list expects — refuses it, which is why RS256 stays the
// default.
func TestOIDCClientES256IDToken(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Tenants[0].Apps[1].IDTokenSigningAlg = config.SigningAlgES256 })
	issuer := e.url + "/" + tenantID + "/v2.0"
	ctx := oidc.ClientContext(context.Background(), e.srv.Client())
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	var meta struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := provider.Claims(&meta); err != nil || strings.Join(meta.Algs, " ") != "RS256 ES256" {
		t.Fatalf("discovery id_token_signing_alg_values_supported %v (%v), want RS256 then ES256", meta.Algs, err)
	}
	conf := oauth2.Config{ClientID: webClient, ClientSecret: webSecret, Endpoint: provider.Endpoint(),
		RedirectURL: webRedirect, Scopes: []string{oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess}}
	verifier := oauth2.GenerateVerifier()
	resp := e.signIn(e.client, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), alice)
	tok, err := conf.Exchange(ctx, resp.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	fresh, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	for name, raw := range map[string]string{"code": tok.Extra("id_token").(string), "refresh": fresh.Extra("id_token").(string)} {
		if h := jwsHeader(t, raw); h["alg"] != "ES256" || len(signature(t, raw)) != 64 {
			t.Errorf("%s: ID token header %v, want ES256 with a 64-byte signature", name, h)
		}
		idt, err := provider.Verifier(&oidc.Config{ClientID: webClient}).Verify(ctx, raw)
		if err != nil {
			t.Fatalf("%s: go-oidc: %v", name, err)
		}
		if idt.Issuer != issuer || idt.Subject == "" {
			t.Errorf("%s: ID token %+v", name, idt)
		}
		pinned := provider.Verifier(&oidc.Config{ClientID: webClient, SupportedSigningAlgs: []string{oidc.RS256}})
		if _, err := pinned.Verify(ctx, raw); err == nil {
			t.Errorf("%s: a verifier pinned to RS256 accepted the ES256 ID token", name)
		}
	}
	// Another app's ID tokens stay RS256.
	other := e.spaTokens(e.newBrowser(), "contoso.test", alice, spaTodoAuth)
	if h := jwsHeader(t, str(other, "id_token")); h["alg"] != "RS256" {
		t.Errorf("the SPA's ID token header %v, want RS256", h)
	}
}

// TestBackchannelLogoutES256: an app with idTokenSigningAlg ES256 gets its back-channel
// logout tokens signed ES256 too (the same keys as its ID tokens, OpenID Connect
// Back-Channel Logout 1.0 §2.4), with typ logout+jwt, verifying against the JWKS.
func TestBackchannelLogoutES256(t *testing.T) {
	var mu sync.Mutex
	var got []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		r.ParseForm()
		got = append(got, r.PostForm.Get("logout_token"))
	}))
	defer receiver.Close()
	e := newEnv(t, func(c *config.Config) {
		c.BackchannelLogout.AllowLocalAddresses = true // the receiver is on 127.0.0.1
		a := &c.Tenants[0].Apps[0]                     // the SPA
		a.BackchannelLogoutURL, a.IDTokenSigningAlg = receiver.URL+"/logout", config.SigningAlgES256
	})
	ctx := t.Context()
	c := e.newBrowser()
	tok := e.spaTokens(c, "contoso.test", alice, todoScopes)
	if h := jwsHeader(t, str(tok, "id_token")); h["alg"] != "ES256" {
		t.Fatalf("ID token header %v, want ES256", h)
	}
	e.signOut(t, c, str(tok, "id_token"))
	if n, err := e.app.DeliverLogouts(ctx); err != nil || n != 1 {
		t.Fatalf("delivery: %d, %v", n, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("receiver got %d logout tokens", len(got))
	}
	if h := jwsHeader(t, got[0]); h["alg"] != "ES256" || h["typ"] != "logout+jwt" {
		t.Errorf("logout token header %v, want alg ES256, typ logout+jwt", h)
	}
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(ctx, e.api()), e.url+"/"+tenantID+"/discovery/v2.0/keys")
	if _, err := keys.VerifySignature(ctx, got[0]); err != nil {
		t.Fatalf("the logout token does not verify against the JWKS: %v", err)
	}
}
