package tokens

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// IDClaims is an ID token's payload, shaped as Entra's v2.0 ID tokens with the OpenID Connect claims standard clients check.
type IDClaims struct {
	Aud               string   `json:"aud"`
	Iss               string   `json:"iss"`
	Iat               int64    `json:"iat"`
	Nbf               int64    `json:"nbf"`
	Exp               int64    `json:"exp"`
	AtHash            string   `json:"at_hash,omitempty"` // beside an access token in the implicit grant
	AuthTime          int64    `json:"auth_time,omitempty"`
	Azp               string   `json:"azp,omitempty"`
	Email             string   `json:"email,omitempty"`
	FamilyName        string   `json:"family_name,omitempty"`
	GivenName         string   `json:"given_name,omitempty"`
	LoginHint         string   `json:"login_hint,omitempty"`
	Name              string   `json:"name,omitempty"`
	Nonce             string   `json:"nonce,omitempty"`
	OID               string   `json:"oid"`
	PreferredUsername string   `json:"preferred_username,omitempty"`
	SID               string   `json:"sid,omitempty"`
	SigninState       []string `json:"signin_state,omitempty"`
	Sub               string   `json:"sub"`
	TID               string   `json:"tid"`
	UTI               string   `json:"uti"`
	Ver               string   `json:"ver"`
	OptionalClaims
	DirectoryClaims
}

// OptionalClaims are the optional claims Sigil adds to ID and access tokens when an app
// configures them (optionalClaims) or a claims request names them, as Entra's of the same name.
type OptionalClaims struct {
	Acct                 *int     `json:"acct,omitempty"` // 0: a member of the tenant
	IPAddr               string   `json:"ipaddr,omitempty"`
	UPN                  string   `json:"upn,omitempty"`
	VerifiedPrimaryEmail []string `json:"verified_primary_email,omitempty"`
}

