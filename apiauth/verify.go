package apiauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TenantIDPlaceholder is what a multi-tenant [Config.Issuer] holds in place of the tenant id.
const TenantIDPlaceholder = "{tenantid}"

// DefaultClockSkew is the clock skew tolerated on exp and nbf when [Config.ClockSkew] is 0.
const DefaultClockSkew = 2 * time.Minute

// MaxTokenSize bounds the tokens [Verifier.Verify] parses, in bytes.
const MaxTokenSize = 16 << 10

// Errors of [Verifier.Verify], to test with errors.Is. Every error it returns wraps one of
// them, [ErrUnknownKey] or [ErrKeySetUnavailable] (or, with a KeySet of your own, that
// KeySet's error). All but ErrConfig and ErrKeySetUnavailable mean the token is not
// acceptable (RFC 6750 invalid_token); [VerifyError] maps them to their answers.
var (
	ErrConfig      = errors.New("apiauth: invalid configuration")
	ErrMalformed   = errors.New("apiauth: malformed token")
	ErrAlgorithm   = errors.New("apiauth: signature algorithm not allowed")
	ErrSignature   = errors.New("apiauth: bad signature")
	ErrIssuer      = errors.New("apiauth: wrong issuer")
	ErrAudience    = errors.New("apiauth: wrong audience")
	ErrExpired     = errors.New("apiauth: token expired")
	ErrNotYetValid = errors.New("apiauth: token not yet valid")
)

// Config says which tokens a [Verifier] accepts. Its zero value accepts none: set Issuer
// and Audiences, or say which check to skip.
type Config struct {
	// Issuer is the exact "iss" of accepted tokens, Sigil's
	// https://<host>/<tenant id>/v2.0. For a multi-tenant API it holds {tenantid} instead of
	// the id, as https://<host>/{tenantid}/v2.0: a token is then accepted when its "iss" is
	// the template with its own "tid" claim put in.
	Issuer string
	// Tenants, if not empty, lists the tenant ids ("tid") accepted; with a single-tenant
	// Issuer it is redundant. Empty: any tenant the Issuer allows.
	Tenants []string
	// Audiences lists the accepted "aud" values: the API's App ID URI (api://todo) and/or
	// its client id, as Entra issues either. A token must name one of them.
	Audiences []string
	// Algorithms lists the accepted JWS algorithms; empty is RS256 and ES256, the ones
	// Sigil signs with (ES256 for an API configured with signingAlg: ES256). "none" and the
	// HMAC algorithms are never accepted; a key is used only for the algorithm of its type.
	Algorithms []string
	// ClockSkew is the tolerance on exp and nbf; 0 is DefaultClockSkew. Negative is none.
	ClockSkew time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	// SkipIssuerCheck accepts any issuer (and any tenant). Use it only when another check
	// pins the issuer.
	SkipIssuerCheck bool
	// SkipAudienceCheck accepts tokens for any audience, that is, tokens meant for other
	// APIs: almost always a mistake.
	SkipAudienceCheck bool
	// SkipExpiryCheck accepts expired and not-yet-valid tokens (tests of old tokens).
	SkipExpiryCheck bool
	// InsecureSkipSignatureCheck accepts tokens without checking their signature at all:
	// anyone can then forge any token. For tests that look at claims only.
	InsecureSkipSignatureCheck bool
}

// Verifier checks access tokens against a [Config] with the keys of a [KeySet]. It is safe
// for concurrent use.
type Verifier struct {
	keys      KeySet
	config    Config
	algs      []jose.SignatureAlgorithm
	configErr error
}

// NewVerifier returns a Verifier for tokens signed by keys of keys and accepted by config.
// A config that can accept no token (no Issuer and no SkipIssuerCheck, no Audiences and no
// SkipAudienceCheck, an unknown algorithm) makes every Verify fail with [ErrConfig].
func NewVerifier(keys KeySet, config Config) *Verifier {
	v := &Verifier{keys: keys, config: config}
	v.algs, v.configErr = config.check(keys)
	return v
}

