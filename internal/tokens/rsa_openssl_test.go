//go:build cgo && linux

package tokens

import "testing"

// TestOpenSSLFailureFallsBack: when OpenSSL cannot make a signature (here: a signer with no
// key, so no context starts), Sign makes it with crypto/rsa and the request gets its token.
func TestOpenSSLFailureFallsBack(t *testing.T) {
	ks, _ := newKeySet(t)
	requireOpenSSL(t, ks)
	broken := &opensslRSA{c: &opensslKey{size: 256}}
	if _, err := broken.sign(&[32]byte{}); err == nil {
		t.Fatal("a signer with no key signed")
	}
	ks.mu.Lock()
	sk := *ks.current[RS256]
	sk.ossl = broken
	ks.current[RS256] = &sk
	ks.mu.Unlock()
	tok, err := ks.Sign(AccessClaims{Aud: "api://todo", Ver: "2.0"})
	if err != nil {
		t.Fatalf("Sign with OpenSSL failing: %v", err)
	}
	if _, err := ks.Verify(tok); err != nil {
		t.Fatalf("the fallback's token does not verify: %v", err)
	}
}
