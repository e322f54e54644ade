package protocol

// Encrypted Authorize Response (EAR), msal-browser 5's protocolMode "EAR". The client posts
// its own key to /authorize as ear_jwk and the key agreement as ear_jwe_crypto; the server
// answers with ear_jwe (plus state) instead of a code: a JWE in compact serialization
// (RFC 7516 §7.1) whose plaintext is the JSON a /token response would carry.
//
// Two forms exist, and these are the only ones accepted:
//   - symmetric (MSAL's default): ear_jwk is base64(JSON {"alg":"dir","kty":"oct","k":<256-bit
//     AES key, base64url>}), ear_jwe_crypto is base64url(JSON {"alg":"dir","enc":"A256GCM"});
//     the response is direct encryption with AES-256-GCM (RFC 7518 §4.5, §5.3).
//   - asymmetric (MSAL's experimental.enableAsymmetricEar): ear_jwk is base64(JSON of a P-384
//     public EC JWK), ear_jwe_crypto is base64(JSON {"alg":"ECDH-ES","enc":"A256GCM","apv":…});
//     the response is direct ECDH-ES key agreement with the Concat KDF (RFC 7518 §4.6).
//
// MSAL encodes ear_jwk with standard base64 and then percent-encodes it again before its form
// encoding, so both alphabets, optional padding and one extra level of percent-encoding are
// accepted. This file only parses and encrypts; /authorize decides when EAR applies.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Bounds and algorithm names of the EAR parameters.
const (
	// maxEARParam bounds ear_jwk and ear_jwe_crypto as received; MSAL's are 100 (symmetric
	// key), 256 (P-384 key), 40 and about 312 characters (the two ear_jwe_crypto forms).
	maxEARParam = 1024
	// maxEARApv bounds the decoded apv; MSAL's is 142 bytes (label, P-384 point, nonce).
	maxEARApv = 512
	// earDir is the direct-encryption key management algorithm (RFC 7518 §4.5).
	earDir = "dir"
	// earECDHES is direct ECDH-ES key agreement (RFC 7518 §4.6).
	earECDHES = "ECDH-ES"
	// earEnc is the only content encryption MSAL decrypts: AES-256-GCM (RFC 7518 §5.3).
	earEnc = "A256GCM"
	// earP384 is the only curve MSAL generates for asymmetric EAR.
	earP384 = "P-384"
	// earCoord is the length of a P-384 coordinate in bytes.
	earCoord = 48
)

// earError is an invalid ear_jwk or ear_jwe_crypto: Param names the parameter and Reason is
// a client-safe sentence for an invalid_request error_description.
type earError struct {
	// Param is "ear_jwk" or "ear_jwe_crypto".
	Param string
	// Reason says what is wrong, without echoing the value.
	Reason string
}

// Error reports the parameter and the reason.
func (e *earError) Error() string { return e.Param + ": " + e.Reason }

// earJWKMembers holds the JWK members an EAR key may carry (RFC 7517 §4, RFC 7518 §6).
// WebCrypto's exportKey adds ext and key_ops; anything else is refused.
type earJWKMembers struct {
	// Kty is the key type: "oct" (symmetric) or "EC" (asymmetric).
	Kty string `json:"kty"`
	// Alg, when present, must match the key management algorithm.
	Alg string `json:"alg"`
	// Use, when present, must be "enc".
	Use string `json:"use"`
	// Kid is accepted and ignored.
	Kid string `json:"kid"`
	// K is the symmetric key, base64url.
	K string `json:"k"`
	// Crv is the curve of an EC key.
	Crv string `json:"crv"`
	// X and Y are the EC public point's coordinates, base64url.
	X string `json:"x"`
	// Y: see X.
	Y string `json:"y"`
	// D is a private key, always refused.
	D string `json:"d"`
	// Ext is WebCrypto's extractable flag, ignored.
	Ext *bool `json:"ext"`
	// KeyOps is WebCrypto's key_ops, ignored.
	KeyOps []string `json:"key_ops"`
}