// AccessClaims is an access token's payload, shaped as Entra's v2.0 access tokens.
type AccessClaims struct {
	Aud               string `json:"aud"`
	Iss               string `json:"iss"`
	Iat               int64  `json:"iat"`
	Nbf               int64  `json:"nbf"`
	Exp               int64  `json:"exp"`
	Azp               string `json:"azp"`
	Azpacr            string `json:"azpacr"` // "0" public client, "1" client secret, "2" certificate
	Email             string `json:"email,omitempty"`
	Idtyp             string `json:"idtyp,omitempty"` // "app" for app-only tokens (client credentials)
	Name              string `json:"name,omitempty"`
	OID               string `json:"oid"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	Scp               string `json:"scp,omitempty"` // delegated scopes; none in app-only tokens
	SID               string `json:"sid,omitempty"`
	Sub               string `json:"sub"`
	TID               string `json:"tid"`
	UTI               string `json:"uti"`
	Ver               string `json:"ver"`
	// Claims an app configures, or a claims request asks for.
	AuthTime   int64    `json:"auth_time,omitempty"`
	FamilyName string   `json:"family_name,omitempty"`
	GivenName  string   `json:"given_name,omitempty"`
	LoginHint  string   `json:"login_hint,omitempty"`
	XmsCC      []string `json:"xms_cc,omitempty"` // client capabilities (MSAL's clientCapabilities)
	OptionalClaims
	DirectoryClaims
}

// DirectoryClaims are a user's app roles and groups, as Entra's: roles of the token's API;
// groups (object ids) for an app with groupMembershipClaims, or past the overage limit
// instead of them hasgroups (ID tokens from the authorization endpoint) or _claim_names and
// _claim_sources (tokens from the token endpoint) pointing at where to read them.
type DirectoryClaims struct {
	Roles        []string               `json:"roles,omitempty"`
	Groups       []string               `json:"groups,omitempty"`
	HasGroups    bool                   `json:"hasgroups,omitempty"`
	ClaimNames   map[string]string      `json:"_claim_names,omitempty"`
	ClaimSources map[string]ClaimSource `json:"_claim_sources,omitempty"`
}

// ClaimSource is an entry of _claim_sources (OpenID Connect Core §5.6.2.2, distributed
// claims): where to fetch a claim left out of the token.
type ClaimSource struct {
	Endpoint string `json:"endpoint"`
}

// Issuer is a tenant's issuer: {publicURL}/{tenantID}/v2.0.
func Issuer(publicURL, tenantID string) string { return publicURL + "/" + tenantID + "/v2.0" }

// PairwiseSubject derives the sub claim for a user and an app, as Entra's: stable, opaque,
// different per app. key is the instance's pairwise secret.
func PairwiseSubject(key []byte, oid, clientID string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(oid))
	m.Write([]byte{0})
	m.Write([]byte(strings.ToLower(clientID)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

const loginHintPrefix = "s1."

// LoginHint is the opaque login_hint claim for an account. MSAL sends it back as login_hint
// and logout_hint; ParseLoginHint turns it back into the account.
func LoginHint(oid, tid string) string {
	return loginHintPrefix + base64.RawURLEncoding.EncodeToString([]byte(oid+"@"+tid))
}

// ParseLoginHint returns the account a login_hint claim names; ok is false when hint is not
// such a claim (it may still be a username).
func ParseLoginHint(hint string) (oid, tid string, ok bool) {
	rest, found := strings.CutPrefix(hint, loginHintPrefix)
	if !found || len(rest) > 200 {
		return "", "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", "", false
	}
	oid, tid, ok = strings.Cut(string(raw), "@")
	return oid, tid, ok && oid != "" && tid != ""
}

// ClientInfo is the client_info response parameter MSAL builds the account id from:
// base64url({"uid": oid, "utid": tid}).
func ClientInfo(oid, tid string) string {
	b, _ := json.Marshal(struct {
		UID  string `json:"uid"`
		UTID string `json:"utid"`
	}{oid, tid})
	return base64.RawURLEncoding.EncodeToString(b)
}

// RandomID returns n random bytes, base64url-encoded: codes, token ids, cookie values.
func RandomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash returns the base64url SHA-256 of a secret: what the store keeps instead of it.
func Hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// HalfHash is the at_hash of an access token (OpenID Connect Core §3.2.2.9): the base64url
// left half of its SHA-256, for RS256- and ES256-signed ID tokens (both hash with SHA-256).
func HalfHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// Leeway is the clock skew tolerated when checking exp and nbf.
const Leeway = 2 * time.Minute

// Reasons VerifyAccessTokenFor refuses a token whose signature checked out; any other error
// means the token is malformed or not signed by a published key. With these errors the
// returned claims are the token's, so callers can say what was wrong.
var (
	ErrForeignIssuer = errors.New("token has a foreign issuer")
	ErrAudience      = errors.New("token is for another audience")
	ErrExpired       = errors.New("token expired")
	ErrNotYetValid   = errors.New("token not yet valid")
)

// VerifyAccessToken checks an access token issued by this server: signature by a published
// key, issuer of the token's tenant, audience, and lifetime. It returns the claims.
func (ks *KeySet) VerifyAccessToken(raw, publicURL, audience string, now time.Time) (AccessClaims, error) {
	return ks.VerifyAccessTokenFor(raw, publicURL, func(aud string) bool { return aud == audience }, now)
}

// VerifyAccessTokenFor is VerifyAccessToken for a token whose audience may have several
// names: audience reports whether an aud value names the expected audience. The checks run
// in this order: signature, issuer (ErrForeignIssuer), audience (ErrAudience), then
// lifetime with Leeway (ErrExpired, ErrNotYetValid).
func (ks *KeySet) VerifyAccessTokenFor(raw, publicURL string, audience func(aud string) bool, now time.Time) (AccessClaims, error) {
	var c AccessClaims
	payload, err := ks.Verify(raw)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return AccessClaims{}, fmt.Errorf("malformed token claims: %w", err)
	}
	switch {
	case c.TID == "" || c.Iss != Issuer(publicURL, c.TID):
		return c, ErrForeignIssuer
	case !audience(c.Aud):
		return c, ErrAudience
	case now.Add(-Leeway).Unix() >= c.Exp:
		return c, ErrExpired
	case now.Add(Leeway).Unix() < c.Nbf:
		return c, ErrNotYetValid
	}
	return c, nil
}
