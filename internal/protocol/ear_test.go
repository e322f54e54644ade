package protocol

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	josecipher "github.com/go-jose/go-jose/v4/cipher"
)

// msalDirCrypto is the ear_jwe_crypto msal-common's addEARParameters sends for symmetric
// EAR: base64url of {"alg":"dir","enc":"A256GCM"}.
const msalDirCrypto = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0"

// b64u is unpadded base64url, as MSAL's urlEncodeArr.
func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// b64s is padded standard base64, as MSAL's base64Encode.
func b64s(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// msalDirJWK is ear_jwk as MSAL's generateEarKey builds it from the raw key k.
func msalDirJWK(k []byte) string {
	return b64s(`{"alg":"dir","kty":"oct","k":"` + b64u(k) + `"}`)
}

// testKey returns n bytes of a fixed pattern, so failures are reproducible.
func testKey(n int) []byte {
	k := make([]byte, n)
	for i := range k {
		k[i] = byte(i*7 + 1)
	}
	return k
}

// newECKey returns a P-384 key pair and the ear_jwk and ear_jwe_crypto MSAL would send for
// it (generateAsymmetricEarKey, generateAsymmetricEarApv, initializeEarRequest), with the
// members in the order Node's WebCrypto exports them.
func newECKey(tb testing.TB) (priv *ecdsa.PrivateKey, jwk, crypto, apv string) {
	tb.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	point, err := priv.PublicKey.Bytes()
	if err != nil {
		tb.Fatal(err)
	}
	jwk = b64s(`{"key_ops":[],"ext":true,"kty":"EC","x":"` + b64u(point[1:49]) +
		`","y":"` + b64u(point[49:]) + `","crv":"P-384"}`)
	apv = b64u(earPartyInfo("EarClient", point))
	return priv, jwk, b64s(`{"alg":"ECDH-ES","enc":"A256GCM","apv":"` + apv + `"}`), apv
}

// earKeyCase is one parseEARKey input and the error it must give.
type earKeyCase struct {
	name, jwk, crypto string
	wantParam         string // "" for success
	wantReason        string // a substring of the reason
}

// earFixture is what the parseEARKey cases are built from.
type earFixture struct {
	k                      []byte // the symmetric key
	kMember                string // "k":"<k>"
	ecJWK, ecCrypto, ecApv string // a valid asymmetric request
}

// b64Object wraps JSON members into base64 of a JSON object.
func b64Object(members string) string { return b64s(`{` + members + `}`) }

// earEncodingCases are the successes and the encoding errors: sizes, base64, JSON.
func earEncodingCases(f earFixture) []earKeyCase {
	k, kMember, ecJWK, ecCrypto := f.k, f.kMember, f.ecJWK, f.ecCrypto
	return []earKeyCase{
		{"msal symmetric", msalDirJWK(k), msalDirCrypto, "", ""},
		{"symmetric, base64url jwk", base64.RawURLEncoding.EncodeToString([]byte(`{"kty":"oct","alg":"dir",` + kMember + `}`)), msalDirCrypto, "", ""},
		{"symmetric, percent-encoded again", url.QueryEscape(msalDirJWK(k)), url.QueryEscape(b64s(`{"alg":"dir","enc":"A256GCM"}`)), "", ""},
		{"symmetric, no alg in jwk", b64Object(`"kty":"oct",` + kMember), msalDirCrypto, "", ""},
		{"msal asymmetric", ecJWK, ecCrypto, "", ""},

		{"empty jwk", "", msalDirCrypto, "ear_jwk", "required"},
		{"empty crypto", msalDirJWK(k), "", "ear_jwe_crypto", "required"},
		{"oversize jwk", strings.Repeat("A", maxEARParam+1), msalDirCrypto, "ear_jwk", "longer than"},
		{"oversize crypto", msalDirJWK(k), strings.Repeat("A", maxEARParam+1), "ear_jwe_crypto", "longer than"},
		{"jwk not base64", "!!not*base64!!", msalDirCrypto, "ear_jwk", "not base64"},
		{"jwk bad padding", msalDirJWK(k) + "===", msalDirCrypto, "ear_jwk", "not base64"},
		{"jwk bad percent-encoding", "eyJ%zz", msalDirCrypto, "ear_jwk", "percent"},
		{"jwk not JSON", b64s("hello"), msalDirCrypto, "ear_jwk", "JSON"},
		{"jwk JSON array", b64s(`[1,2]`), msalDirCrypto, "ear_jwk", "JSON"},
		{"jwk JSON null", b64s(`null`), msalDirCrypto, "ear_jwk", "JSON"},
		{"jwk trailing data", b64s(`{"kty":"oct",` + kMember + `}{}`), msalDirCrypto, "ear_jwk", "after"},
		{"jwk unknown member", b64Object(`"kty":"oct","x5u":"https://evil.test",` + kMember), msalDirCrypto, "ear_jwk", "JSON"},
		{"jwk member of wrong type", b64Object(`"kty":1,` + kMember), msalDirCrypto, "ear_jwk", "JSON"},
		{"crypto not JSON", msalDirJWK(k), b64s("dir/A256GCM"), "ear_jwe_crypto", "JSON"},
	}
}

// earAlgorithmCases are the errors in key types, algorithms and key material.
func earAlgorithmCases(tb testing.TB, f earFixture) []earKeyCase {
	k, kMember, ecJWK, ecCrypto, apv := f.k, f.kMember, f.ecJWK, f.ecCrypto, f.ecApv
	offCurve := b64s(`{"kty":"EC","crv":"P-384","x":"` + b64u(testKey(48)) + `","y":"` + b64u(testKey(48)) + `"}`)
	return []earKeyCase{
		{"wrong kty for dir", b64Object(`"kty":"RSA",` + kMember), msalDirCrypto, "ear_jwk", `kty must be "oct"`},
		{"EC key with dir", ecJWK, msalDirCrypto, "ear_jwk", `kty must be "oct"`},
		{"oct key with ECDH-ES", msalDirJWK(k), ecCrypto, "ear_jwk", `kty must be "EC"`},
		{"wrong jwk alg", b64Object(`"alg":"A256KW","kty":"oct",` + kMember), msalDirCrypto, "ear_jwk", `alg must be "dir"`},
		{"wrong jwk use", b64Object(`"use":"sig","kty":"oct",` + kMember), msalDirCrypto, "ear_jwk", `use must be "enc"`},
		{"oct key with x", b64Object(`"kty":"oct","x":"AA",` + kMember), msalDirCrypto, "ear_jwk", "no crv"},
		{"crypto alg A256KW", msalDirJWK(k), b64s(`{"alg":"A256KW","enc":"A256GCM"}`), "ear_jwe_crypto", "alg must be"},
		{"crypto alg RSA-OAEP", msalDirJWK(k), b64s(`{"alg":"RSA-OAEP-256","enc":"A256GCM"}`), "ear_jwe_crypto", "alg must be"},
		{"crypto alg ECDH-ES+A256KW", ecJWK, b64Object(`"alg":"ECDH-ES+A256KW","enc":"A256GCM","apv":"` + apv + `"`), "ear_jwe_crypto", "alg must be"},
		{"crypto enc A128GCM", msalDirJWK(k), b64s(`{"alg":"dir","enc":"A128GCM"}`), "ear_jwe_crypto", "enc must be"},
		{"crypto enc A256CBC-HS512", msalDirJWK(k), b64s(`{"alg":"dir","enc":"A256CBC-HS512"}`), "ear_jwe_crypto", "enc must be"},
		{"crypto without enc", msalDirJWK(k), b64s(`{"alg":"dir"}`), "ear_jwe_crypto", "enc must be"},
		{"apv with dir", msalDirJWK(k), b64s(`{"alg":"dir","enc":"A256GCM","apv":"AAAA"}`), "ear_jwe_crypto", "apv is only"},
		{"ECDH-ES without apv", ecJWK, b64Object(`"alg":"ECDH-ES","enc":"A256GCM"`), "ear_jwe_crypto", "apv is required"},
		{"apv padded", ecJWK, b64Object(`"alg":"ECDH-ES","enc":"A256GCM","apv":"AA=="`), "ear_jwe_crypto", "base64url"},
		{"apv too long", ecJWK, b64Object(`"alg":"ECDH-ES","enc":"A256GCM","apv":"` + b64u(make([]byte, maxEARApv+1)) + `"`), "ear_jwe_crypto", "longer than"},

		{"16-byte key", msalDirJWK(testKey(16)), msalDirCrypto, "ear_jwk", "256-bit"},
		{"31-byte key", msalDirJWK(testKey(31)), msalDirCrypto, "ear_jwk", "256-bit"},
		{"33-byte key", msalDirJWK(testKey(33)), msalDirCrypto, "ear_jwk", "256-bit"},
		{"k padded", b64Object(`"kty":"oct","k":"` + base64.URLEncoding.EncodeToString(testKey(32)) + `"`), msalDirCrypto, "ear_jwk", "256-bit"},
		{"k missing", b64Object(`"kty":"oct"`), msalDirCrypto, "ear_jwk", "256-bit"},
		{"EC private key", b64s(strings.Replace(mustB64Decode(tb, ecJWK), `"kty":"EC"`, `"kty":"EC","d":"AAAA"`, 1)), ecCrypto, "ear_jwk", "public"},
		{"EC P-256", b64s(strings.Replace(mustB64Decode(tb, ecJWK), "P-384", "P-256", 1)), ecCrypto, "ear_jwk", `crv must be "P-384"`},
		{"EC short x", b64s(`{"kty":"EC","crv":"P-384","x":"AAAA","y":"AAAA"}`), ecCrypto, "ear_jwk", "48-byte"},
		{"EC point off the curve", offCurve, ecCrypto, "ear_jwk", "not a point"},
		{"EC wrong alg", b64s(strings.Replace(mustB64Decode(tb, ecJWK), `"kty":"EC"`, `"kty":"EC","alg":"ECDH-ES+A128KW"`, 1)), ecCrypto, "ear_jwk", `alg must be "ECDH-ES"`},
	}
}

func TestParseEARKey(t *testing.T) {
	k := testKey(32)
	f := earFixture{k: k, kMember: `"k":"` + b64u(k) + `"`}
	_, f.ecJWK, f.ecCrypto, f.ecApv = newECKey(t)
	cases := append(earEncodingCases(f), earAlgorithmCases(t, f)...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, err := parseEARKey(tc.jwk, tc.crypto)
			if tc.wantParam == "" {
				if err != nil {
					t.Fatalf("parseEARKey: %v, want success", err)
				}
				if key.peer == nil && !bytes.Equal(key.cek, k) {
					t.Errorf("cek = %x, want %x", key.cek, k)
				}
				if key.peer != nil && (key.apv != f.ecApv || key.cek != nil) {
					t.Errorf("ECDH-ES key has apv %q and cek %x, want apv %q and no cek", key.apv, key.cek, f.ecApv)
				}
				return
			}
			var e *earError
			if !errors.As(err, &e) {
				t.Fatalf("error = %v (%T), want *earError", err, err)
			}
			if e.Param != tc.wantParam || !strings.Contains(e.Reason, tc.wantReason) {
				t.Errorf("error = %q, want param %s and a reason containing %q", e, tc.wantParam, tc.wantReason)
			}
		})
	}
}

