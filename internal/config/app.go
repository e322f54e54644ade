package config

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// minSecretLength is the shortest client secret accepted.
const minSecretLength = 16

// app checks an app registration; scopes are the tenant's API scopes by
// lower-cased Application ID URI.
func (v *validator) app(a *App, path string, scopes map[string]map[string]bool) {
	if a.DisplayName == "" {
		v.addf(path+".displayName", "required")
	}
	if v.guid(&a.ClientID, path+".clientId") {
		v.unique(v.clientIDs, a.ClientID, path+".clientId")
	}
	a.SignInAudience = v.oneOf(path+".signInAudience", a.SignInAudience, SignInAudienceThisTenant, SignInAudienceAnyTenant)
	a.Consent = v.oneOf(path+".consent", a.Consent, ConsentUser, ConsentPreauthorized)
	if a.GroupMembershipClaims != "" { // "" is None
		v.oneOf(path+".groupMembershipClaims", a.GroupMembershipClaims, GroupClaimsNone, GroupClaimsSecurityGroup, GroupClaimsAll)
	}
	if a.IDTokenSigningAlg != "" { // "" is RS256
		v.oneOf(path+".idTokenSigningAlg", a.IDTokenSigningAlg, SigningAlgRS256, SigningAlgES256)
	}
	v.redirectURIs(a, path)
	v.secrets(a, path)
	for i, u := range a.PostLogoutRedirectURIs {
		p := index(path+".postLogoutRedirectUris", i)
		v.check(p, u, checkHTTPURL(u))
	}
	if a.LogoutURL != "" {
		v.check(path+".logoutUrl", a.LogoutURL, checkHTTPURL(a.LogoutURL))
	}
	if a.BackchannelLogoutURL != "" {
		v.check(path+".backchannelLogoutUrl", a.BackchannelLogoutURL, checkHTTPURL(a.BackchannelLogoutURL))
	}
	v.claims(path+".optionalClaims.idToken", a.OptionalClaims.IDToken)
	v.claims(path+".optionalClaims.accessToken", a.OptionalClaims.AccessToken)
	v.adminConsent(path+".adminConsent", a.AdminConsent, scopes)
	v.durations(path+".tokenLifetimes", tokenDurations(a.TokenLifetimes, true))
	v.durations(path+".refreshTokens", refreshDurations(a.RefreshTokens, true))
}

// oneOf checks that value is one of allowed, and returns the first allowed
// value (the default) for an empty one.
func (v *validator) oneOf(path, value string, allowed ...string) string {
	if value == "" {
		return allowed[0]
	}
	if !slices.Contains(allowed, value) {
		v.addf(path, "%q is not one of %q", value, allowed)
	}
	return value
}

// redirectURIs checks the redirect URIs of every platform; a URI may appear
// once per app.
func (v *validator) redirectURIs(a *App, path string) {
	first := make(map[string]string)
	for _, pl := range []struct {
		name string
		uris []string
	}{{"spa", a.SPA.RedirectURIs}, {"web", a.Web.RedirectURIs}, {"publicClient", a.PublicClient.RedirectURIs}} {
		for i, u := range pl.uris {
			p := index(path+"."+pl.name+".redirectUris", i)
			if v.check(p, u, checkRedirectURI(u)) {
				v.unique(first, u, p)
			}
		}
	}
}

// secrets checks client secrets without ever quoting one, and certificates. An app with
// credentials needs no redirect URIs (a daemon), but its credentials cannot go with spa
// redirect URIs alone: a browser cannot keep a secret.
func (v *validator) secrets(a *App, path string) {
	if (len(a.ClientSecrets) > 0 || len(a.Certificates) > 0) && len(a.SPA.RedirectURIs) > 0 &&
		len(a.Web.RedirectURIs) == 0 && len(a.PublicClient.RedirectURIs) == 0 {
		v.addf(path+".clientSecrets", "an app with only spa redirect URIs is a browser app and cannot keep a secret or a certificate: "+
			"register the server side as web.redirectUris, or use a separate app registration")
	}
	for i, pemText := range a.Certificates {
		if _, err := ParseCertificate(pemText); err != nil {
			v.addf(index(path+".certificates", i), "%v", err)
		}
	}
	for i, s := range a.ClientSecrets {
		if n := utf8.RuneCountInString(s); n < minSecretLength {
			v.addf(index(path+".clientSecrets", i), "must be at least %d characters, got %d", minSecretLength, n)
		}
	}
}

// claims checks optional claim names.
func (v *validator) claims(path string, names []string) {
	known := optionalClaims()
	for i, name := range names {
		if !slices.Contains(known, name) {
			v.addf(index(path, i), "%q is not a known optional claim; known: %s", name, strings.Join(known, ", "))
		}
	}
}

// adminConsent checks "<appIdUri>/<scope>" entries against the tenant's APIs.
func (v *validator) adminConsent(path string, entries []string, scopes map[string]map[string]bool) {
	for i, e := range entries {
		p := index(path, i)
		slash := strings.LastIndex(e, "/")
		if slash <= 0 || slash == len(e)-1 {
			v.addf(p, "%q is not <appIdUri>/<scope>, such as api://todo/Todo.Write", e)
			continue
		}
		uri, scope := e[:slash], e[slash+1:]
		api, ok := scopes[lower(uri)]
		switch {
		case !ok:
			v.addf(p, "%q: no API in this tenant has appIdUri %q", e, uri)
		case !api[lower(scope)]:
			v.addf(p, "%q: API %q has no scope %q", e, uri, scope)
		}
	}
}

// ParseCertificate decodes one PEM "CERTIFICATE" block with an RSA public key and returns
// its DER bytes.
func ParseCertificate(pemText string) ([]byte, error) {
	block, rest := pem.Decode([]byte(strings.TrimSpace(pemText)))
	switch {
	case block == nil:
		return nil, errors.New("is not a PEM certificate: expected -----BEGIN CERTIFICATE-----")
	case block.Type != "CERTIFICATE":
		return nil, fmt.Errorf("is a PEM %q block, expected CERTIFICATE (list the certificate, never the private key)", block.Type)
	case len(strings.TrimSpace(string(rest))) > 0:
		return nil, errors.New("holds more than one PEM block: list each certificate separately")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("is not a valid X.509 certificate: %v", err)
	}
	if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
		return nil, errors.New("must hold an RSA public key (client assertions are RS256 or PS256)")
	}
	return block.Bytes, nil
}
