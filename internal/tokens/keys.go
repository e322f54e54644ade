package tokens

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
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
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sigil-idp/sigil/internal/store"
)

// Algorithm is a JWS algorithm Sigil signs with; each has a lineage of signing keys of its
// own (next, current, retired), rotated by the same schedule.
type Algorithm string

// The algorithms Sigil signs with. RS256 (RSA-2048) is the default: Entra signs RS256 and
// the validators written for it expect that. ES256 (ECDSA P-256) signs about thirty times
// faster than Go's crypto/rsa and nine times faster than OpenSSL (RSABackend); APIs
// (signingAlg) and apps (idTokenSigningAlg) opt in to it.
const (
	RS256 Algorithm = "RS256"
	ES256 Algorithm = "ES256"
)

// Algorithms lists the algorithms of the key lineages, the default first: every one has a
// current key, and all are published in the JWKS and in discovery.
func Algorithms() []Algorithm { return []Algorithm{RS256, ES256} }

// ParseAlgorithm returns the Algorithm named s; "" is RS256. ok is false for any other name.
func ParseAlgorithm(s string) (a Algorithm, ok bool) {
	switch Algorithm(s) {
	case "", RS256:
		return RS256, true
	case ES256:
		return ES256, true
	}
	return "", false
}

// KeySet holds the signing keys in memory: for each algorithm the current key signs, and
// every published key (next, current, retired, of every algorithm) verifies and appears in
// the JWKS. It is loaded from the store once and refreshed by Reload, never per request.
type KeySet struct {
	// OnSign, when set before the first Sign, learns how long each signature took, and with
	// which algorithm (metrics).
	OnSign func(alg Algorithm, d time.Duration)

	st   store.Keys
	ring *KeyRing // seals the private keys in the store; nil: stored unsealed (tests)
	now  func() time.Time

	mu         sync.RWMutex
	current    map[Algorithm]*signingKey
	public     map[string]publicKey // kid → key, every published key
	jwks       []byte
	rsaBackend string // what signs RS256: see RSABackend
}

// publicKey is a published key and the algorithm it verifies.
type publicKey struct {
	alg Algorithm
	key crypto.PublicKey // *rsa.PublicKey or *ecdsa.PublicKey
}

type signingKey struct {
	id     string
	alg    Algorithm
	rsa    *rsa.PrivateKey   // RS256
	ossl   *opensslRSA       // RS256 through OpenSSL, when it loaded and passed the self-test
	ec     *ecdsa.PrivateKey // ES256
	header string            // base64url JOSE header, encoded once
	logout string            // the same with typ logout+jwt (back-channel logout tokens)
}

// LoadKeys reads the signing keys from the store, creating and storing a current key with a
// self-signed certificate for every algorithm that has none yet. Several nodes starting at
// once agree on one key per algorithm: the store accepts only one current key of each, and
// the losers load the winner's. Private keys are sealed with ring's first key-encryption
// key: a key stored unsealed (before sealing existed) or sealed by an older KEK of the ring
// is sealed anew. A nil ring stores keys unsealed and refuses sealed ones (for tests and
// benchmarks).
func LoadKeys(ctx context.Context, st store.Keys, ring *KeyRing, now func() time.Time) (*KeySet, error) {
	ks := &KeySet{st: st, ring: ring, now: now}
	if err := ks.Reload(ctx); err != nil {
		return nil, err
	}
	if err := ks.reseal(ctx); err != nil {
		return nil, err
	}
	created := false
	for _, alg := range Algorithms() {
		if ks.current[alg] != nil {
			continue
		}
		k, err := NewSigningKey(alg, now())
		if err != nil {
			return nil, err
		}
		if ring != nil {
			k.PrivateKey = ring.seal(k.ID, k.PrivateKey)
		}
		if err := st.AddSigningKey(ctx, k); err != nil && !errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("tokens: store signing key: %w", err)
		}
		created = true
	}
	if !created {
		return ks, nil
	}
	if err := ks.Reload(ctx); err != nil {
		return nil, err
	}
	for _, alg := range Algorithms() {
		if ks.current[alg] == nil {
			return nil, fmt.Errorf("tokens: no current %s signing key after creating one", alg)
		}
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

// NewSigningKey makes a current key for alg — RSA-2048 for RS256, ECDSA P-256 for ES256 —
// with a self-signed certificate (the x5c that Entra-style JWKS carry), its kid the RFC 7638
// thumbprint.
func NewSigningKey(alg Algorithm, now time.Time) (store.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return store.SigningKey{}, fmt.Errorf("tokens: unsupported algorithm %q", alg)
	}
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("tokens: generate key: %w", err)
	}
	thumb, err := (&jose.JSONWebKey{Key: priv.Public()}).Thumbprint(crypto.SHA256)
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
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("tokens: certificate: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("tokens: marshal key: %w", err)
	}
	return store.SigningKey{ID: kid, Algorithm: string(alg), PrivateKey: der, Certificate: cert,
		State: store.KeyCurrent, CreatedAt: now}, nil
}

