package protocol_test

import (
	"context"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestStandardOIDCClient drives golang.org/x/oauth2 and coreos/go-oidc — independent client
// implementations — through the real endpoints: discovery at the issuer, the code flow with
// PKCE and a client secret (posting the real sign-in form), ID token verification against the
// JWKS, userinfo, and a refresh (x/oauth2 sends no scope).
func TestStandardOIDCClient(t *testing.T) {
	e := newEnv(t, nil)
	issuer := e.url + "/" + tenantID + "/v2.0"
	ctx := oidc.ClientContext(context.Background(), e.srv.Client())
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := oauth2.Config{ClientID: webClient, ClientSecret: webSecret, Endpoint: provider.Endpoint(),
		RedirectURL: webRedirect, Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-123", oauth2.S256ChallengeOption(verifier))

	resp := e.signIn(e.client, authURL, alice)
	if resp.Get("state") != "state-123" || resp.Get("code") == "" {
		t.Fatalf("authorization response %v", resp)
	}
	tok, err := conf.Exchange(ctx, resp.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idv := provider.Verifier(&oidc.Config{ClientID: webClient})
	idt, err := idv.Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("ID token does not verify against the JWKS: %v", err)
	}
	var c struct {
		Email, Name, PreferredUsername, OID, TID string
	}
	idt.Claims(&struct {
		Email             *string `json:"email"`
		Name              *string `json:"name"`
		PreferredUsername *string `json:"preferred_username"`
		OID               *string `json:"oid"`
		TID               *string `json:"tid"`
	}{&c.Email, &c.Name, &c.PreferredUsername, &c.OID, &c.TID})
	if c.Email != alice || c.PreferredUsername != alice || c.TID != tenantID || c.OID == "" || idt.Issuer != issuer {
		t.Fatalf("ID token claims %+v, issuer %s", c, idt.Issuer)
	}

	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if info.Subject != idt.Subject || info.Email != alice {
		t.Fatalf("userinfo sub %q email %q, want sub %q", info.Subject, info.Email, idt.Subject)
	}

	// Refresh without a scope parameter: the grant's scopes, a new ID token with the same
	// subject and the original auth_time.
	expired := &oauth2.Token{RefreshToken: tok.RefreshToken}
	fresh, err := conf.TokenSource(ctx, expired).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken {
		t.Fatal("refresh did not rotate the refresh token")
	}
	idt2, err := idv.Verify(ctx, fresh.Extra("id_token").(string))
	if err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}
	first, second := claims(t, rawID), claims(t, fresh.Extra("id_token").(string))
	if idt2.Subject != idt.Subject || first["auth_time"] != second["auth_time"] || first["sid"] != second["sid"] {
		t.Fatalf("refreshed ID token changed sub/auth_time/sid: %v vs %v", first, second)
	}
	if fresh.Extra("scope") != tok.Extra("scope") {
		t.Fatalf("refresh scope %v, want %v", fresh.Extra("scope"), tok.Extra("scope"))
	}

	// Once its successor was used, the old refresh token presented after the reuse
	// interval is reuse: the family dies.
	newest, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("second refresh: %v", err)
	}
	e.clock.Advance(31e9)
	if _, err := conf.TokenSource(ctx, expired).Token(); err == nil {
		t.Fatal("reused refresh token accepted")
	}
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: newest.RefreshToken}).Token(); err == nil {
		t.Fatal("family survived reuse")
	}
}