// mustB64Decode decodes standard base64 to a string.
func mustB64Decode(tb testing.TB, s string) string {
	tb.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// msalOpenDir mirrors msal-browser's decryptEarResponse (src/crypto/BrowserCrypto.ts):
// five parts; AES-GCM with the raw key from ear_jwk, the IV of part 3, ciphertext || tag of
// parts 4 and 5, the tag length from part 5, and the ASCII of part 1 as additional data. Like
// MSAL it does not read the header.
func msalOpenDir(tb testing.TB, earJWK, jwe string) ([]byte, error) {
	tb.Helper()
	parts := strings.Split(jwe, ".")
	if len(parts) != 5 {
		tb.Fatalf("jwe has %d parts, want 5", len(parts))
	}
	var jwk struct{ K string }
	if err := json.Unmarshal([]byte(mustB64Decode(tb, earJWK)), &jwk); err != nil {
		tb.Fatal(err)
	}
	key, iv, ct, tag := mustB64U(tb, jwk.K), mustB64U(tb, parts[2]), mustB64U(tb, parts[3]), mustB64U(tb, parts[4])
	block, err := aes.NewCipher(key)
	if err != nil {
		tb.Fatal(err)
	}
	gcm, err := cipher.NewGCMWithTagSize(block, len(tag))
	if err != nil {
		tb.Fatal(err)
	}
	if len(iv) != gcm.NonceSize() {
		tb.Fatalf("iv is %d bytes, want %d", len(iv), gcm.NonceSize())
	}
	return gcm.Open(nil, iv, append(ct, tag...), []byte(parts[0]))
}

// mustB64U decodes unpadded base64url.
func mustB64U(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		tb.Fatalf("%q: %v", s, err)
	}
	return b
}

