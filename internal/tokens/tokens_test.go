package tokens

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sigil-idp/sigil/internal/store"
)

// memKeys is an in-memory store.Keys.
type memKeys struct {
	mu   sync.Mutex
	keys []store.SigningKey
}

var _ store.Keys = (*memKeys)(nil)

func (m *memKeys) SigningKeys(context.Context) ([]store.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]store.SigningKey(nil), m.keys...), nil
}

func (m *memKeys) AddSigningKey(_ context.Context, k store.SigningKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, x := range m.keys {
		if x.ID == k.ID || x.Algorithm == k.Algorithm && x.State == k.State && k.State != store.KeyRetired {
			return store.ErrConflict
		}
	}
	if k.StateSince.IsZero() {
		k.StateSince = k.CreatedAt // as the store
	}
	m.keys = append(m.keys, k)
	return nil
}

func (m *memKeys) ResealSigningKey(_ context.Context, id string, old, sealed []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, x := range m.keys {
		if x.ID == id && bytes.Equal(x.PrivateKey, old) {
			m.keys[i].PrivateKey = sealed
			return nil
		}
	}
	return store.ErrConflict
}

func (m *memKeys) Secret(context.Context, string, []byte) ([]byte, error) { return nil, nil }

func (m *memKeys) ResealSecret(context.Context, string, []byte, []byte) error {
	return store.ErrConflict
}

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func newKeySet(tb testing.TB) (*KeySet, *memKeys) {
	tb.Helper()
	st := &memKeys{}
	ks, err := LoadKeys(tb.Context(), st, nil, func() time.Time { return now })
	if err != nil {
		tb.Fatal(err)
	}
	return ks, st
}

func TestLoadKeysCreatesOneKeyAndReusesIt(t *testing.T) {
	ks, st := newKeySet(t)
	again, err := LoadKeys(t.Context(), st, nil, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if len(st.keys) != 2 || ks.CurrentKeyID(RS256) != again.CurrentKeyID(RS256) || ks.CurrentKeyID(ES256) != again.CurrentKeyID(ES256) {
		t.Fatalf("got %d stored keys, kids %s %s and %s %s; want one key per algorithm reused", len(st.keys),
			ks.CurrentKeyID(RS256), ks.CurrentKeyID(ES256), again.CurrentKeyID(RS256), again.CurrentKeyID(ES256))
	}
	for _, k := range st.keys {
		if k.State != store.KeyCurrent || (k.Algorithm != "RS256" && k.Algorithm != "ES256") {
			t.Errorf("stored key %s: %s %s", k.ID, k.Algorithm, k.State)
		}
	}
}

func TestJWKSIsStrictlyValid(t *testing.T) {
	ks, _ := newKeySet(t)
	// go-jose rejects a key whose x5c or x5t does not match it, as go-oidc does.
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(ks.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("got %d keys", len(set.Keys))
	}
	for i, alg := range Algorithms() {
		k := set.Keys[i]
		x5t := sha1.Sum(k.Certificates[0].Raw)
		if k.KeyID != ks.CurrentKeyID(alg) || k.Use != "sig" || k.Algorithm != string(alg) || string(k.CertificateThumbprintSHA1) != string(x5t[:]) {
			t.Fatalf("got key %+v", k)
		}
		if !k.Certificates[0].PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Key) {
			t.Errorf("%s: x5c is for another key", alg)
		}
	}
	// The EC key as RFC 7518 §6.2 spells it: kty EC, crv P-256, x and y of 32 bytes.
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	json.Unmarshal(ks.JWKS(), &raw)
	ec := raw.Keys[1]
	x, _ := base64.RawURLEncoding.DecodeString(ec["x"].(string))
	y, _ := base64.RawURLEncoding.DecodeString(ec["y"].(string))
	if ec["kty"] != "EC" || ec["crv"] != "P-256" || len(x) != 32 || len(y) != 32 || ec["alg"] != "ES256" || ec["use"] != "sig" ||
		ec["kid"] != ks.CurrentKeyID(ES256) || ec["x5c"] == nil {
		t.Errorf("EC JWK %v", ec)
	}
}

