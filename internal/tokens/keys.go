package tokens

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sigil-idp/sigil/internal/store"
)

// KeySet holds the signing keys in memory: the current key signs, every published key
// (next, current, retired) verifies and appears in the JWKS. It is loaded from the store once
// and refreshed by Reload, never per request.
type KeySet struct {
	// OnSign, when set before the first Sign, learns how long each signature took (metrics).
	OnSign func(time.Duration)

	st   store.Keys
	ring *KeyRing // seals the private keys in the store; nil: stored unsealed (tests)
	now  func() time.Time

	mu      sync.RWMutex
	current *signingKey
	public  map[string]*rsa.PublicKey // kid → key, every published key
	jwks    []byte
}

type signingKey struct {
	id     string
	priv   *rsa.PrivateKey
	header string // base64url JOSE header, encoded once
	logout string // the same with typ logout+jwt (back-channel logout tokens)
}

// LoadKeys reads the signing keys from the store, creating and storing an RS256 key with a
// self-signed certificate when there is no current key yet. Several nodes starting at once
// agree on one key: the store accepts only one current key, and the losers load the winner's.
// Private keys are sealed with ring's first key-encryption key: a key stored unsealed (before
// sealing existed) or sealed by an older KEK of the ring is sealed anew. A nil ring stores
// keys unsealed and refuses sealed ones (for tests and benchmarks).
func LoadKeys(ctx context.Context, st store.Keys, ring *KeyRing, now func() time.Time) (*KeySet, error) {
	ks := &KeySet{st: st, ring: ring, now: now}
	if err := ks.Reload(ctx); err != nil {
		return nil, err
	}
	if err := ks.reseal(ctx); err != nil {
		return nil, err
	}
	if ks.current != nil {
		return ks, nil
	}
	k, err := NewSigningKey(now())
	if err != nil {
		return nil, err
	}
	if ring != nil {
		k.PrivateKey = ring.seal(k.ID, k.PrivateKey)
	}
	if err := st.AddSigningKey(ctx, k); err != nil && !errors.Is(err, store.ErrConflict) {
		return nil, fmt.Errorf("tokens: store signing key: %w", err)
	}
	if err := ks.Reload(ctx); err != nil {
		return nil, err
	}
	if ks.current == nil {
		return nil, errors.New("tokens: no current signing key after creating one")
	}
	return ks, nil
}

// reseal seals with the ring's first KEK every stored key that is unsealed or sealed by an
// older one. Each replacement is conditional on the stored value, so nodes doing this at once
// do not overwrite each other.
func (ks *KeySet) reseal(ctx context.Context) error {
	if ks.ring == nil {
		return nil
	}
	keys, err := ks.st.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("tokens: load keys: %w", err)
	}
	for _, k := range keys {
		der, current, err := ks.ring.open(k.ID, k.PrivateKey)
		if err != nil {
			return err
		}
		if current {
			continue
		}
		err = ks.st.ResealSigningKey(ctx, k.ID, k.PrivateKey, ks.ring.seal(k.ID, der))
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("tokens: seal signing key %s: %w", k.ID, err)
		}
	}
	return nil
}

// NewSigningKey makes a current RSA-2048 key for RS256 with a self-signed certificate (the
// x5c that Entra-style JWKS carry), its kid the RFC 7638 thumbprint.
func NewSigningKey(now time.Time) (store.SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("tokens: generate key: %w", err)
	}
	thumb, err := (&jose.JSONWebKey{Key: &priv.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("tokens: thumbprint: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(thumb)
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(thumb[:16]),
		Subject:      pkix.Name{CommonName: "Sigil token signing key " + kid},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("tokens: certificate: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("tokens: marshal key: %w", err)
	}
	return store.SigningKey{ID: kid, Algorithm: "RS256", PrivateKey: der, Certificate: cert,
		State: store.KeyCurrent, CreatedAt: now}, nil
}

// Reload reads the keys from the store again (another node may have rotated them).
func (ks *KeySet) Reload(ctx context.Context) error {
	keys, err := ks.st.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("tokens: load keys: %w", err)
	}
	var current *signingKey
	public := map[string]*rsa.PublicKey{}
	var set jose.JSONWebKeySet
	for _, k := range keys {
		if k.PrivateKey, _, err = ks.ring.open(k.ID, k.PrivateKey); err != nil {
			return err
		}
		priv, cert, err := parseKey(k)
		if err != nil {
			return err
		}
		public[k.ID] = &priv.PublicKey
		x5t := sha1.Sum(cert.Raw)
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &priv.PublicKey, KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig",
			Certificates: []*x509.Certificate{cert}, CertificateThumbprintSHA1: x5t[:]})
		if k.State == store.KeyCurrent {
			header, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": k.ID, "typ": "JWT",
				"x5t": base64.RawURLEncoding.EncodeToString(x5t[:])})
			logout, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": k.ID, "typ": "logout+jwt",
				"x5t": base64.RawURLEncoding.EncodeToString(x5t[:])})
			current = &signingKey{id: k.ID, priv: priv, header: base64.RawURLEncoding.EncodeToString(header),
				logout: base64.RawURLEncoding.EncodeToString(logout)}
		}
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("tokens: marshal jwks: %w", err)
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.current, ks.public, ks.jwks = current, public, jwks
	return nil
}

