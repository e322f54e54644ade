package password

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// bcrypt hashes are "$2b$" + two-digit cost + "$" + 22 characters of salt +
// 31 characters of hash, in bcrypt's own base64 alphabet.
const (
	bcryptLen      = 60
	bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// isBcrypt reports whether s claims to be a bcrypt hash, so that it is
// parsed as one (and rejected as a malformed one) rather than as PHC.
func isBcrypt(s string) bool {
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

// parseBcrypt checks the shape of a bcrypt hash and returns its cost.
// x/crypto/bcrypt is lenient about the version letter and length; this is not.
func parseBcrypt(s string) (int, error) {
	if len(s) != bcryptLen || s[6] != '$' {
		return 0, fmt.Errorf("%w: bcrypt hash must be $2b$NN$ and 53 characters", ErrMalformed)
	}
	if strings.Trim(s[7:], bcryptAlphabet) != "" {
		return 0, fmt.Errorf("%w: bcrypt salt and hash use characters outside its alphabet", ErrMalformed)
	}
	if s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' {
		return 0, fmt.Errorf("%w: bcrypt cost %q is not two digits", ErrMalformed, s[4:6])
	}
	cost := int(s[4]-'0')*10 + int(s[5]-'0')
	if cost < bcrypt.MinCost || cost > maxBcrypt {
		return 0, fmt.Errorf("%w: bcrypt cost %d, want %d..%d", ErrParams, cost, bcrypt.MinCost, maxBcrypt)
	}
	return cost, nil
}

// verifyBcrypt checks password against a bcrypt hash.
func verifyBcrypt(encoded, password string) (bool, error) {
	if _, err := parseBcrypt(encoded); err != nil {
		return false, err
	}
	err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
}