// earCryptoMembers is ear_jwe_crypto: the key management and content encryption algorithms the
// response must use, and for ECDH-ES the PartyVInfo (RFC 7518 §4.6.1.3).
type earCryptoMembers struct {
	// Alg is "dir" or "ECDH-ES".
	Alg string `json:"alg"`
	// Enc must be "A256GCM".
	Enc string `json:"enc"`
	// Apv is the client's base64url PartyVInfo; required with ECDH-ES, refused with dir.
	Apv string `json:"apv"`
}

// earKey is what seal needs to answer one EAR request: either the client's AES-256 key
// (dir) or its P-384 public key and the apv to bind the agreement to (ECDH-ES).
type earKey struct {
	// cek is the 32-byte content encryption key of a dir request.
	cek []byte
	// peer is the client's public key of an ECDH-ES request.
	peer *ecdh.PublicKey
	// apv is the base64url PartyVInfo of an ECDH-ES request, echoed in the JWE header.
	apv string
}

// parseEARKey validates ear_jwk and ear_jwe_crypto exactly as MSAL sends them and returns
// the key to encrypt the response with. Errors are *earError. It does not check that the key
// is fresh or unique to the request; MSAL generates one per request.
func parseEARKey(earJWK, earCrypto string) (earKey, error) {
	var c earCryptoMembers
	if err := decodeEARParam("ear_jwe_crypto", earCrypto, &c); err != nil {
		return earKey{}, err
	}
	if err := c.check(); err != nil {
		return earKey{}, err
	}
	var j earJWKMembers
	if err := decodeEARParam("ear_jwk", earJWK, &j); err != nil {
		return earKey{}, err
	}
	if c.Alg == earDir {
		return directEARKey(j)
	}
	return ecdhEARKey(j, c.Apv)
}

// check accepts the two algorithm pairs MSAL uses: dir or ECDH-ES (with an apv), each with
// A256GCM.
func (c earCryptoMembers) check() error {
	bad := func(reason string) error { return &earError{"ear_jwe_crypto", reason} }
	switch {
	case c.Enc != earEnc:
		return bad(`enc must be "A256GCM".`)
	case c.Alg == earDir && c.Apv != "":
		return bad(`apv is only used with alg "ECDH-ES".`)
	case c.Alg == earDir:
		return nil
	case c.Alg != earECDHES:
		return bad(`alg must be "dir" or "ECDH-ES".`)
	}
	apv, err := decodeB64URL(c.Apv)
	switch {
	case c.Apv == "":
		return bad(`apv is required with alg "ECDH-ES".`)
	case err != nil:
		return bad("apv must be unpadded base64url.")
	case len(apv) > maxEARApv:
		return bad(fmt.Sprintf("apv is longer than %d bytes.", maxEARApv))
	}
	return nil
}

// decodeEARParam undoes MSAL's encodings of an EAR parameter (an optional extra level of
// percent-encoding, then base64 or base64url with optional padding) and decodes the JSON
// object inside into dst, refusing unknown members and trailing data.
func decodeEARParam(param, value string, dst any) error {
	bad := func(reason string) error { return &earError{param, reason} }
	if value == "" {
		return bad("the parameter is required.")
	}
	if len(value) > maxEARParam {
		return bad(fmt.Sprintf("longer than %d characters.", maxEARParam))
	}
	if strings.Contains(value, "%") {
		unescaped, err := url.PathUnescape(value)
		if err != nil {
			return bad("not valid percent-encoding.")
		}
		value = unescaped
	}
	raw, err := decodeB64Any(value)
	if err != nil {
		return bad("not base64 or base64url.")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if !bytes.HasPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte("{")) || dec.Decode(dst) != nil {
		return bad("not a JSON object of the expected members and types.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("data after the JSON object.")
	}
	return nil
}

// decodeB64Any decodes base64 in either alphabet (RFC 4648 §4, §5), padded or not, as
// MSAL's base64DecToArr does; non-zero trailing bits are refused.
func decodeB64Any(s string) ([]byte, error) {
	t := strings.TrimRight(s, "=")
	if pad := len(s) - len(t); pad > 2 || (pad > 0 && len(s)%4 != 0) {
		return nil, errors.New("bad base64 padding")
	}
	t = strings.NewReplacer("-", "+", "_", "/").Replace(t)
	return base64.RawStdEncoding.Strict().DecodeString(t)
}

// decodeB64URL decodes canonical unpadded base64url, the only form MSAL produces for JWK
// members and apv (RFC 7515 §2).
func decodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.Strict().DecodeString(s)
}