// allowedAlgorithms are those a Verifier may accept: asymmetric signatures only, so a
// public key can never be used as an HMAC secret.
var allowedAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}

func (c Config) check(keys KeySet) ([]jose.SignatureAlgorithm, error) {
	var problems []string
	if c.Issuer == "" && !c.SkipIssuerCheck {
		problems = append(problems, "no Issuer (set SkipIssuerCheck to accept any)")
	}
	if len(c.Audiences) == 0 && !c.SkipAudienceCheck {
		problems = append(problems, "no Audiences (set SkipAudienceCheck to accept any)")
	}
	if keys == nil && !c.InsecureSkipSignatureCheck {
		problems = append(problems, "no KeySet")
	}
	algs := []jose.SignatureAlgorithm{jose.RS256, jose.ES256}
	if len(c.Algorithms) > 0 {
		algs = nil
		for _, a := range c.Algorithms {
			if !slices.Contains(allowedAlgorithms, jose.SignatureAlgorithm(a)) {
				problems = append(problems, fmt.Sprintf("algorithm %q not supported", a))
				continue
			}
			algs = append(algs, jose.SignatureAlgorithm(a))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrConfig, strings.Join(problems, "; "))
	}
	return algs, nil
}

// Verify checks raw, a compact JWS access token: its algorithm is allowed, its signature
// is by a key of the KeySet named by "kid", and its claims: "iss" (see [Config.Issuer]),
// "tid" (see [Config.Tenants]), "aud", "exp" (required) and "nbf" (if present) with
// [Config.ClockSkew]. It returns the token's claims.
//
// Verify does not check what the token allows: scopes ("scp") and roles ("roles") are the
// caller's to check (the [Middleware] does, per route). Nor does it check "iat", "ver",
// "azp" (which app asked for the token), "typ", or whether the token was revoked.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Token, error) {
	if v.configErr != nil {
		return nil, v.configErr
	}
	if len(raw) > MaxTokenSize {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxTokenSize)
	}
	payload, err := v.verifySignature(ctx, raw)
	if err != nil {
		return nil, err
	}
	t, err := parseToken(payload)
	if err != nil {
		return nil, err
	}
	if err := v.checkClaims(t); err != nil {
		return nil, err
	}
	return t, nil
}

// verifySignature checks the compact JWS raw (RFC 7515 §7.1): its header names an allowed
// algorithm and no critical extension, and its signature is by the key named by "kid". It
// returns the payload.
//
// RS256, the algorithm of Sigil's and Entra's tokens, is checked here with crypto/rsa, and
// ES256 (Sigil's for APIs that choose it) with crypto/ecdsa over the JWS form of the
// signature (RFC 7518 §3.4: r and s, 32 bytes each): the general JWS parser of go-jose costs
// a third of a validation. Every other allowed algorithm goes through go-jose, limited to the
// one algorithm the header names.
func (v *Verifier) verifySignature(ctx context.Context, raw string) ([]byte, error) {
	h, input, sig, err := splitJWS(raw)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(v.algs, jose.SignatureAlgorithm(h.Alg)) {
		return nil, fmt.Errorf("%w: %q", ErrAlgorithm, h.Alg)
	}
	if v.config.InsecureSkipSignatureCheck {
		return decodePayload(input)
	}
	key, err := v.keys.Key(ctx, h.Kid)
	if err != nil {
		return nil, err
	}
	if !keyFits(h.Alg, key) {
		return nil, fmt.Errorf("%w: key %q does not fit %s", ErrAlgorithm, h.Kid, h.Alg)
	}
	if h.Alg == string(jose.RS256) {
		sum := sha256.Sum256([]byte(input))
		if err := rsa.VerifyPKCS1v15(key.(*rsa.PublicKey), crypto.SHA256, sum[:], sig); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSignature, err)
		}
		return decodePayload(input)
	}
	if pub, ok := key.(*ecdsa.PublicKey); ok && h.Alg == string(jose.ES256) {
		if pub.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: key %q is not a P-256 key", ErrAlgorithm, h.Kid)
		}
		if len(sig) != 64 {
			return nil, fmt.Errorf("%w: an ES256 signature is 64 bytes, not %d", ErrSignature, len(sig))
		}
		sum := sha256.Sum256([]byte(input))
		if !ecdsa.Verify(pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			return nil, fmt.Errorf("%w: ecdsa verification failed", ErrSignature)
		}
		return decodePayload(input)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(h.Alg)})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return payload, nil
}