func TestEARSealDirect(t *testing.T) {
	earJWK := msalDirJWK(testKey(32))
	key, err := parseEARKey(earJWK, msalDirCrypto)
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"access_token":"at","token_type":"Bearer","expires_in":3599}`)
	jwe, err := key.seal(payload)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(jwe, ".")
	if len(parts) != 5 || parts[1] != "" {
		t.Fatalf("jwe = %q, want five parts with an empty encrypted key", jwe)
	}
	var header map[string]any
	if err := json.Unmarshal(mustB64U(t, parts[0]), &header); err != nil || header["alg"] != "dir" || header["enc"] != "A256GCM" {
		t.Errorf("header = %v (%v), want alg dir, enc A256GCM", header, err)
	}
	if got, err := msalOpenDir(t, earJWK, jwe); err != nil || !bytes.Equal(got, payload) {
		t.Errorf("MSAL-style decryption = %q, %v; want %q", got, err, payload)
	}
	obj, err := jose.ParseEncryptedCompact(jwe, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := obj.Decrypt(testKey(32)); err != nil || !bytes.Equal(got, payload) {
		t.Errorf("go-jose decryption = %q, %v; want %q", got, err, payload)
	}
	again, _ := key.seal(payload)
	if again == jwe {
		t.Error("two seals gave the same JWE: the IV is not fresh")
	}
}

func TestEARSealDirectTampered(t *testing.T) {
	earJWK := msalDirJWK(testKey(32))
	key, err := parseEARKey(earJWK, msalDirCrypto)
	if err != nil {
		t.Fatal(err)
	}
	jwe, err := key.seal([]byte(`{"id_token":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	tamper := map[string]func(p []string){
		"header":     func(p []string) { p[0] = b64u([]byte(`{"alg":"dir","enc":"A128GCM"}`)) },
		"ciphertext": func(p []string) { c := mustB64U(t, p[3]); c[0] ^= 1; p[3] = b64u(c) },
		"tag":        func(p []string) { c := mustB64U(t, p[4]); c[15] ^= 0x80; p[4] = b64u(c) },
	}
	for name, change := range tamper {
		parts := strings.Split(jwe, ".")
		change(parts)
		if got, err := msalOpenDir(t, earJWK, strings.Join(parts, ".")); err == nil {
			t.Errorf("with the %s changed, decrypted to %q", name, got)
		}
	}
	if _, err := msalOpenDir(t, msalDirJWK(make([]byte, 32)), jwe); err == nil {
		t.Error("opened with another key")
	}
}

