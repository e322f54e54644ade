package protocol

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sigil-idp/sigil/internal/directory"
)

// FuzzClientAssertion feeds arbitrary client assertions to checkAssertion: it must never
// panic, must answer every refusal with a protocol error, and may accept only the one
// assertion the registered key signed (the seed).
func FuzzClientAssertion(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fuzz"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		f.Fatal(err)
	}
	const clientID = "1a2b3c4d-1111-4222-8333-944455556666"
	s := &Server{publicURL: "https://login.example.test"}
	tr := &tokenRequest{tenant: tenantRef{segment: "contoso.test"},
		app: directory.App{ClientID: clientID, Certificates: [][]byte{der}}}
	sum := sha256.Sum256(der)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.PS256, Key: key},
		(&jose.SignerOptions{}).WithHeader("x5t#S256", base64.RawURLEncoding.EncodeToString(sum[:])))
	if err != nil {
		f.Fatal(err)
	}
	valid, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: clientID, Subject: clientID,
		Audience: jwt.Audience{s.tokenEndpoint("contoso.test")}, Expiry: jwt.NewNumericDate(now.Add(10 * time.Minute))}).Serialize()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.")
	f.Add(`{"protected":"e30","payload":"e30","signature":""}`)
	f.Fuzz(func(t *testing.T, raw string) {
		err := s.checkAssertion(t.Context(), tr, raw, now)
		var e *Error
		switch {
		case err == nil && raw != valid:
			t.Fatalf("accepted an assertion the key did not sign: %q", raw)
		case err != nil && !errors.As(err, &e):
			t.Fatalf("refused with a non-protocol error %v", err)
		}
	})
}