// jwsHeader is the part of a JWS protected header Verify reads.
type jwsHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// splitJWS splits a compact JWS into its decoded header, its signing input (header and
// payload, still encoded) and its decoded signature. The header must name an algorithm
// this package can check and no critical extension (RFC 7515 §4.1.11: one not understood
// must be refused, and none is).
func splitJWS(raw string) (h jwsHeader, input string, sig []byte, err error) {
	first, rest, ok := strings.Cut(raw, ".")
	payload, signature, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.Contains(signature, ".") {
		return h, "", nil, fmt.Errorf("%w: not a compact JWS (three parts)", ErrMalformed)
	}
	header, err := base64.RawURLEncoding.Strict().DecodeString(first)
	if err != nil {
		return h, "", nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	if err := json.Unmarshal(header, &h); err != nil {
		return h, "", nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	if h.Crit != nil {
		return h, "", nil, fmt.Errorf("%w: critical header extensions are not supported", ErrMalformed)
	}
	if !slices.Contains(allowedAlgorithms, jose.SignatureAlgorithm(h.Alg)) {
		return h, "", nil, fmt.Errorf("%w: %q", ErrAlgorithm, h.Alg)
	}
	sig, err = base64.RawURLEncoding.Strict().DecodeString(signature)
	if err != nil || len(sig) == 0 {
		return h, "", nil, fmt.Errorf("%w: signature encoding", ErrMalformed)
	}
	return h, first + "." + payload, sig, nil
}

// decodePayload returns the payload of a signing input.
func decodePayload(input string) ([]byte, error) {
	_, payload, _ := strings.Cut(input, ".")
	b, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	return b, nil
}

// keyFits says whether key is of the type alg needs.
func keyFits(alg string, key any) bool {
	switch {
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		_, ok := key.(*rsa.PublicKey)
		return ok
	case strings.HasPrefix(alg, "ES"):
		_, ok := key.(*ecdsa.PublicKey)
		return ok
	}
	return true // EdDSA: go-jose checks the type
}

// checkClaims checks iss, tid, aud, exp and nbf.
func (v *Verifier) checkClaims(t *Token) error {
	c := v.config
	if !c.SkipIssuerCheck {
		want := c.Issuer
		if strings.Contains(want, TenantIDPlaceholder) {
			if t.TenantID == "" || strings.ContainsAny(t.TenantID, "/?#") {
				return fmt.Errorf("%w: the token has no usable tid", ErrIssuer)
			}
			want = strings.ReplaceAll(want, TenantIDPlaceholder, t.TenantID)
		}
		if t.Issuer != want {
			return fmt.Errorf("%w: %q", ErrIssuer, t.Issuer)
		}
	}
	if len(c.Tenants) > 0 && !slices.Contains(c.Tenants, t.TenantID) {
		return fmt.Errorf("%w: tenant %q not accepted", ErrIssuer, t.TenantID)
	}
	if !c.SkipAudienceCheck && !slices.ContainsFunc(t.Audience, func(a string) bool { return slices.Contains(c.Audiences, a) }) {
		return fmt.Errorf("%w: %q", ErrAudience, t.Audience)
	}
	if c.SkipExpiryCheck {
		return nil
	}
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	skew := c.ClockSkew
	if skew == 0 {
		skew = DefaultClockSkew
	} else if skew < 0 {
		skew = 0
	}
	if t.Expiry.IsZero() {
		return fmt.Errorf("%w: no exp", ErrMalformed)
	}
	if !now.Add(-skew).Before(t.Expiry) {
		return fmt.Errorf("%w at %s", ErrExpired, t.Expiry.UTC().Format(time.RFC3339))
	}
	if !t.NotBefore.IsZero() && now.Add(skew).Before(t.NotBefore) {
		return fmt.Errorf("%w before %s", ErrNotYetValid, t.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// Token is a verified access token: its registered claims and those Sigil and Entra
// issue, decoded; [Token.Claims] decodes any others.
type Token struct {
	Issuer    string    // iss
	Audience  []string  // aud (a string in Sigil's tokens; an array is accepted)
	Subject   string    // sub: pairwise, the user for this app
	Expiry    time.Time // exp
	NotBefore time.Time // nbf, zero if absent
	IssuedAt  time.Time // iat, zero if absent
	TenantID  string    // tid
	ObjectID  string    // oid: the user (or the app's service principal), the same for every app
	// AuthorizedParty is azp: the client id of the app that asked for the token.
	AuthorizedParty string
	Scopes          []string // scp, split at spaces: delegated permissions
	Roles           []string // roles: app roles (of an application, or assigned to the user)
	Version         string   // ver

	payload []byte
}

// Claims decodes the token's payload (the JSON claims object) into v, as json.Unmarshal.
func (t *Token) Claims(v any) error {
	if t.payload == nil {
		return errors.New("apiauth: the token has no payload")
	}
	return json.Unmarshal(t.payload, v)
}

// HasScope says whether the token carries the delegated scope s (case-insensitive, as
// Entra's scope values).
func (t *Token) HasScope(s string) bool {
	return slices.ContainsFunc(t.Scopes, func(x string) bool { return strings.EqualFold(x, s) })
}

// HasRole says whether the token carries the app role r (exact).
func (t *Token) HasRole(r string) bool { return slices.Contains(t.Roles, r) }

// audience is "aud": a string or an array of strings (RFC 7519 §4.1.3).
type audience []string

// UnmarshalJSON accepts a string or an array of strings.
func (a *audience) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*a = audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	*a = l
	return nil
}

// numericDate is a JWT NumericDate: seconds, possibly fractional (RFC 7519 §2).
type numericDate float64

func (d numericDate) time() time.Time {
	if d == 0 {
		return time.Time{}
	}
	sec := int64(d)
	return time.Unix(sec, int64((float64(d)-float64(sec))*1e9))
}

func parseToken(payload []byte) (*Token, error) {
	var c struct {
		Iss   string      `json:"iss"`
		Aud   audience    `json:"aud"`
		Sub   string      `json:"sub"`
		Exp   numericDate `json:"exp"`
		Nbf   numericDate `json:"nbf"`
		Iat   numericDate `json:"iat"`
		TID   string      `json:"tid"`
		OID   string      `json:"oid"`
		Azp   string      `json:"azp"`
		AppID string      `json:"appid"` // v1.0 tokens' azp
		Scp   string      `json:"scp"`
		Roles []string    `json:"roles"`
		Ver   string      `json:"ver"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	t := &Token{Issuer: c.Iss, Audience: c.Aud, Subject: c.Sub, Expiry: c.Exp.time(), NotBefore: c.Nbf.time(),
		IssuedAt: c.Iat.time(), TenantID: c.TID, ObjectID: c.OID, AuthorizedParty: c.Azp, Scopes: strings.Fields(c.Scp),
		Roles: c.Roles, Version: c.Ver, payload: payload}
	if t.AuthorizedParty == "" {
		t.AuthorizedParty = c.AppID
	}
	return t, nil
}