// msalCheckECDHESHeader applies the header checks of msal-browser's
// decryptAsymmetricEarResponse to a JWE and returns its parts.
func msalCheckECDHESHeader(tb testing.TB, jwe, apv string) []string {
	tb.Helper()
	parts := strings.Split(jwe, ".")
	if len(parts) != 5 || parts[1] != "" {
		tb.Fatalf("jwe = %q, want five parts with an empty encrypted key", jwe)
	}
	var h struct {
		Alg, Enc, Apu, Apv string
		Crit, Zip          any
		Epk                map[string]any
	}
	if err := json.Unmarshal(mustB64U(tb, parts[0]), &h); err != nil {
		tb.Fatal(err)
	}
	if h.Alg != "ECDH-ES" || h.Enc != "A256GCM" || h.Crit != nil || h.Zip != nil ||
		h.Epk["kty"] != "EC" || h.Epk["crv"] != "P-384" || h.Epk["d"] != nil || (h.Apv != "" && h.Apv != apv) {
		tb.Fatalf("header %s fails MSAL's checks", mustB64U(tb, parts[0]))
	}
	for _, s := range []string{h.Apu, h.Epk["x"].(string), h.Epk["y"].(string)} {
		if s == "" || b64u(mustB64U(tb, s)) != s {
			tb.Fatalf("%q is not canonical non-empty base64url", s)
		}
	}
	if len(mustB64U(tb, parts[2])) != 12 || len(mustB64U(tb, parts[4])) != 16 {
		tb.Fatal("iv must be 12 bytes and tag 16")
	}
	return parts
}

