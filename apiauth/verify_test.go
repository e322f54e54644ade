package apiauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestVerify(t *testing.T) {
	key := rsaKey(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keys := StaticKeySet{testKID: &key.PublicKey}
	with := func(change func(c map[string]any)) map[string]any {
		c := claims()
		change(c)
		return c
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hs256 := func(secret []byte) func(string) []byte {
		return func(in string) []byte {
			m := hmac.New(sha256.New, secret)
			m.Write([]byte(in))
			return m.Sum(nil)
		}
	}
	valid := sign(t, key, testKID, claims())
	parts := strings.Split(valid, ".")
	writeParts := strings.Split(sign(t, key, testKID, with(func(c map[string]any) { c["scp"] = "Todo.Write" })), ".")
	otherTenant := "0f1e2d3c-4b5a-4697-8877-665544332211"
	multi := testConfig()
	multi.Issuer = "https://login.example.test/{tenantid}/v2.0"
	pinned := multi
	pinned.Tenants = []string{testTenant}
	byClientID := testConfig()
	byClientID.Audiences = []string{"api://todo", "4e5f6a7b-0000-4000-8000-000000000001"}

	tests := []struct {
		name   string
		config Config
		raw    string
		want   error // nil: accepted
	}{
		{"valid", testConfig(), valid, nil},
		{"tampered payload", testConfig(), parts[0] + "." + writeParts[1] + "." + parts[2], ErrSignature},
		{"tampered signature", testConfig(), parts[0] + "." + parts[1] + "." + flip(parts[2]), ErrSignature},
		{"signed by another key, same kid", testConfig(), sign(t, other, testKID, claims()), ErrSignature},
		{"expired", testConfig(), sign(t, key, testKID, with(func(c map[string]any) { c["exp"] = testNow.Add(-3 * time.Minute).Unix() })), ErrExpired},
		{"expired within skew", testConfig(), sign(t, key, testKID, with(func(c map[string]any) { c["exp"] = testNow.Add(-time.Minute).Unix() })), nil},
		{"no exp", testConfig(), sign(t, key, testKID, with(func(c map[string]any) { delete(c, "exp") })), ErrMalformed},
		{"not yet valid", testConfig(), sign(t, key, testKID, with(func(c map[string]any) { c["nbf"] = testNow.Add(3 * time.Minute).Unix() })), ErrNotYetValid},
		{"nbf within skew", testConfig(), sign(t, key, testKID, with(func(c map[string]any) { c["nbf"] = testNow.Add(time.Minute).Unix() })), nil},
		{"wrong audience", testConfig(), sign(t, key, testKID, with(func(c map[string]any) { c["aud"] = "api://other" })), ErrAudience},
		{"audience array", testConfig(), sign(t, key, testKID, with(func(c map[string]any) { c["aud"] = []string{"x", "api://todo"} })), nil},
		{"audience as client id", byClientID, sign(t, key, testKID, with(func(c map[string]any) { c["aud"] = "4e5f6a7b-0000-4000-8000-000000000001" })), nil},
		{"wrong issuer", testConfig(), sign(t, key, testKID, with(func(c map[string]any) { c["iss"] = "https://evil.test/" + testTenant + "/v2.0" })), ErrIssuer},
		{"foreign tenant, single-tenant config", testConfig(), sign(t, key, testKID, with(func(c map[string]any) {
			c["tid"], c["iss"] = otherTenant, "https://login.example.test/"+otherTenant+"/v2.0"
		})), ErrIssuer},
		{"other tenant, multi-tenant config", multi, sign(t, key, testKID, with(func(c map[string]any) {
			c["tid"], c["iss"] = otherTenant, "https://login.example.test/"+otherTenant+"/v2.0"
		})), nil},
		{"foreign tenant, multi-tenant config with Tenants", pinned, sign(t, key, testKID, with(func(c map[string]any) {
			c["tid"], c["iss"] = otherTenant, "https://login.example.test/"+otherTenant+"/v2.0"
		})), ErrIssuer},
		{"iss of one tenant, tid of another", multi, sign(t, key, testKID, with(func(c map[string]any) { c["tid"] = otherTenant })), ErrIssuer},
		{"multi-tenant, no tid", multi, sign(t, key, testKID, with(func(c map[string]any) { delete(c, "tid") })), ErrIssuer},
		{"alg none", testConfig(), handMade(map[string]any{"alg": "none", "kid": testKID}, claims(), func(string) []byte { return nil }), ErrAlgorithm},
		{"HS256 with the public key bytes (PEM)", testConfig(), handMade(map[string]any{"alg": "HS256", "kid": testKID}, claims(), hs256(pubPEM)), ErrAlgorithm},
		{"HS256 with the public key bytes (DER)", testConfig(), handMade(map[string]any{"alg": "HS256", "kid": testKID}, claims(), hs256(pubDER)), ErrAlgorithm},
		{"RS384 not in the list", testConfig(), handMade(map[string]any{"alg": "RS384", "kid": testKID}, claims(), func(string) []byte { return []byte("x") }), ErrAlgorithm},
		{"unknown kid", testConfig(), sign(t, key, "key-2", claims()), ErrUnknownKey},
		{"not a JWS", testConfig(), "abc.def", ErrMalformed},
		{"too long", testConfig(), strings.Repeat("a", MaxTokenSize+1), ErrMalformed},
		{"zero config", Config{}, valid, ErrConfig},
		{"unknown algorithm in config", Config{Issuer: testIssuer, Audiences: []string{"api://todo"}, Algorithms: []string{"HS256"}}, valid, ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := NewVerifier(keys, tt.config).Verify(context.Background(), tt.raw)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("got %v, want the token accepted", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("got %v (token %v), want %v", err, tok, tt.want)
			case tt.want != nil && tok != nil:
				t.Fatalf("got a token with the error %v", err)
			}
		})
	}
}

// flip changes the first character of a base64url string to another.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestToken(t *testing.T) {
	key := rsaKey(t)
	c := claims()
	c["xms_cc"] = []string{"CP1"}
	tok, err := NewVerifier(StaticKeySet{testKID: &key.PublicKey}, testConfig()).Verify(context.Background(), sign(t, key, testKID, c))
	if err != nil {
		t.Fatal(err)
	}
	if tok.TenantID != testTenant || tok.ObjectID != "oid-1" || tok.Subject != "pairwise-sub" || tok.AuthorizedParty != "client-1" ||
		tok.Version != "2.0" || tok.Issuer != testIssuer || len(tok.Audience) != 1 || tok.Audience[0] != "api://todo" {
		t.Errorf("got %+v", tok)
	}
	if !tok.Expiry.Equal(testNow.Add(time.Hour)) || !tok.NotBefore.Equal(testNow.Add(-time.Minute)) {
		t.Errorf("got exp %s nbf %s", tok.Expiry, tok.NotBefore)
	}
	if !tok.HasScope("todo.read") || !tok.HasScope("User.Read") || tok.HasScope("Todo.Write") || !tok.HasRole("Todo.Admin") || tok.HasRole("todo.admin") {
		t.Errorf("got scopes %q roles %q", tok.Scopes, tok.Roles)
	}
	var extra struct {
		XmsCC []string `json:"xms_cc"`
	}
	if err := tok.Claims(&extra); err != nil || len(extra.XmsCC) != 1 || extra.XmsCC[0] != "CP1" {
		t.Errorf("Claims: got %v, %v", extra, err)
	}
}

