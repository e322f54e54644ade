package tokens

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// sealMagic starts a sealed private key; PKCS #8 DER starts with 0x30, so an unsealed key
// (stored before sealing existed) is told apart.
var sealMagic = []byte("SGK1")

// kekIDLen is the length of the key-encryption key's id in a sealed key.
const kekIDLen = 8

// KeyRing holds the key-encryption keys (KEKs) that seal the signing keys' private keys in
// the store with AES-256-GCM: the first seals, every one opens, so a new KEK is rotated in
// by putting it first and keeping the old ones after it until every key is sealed anew.
type KeyRing struct {
	keys []kek
}

type kek struct {
	id   [kekIDLen]byte
	aead cipher.AEAD
}

// NewKeyEncryptionKey returns a fresh 32-byte key-encryption key, base64-encoded as
// ParseKeyRing reads it.
func NewKeyEncryptionKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// ParseKeyRing reads key-encryption keys: base64 (standard or URL alphabet, padded or not) of
// 32 bytes each, separated by newlines, commas or spaces; lines starting with # are comments.
// The first key seals. Errors never quote the text.
func ParseKeyRing(text string) (*KeyRing, error) {
	var r KeyRing
	seen := map[[kekIDLen]byte]bool{}
	for line := range strings.Lines(text) {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, f := range strings.FieldsFunc(line, func(c rune) bool { return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' }) {
			raw, err := decodeKEK(f)
			if err != nil {
				return nil, fmt.Errorf("key-encryption key %d: %w", len(r.keys)+1, err)
			}
			k, err := newKEK(raw)
			if err != nil {
				return nil, err
			}
			if !seen[k.id] {
				seen[k.id] = true
				r.keys = append(r.keys, k)
			}
		}
	}
	if len(r.keys) == 0 {
		return nil, errors.New("no key-encryption key in it")
	}
	return &r, nil
}

// decodeKEK decodes one base64 key of 32 bytes.
func decodeKEK(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	var raw []byte
	var err error
	if strings.ContainsAny(s, "-_") {
		raw, err = base64.RawURLEncoding.DecodeString(s)
	} else {
		raw, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, errors.New("not base64")
	}
	if len(raw) != 32 {
		return nil, fmt.Errorf("%d bytes, want 32 (AES-256)", len(raw))
	}
	return raw, nil
}

func newKEK(raw []byte) (kek, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return kek{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return kek{}, err
	}
	sum := sha256.Sum256(append([]byte("sigil key-encryption key id\x00"), raw...))
	var k kek
	copy(k.id[:], sum[:])
	k.aead = aead
	return k, nil
}

// ID names the sealing key (the first) in logs and errors: a hash prefix, not the key.
func (r *KeyRing) ID() string { return hex.EncodeToString(r.keys[0].id[:]) }

// sealAAD binds a sealed key to its key id, so a sealed blob cannot be moved to another row.
func sealAAD(keyID string) []byte { return []byte("sigil signing key\x00" + keyID) }

// secretAAD binds a sealed instance secret to its name.
func secretAAD(name string) []byte { return []byte("sigil instance secret\x00" + name) }

// seal encrypts the private key der of signing key keyID with the first KEK.
func (r *KeyRing) seal(keyID string, der []byte) []byte { return r.sealAs(sealAAD(keyID), der) }

// open decrypts a stored private key. An unsealed key comes back as it is (the caller
// seals it); current reports whether the first KEK sealed it. r may be nil: no KEK is
// configured, and a sealed key is an error saying so.
func (r *KeyRing) open(keyID string, blob []byte) (der []byte, current bool, err error) {
	if !IsSealed(blob) {
		return blob, false, nil
	}
	return r.openAs("signing key "+keyID, sealAAD(keyID), blob)
}

// SealSecret encrypts the instance secret name (such as the key that seals pending
// interactions) with the first KEK, for the store.
func (r *KeyRing) SealSecret(name string, value []byte) []byte {
	return r.sealAs(secretAAD(name), value)
}

// OpenSecret decrypts a stored instance secret; current reports whether the first KEK sealed
// it. A secret stored unsealed by an older Sigil (32 bytes, not sealed) comes back as it is,
// not current, for the caller to seal.
func (r *KeyRing) OpenSecret(name string, blob []byte) (value []byte, current bool, err error) {
	if len(blob) == 32 || !IsSealed(blob) {
		return blob, false, nil
	}
	return r.openAs("instance secret "+name, secretAAD(name), blob)
}

// IsSealed reports whether a stored private key is sealed.
func IsSealed(blob []byte) bool { return bytes.HasPrefix(blob, sealMagic) }

// sealedWith returns the id of the KEK that sealed blob.
func sealedWith(blob []byte) string {
	if len(blob) < len(sealMagic)+kekIDLen {
		return ""
	}
	return hex.EncodeToString(blob[len(sealMagic) : len(sealMagic)+kekIDLen])
}

// sealAs encrypts plain with the first KEK, bound to aad: magic, KEK id, nonce, ciphertext.
func (r *KeyRing) sealAs(aad, plain []byte) []byte {
	k := r.keys[0]
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	out := append(append(bytes.Clone(sealMagic), k.id[:]...), nonce...)
	return k.aead.Seal(out, nonce, plain, aad)
}

// openAs decrypts a sealed blob bound to aad; what names it in errors.
func (r *KeyRing) openAs(what string, aad, blob []byte) (plain []byte, current bool, err error) {
	if r == nil {
		return nil, false, fmt.Errorf("tokens: %s is sealed, and no key-encryption key is configured: "+
			"set keyEncryptionKeyFile or SIGIL_KEY_ENCRYPTION_KEY to the key that sealed it", what)
	}
	rest := blob[len(sealMagic):]
	for i, k := range r.keys {
		if len(rest) < kekIDLen || !bytes.Equal(rest[:kekIDLen], k.id[:]) {
			continue
		}
		body := rest[kekIDLen:]
		n := k.aead.NonceSize()
		if len(body) < n+k.aead.Overhead() {
			return nil, false, fmt.Errorf("tokens: %s: the sealed value is truncated", what)
		}
		plain, err := k.aead.Open(nil, body[:n], body[n:], aad)
		if err != nil {
			return nil, false, fmt.Errorf("tokens: %s does not open with key-encryption key %s: the data is damaged", what, sealedWith(blob))
		}
		return plain, i == 0, nil
	}
	return nil, false, fmt.Errorf("tokens: %s is sealed with key-encryption key %s, which is not among the configured ones "+
		"(first: %s): the key-encryption key is wrong or missing; add the old one after the new one to rotate", what, sealedWith(blob), r.ID())
}