// directEARKey accepts an "oct" JWK holding a 256-bit AES key, MSAL's generateEarKey.
func directEARKey(j earJWKMembers) (earKey, error) {
	bad := func(reason string) (earKey, error) { return earKey{}, &earError{"ear_jwk", reason} }
	switch {
	case j.Kty != "oct":
		return bad(`kty must be "oct" for alg "dir".`)
	case j.Alg != "" && j.Alg != earDir:
		return bad(`alg must be "dir".`)
	case j.Use != "" && j.Use != "enc":
		return bad(`use must be "enc".`)
	case j.Crv != "" || j.X != "" || j.Y != "" || j.D != "":
		return bad("an oct key has no crv, x, y or d.")
	}
	k, err := decodeB64URL(j.K)
	if err != nil || len(k) != 32 {
		return bad("k must be a 256-bit key in unpadded base64url.")
	}
	return earKey{cek: k}, nil
}

// ecdhEARKey accepts a public P-384 "EC" JWK on the curve, MSAL's generateAsymmetricEarKey.
func ecdhEARKey(j earJWKMembers, apv string) (earKey, error) {
	bad := func(reason string) (earKey, error) { return earKey{}, &earError{"ear_jwk", reason} }
	switch {
	case j.Kty != "EC":
		return bad(`kty must be "EC" for alg "ECDH-ES".`)
	case j.Crv != earP384:
		return bad(`crv must be "P-384".`)
	case j.D != "":
		return bad("the key must be public: d is not allowed.")
	case j.K != "":
		return bad("an EC key has no k.")
	case j.Alg != "" && j.Alg != earECDHES:
		return bad(`alg must be "ECDH-ES".`)
	case j.Use != "" && j.Use != "enc":
		return bad(`use must be "enc".`)
	}
	x, errX := decodeB64URL(j.X)
	y, errY := decodeB64URL(j.Y)
	if errX != nil || errY != nil || len(x) != earCoord || len(y) != earCoord {
		return bad("x and y must be 48-byte coordinates in unpadded base64url.")
	}
	point := append(append([]byte{4}, x...), y...)
	peer, err := ecdh.P384().NewPublicKey(point)
	if err != nil {
		return bad("x and y are not a point on P-384.")
	}
	return earKey{peer: peer, apv: apv}, nil
}

// seal encrypts payload (the token response JSON) for the client as a compact JWE, the value
// of ear_jwe: "dir"+A256GCM with go-jose, or ECDH-ES+A256GCM by hand because go-jose cannot
// set the apu and apv that MSAL's key derivation requires.
func (k earKey) seal(payload []byte) (string, error) {
	if k.peer != nil {
		return k.sealECDHES(payload)
	}
	if len(k.cek) != 32 {
		return "", errors.New("ear: no key to seal with")
	}
	to := jose.Recipient{Algorithm: jose.DIRECT, Key: k.cek}
	enc, err := jose.NewEncrypter(jose.A256GCM, to, nil)
	if err != nil {
		return "", fmt.Errorf("ear: %w", err)
	}
	obj, err := enc.Encrypt(payload)
	if err != nil {
		return "", fmt.Errorf("ear: %w", err)
	}
	return obj.CompactSerialize()
}

// earHeader is the protected header of an ECDH-ES response (RFC 7518 §4.6.1).
type earHeader struct {
	// Alg is "ECDH-ES".
	Alg string `json:"alg"`
	// Enc is "A256GCM".
	Enc string `json:"enc"`
	// Epk is the ephemeral public key.
	Epk earEPK `json:"epk"`
	// Apu is the server's PartyUInfo, base64url; MSAL requires it to be non-empty.
	Apu string `json:"apu"`
	// Apv is the client's PartyVInfo, echoed; MSAL accepts it only if equal to its own.
	Apv string `json:"apv"`
}