func TestSkips(t *testing.T) {
	key := rsaKey(t)
	c := claims()
	c["aud"], c["iss"], c["exp"] = "api://other", "https://other.test", testNow.Add(-time.Hour).Unix()
	raw := sign(t, key, "unknown", c)
	conf := Config{SkipIssuerCheck: true, SkipAudienceCheck: true, SkipExpiryCheck: true, InsecureSkipSignatureCheck: true}
	if _, err := NewVerifier(nil, conf).Verify(context.Background(), raw); err != nil {
		t.Fatalf("every check skipped: got %v", err)
	}
	conf.InsecureSkipSignatureCheck = false
	if _, err := NewVerifier(StaticKeySet{}, conf).Verify(context.Background(), raw); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("signature checked: got %v, want ErrUnknownKey", err)
	}
}

// TestOtherAlgorithms covers the algorithms checked through go-jose, and their allow-list.
func TestOtherAlgorithms(t *testing.T) {
	rsaK := rsaKey(t)
	ecK, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signWith := func(alg jose.SignatureAlgorithm, key any, kid string, extra map[string]any) string {
		opts := (&jose.SignerOptions{}).WithHeader("kid", kid)
		for k, v := range extra {
			opts = opts.WithHeader(jose.HeaderKey(k), v)
		}
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
		if err != nil {
			t.Fatal(err)
		}
		payload, _ := json.Marshal(claims())
		jws, err := s.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := jws.CompactSerialize()
		return raw
	}
	keys := StaticKeySet{"rsa": &rsaK.PublicKey, "ec": &ecK.PublicKey}
	conf := testConfig()
	conf.Algorithms = []string{"RS256", "PS256", "ES256"}
	v := NewVerifier(keys, conf)
	for _, tt := range []struct {
		name string
		raw  string
		want error
	}{
		{"PS256", signWith(jose.PS256, rsaK, "rsa", nil), nil},
		{"ES256", signWith(jose.ES256, ecK, "ec", nil), nil},
		{"ES256 header, RSA key", handMade(map[string]any{"alg": "ES256", "kid": "rsa"}, claims(), func(string) []byte { return make([]byte, 64) }), ErrAlgorithm},
		{"RS256 header, EC key", handMade(map[string]any{"alg": "RS256", "kid": "ec"}, claims(), func(string) []byte { return make([]byte, 256) }), ErrAlgorithm},
		{"PS256 signature, RS256 header", func() string {
			p := strings.Split(signWith(jose.PS256, rsaK, "rsa", nil), ".")
			r := strings.Split(sign(t, rsaK, "rsa", claims()), ".")
			return r[0] + "." + r[1] + "." + p[2]
		}(), ErrSignature},
		{"critical header", signWith(jose.RS256, rsaK, "rsa", map[string]any{"crit": []string{"exp"}, "exp": 1}), ErrMalformed},
		{"RS512 not configured", signWith(jose.RS512, rsaK, "rsa", nil), ErrAlgorithm},
		{"padded signature", sign(t, rsaK, "rsa", claims()) + "=", ErrMalformed},
		{"four parts", sign(t, rsaK, "rsa", claims()) + ".x", ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tt.raw)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestES256ByDefault: the default algorithms are Sigil's, RS256 and ES256; ES256 is checked
// with crypto/ecdsa over the JWS form (r||s, 64 bytes): the ASN.1 DER form, a signature of
// other content, a P-384 key under an ES256 header and a token for an RSA kid are refused.
func TestES256ByDefault(t *testing.T) {
	rsaK := rsaKey(t)
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	es256 := func(key *ecdsa.PrivateKey, der bool) func(string) []byte {
		return func(input string) []byte {
			sum := sha256.Sum256([]byte(input))
			if der {
				sig, _ := ecdsa.SignASN1(rand.Reader, key, sum[:])
				return sig
			}
			r, s, _ := ecdsa.Sign(rand.Reader, key, sum[:])
			n := (key.Curve.Params().BitSize + 7) / 8
			sig := make([]byte, 2*n)
			r.FillBytes(sig[:n])
			s.FillBytes(sig[n:])
			return sig
		}
	}
	keys := StaticKeySet{"rsa": &rsaK.PublicKey, "ec": &p256.PublicKey, "p384": &p384.PublicKey}
	v := NewVerifier(keys, testConfig())
	header := func(kid string) map[string]any { return map[string]any{"alg": "ES256", "kid": kid, "typ": "JWT"} }
	valid := handMade(header("ec"), claims(), es256(p256, false))
	parts := strings.Split(valid, ".")
	other := claims()
	other["scp"] = "Todo.Write"
	for _, tt := range []struct {
		name string
		raw  string
		want error
	}{
		{"ES256", valid, nil},
		{"RS256 still", sign(t, rsaK, "rsa", claims()), nil},
		{"DER signature", handMade(header("ec"), claims(), es256(p256, true)), ErrSignature},
		{"signature of another payload", strings.Join([]string{parts[0], strings.Split(handMade(header("ec"), other, es256(p256, false)), ".")[1], parts[2]}, "."), ErrSignature},
		{"P-384 key, ES256 header", handMade(header("p384"), claims(), es256(p384, false)), ErrAlgorithm},
		{"RSA kid, ES256 header", handMade(header("rsa"), claims(), es256(p256, false)), ErrAlgorithm},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := v.Verify(context.Background(), tt.raw)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.want == nil && tok.Subject != "pairwise-sub" {
				t.Fatalf("claims %+v", tok)
			}
		})
	}
	// A verifier configured for RS256 alone refuses ES256.
	conf := testConfig()
	conf.Algorithms = []string{"RS256"}
	if _, err := NewVerifier(keys, conf).Verify(context.Background(), valid); !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("RS256-only verifier: %v, want ErrAlgorithm", err)
	}
}

