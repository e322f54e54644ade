package tokens

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/json"
	"errors"
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
		if x.State == store.KeyCurrent && k.State == store.KeyCurrent {
			return store.ErrConflict
		}
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
	if len(st.keys) != 1 || ks.current.id != again.current.id {
		t.Fatalf("got %d stored keys, kids %s and %s; want one key reused", len(st.keys), ks.current.id, again.current.id)
	}
}

func TestJWKSIsStrictlyValid(t *testing.T) {
	ks, _ := newKeySet(t)
	// go-jose rejects a key whose x5c or x5t does not match it, as go-oidc does.
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(ks.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("got %d keys", len(set.Keys))
	}
	k := set.Keys[0]
	x5t := sha1.Sum(k.Certificates[0].Raw)
	if k.KeyID != ks.current.id || k.Use != "sig" || k.Algorithm != "RS256" || string(k.CertificateThumbprintSHA1) != string(x5t[:]) {
		t.Fatalf("got key %+v", k)
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
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		ks.VerifyAccessToken(raw, "https://login.test", "aud", now)
	})
}

func BenchmarkSign(b *testing.B) {
	ks, _ := newKeySet(b)
	claims := AccessClaims{Aud: "api://todo", Iss: Issuer("https://login.test", "tid"), Scp: "Todo.Read", Ver: "2.0"}
	for b.Loop() {
		if _, err := ks.Sign(claims); err != nil {
			b.Fatal(err)
		}
	}
}

func (m *memKeys) PromoteSigningKey(context.Context, string, string, time.Time) error {
	return errors.New("memKeys: no rotation")
}

func (m *memKeys) DeleteRetiredKeys(context.Context, time.Time) error { return nil }
