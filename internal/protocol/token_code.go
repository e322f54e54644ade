package protocol

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// codeGrant redeems an authorization code. The code is marked redeemed first, in one
// conditional statement, so that of two concurrent presentations only one can win; the
// checks that follow (expiry, client, redirect URI, platform, PKCE) burn a code that fails
// them, which also stops guessing at its verifier. A replay revokes what the code issued.
func (s *Server) codeGrant(ctx context.Context, tr *tokenRequest) (*tokenResponse, error) {
	code := tr.p.get("code")
	if code == "" {
		return nil, errMissingParam.new("code")
	}
	now := s.now()
	c, err := s.store.RedeemAuthCode(ctx, tokens.Hash(code), now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errBadCode.new("")
	case errors.Is(err, store.ErrRedeemed):
		s.codeReplayed(ctx, c.Grant)
		return nil, errCodeRedeemed.new().because(err)
	case err != nil:
		return nil, err
	case !now.Before(c.ExpiresAt):
		return nil, errCodeExpired.new()
	case c.Grant.ClientID != tr.app.ClientID:
		return nil, errBadCode.new(": it was issued to another application")
	case !tr.tenant.admits(c.Grant.TenantID):
		return nil, errBadCode.new(": it was issued for another tenant")
	}
	uri := tr.p.get("redirect_uri")
	switch {
	case c.RedirectGiven && uri == "":
		return nil, errMissingParam.new("redirect_uri")
	case uri == "":
	case c.RedirectURI == "":
		// A hybrid spa_code was issued to no redirect URI (msal-browser sends none): one of
		// the app's spa redirect URIs may still be named.
		if p, ok := tr.app.RedirectPlatform(uri); !ok || p != directory.PlatformSPA {
			return nil, errBadCode.new(": redirect_uri is not one of the app's spa redirect URIs")
		}
	case uri != c.RedirectURI:
		return nil, errBadCode.new(": redirect_uri differs from the one in the authorization request")
	}
	if err := checkPlatform(tr, c.Grant.Platform); err != nil {
		return nil, err
	}
	if err := checkVerifier(c.CodeChallenge, tr.p.get("code_verifier")); err != nil {
		return nil, err
	}
	claims, err := tr.claimsFor(c.Grant)
	if err != nil {
		return nil, err
	}
	resp, err := s.mint(ctx, mintRequest{app: tr.app, authn: tr.authn, grant: c.Grant, nonce: c.Nonce, claims: claims,
		ipaddr: tr.addr, newFamily: true, codeHash: c.Hash, now: now})
	if err != nil {
		return nil, err
	}
	if tr.p.get("return_spa_code") == "1" && c.Grant.Platform == directory.PlatformWeb && tr.app.HasPlatform(directory.PlatformSPA) {
		if resp.SPACode, err = s.issueSPACode(ctx, tr.app, c, now); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// issueSPACode stores the hybrid SPA code that a web app asked for with return_spa_code=1
// when it redeemed its own code (msal-node's enableSpaAuthorizationCode): a fresh
// authorization code for the same grant — user, session, scopes, claims — bound to the app's
// spa platform, so that MSAL.js in the app's pages redeems it from one of the app's spa
// origins (acquireTokenByCode) without a hidden iframe. It has no PKCE challenge, names no
// redirect URI (msal-browser sends neither) and carries no nonce; it is single-use and lives
// as long as the app's authorization codes. It is issued from the web code (ParentHash): a
// replay of that code burns it and revokes what it issued, and a replay racing with this
// redemption stops it (AADSTS54005).
func (s *Server) issueSPACode(ctx context.Context, app directory.App, web store.AuthCode, now time.Time) (string, error) {
	grant := web.Grant
	grant.Platform = directory.PlatformSPA
	code := tokens.RandomID(32)
	err := s.store.CreateAuthCode(ctx, store.AuthCode{Hash: tokens.Hash(code), Grant: grant, CreatedAt: now,
		ExpiresAt: now.Add(s.lifetimesFor(app).AuthorizationCode), ParentHash: web.Hash})
	switch {
	case errors.Is(err, store.ErrRevoked):
		return "", errCodeRedeemed.new().because(err)
	case err != nil:
		return "", err
	}
	return code, nil
}

// checkVerifier checks the PKCE code_verifier against the S256 challenge (RFC 7636 §4.6). A
// verifier for a code issued without a challenge is refused too (no downgrade).
func checkVerifier(challenge, verifier string) error {
	switch {
	case challenge == "" && verifier == "":
		return nil
	case challenge == "":
		return errPKCEMismatch.new()
	case verifier == "":
		return errMissingParam.new("code_verifier")
	case len(verifier) < 43 || len(verifier) > 128 || strings.Trim(verifier, base64URLAlphabet+".~") != "":
		return errPKCEMismatch.new()
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) != 1 {
		return errPKCEMismatch.new()
	}
	return nil
}