// FuzzVerify feeds mutations of a valid token to Verify: none may panic, and the only
// token accepted is the valid one itself (no other encoding of it, no other payload).
func FuzzVerify(f *testing.F) {
	key := rsaKey(f)
	valid := sign(f, key, testKID, claims())
	f.Add(valid)
	f.Add(handMade(map[string]any{"alg": "none", "kid": testKID}, claims(), func(string) []byte { return nil }))
	f.Add(handMade(map[string]any{"alg": "RS256", "kid": testKID, "crit": []string{"b64"}, "b64": false}, claims(), func(string) []byte { return []byte{1} }))
	f.Add("e30.e30.AA")
	// An ES256 token (the crypto/ecdsa path); its only other valid form is s replaced by
	// n - s, which a mutation does not find.
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	validEC := handMade(map[string]any{"alg": "ES256", "kid": "ec"}, claims(), func(input string) []byte {
		sum := sha256.Sum256([]byte(input))
		r, s, _ := ecdsa.Sign(rand.Reader, ec, sum[:])
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig
	})
	f.Add(validEC)
	v := NewVerifier(StaticKeySet{testKID: &key.PublicKey, "ec": &ec.PublicKey}, testConfig())
	f.Fuzz(func(t *testing.T, raw string) {
		if _, err := v.Verify(context.Background(), raw); err == nil && raw != valid && raw != validEC {
			t.Fatalf("accepted %q", raw)
		}
	})
}
