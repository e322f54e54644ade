package protocol

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"

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
	case uri != "" && uri != c.RedirectURI:
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
	return s.mint(ctx, mintRequest{app: tr.app, authn: tr.authn, grant: c.Grant, nonce: c.Nonce, claims: claims,
		ipaddr: tr.addr, newFamily: true, codeHash: c.Hash, now: now})
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
