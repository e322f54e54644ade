package protocol

import (
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// Client authentication at the token endpoint: client_secret_post, client_secret_basic and
// private_key_jwt (RFC 7523 client assertions signed by a registered certificate's key).

// clientAuth is how a client authenticated, and the access token's azpacr for it.
type clientAuth int

const (
	authNone        clientAuth = iota // a public client: azpacr 0
	authSecret                        // a client secret: azpacr 1
	authCertificate                   // a client assertion: azpacr 2
)

// azpacr is the access token's claim for how the client authenticated.
func (a clientAuth) azpacr() string { return string(rune('0' + a)) }

// clientAssertionType is the only client_assertion_type (RFC 7523 §2.2).
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Limits on client assertions.
const (
	maxAssertionLifetime = time.Hour       // exp at most this far ahead: assertions are short-lived
	assertionSkew        = 5 * time.Minute // clock skew allowed on exp and nbf, as Entra's
)

// clientCredential is what a token request presents to identify and authenticate its client.
type clientCredential struct {
	clientID  string
	secret    string // client_secret_post or client_secret_basic
	assertion string // private_key_jwt
}

// readClientCredential reads the client id and at most one credential: client_secret in the
// body (client_secret_post), an HTTP Basic header (client_secret_basic), or client_assertion
// (private_key_jwt). More than one method is an error (RFC 6749 §2.3).
func readClientCredential(r *http.Request, p params) (clientCredential, error) {
	c := clientCredential{clientID: p.get("client_id"), secret: p.get("client_secret"), assertion: p.get("client_assertion")}
	if c.assertion != "" || p.has("client_assertion_type") {
		if t := p.get("client_assertion_type"); t != clientAssertionType {
			return c, errInvalidParam.new("client_assertion_type", "it must be "+clientAssertionType)
		}
		if c.assertion == "" {
			return c, errMissingParam.new("client_assertion")
		}
		if c.secret != "" {
			return c, errMalformed.new("the client authenticated by more than one method")
		}
	}
	user, pass, basic := r.BasicAuth()
	if !basic {
		return c, nil
	}
	if c.secret != "" || c.assertion != "" {
		return c, errMalformed.new("the client authenticated by more than one method")
	}
	var err error
	if user, err = url.QueryUnescape(user); err == nil {
		pass, err = url.QueryUnescape(pass)
	}
	if err != nil {
		return c, errMalformed.new("the Authorization header is not valid client_secret_basic")
	}
	if c.clientID != "" && !strings.EqualFold(c.clientID, user) {
		return c, errMalformed.new("client_id differs from the Authorization header")
	}
	c.clientID, c.secret = user, pass
	return c, nil
}

// authenticateClient checks the credential against the app's registration. The check is
// reserved under the client's throttle key first (throttle.go; shared by every node) and a
// wrong credential counts against the client, so secrets cannot be guessed at the speed of
// the endpoint, nor by many requests at once; while the client is throttled, even the right
// credential is refused (AADSTS7000222).
func (s *Server) authenticateClient(ctx context.Context, tr *tokenRequest, c clientCredential) (clientAuth, error) {
	if c.secret == "" && c.assertion == "" {
		return authNone, nil
	}
	if !tr.app.HasCredentials() {
		return authNone, errPublicWithSecret.new()
	}
	res, err := s.reserve(ctx, throttleKey{"client:" + tr.app.ClientID, s.throttle.Account,
		errClientThrottled.new(tr.app.ClientID)})
	if e := (*Error)(nil); errors.As(err, &e) && e.AADSTS == errClientThrottled.aadsts {
		s.event(ctx, evClientThrottled, ofApp(tr.app), e)
	}
	if err != nil {
		return authNone, err
	}
	var method clientAuth
	var failure error
	if c.secret != "" {
		method = authSecret
		if !secretMatches(tr.app, c.secret) {
			failure = errSecretInvalid.new(tr.app.ClientID)
		}
	} else {
		method = authCertificate
		failure = s.checkAssertion(ctx, tr, c.assertion, s.now())
	}
	if failure != nil {
		if err := res.fail(ctx); err != nil {
			return authNone, err
		}
		s.event(ctx, evClientAuthFail, ofApp(tr.app), asError(failure))
		return authNone, failure
	}
	res.release(ctx)
	return method, nil
}

// secretMatches compares a client secret with the app's stored secret hashes.
func secretMatches(app directory.App, secret string) bool {
	h := []byte(tokens.Hash(secret))
	ok := 0
	for _, stored := range app.SecretHashes {
		ok |= subtle.ConstantTimeCompare(h, []byte(stored))
	}
	return ok == 1
}

// assertionClaims are the claims of a client assertion (RFC 7523 §3).
type assertionClaims struct {
	Iss string           `json:"iss"`
	Sub string           `json:"sub"`
	Aud jwt.Audience     `json:"aud"`
	Exp *jwt.NumericDate `json:"exp"`
	Nbf *jwt.NumericDate `json:"nbf"`
	Jti string           `json:"jti"`
}

// checkAssertion verifies a private_key_jwt client assertion: RS256 or PS256, signed by the
// key of a certificate registered for the app and named by the x5t or x5t#S256 header; iss
// and sub the client id; aud this tenant's token endpoint; a short, current lifetime. A jti
// may repeat while the assertion lives (msal-node sends one assertion for up to 10 minutes);
// replaying it gains nothing a secret would not, and the assertion expires soon.
func (s *Server) checkAssertion(ctx context.Context, tr *tokenRequest, raw string, now time.Time) error {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.PS256})
	if err != nil {
		return errAssertionMalformed.new().because(err)
	}
	if len(tok.Headers) != 1 {
		return errAssertionMalformed.new()
	}
	cert := matchCertificate(tr.app.Certificates, tok.Headers[0])
	if cert == nil {
		return errAssertionCertificate.new(tr.app.ClientID)
	}
	var c assertionClaims
	if err := tok.Claims(cert.PublicKey, &c); err != nil {
		return errAssertionSignature.new().because(err)
	}
	switch {
	case c.Iss != c.Sub || !strings.EqualFold(c.Sub, tr.app.ClientID):
		return errAssertionSubject.new()
	case c.Exp == nil:
		return errAssertionTime.new("it has no exp")
	case !now.Before(c.Exp.Time().Add(assertionSkew)):
		return errAssertionTime.new("it expired at " + c.Exp.Time().UTC().Format(time.RFC3339))
	case c.Exp.Time().After(now.Add(maxAssertionLifetime + assertionSkew)):
		return errAssertionTime.new("its exp is more than an hour away")
	case c.Nbf != nil && c.Nbf.Time().After(now.Add(assertionSkew)):
		return errAssertionTime.new("it is not valid before " + c.Nbf.Time().UTC().Format(time.RFC3339))
	}
	for _, aud := range c.Aud {
		if s.isTokenEndpointOf(ctx, aud, tr.tenant) {
			return nil
		}
	}
	return errAssertionAudience.new(s.tokenEndpoint(tr.tenant.segment))
}