// Reload reads the keys from the store again (another node may have rotated them).
func (ks *KeySet) Reload(ctx context.Context) error {
	keys, err := ks.st.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("tokens: load keys: %w", err)
	}
	// RS256 keys first in the JWKS: a client that takes the first key takes Entra's kind.
	slices.SortStableFunc(keys, func(a, b store.SigningKey) int {
		return cmp.Compare(slices.Index(Algorithms(), Algorithm(a.Algorithm)), slices.Index(Algorithms(), Algorithm(b.Algorithm)))
	})
	current := map[Algorithm]*signingKey{}
	public := map[string]publicKey{}
	var set jose.JSONWebKeySet
	for _, k := range keys {
		if k.PrivateKey, _, err = ks.ring.open(k.ID, k.PrivateKey); err != nil {
			return err
		}
		sk, cert, err := parseKey(k)
		if err != nil {
			return err
		}
		pub := cert.PublicKey
		public[k.ID] = publicKey{alg: sk.alg, key: pub}
		x5t := sha1.Sum(cert.Raw)
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: pub, KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig",
			Certificates: []*x509.Certificate{cert}, CertificateThumbprintSHA1: x5t[:]})
		if k.State == store.KeyCurrent {
			header, _ := json.Marshal(map[string]string{"alg": k.Algorithm, "kid": k.ID, "typ": "JWT",
				"x5t": base64.RawURLEncoding.EncodeToString(x5t[:])})
			logout, _ := json.Marshal(map[string]string{"alg": k.Algorithm, "kid": k.ID, "typ": "logout+jwt",
				"x5t": base64.RawURLEncoding.EncodeToString(x5t[:])})
			sk.header, sk.logout = base64.RawURLEncoding.EncodeToString(header), base64.RawURLEncoding.EncodeToString(logout)
			current[sk.alg] = sk
		}
	}
	backend := "Go crypto/rsa"
	if sk := current[RS256]; sk != nil {
		ks.mu.RLock()
		prev := ks.current[RS256]
		if prev != nil && prev.id == sk.id && prev.ossl != nil {
			sk.ossl, backend = prev.ossl, ks.rsaBackend
		}
		ks.mu.RUnlock()
		if sk.ossl == nil {
			var why error
			if sk.ossl, backend, why = openSSLSigner(sk); why != nil {
				backend = "Go crypto/rsa (" + why.Error() + ")"
			}
		}
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("tokens: marshal jwks: %w", err)
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.current, ks.public, ks.jwks, ks.rsaBackend = current, public, jwks, backend
	return nil
}

// RSABackend says what signs RS256 tokens: OpenSSL's libcrypto (its version) when the binary
// was built with cgo on Linux and libcrypto.so.3 loads, else Go's crypto/rsa, with the reason.
// Both make the same signatures (PKCS #1 v1.5 is deterministic); OpenSSL's are several times
// cheaper on CPUs with AVX-512 IFMA.
func (ks *KeySet) RSABackend() string {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.rsaBackend
}

// openSSLSigner returns an OpenSSL signer of sk's RSA key, and OpenSSL's version, if it
// makes the signature Go's crypto/rsa makes of a test digest, byte for byte.
func openSSLSigner(sk *signingKey) (*opensslRSA, string, error) {
	o, version, err := newOpenSSLRSA(sk.rsa)
	if err != nil {
		return nil, "", err
	}
	digest := sha256.Sum256([]byte("sigil openssl self-test " + sk.id))
	want, err := rsa.SignPKCS1v15(nil, sk.rsa, crypto.SHA256, digest[:])
	if err != nil {
		return nil, "", fmt.Errorf("tokens: self-test: %w", err)
	}
	got, err := o.sign(&digest)
	if err != nil {
		return nil, "", err
	}
	if !bytes.Equal(got, want) {
		return nil, "", errors.New("tokens: OpenSSL's signature differs from Go's")
	}
	return o, "OpenSSL (" + version + ")", nil
}