func TestEARSealECDHES(t *testing.T) {
	priv, earJWK, earCrypto, apv := newECKey(t)
	key, err := parseEARKey(earJWK, earCrypto)
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"id_token":"a.b.c","client_info":"eyJ9"}`)
	jwe, err := key.seal(payload)
	if err != nil {
		t.Fatal(err)
	}
	msalCheckECDHESHeader(t, jwe, apv)
	// go-jose derives the key itself from epk, apu and apv in the header.
	obj, err := jose.ParseEncryptedCompact(jwe, []jose.KeyAlgorithm{jose.ECDH_ES}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := obj.Decrypt(priv); err != nil || !bytes.Equal(got, payload) {
		t.Errorf("go-jose decryption = %q, %v; want %q", got, err, payload)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := obj.Decrypt(other); err == nil {
		t.Error("decrypted with another key")
	}
}

func TestEARConcatKDFMatchesGoJose(t *testing.T) {
	// RFC 7518 Appendix C uses P-256; the KDF is the same for P-384, so compare with go-jose's
	// independent implementation on a P-384 pair.
	a, _ := ecdh.P384().GenerateKey(rand.Reader)
	b, _ := ecdh.P384().GenerateKey(rand.Reader)
	z, err := a.ECDH(b.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	apu, apv := []byte("Alice"), []byte("Bob")
	got := earConcatKDF(z, apu, apv)
	var want [32]byte
	copy(want[:], joseKDF(t, z, apu, apv))
	if !bytes.Equal(got, want[:]) {
		t.Errorf("Concat KDF = %x, want %x", got, want)
	}
}

// joseKDF runs go-jose's Concat KDF reader for A256GCM over z, apu and apv.
func joseKDF(tb testing.TB, z, apu, apv []byte) []byte {
	tb.Helper()
	prefixed := func(b []byte) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...) }
	r := josecipher.NewConcatKDF(crypto.SHA256, z, prefixed([]byte("A256GCM")), prefixed(apu), prefixed(apv), binary.BigEndian.AppendUint32(nil, 256), nil)
	out := make([]byte, 32)
	if _, err := r.Read(out); err != nil {
		tb.Fatal(err)
	}
	return out
}

func FuzzParseEARKey(f *testing.F) {
	_, ecJWK, ecCrypto, _ := newECKey(f)
	f.Add(msalDirJWK(testKey(32)), msalDirCrypto)
	f.Add(ecJWK, ecCrypto)
	f.Add(url.QueryEscape(msalDirJWK(testKey(32))), msalDirCrypto)
	f.Add(b64s(`{"kty":"oct","k":"AA"}`), b64s(`{"alg":"dir","enc":"A256GCM","apv":"x"}`))
	f.Add("%", "=")
	f.Fuzz(func(t *testing.T, earJWK, earCrypto string) {
		key, err := parseEARKey(earJWK, earCrypto)
		if err != nil {
			var e *earError
			if !errors.As(err, &e) || e.Reason == "" {
				t.Fatalf("error %v (%T) is not an *earError with a reason", err, err)
			}
			return
		}
		if key.peer == nil && len(key.cek) != 32 {
			t.Fatalf("accepted a %d-byte key", len(key.cek))
		}
		if _, err := key.seal([]byte("{}")); err != nil {
			t.Fatalf("accepted key does not seal: %v", err)
		}
	})
}
