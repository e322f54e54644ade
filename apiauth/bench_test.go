package apiauth

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkVerify is one RS256 access-token validation with a warm RemoteKeySet: parse,
// key lookup, RSA-2048 signature, claims. Run with
//
//	go test ./apiauth -run '^$' -bench . -cpu 1 -count 5
//
// (target: ≥ 20 000/s per core; compare with BenchmarkRSAVerify, the signature alone).
func BenchmarkVerify(b *testing.B) {
	key := rsaKey(b)
	srv := newJWKSServer(b, map[string]*rsa.PublicKey{testKID: &key.PublicKey})
	keys := &RemoteKeySet{URL: srv.URL, Client: srv.Client()}
	conf := testConfig()
	conf.Now = time.Now
	v := NewVerifier(keys, conf)
	c := claims()
	c["exp"] = time.Now().Add(time.Hour).Unix()
	raw := sign(b, key, testKID, c)
	ctx := context.Background()
	if _, err := v.Verify(ctx, raw); err != nil { // warms the cache
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := v.Verify(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
	if n := srv.requests.Load(); n != 1 {
		b.Fatalf("%d key set fetches, want 1", n)
	}
}

// BenchmarkMiddleware is BenchmarkVerify through the Middleware: header parsing, the
// requirement check and the context.
func BenchmarkMiddleware(b *testing.B) {
	key := rsaKey(b)
	conf := testConfig()
	conf.Now = time.Now
	m := &Middleware{Verifier: NewVerifier(StaticKeySet{testKID: &key.PublicKey}, conf)}
	c := claims()
	c["exp"] = time.Now().Add(time.Hour).Unix()
	h := m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), Requirement{AnyScope: []string{"Todo.Read"}})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+sign(b, key, testKID, c))
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkRSAVerify is the ceiling: the RSA-2048 PKCS #1 v1.5 signature check alone.
func BenchmarkRSAVerify(b *testing.B) {
	key := rsaKey(b)
	raw := sign(b, key, testKID, claims())
	i := strings.LastIndexByte(raw, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(raw[i+1:])
	for b.Loop() {
		sum := sha256.Sum256([]byte(raw[:i]))
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}
