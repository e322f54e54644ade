//go:build !(cgo && linux)

package tokens

import (
	"crypto/rsa"
	"errors"
)

// opensslBuilt says whether this build can sign through OpenSSL.
const opensslBuilt = false

// opensslRSA is not built without cgo on Linux: RSA keys sign with Go's crypto/rsa.
type opensslRSA struct{}

func newOpenSSLRSA(*rsa.PrivateKey) (*opensslRSA, string, error) {
	return nil, "", errors.New("tokens: built without cgo, so not with OpenSSL")
}

func (*opensslRSA) sign(*[32]byte) ([]byte, error) {
	return nil, errors.New("tokens: built without OpenSSL")
}