// parseKey opens a stored key: its private key, of the type its algorithm needs, and its
// certificate, which must be for that key.
func parseKey(k store.SigningKey) (*signingKey, *x509.Certificate, error) {
	alg, ok := ParseAlgorithm(k.Algorithm)
	if !ok || k.Algorithm == "" {
		return nil, nil, fmt.Errorf("tokens: key %s: unsupported algorithm %q", k.ID, k.Algorithm)
	}
	key, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
	if err != nil {
		return nil, nil, fmt.Errorf("tokens: key %s: %w", k.ID, err)
	}
	cert, err := x509.ParseCertificate(k.Certificate)
	if err != nil {
		return nil, nil, fmt.Errorf("tokens: key %s certificate: %w", k.ID, err)
	}
	sk := &signingKey{id: k.ID, alg: alg}
	var pub crypto.PublicKey
	switch priv := key.(type) {
	case *rsa.PrivateKey:
		if alg != RS256 {
			return nil, nil, fmt.Errorf("tokens: key %s is an RSA key, not one for %s", k.ID, alg)
		}
		priv.Precompute()
		sk.rsa, pub = priv, &priv.PublicKey
	case *ecdsa.PrivateKey:
		if alg != ES256 || priv.Curve != elliptic.P256() {
			return nil, nil, fmt.Errorf("tokens: key %s is an EC key, not one for %s", k.ID, alg)
		}
		sk.ec, pub = priv, &priv.PublicKey
	default:
		return nil, nil, fmt.Errorf("tokens: key %s is a %T", k.ID, key)
	}
	if eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(cert.PublicKey) {
		return nil, nil, fmt.Errorf("tokens: key %s: certificate is for another key", k.ID)
	}
	return sk, cert, nil
}

// JWKS returns the published key set as JSON.
func (ks *KeySet) JWKS() []byte {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.jwks
}

// Sign returns claims as a compact JWS signed RS256 with the current key.
func (ks *KeySet) Sign(claims any) (string, error) { return ks.sign(RS256, claims, false) }

// SignWith returns claims as a compact JWS signed with alg's current key. An ES256
// signature is the JWS form (RFC 7518 §3.4): r and s, 32 bytes each, not ASN.1.
func (ks *KeySet) SignWith(alg Algorithm, claims any) (string, error) {
	return ks.sign(alg, claims, false)
}

// SignLogoutToken signs a back-channel logout token with alg's current key, as SignWith,
// with typ logout+jwt (OpenID Connect Back-Channel Logout 1.0 §2.4), so it can never pass
// for an ID or access token.
func (ks *KeySet) SignLogoutToken(alg Algorithm, claims any) (string, error) {
	return ks.sign(alg, claims, true)
}

func (ks *KeySet) sign(alg Algorithm, claims any, logout bool) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("tokens: marshal claims: %w", err)
	}
	ks.mu.RLock()
	key := ks.current[alg]
	ks.mu.RUnlock()
	if key == nil {
		return "", fmt.Errorf("tokens: no current %s signing key", alg)
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
	var sig []byte
	if key.ec != nil {
		var r, s *big.Int
		if r, s, err = ecdsa.Sign(rand.Reader, key.ec, digest[:]); err == nil {
			sig = make([]byte, 64)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
		}
	} else {
		if key.ossl != nil {
			sig, err = key.ossl.sign(&digest)
		}
		if key.ossl == nil || err != nil { // OpenSSL failing this once costs the request nothing
			sig, err = rsa.SignPKCS1v15(nil, key.rsa, crypto.SHA256, digest[:])
		}
	}
	if observe := ks.OnSign; observe != nil {
		observe(alg, time.Since(start))
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

// Verify checks a compact JWS signed RS256 or ES256 by one of the published keys (named by
// kid, and of the algorithm the header names) and returns its payload. It checks nothing in
// the payload; see VerifyAccessToken.
func (ks *KeySet) Verify(token string) ([]byte, error) {
	if len(token) > MaxTokenLength {
		return nil, errors.New("token too long")
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return nil, fmt.Errorf("malformed token: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("token must carry one signature")
	}
	h := jws.Signatures[0].Header
	ks.mu.RLock()
	pub, ok := ks.public[h.KeyID]
	ks.mu.RUnlock()
	if !ok {
		return nil, errors.New("token signed by an unknown key")
	}
	if string(pub.alg) != h.Algorithm {
		return nil, fmt.Errorf("token signed %s by a key for %s", h.Algorithm, pub.alg)
	}
	payload, err := jws.Verify(pub.key)
	if err != nil {
		return nil, fmt.Errorf("bad token signature: %w", err)
	}
	return payload, nil
}
