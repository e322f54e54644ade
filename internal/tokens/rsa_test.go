package tokens

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// requireOpenSSL skips unless RS256 signs through OpenSSL. A build without cgo or not for
// Linux never does (Go's crypto/rsa signs, and there is nothing to test); a build with it
// must in CI, where libcrypto.so.3 is installed — so a self-test that rejects OpenSSL's
// signatures, or a library that does not load, fails there.
func requireOpenSSL(tb testing.TB, ks *KeySet) *signingKey {
	tb.Helper()
	if !strings.HasPrefix(ks.RSABackend(), "OpenSSL") {
		if opensslBuilt && os.Getenv("CI") == "true" {
			tb.Fatalf("CI=true but RS256 signs with %s: build with cgo and install libssl3", ks.RSABackend())
		}
		tb.Skipf("RS256 signs with %s", ks.RSABackend())
	}
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.current[RS256]
}

// TestOpenSSLSignsAsGo: PKCS #1 v1.5 is deterministic, so every signature OpenSSL makes must
// be the one Go's crypto/rsa makes, byte for byte — from many goroutines at once (more than
// the pool of contexts holds), through the key set's Sign as through the signer.
func TestOpenSSLSignsAsGo(t *testing.T) {
	ks, _ := newKeySet(t)
	sk := requireOpenSSL(t, ks)
	workers := 4*runtime.GOMAXPROCS(0) + 3
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range 8 {
				digest := sha256.Sum256([]byte("message " + strconv.Itoa(w) + "/" + strconv.Itoa(i)))
				want, err := rsa.SignPKCS1v15(nil, sk.rsa, crypto.SHA256, digest[:])
				if err != nil {
					errs <- err.Error()
					return
				}
				got, err := sk.ossl.sign(&digest)
				if err != nil || !bytes.Equal(got, want) {
					errs <- fmt.Sprintf("worker %d, digest %d: OpenSSL's signature differs from Go's (error %v)", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	tok, err := ks.Sign(AccessClaims{Aud: "api://todo", Scp: "Todo.Read", Ver: "2.0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Verify(tok); err != nil {
		t.Fatalf("a token OpenSSL signed does not verify: %v", err)
	}
	i := strings.LastIndexByte(tok, '.')
	digest := sha256.Sum256([]byte(tok[:i]))
	want, _ := rsa.SignPKCS1v15(nil, sk.rsa, crypto.SHA256, digest[:])
	if tok[i+1:] != base64.RawURLEncoding.EncodeToString(want) {
		t.Fatal("Sign's signature is not Go's")
	}
}

// TestOpenSSLKeyKeptAcrossReload: a reload that finds the same current key keeps its signer
// (no new self-test); a rotated key gets a signer of its own, whose tokens verify.
func TestOpenSSLKeyKeptAcrossReload(t *testing.T) {
	at := now
	ks, err := LoadKeys(t.Context(), &memKeys{}, nil, func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	before := requireOpenSSL(t, ks)
	if err := ks.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if after := requireOpenSSL(t, ks); after.ossl != before.ossl {
		t.Fatalf("reload of the same key: signer %p → %p, want the same", before.ossl, after.ossl)
	}
	p := RotationPolicy{Period: 30 * 24 * time.Hour, PublishAhead: 24 * time.Hour, RetireAfter: 2 * time.Hour}
	if _, err := ks.Rotate(t.Context(), p, false, false); err != nil { // publishes the next key
		t.Fatal(err)
	}
	at = at.Add(p.Period)
	if rotated, err := ks.Rotate(t.Context(), p, false, false); err != nil || !rotated {
		t.Fatalf("rotation: %v, %v", rotated, err)
	}
	rotated := requireOpenSSL(t, ks)
	if rotated.id == before.id || rotated.ossl == before.ossl || rotated.ossl == nil {
		t.Fatalf("after rotation: key %s signer %p, before %s signer %p", rotated.id, rotated.ossl, before.id, before.ossl)
	}
	tok, err := ks.Sign(AccessClaims{Aud: "api://todo", Ver: "2.0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Verify(tok); err != nil || header(t, tok)["kid"] != rotated.id {
		t.Fatalf("token of the rotated key: kid %s, %v", header(t, tok)["kid"], err)
	}
}

// BenchmarkSignRS256Go is BenchmarkSign with Go's crypto/rsa, for comparison with
// BenchmarkSign where OpenSSL signs.
func BenchmarkSignRS256Go(b *testing.B) {
	ks, _ := newKeySet(b)
	ks.mu.Lock()
	sk := *ks.current[RS256]
	sk.ossl = nil
	ks.current[RS256] = &sk
	ks.mu.Unlock()
	benchmarkSign(b, ks, RS256)
}
