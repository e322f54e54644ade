package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Errors returned by [Verify] and [Check]; test for them with [errors.Is].
var (
	// ErrMalformed means the encoded hash is not a well-formed hash string.
	ErrMalformed = errors.New("password: malformed hash")
	// ErrUnsupported means the hash names an algorithm or version this
	// package does not verify.
	ErrUnsupported = errors.New("password: unsupported hash")
	// ErrParams means the hash parameters are outside the accepted limits:
	// too small to be valid, or so large that verifying would exhaust the
	// server (a hash from an untrusted source could otherwise ask for
	// gigabytes of memory).
	ErrParams = errors.New("password: hash parameters out of range")
)

// Limits on argon2id parameters, both for hashing and for hashes read back.
const (
	maxMemory  = 1 << 20 // KiB, 1 GiB
	maxTime    = 100
	maxThreads = 64

	saltLen   = 16 // bytes, RFC 9106 recommends 16
	keyLen    = 32 // bytes
	minSalt   = 8  // RFC 9106 §3.1 minimum
	maxSalt   = 64
	minKey    = 16
	maxKey    = 64
	version   = argon2.Version // 0x13 = 19, the only version x/crypto implements
	maxBcrypt = 16             // cost; 2^16 rounds already take seconds
)

// Params are the argon2id cost parameters (RFC 9106 §3.1).
type Params struct {
	Memory  uint32 // memory in KiB
	Time    uint32 // number of passes
	Threads uint8  // degree of parallelism
}

// DefaultParams returns the OWASP minimum for argon2id: 19 MiB of memory,
// two passes, one thread. One hash costs about 25 ms on one core.
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1}
}

// String returns the parameters as they appear in a PHC string: "m=19456,t=2,p=1".
func (p Params) String() string {
	return fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads)
}

// validate checks p against the limits shared by Hash and Verify, so that
// anything Hash writes, Verify accepts.
func (p Params) validate() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("%w: t=%d, want 1..%d", ErrParams, p.Time, maxTime)
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("%w: p=%d, want 1..%d", ErrParams, p.Threads, maxThreads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("%w: m=%d, want %d..%d", ErrParams, p.Memory, 8*uint32(p.Threads), maxMemory)
	}
	return nil
}

// Hash returns the argon2id hash of password with a fresh 16-byte random
// salt and a 32-byte key, as a PHC string:
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>", salt and key in unpadded
// standard base64.
func Hash(password string, p Params) (string, error) {
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: reading random salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return phc{params: p, salt: salt, key: key}.String(), nil
}

// Verify reports whether password matches the encoded hash, an argon2id PHC
// string or a bcrypt hash. A mismatch is (false, nil); a hash that is
// malformed, unsupported or has out-of-range parameters is an error wrapping
// [ErrMalformed], [ErrUnsupported] or [ErrParams]. Keys are compared in
// constant time.
//
// bcrypt reads only the first 72 bytes of a password, as the systems that
// wrote those hashes did.
func Verify(encoded, password string) (bool, error) {
	if isBcrypt(encoded) {
		return verifyBcrypt(encoded, password)
	}
	h, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.params.Time, h.params.Memory, h.params.Threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// NeedsRehash reports whether encoded should be replaced by a new hash made
// with p: true for bcrypt, for argon2id with other parameters, salt or key
// length than [Hash] would use, and for anything that does not parse.
func NeedsRehash(encoded string, p Params) bool {
	h, err := parsePHC(encoded)
	if err != nil {
		return true
	}
	return h.params != p || len(h.salt) != saltLen || len(h.key) != keyLen
}

// Check returns nil when encoded is a well-formed hash that [Verify] accepts,
// and otherwise the error Verify would return. It does not hash anything.
func Check(encoded string) error {
	if isBcrypt(encoded) {
		_, err := parseBcrypt(encoded)
		return err
	}
	_, err := parsePHC(encoded)
	return err
}

// phc is a parsed argon2id PHC string.
type phc struct {
	params Params
	salt   []byte
	key    []byte
}

// String encodes h in PHC string form.
func (h phc) String() string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$%s$%s$%s", version, h.params, b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

// parsePHC parses "$argon2id$v=19$m=M,t=T,p=P$salt$key" strictly: fields in
// this order, decimal numbers without sign or leading zeros, canonical
// unpadded base64 (PHC string format, "B64" encoding).
func parsePHC(s string) (phc, error) {
	fields := strings.Split(s, "$")
	if len(fields) < 2 || fields[0] != "" {
		return phc{}, fmt.Errorf("%w: want $argon2id$v=19$m=…,t=…,p=…$salt$key", ErrMalformed)
	}
	if fields[1] != "argon2id" {
		return phc{}, fmt.Errorf("%w: algorithm %q, want argon2id or bcrypt", ErrUnsupported, truncate(fields[1]))
	}
	if len(fields) != 6 {
		return phc{}, fmt.Errorf("%w: want $argon2id$v=19$m=…,t=…,p=…$salt$key", ErrMalformed)
	}
	v, ok := cutNumber(fields[2], "v=")
	if !ok {
		return phc{}, fmt.Errorf("%w: version field %q", ErrMalformed, truncate(fields[2]))
	}
	if v != version {
		return phc{}, fmt.Errorf("%w: argon2 version %d, want %d", ErrUnsupported, v, version)
	}
	p, err := parseParams(fields[3])
	if err != nil {
		return phc{}, err
	}
	salt, err := decodeB64(fields[4], "salt", minSalt, maxSalt)
	if err != nil {
		return phc{}, err
	}
	key, err := decodeB64(fields[5], "key", minKey, maxKey)
	if err != nil {
		return phc{}, err
	}
	return phc{params: p, salt: salt, key: key}, nil
}

// parseParams parses "m=M,t=T,p=P" and checks the limits.
func parseParams(s string) (Params, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return Params{}, fmt.Errorf("%w: parameters %q, want m=…,t=…,p=…", ErrMalformed, truncate(s))
	}
	m, okM := cutNumber(parts[0], "m=")
	t, okT := cutNumber(parts[1], "t=")
	p, okP := cutNumber(parts[2], "p=")
	if !okM || !okT || !okP {
		return Params{}, fmt.Errorf("%w: parameters %q, want m=…,t=…,p=…", ErrMalformed, truncate(s))
	}
	if m > maxMemory || t > maxTime || p > maxThreads {
		return Params{}, fmt.Errorf("%w: %s exceeds m=%d,t=%d,p=%d", ErrParams, truncate(s), maxMemory, maxTime, maxThreads)
	}
	params := Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(p)}
	return params, params.validate()
}

// cutNumber parses s as prefix followed by a decimal number of at most nine
// digits, with no sign and no leading zero.
func cutNumber(s, prefix string) (uint64, bool) {
	digits, ok := strings.CutPrefix(s, prefix)
	if !ok || digits == "" || len(digits) > 9 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	var n uint64
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// decodeB64 decodes canonical unpadded standard base64 of min..max bytes.
// encoding/base64 skips CR and LF even in strict mode; a PHC string has none.
func decodeB64(s, what string, min, max int) ([]byte, error) {
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil || strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("%w: %s is not unpadded base64", ErrMalformed, what)
	}
	if len(b) < min || len(b) > max {
		return nil, fmt.Errorf("%w: %s is %d bytes, want %d..%d", ErrMalformed, what, len(b), min, max)
	}
	return b, nil
}

// truncate shortens untrusted text quoted in an error message.
func truncate(s string) string {
	const n = 32
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