func TestSignVerify(t *testing.T) {
	ks, _ := newKeySet(t)
	claims := AccessClaims{Aud: "aud", Iss: Issuer("https://login.test", "tid"), TID: "tid", Exp: now.Add(time.Hour).Unix(), Nbf: now.Unix(), Scp: "a b", Ver: "2.0"}
	tok, err := ks.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	// The JWKS verifies it, through go-jose.
	var set jose.JSONWebKeySet
	json.Unmarshal(ks.JWKS(), &set)
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify(set.Keys[0].Key); err != nil {
		t.Fatalf("JWKS does not verify the token: %v", err)
	}
	got, err := ks.VerifyAccessToken(tok, "https://login.test", "aud", now)
	if err != nil || got.Scp != "a b" {
		t.Fatalf("got %+v, %v", got, err)
	}
	parts := strings.Split(tok, ".")
	tests := map[string]struct {
		token, aud string
		at         time.Time
		want       error // the sentinel, or nil for "some other error"
	}{
		"expired":          {tok, "aud", now.Add(time.Hour + Leeway), ErrExpired},
		"not yet valid":    {tok, "aud", now.Add(-Leeway - time.Second), ErrNotYetValid},
		"other audience":   {tok, "other", now, ErrAudience},
		"tampered payload": {parts[0] + "." + parts[1] + "x." + parts[2], "aud", now, nil},
		"alg none":         {"eyJhbGciOiJub25lIn0." + parts[1] + ".", "aud", now, nil},
		"garbage":          {"a.b.c", "aud", now, nil},
	}
	for name, tc := range tests {
		c, err := ks.VerifyAccessToken(tc.token, "https://login.test", tc.aud, tc.at)
		switch {
		case err == nil:
			t.Errorf("%s: verified, want an error", name)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		case tc.want != nil && c.Scp != "a b":
			t.Errorf("%s: claims %+v, want the token's", name, c)
		}
	}
	foreign, _ := ks.Sign(AccessClaims{Aud: "aud", Iss: "https://evil.test/tid/v2.0", TID: "tid", Exp: now.Add(time.Hour).Unix()})
	if _, err := ks.VerifyAccessTokenFor(foreign, "https://login.test", func(string) bool { return true }, now); !errors.Is(err, ErrForeignIssuer) {
		t.Errorf("foreign issuer: %v", err)
	}
}

func TestLoginHintRoundTrip(t *testing.T) {
	oid, tid, ok := ParseLoginHint(LoginHint("o-1", "t-1"))
	if !ok || oid != "o-1" || tid != "t-1" {
		t.Fatalf("got %q %q %v", oid, tid, ok)
	}
	for _, h := range []string{"alice@contoso.test", "s1.!!", "s1." + strings.Repeat("A", 300), ""} {
		if _, _, ok := ParseLoginHint(h); ok {
			t.Errorf("ParseLoginHint(%q) accepted", h)
		}
	}
}

func TestPairwiseSubjectDiffersPerApp(t *testing.T) {
	a, b := PairwiseSubject([]byte("k"), "oid", "app1"), PairwiseSubject([]byte("k"), "oid", "app2")
	if a == b || a != PairwiseSubject([]byte("k"), "oid", "APP1") || strings.Contains(a, ".") {
		t.Fatalf("got %q and %q", a, b)
	}
}

func FuzzVerify(f *testing.F) {
	ks, _ := newKeySet(f)
	tok, _ := ks.Sign(map[string]any{"a": 1})
	f.Add(tok)
	es, _ := ks.SignWith(ES256, map[string]any{"a": 1})
	f.Add(es)
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		ks.VerifyAccessToken(raw, "https://login.test", "aud", now)
	})
}

func BenchmarkSign(b *testing.B) {
	ks, _ := newKeySet(b)
	benchmarkSign(b, ks, RS256)
}

// benchmarkSign signs an access token's claims with alg's current key of ks, b.N times.
func benchmarkSign(b *testing.B, ks *KeySet, alg Algorithm) {
	claims := AccessClaims{Aud: "api://todo", Iss: Issuer("https://login.test", "tid"), Scp: "Todo.Read", Ver: "2.0"}
	for b.Loop() {
		if _, err := ks.SignWith(alg, claims); err != nil {
			b.Fatal(err)
		}
	}
}

// PromoteSigningKey is the store's: conditional on both keys' states, all or nothing.
func (m *memKeys) PromoteSigningKey(_ context.Context, currentID, nextID string, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ci, ni := -1, -1
	for i, k := range m.keys {
		switch {
		case k.ID == currentID && k.State == store.KeyCurrent:
			ci = i
		case k.ID == nextID && k.State == store.KeyNext:
			ni = i
		}
	}
	if ci < 0 || ni < 0 {
		return store.ErrConflict
	}
	m.keys[ci].State, m.keys[ci].StateSince = store.KeyRetired, now
	m.keys[ni].State, m.keys[ni].StateSince = store.KeyCurrent, now
	return nil
}

