package protocol

import (
	"slices"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// Optional claims Sigil supplies, for ID and access tokens, when an app configures them
// (optionalClaims.idToken / accessToken) or, for ID tokens, a claims request names them:
// auth_time, email, given_name, family_name, upn, login_hint, sid, acct, ipaddr,
// verified_primary_email. ctry and tenant_ctry are accepted in configuration and omitted, as
// Entra omits them when it knows no country. ID tokens always carry auth_time, sid and
// login_hint.

// wantsClaim reports whether a token should carry an optional claim: the app configured it
// for this kind of token, or the request's claims parameter named it (ID tokens only).
func wantsClaim(configured, requested []string, claim string) bool {
	return slices.Contains(configured, claim) || slices.Contains(requested, claim)
}

// optionalClaims fills the optional claims both token kinds share.
func optionalClaims(want func(string) bool, u directory.User, ipaddr string) tokens.OptionalClaims {
	var c tokens.OptionalClaims
	if want("acct") {
		member := 0
		c.Acct = &member
	}
	if want("ipaddr") {
		c.IPAddr = ipaddr
	}
	if want("upn") {
		c.UPN = u.Username
	}
	if want("verified_primary_email") && u.Email != "" {
		c.VerifiedPrimaryEmail = []string{u.Email}
	}
	return c
}

// addIDOptional adds the optional claims an ID token should carry.
func addIDOptional(c *tokens.IDClaims, m mintRequest, u directory.User) {
	want := func(claim string) bool { return wantsClaim(m.app.OptionalIDClaims, m.claims.idToken, claim) }
	if slices.Contains(m.grant.Scopes, directory.ScopeEmail) || want("email") {
		c.Email = u.Email
	}
	if want("given_name") {
		c.GivenName = u.GivenName
	}
	if want("family_name") {
		c.FamilyName = u.Surname
	}
	c.OptionalClaims = optionalClaims(want, u, m.ipaddr)
}

// addAccessOptional adds the optional claims an access token should carry, and the client
// capabilities (xms_cc) the claims parameter asked for.
func addAccessOptional(c *tokens.AccessClaims, m mintRequest, u directory.User) {
	want := func(claim string) bool { return slices.Contains(m.app.OptionalAccessClaims, claim) }
	if want("email") {
		c.Email = u.Email
	}
	if want("given_name") {
		c.GivenName = u.GivenName
	}
	if want("family_name") {
		c.FamilyName = u.Surname
	}
	if want("auth_time") {
		c.AuthTime = m.grant.AuthTime.Unix()
	}
	if want("login_hint") {
		c.LoginHint = tokens.LoginHint(u.ID, u.TenantID)
	}
	c.XmsCC = m.claims.xmsCC
	c.OptionalClaims = optionalClaims(want, u, m.ipaddr)
}