func parseKey(k store.SigningKey) (*rsa.PrivateKey, *x509.Certificate, error) {
	if k.Algorithm != "RS256" {
		return nil, nil, fmt.Errorf("tokens: key %s: unsupported algorithm %q", k.ID, k.Algorithm)
	}
	key, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
	if err != nil {
		return nil, nil, fmt.Errorf("tokens: key %s: %w", k.ID, err)
	}
	priv, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("tokens: key %s is not an RSA key", k.ID)
	}
	cert, err := x509.ParseCertificate(k.Certificate)
	if err != nil {
		return nil, nil, fmt.Errorf("tokens: key %s certificate: %w", k.ID, err)
	}
	if !priv.PublicKey.Equal(cert.PublicKey) {
		return nil, nil, fmt.Errorf("tokens: key %s: certificate is for another key", k.ID)
	}
	priv.Precompute()
	return priv, cert, nil
}

// JWKS returns the published key set as JSON.
func (ks *KeySet) JWKS() []byte {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.jwks
}

// Sign returns claims as a compact JWS signed RS256 with the current key.
func (ks *KeySet) Sign(claims any) (string, error) { return ks.sign(claims, false) }

// SignLogoutToken signs a back-channel logout token: as Sign, with typ logout+jwt (OpenID
// Connect Back-Channel Logout 1.0 §2.4), so it can never pass for an ID or access token.
func (ks *KeySet) SignLogoutToken(claims any) (string, error) { return ks.sign(claims, true) }

func (ks *KeySet) sign(claims any, logout bool) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("tokens: marshal claims: %w", err)
	}
	ks.mu.RLock()
	key := ks.current
	ks.mu.RUnlock()
	if key == nil {
		return "", errors.New("tokens: no current signing key")
	}
	header := key.header
	if logout {
		header = key.logout
	}
	var b bytes.Buffer
	b.Grow(len(header) + 1 + base64.RawURLEncoding.EncodedLen(len(payload)) + 1 + 342)
	b.WriteString(header)
	b.WriteByte('.')
	enc := base64.NewEncoder(base64.RawURLEncoding, &b)
	enc.Write(payload)
	enc.Close()
	digest := sha256.Sum256(b.Bytes())
	start := time.Now()
	sig, err := rsa.SignPKCS1v15(nil, key.priv, crypto.SHA256, digest[:])
	if observe := ks.OnSign; observe != nil {
		observe(time.Since(start))
	}
	if err != nil {
		return "", fmt.Errorf("tokens: sign: %w", err)
	}
	b.WriteByte('.')
	b.WriteString(base64.RawURLEncoding.EncodeToString(sig))
	return b.String(), nil
}

// MaxTokenLength bounds what Verify parses.
const MaxTokenLength = 16 << 10

// Verify checks a compact JWS signed RS256 by one of the published keys (named by kid) and
// returns its payload. It checks nothing in the payload; see VerifyAccessToken.
func (ks *KeySet) Verify(token string) ([]byte, error) {
	if len(token) > MaxTokenLength {
		return nil, errors.New("token too long")
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("malformed token: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("token must carry one signature")
	}
	ks.mu.RLock()
	pub, ok := ks.public[jws.Signatures[0].Header.KeyID]
	ks.mu.RUnlock()
	if !ok {
		return nil, errors.New("token signed by an unknown key")
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return nil, fmt.Errorf("bad token signature: %w", err)
	}
	return payload, nil
}