func (m *memKeys) DeleteRetiredKeys(_ context.Context, before time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = slices.DeleteFunc(m.keys, func(k store.SigningKey) bool { return k.State == store.KeyRetired && k.StateSince.Before(before) })
	return nil
}

// header decodes a compact JWS's protected header.
func header(tb testing.TB, tok string) map[string]string {
	tb.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var h map[string]string
	if err != nil || json.Unmarshal(raw, &h) != nil {
		tb.Fatalf("header of %q: %v", tok, err)
	}
	return h
}

// TestSignES256: the JWS form of an ECDSA signature (r||s, 64 bytes, not ASN.1 DER) that
// the published P-256 key verifies, with crypto/ecdsa and with go-jose; the header names
// ES256 and the ES256 key's kid; a token whose header says RS256 with the EC key's kid
// (or the other way round) is refused.
func TestSignES256(t *testing.T) {
	ks, _ := newKeySet(t)
	var observed []Algorithm
	ks.OnSign = func(alg Algorithm, d time.Duration) { observed = append(observed, alg) }
	claims := AccessClaims{Aud: "aud", Iss: Issuer("https://login.test", "tid"), TID: "tid", Exp: now.Add(time.Hour).Unix(), Nbf: now.Unix(), Scp: "a", Ver: "2.0"}
	tok, err := ks.SignWith(ES256, claims)
	if err != nil {
		t.Fatal(err)
	}
	h := header(t, tok)
	if h["alg"] != "ES256" || h["kid"] != ks.CurrentKeyID(ES256) || h["typ"] != "JWT" || h["kid"] == ks.CurrentKeyID(RS256) {
		t.Fatalf("header %v", h)
	}
	parts := strings.Split(tok, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature of %d bytes (%v), want 64 (r||s)", len(sig), err)
	}
	var set jose.JSONWebKeySet
	json.Unmarshal(ks.JWKS(), &set)
	keys := set.Key(h["kid"])
	if len(keys) != 1 {
		t.Fatalf("the JWKS has %d keys of kid %s", len(keys), h["kid"])
	}
	pub, ok := keys[0].Key.(*ecdsa.PublicKey)
	if !ok {
		t.Fatalf("the JWKS key is a %T", keys[0].Key)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("crypto/ecdsa does not verify the r||s signature with the published key")
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify(pub); err != nil {
		t.Fatalf("go-jose: %v", err)
	}
	if got, err := ks.VerifyAccessToken(tok, "https://login.test", "aud", now); err != nil || got.Scp != "a" {
		t.Fatalf("VerifyAccessToken: %+v, %v", got, err)
	}
	rs, _ := ks.Sign(claims)
	if h := header(t, rs); h["alg"] != "RS256" || h["kid"] != ks.CurrentKeyID(RS256) {
		t.Errorf("Sign: header %v, want RS256 and the RSA key's kid", h)
	}
	if !slices.Equal(observed, []Algorithm{ES256, RS256}) {
		t.Errorf("OnSign saw %v", observed)
	}
	// Algorithm confusion: the header's alg must be the one of the key its kid names.
	swap := func(tok string, alg, kid string) string {
		b, _ := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": "JWT"})
		p := strings.Split(tok, ".")
		return base64.RawURLEncoding.EncodeToString(b) + "." + p[1] + "." + p[2]
	}
	for name, forged := range map[string]string{
		"RS256 header, EC kid":  swap(tok, "RS256", ks.CurrentKeyID(ES256)),
		"ES256 header, RSA kid": swap(rs, "ES256", ks.CurrentKeyID(RS256)),
		"ES256 tampered":        parts[0] + "." + parts[1] + "x." + parts[2],
	} {
		if _, err := ks.Verify(forged); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	logout, err := ks.SignLogoutToken(ES256, map[string]any{"sid": "s"})
	if h := header(t, logout); err != nil || h["alg"] != "ES256" || h["typ"] != "logout+jwt" {
		t.Errorf("ES256 logout token header %v, %v", h, err)
	}
}

// TestRotateBothLineages runs the schedule under the injected clock: each algorithm
// publishes a next key, promotes it once the period is over, and deletes the retired key
// after RetireAfter; a forced rotation is refused while either next key is new; a second
// KeySet on the same store (another node) agrees after its own run.
func TestRotateBothLineages(t *testing.T) {
	at := now
	clock := func() time.Time { return at }
	st := &memKeys{}
	ks, err := LoadKeys(t.Context(), st, nil, clock)
	if err != nil {
		t.Fatal(err)
	}
	node2, err := LoadKeys(t.Context(), st, nil, clock)
	if err != nil {
		t.Fatal(err)
	}
	p := RotationPolicy{Period: 30 * 24 * time.Hour, PublishAhead: 24 * time.Hour, RetireAfter: 2 * time.Hour}
	first := map[Algorithm]string{RS256: ks.CurrentKeyID(RS256), ES256: ks.CurrentKeyID(ES256)}
	if rotated, err := ks.Rotate(t.Context(), p, false, false); err != nil || rotated {
		t.Fatalf("first run: rotated %v, %v", rotated, err)
	}
	states := func() map[string]int {
		out := map[string]int{}
		for _, k := range st.keys {
			out[k.Algorithm+" "+string(k.State)]++
		}
		return out
	}
	if got := states(); len(got) != 4 || got["ES256 next"] != 1 || got["RS256 next"] != 1 {
		t.Fatalf("after the first run: %v, want a current and a next key per algorithm", got)
	}
	if _, err := ks.Rotate(t.Context(), p, true, false); !errors.Is(err, ErrNotPublishedLongEnough) {
		t.Fatalf("forced rotation of a new next key: %v", err)
	}
	var rsNext string
	for _, k := range st.keys {
		if k.Algorithm == "RS256" && k.State == store.KeyNext {
			rsNext = k.ID
		}
	}
	at = at.Add(p.Period)
	if rotated, err := ks.Rotate(t.Context(), p, false, false); err != nil || !rotated {
		t.Fatalf("scheduled run: rotated %v, %v", rotated, err)
	}
	for alg, kid := range first {
		if ks.CurrentKeyID(alg) == kid || ks.CurrentKeyID(alg) == "" {
			t.Errorf("%s: still signing with %s", alg, kid)
		}
	}
	if ks.CurrentKeyID(RS256) != rsNext {
		t.Errorf("RS256 current is %s, want the next key %s", ks.CurrentKeyID(RS256), rsNext)
	}
	// The other node promotes nothing more (the gate is the conditional promotion) and signs
	// with the same keys.
	if rotated, err := node2.Rotate(t.Context(), p, false, false); err != nil || rotated {
		t.Fatalf("second node: rotated %v, %v", rotated, err)
	}
	for _, alg := range Algorithms() {
		if node2.CurrentKeyID(alg) != ks.CurrentKeyID(alg) {
			t.Errorf("%s: the nodes disagree: %s and %s", alg, node2.CurrentKeyID(alg), ks.CurrentKeyID(alg))
		}
	}
	if got := states(); got["ES256 retired"] != 1 || got["RS256 retired"] != 1 || got["ES256 next"] != 1 || got["ES256 current"] != 1 {
		t.Fatalf("after rotation: %v", got)
	}
	at = at.Add(p.RetireAfter + time.Minute)
	if _, err := ks.Rotate(t.Context(), p, false, false); err != nil {
		t.Fatal(err)
	}
	if got := states(); got["ES256 retired"] != 0 || got["RS256 retired"] != 0 || len(st.keys) != 4 {
		t.Fatalf("after RetireAfter: %v", got)
	}
}

// TestSealedES256Key: an EC private key is sealed with the KEK in the store like an RSA one,
// and opens again on the next load.
func TestSealedES256Key(t *testing.T) {
	ring, err := ParseKeyRing(NewKeyEncryptionKey())
	if err != nil {
		t.Fatal(err)
	}
	st := &memKeys{}
	ks, err := LoadKeys(t.Context(), st, ring, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range st.keys {
		if !IsSealed(k.PrivateKey) {
			t.Errorf("%s key %s stored unsealed", k.Algorithm, k.ID)
		}
	}
	again, err := LoadKeys(t.Context(), st, ring, func() time.Time { return now })
	if err != nil || again.CurrentKeyID(ES256) != ks.CurrentKeyID(ES256) {
		t.Fatalf("reload: %v, kid %s want %s", err, again.CurrentKeyID(ES256), ks.CurrentKeyID(ES256))
	}
	tok, err := again.SignWith(ES256, map[string]any{"x": 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Verify(tok); err != nil {
		t.Fatalf("a token of the reloaded key: %v", err)
	}
	if _, err := LoadKeys(t.Context(), st, nil, func() time.Time { return now }); err == nil {
		t.Fatal("sealed keys opened without the ring")
	}
}

func BenchmarkSignES256(b *testing.B) {
	ks, _ := newKeySet(b)
	benchmarkSign(b, ks, ES256)
}