// earEPK is the ephemeral public key in the header; MSAL refuses one with d.
type earEPK struct {
	// Kty is "EC".
	Kty string `json:"kty"`
	// Crv is "P-384".
	Crv string `json:"crv"`
	// X is the base64url x coordinate.
	X string `json:"x"`
	// Y is the base64url y coordinate.
	Y string `json:"y"`
}

// sealECDHES performs direct ECDH-ES with a fresh ephemeral P-384 key: the Concat KDF of the
// shared secret with AlgorithmID "A256GCM", the apu and the client's apv gives the AES-256-GCM
// key (RFC 7518 §4.6.2), which encrypts payload with the header as additional data.
func (k earKey) sealECDHES(payload []byte) (string, error) {
	eph, err := ecdh.P384().GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("ear: %w", err)
	}
	z, err := eph.ECDH(k.peer)
	if err != nil {
		return "", fmt.Errorf("ear: %w", err)
	}
	point := eph.PublicKey().Bytes() // 0x04 || x || y
	apu := earPartyInfo("EarServer", point)
	apv, err := decodeB64URL(k.apv)
	if err != nil {
		return "", fmt.Errorf("ear: apv: %w", err)
	}
	cek := earConcatKDF(z, apu, apv)
	b64 := base64.RawURLEncoding.EncodeToString
	header, err := json.Marshal(earHeader{
		Alg: earECDHES, Enc: earEnc, Apu: b64(apu), Apv: k.apv,
		Epk: earEPK{Kty: "EC", Crv: earP384, X: b64(point[1 : 1+earCoord]), Y: b64(point[1+earCoord:])},
	})
	if err != nil {
		return "", fmt.Errorf("ear: %w", err)
	}
	return earGCMCompact(b64(header), cek, payload)
}

// earPartyInfo builds a PartyUInfo the way MSAL builds its apv: length-prefixed label, public
// point and a fresh 192-bit nonce. MSAL uses the bytes as they are; only non-emptiness matters.
func earPartyInfo(label string, point []byte) []byte {
	nonce := make([]byte, 24)
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+)
	var out []byte
	for _, part := range [][]byte{[]byte(label), point, nonce} {
		out = binary.BigEndian.AppendUint32(out, uint32(len(part)))
		out = append(out, part...)
	}
	return out
}

// earConcatKDF is the Concat KDF of RFC 7518 §4.6.2 (NIST SP 800-56A §5.8.1) for a 256-bit
// A256GCM key: one SHA-256 round over counter 1, Z, and the length-prefixed AlgorithmID,
// PartyUInfo and PartyVInfo, then SuppPubInfo = 256.
func earConcatKDF(z, apu, apv []byte) []byte {
	var buf []byte
	buf = binary.BigEndian.AppendUint32(buf, 1)
	buf = append(buf, z...)
	for _, part := range [][]byte{[]byte(earEnc), apu, apv} {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(part)))
		buf = append(buf, part...)
	}
	buf = binary.BigEndian.AppendUint32(buf, 256)
	sum := sha256.Sum256(buf)
	return sum[:]
}

// earGCMCompact encrypts payload with AES-GCM under cek, a random 96-bit IV and the ASCII of
// the encoded protected header as additional data, and returns the compact serialization
// header.(empty encrypted key).iv.ciphertext.tag (RFC 7516 §5.1, §7.1).
func earGCMCompact(protected string, cek, payload []byte) (string, error) {
	block, err := aes.NewCipher(cek)
	if err != nil {
		return "", fmt.Errorf("ear: %w", err)
	}
	gcm, err := cipher.NewGCMWithRandomNonce(block) // output: nonce(12) || ciphertext || tag(16)
	if err != nil {
		return "", fmt.Errorf("ear: %w", err)
	}
	out := gcm.Seal(nil, nil, payload, []byte(protected))
	iv, ct, tag := out[:12], out[12:len(out)-16], out[len(out)-16:]
	b64 := base64.RawURLEncoding.EncodeToString
	return strings.Join([]string{protected, "", b64(iv), b64(ct), b64(tag)}, "."), nil
}