// matchCertificate returns the registered certificate the header names by x5t#S256 or
// x5t thumbprint, or nil. RFC 7515 spells thumbprints base64url; MSAL Go sends standard
// base64, so both decode. Only an RSA key can verify RS256 and PS256.
func matchCertificate(certs [][]byte, h jose.Header) *x509.Certificate {
	want256, want1 := thumbprint(h, "x5t#S256", sha256.Size), thumbprint(h, "x5t", sha1.Size)
	for _, der := range certs {
		s256, s1 := sha256.Sum256(der), sha1.Sum(der)
		if want256 != nil && subtle.ConstantTimeCompare(want256, s256[:]) == 1 ||
			want256 == nil && want1 != nil && subtle.ConstantTimeCompare(want1, s1[:]) == 1 {
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return nil
			}
			if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
				return nil
			}
			return cert
		}
	}
	return nil
}

// thumbprint decodes the header's thumbprint parameter name, of size bytes, or returns nil.
func thumbprint(h jose.Header, name string, size int) []byte {
	v, _ := h.ExtraHeaders[jose.HeaderKey(name)].(string)
	if v == "" || len(v) > 2*size {
		return nil
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(v); err == nil && len(b) == size {
			return b
		}
	}
	return nil
}

// isTokenEndpointOf reports whether aud is the token endpoint of tenant t under any of its
// names (id, domain, or the multi-tenant segment the request used).
func (s *Server) isTokenEndpointOf(ctx context.Context, aud string, t tenantRef) bool {
	rest, ok := cutPrefixFold(aud, s.publicURL+"/")
	if !ok {
		return false
	}
	seg, ok := strings.CutSuffix(rest, "/oauth2/v2.0/token")
	if !ok || strings.Contains(seg, "/") {
		return false
	}
	if strings.EqualFold(seg, t.segment) {
		return true
	}
	other, err := s.resolveTenant(ctx, seg)
	return err == nil && !t.multi && !other.multi && other.tenant.ID == t.tenant.ID
}

// cutPrefixFold is strings.CutPrefix, case-insensitive (scheme and host compare so).
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}
