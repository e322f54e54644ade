package apiauth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	testTenant = "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10"
	testIssuer = "https://login.example.test/" + testTenant + "/v2.0"
	testKID    = "key-1"
)

var testNow = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

// rsaKey returns one RSA-2048 key for the whole test binary (generating one is slow).
func rsaKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

// claims are a valid access token's claims at testNow; tests change them.
func claims() map[string]any {
	return map[string]any{
		"iss": testIssuer, "aud": "api://todo", "sub": "pairwise-sub", "tid": testTenant, "oid": "oid-1",
		"azp": "client-1", "scp": "Todo.Read User.Read", "roles": []string{"Todo.Admin"}, "ver": "2.0",
		"iat": testNow.Add(-time.Minute).Unix(), "nbf": testNow.Add(-time.Minute).Unix(), "exp": testNow.Add(time.Hour).Unix(),
	}
}

// sign signs c with key as RS256 with kid.
func sign(tb testing.TB, key *rsa.PrivateKey, kid string, c map[string]any) string {
	tb.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, opts)
	if err != nil {
		tb.Fatal(err)
	}
	payload, _ := json.Marshal(c)
	jws, err := s.Sign(payload)
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// handMade builds a compact JWS from a header, claims and a signature computed by the caller.
func handMade(header map[string]any, c map[string]any, signature func(signingInput string) []byte) string {
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(c)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	return input + "." + base64.RawURLEncoding.EncodeToString(signature(input))
}

func testConfig() Config {
	return Config{Issuer: testIssuer, Audiences: []string{"api://todo"}, Now: func() time.Time { return testNow }}
}
