package localca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// ensure calls Ensure or fails the test.
func ensure(tb testing.TB, dir string, hosts []string, now time.Time) Files {
	tb.Helper()
	f, err := Ensure(dir, hosts, now)
	if err != nil {
		tb.Fatalf("Ensure(%q, %q, %v): %v", dir, hosts, now, err)
	}
	return f
}

// read returns the contents of path or fails the test.
func read(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// snapshot holds the bytes of all four files.
type snapshot struct{ ca, caKey, cert, key []byte }

func snap(tb testing.TB, dir string) snapshot {
	tb.Helper()
	return snapshot{
		ca:    read(tb, filepath.Join(dir, CACertFile)),
		caKey: read(tb, filepath.Join(dir, CAKeyFile)),
		cert:  read(tb, filepath.Join(dir, CertFile)),
		key:   read(tb, filepath.Join(dir, KeyFile)),
	}
}

// verifyLeaf checks with crypto/x509 that the server certificate chains to
// the CA for every host at now, and that the key pair loads for crypto/tls.
func verifyLeaf(tb testing.TB, f Files, hosts []string, now time.Time) *x509.Certificate {
	tb.Helper()
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		tb.Fatalf("tls.LoadX509KeyPair: %v", err)
	}
	if len(pair.Certificate) != 2 {
		tb.Fatalf("got %d certificates in %s, want leaf and CA", len(pair.Certificate), f.Cert)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(read(tb, f.CACert)) {
		tb.Fatalf("no certificate in %s", f.CACert)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		tb.Fatal(err)
	}
	for _, h := range hosts {
		opts := x509.VerifyOptions{Roots: roots, DNSName: h, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if _, err := leaf.Verify(opts); err != nil {
			tb.Errorf("verify leaf for %q: %v", h, err)
		}
	}
	return leaf
}

func TestEnsureCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	hosts := []string{"login.example.test", "10.0.0.5", "[fd00::1]"}
	f := ensure(t, dir, hosts, t0)

	want := Files{CACert: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "tls.pem"), Key: filepath.Join(dir, "tls-key.pem"), MadeCA: true}
	if f != want {
		t.Errorf("Ensure = %+v, want %+v", f, want)
	}
	modes := map[string]os.FileMode{dir: 0o700 | os.ModeDir, f.Key: 0o600, filepath.Join(dir, CAKeyFile): 0o600}
	for path, wantMode := range modes {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != wantMode {
			t.Errorf("mode of %s = %v, want %v", path, fi.Mode(), wantMode)
		}
	}
	leaf := verifyLeaf(t, f, []string{"login.example.test", "LOGIN.example.test", "10.0.0.5", "fd00::1", "localhost", "127.0.0.1", "::1"}, t0)
	if got := leaf.NotAfter.Sub(t0); got != 397*day {
		t.Errorf("leaf valid for %v after now, want %v", got, 397*day)
	}
	if got := leaf.ExtKeyUsage; len(got) != 1 || got[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("leaf ExtKeyUsage = %v, want [ServerAuth]", got)
	}
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("leaf key is %T, want ECDSA P-256", leaf.PublicKey)
	}
	cas, err := readCerts(f.CACert)
	if err != nil {
		t.Fatal(err)
	}
	ca := cas[0]
	if got := ca.NotAfter.Sub(t0); got != 10*365*day {
		t.Errorf("CA valid for %v after now, want %v", got, 10*365*day)
	}
	host, _ := os.Hostname()
	if name := ca.Subject.String(); !strings.Contains(name, "Sigil local development CA") || !strings.Contains(name, host) {
		t.Errorf("CA subject %q, want it to name Sigil's local development CA and host %q", name, host)
	}
}

func TestEnsureReusesUnchanged(t *testing.T) {
	dir := t.TempDir()
	if f := ensure(t, dir, []string{"login.example.test"}, t0); !f.MadeCA {
		t.Errorf("first Ensure: MadeCA false, want true")
	}
	before := snap(t, dir)
	if f := ensure(t, dir, []string{"login.example.test"}, t0.Add(time.Hour)); f.MadeCA {
		t.Errorf("second Ensure: MadeCA true, want false (the CA was reused)")
	}
	after := snap(t, dir)
	if !bytes.Equal(before.ca, after.ca) || !bytes.Equal(before.caKey, after.caKey) ||
		!bytes.Equal(before.cert, after.cert) || !bytes.Equal(before.key, after.key) {
		t.Errorf("second Ensure rewrote files; want the same bytes")
	}
}

func TestEnsureRenewal(t *testing.T) {
	const first = "login.example.test"
	tests := []struct {
		name         string
		hosts        []string
		now          time.Time
		wantCAKept   bool
		wantLeafKept bool
	}{
		{"same hosts", []string{first}, t0, true, true},
		{"fewer hosts", nil, t0, true, true},
		{"host in other case", []string{"Login.Example.TEST"}, t0, true, true},
		{"loopback hosts are always covered", []string{first, "localhost", "::1"}, t0, true, true},
		{"new host", []string{first, "api.example.test"}, t0, true, false},
		{"new IP", []string{"192.168.1.10"}, t0, true, false},
		{"leaf 8 days left", []string{first}, t0.Add(389 * day), true, true},
		{"leaf 6 days left", []string{first}, t0.Add(391 * day), true, false},
		{"leaf expired, CA 31 days left", []string{first}, t0.Add(10*365*day - 31*day), true, false},
		{"CA 29 days left", []string{first}, t0.Add(10*365*day - 29*day), false, false},
		{"clock before CA", []string{first}, t0.Add(-2 * time.Hour), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ensure(t, dir, []string{first}, t0)
			before := snap(t, dir)
			f := ensure(t, dir, tt.hosts, tt.now)
			after := snap(t, dir)
			if got := bytes.Equal(before.ca, after.ca) && bytes.Equal(before.caKey, after.caKey); got != tt.wantCAKept {
				t.Errorf("CA kept = %v, want %v", got, tt.wantCAKept)
			}
			if got := bytes.Equal(before.cert, after.cert) && bytes.Equal(before.key, after.key); got != tt.wantLeafKept {
				t.Errorf("leaf kept = %v, want %v", got, tt.wantLeafKept)
			}
			verifyLeaf(t, f, append([]string{"localhost"}, tt.hosts...), tt.now)
		})
	}
}

func TestEnsureLeafNeverOutlivesCA(t *testing.T) {
	dir := t.TempDir()
	ensure(t, dir, nil, t0)
	now := t0.Add(10*365*day - 100*day) // CA has 100 days left: reused, leaf reissued
	f := ensure(t, dir, nil, now)
	leaf := verifyLeaf(t, f, []string{"localhost"}, now)
	cas, err := readCerts(f.CACert)
	if err != nil {
		t.Fatal(err)
	}
	if leaf.NotAfter.After(cas[0].NotAfter) {
		t.Errorf("leaf expires %v, after the CA (%v)", leaf.NotAfter, cas[0].NotAfter)
	}
}

func TestEnsureRepairs(t *testing.T) {
	tests := []struct {
		name         string
		damage       func(tb testing.TB, dir string)
		wantCAKept   bool
		wantLeafKept bool
	}{
		{"CA certificate missing", remove(CACertFile), false, false},
		{"CA key missing", remove(CAKeyFile), false, false},
		{"CA key garbage", overwrite(CAKeyFile, "not a key"), false, false},
		{"server certificate missing", remove(CertFile), true, false},
		{"server key missing", remove(KeyFile), true, false},
		{"server key from elsewhere", swapKey(KeyFile), true, false},
		{"server certificate without chain", truncateChain, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ensure(t, dir, nil, t0)
			tt.damage(t, dir)
			before := snap0(dir)
			f := ensure(t, dir, nil, t0)
			after := snap(t, dir)
			if got := bytes.Equal(before.ca, after.ca) && bytes.Equal(before.caKey, after.caKey); got != tt.wantCAKept {
				t.Errorf("CA kept = %v, want %v", got, tt.wantCAKept)
			}
			if got := bytes.Equal(before.cert, after.cert) && bytes.Equal(before.key, after.key); got != tt.wantLeafKept {
				t.Errorf("leaf kept = %v, want %v", got, tt.wantLeafKept)
			}
			verifyLeaf(t, f, []string{"localhost", "127.0.0.1"}, t0)
		})
	}
}

// snap0 reads the files that exist, leaving missing ones nil.
func snap0(dir string) snapshot {
	r := func(name string) []byte { b, _ := os.ReadFile(filepath.Join(dir, name)); return b }
	return snapshot{ca: r(CACertFile), caKey: r(CAKeyFile), cert: r(CertFile), key: r(KeyFile)}
}

func remove(name string) func(testing.TB, string) {
	return func(tb testing.TB, dir string) {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			tb.Fatal(err)
		}
	}
}

func overwrite(name, content string) func(testing.TB, string) {
	return func(tb testing.TB, dir string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
}

func swapKey(name string) func(testing.TB, string) {
	return func(tb testing.TB, dir string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		if err := writeKey(filepath.Join(dir, name), key); err != nil {
			tb.Fatal(err)
		}
	}
}

func truncateChain(tb testing.TB, dir string) {
	certs, err := readCerts(filepath.Join(dir, CertFile))
	if err != nil {
		tb.Fatal(err)
	}
	if err := writeFile(filepath.Join(dir, CertFile), pemCert(certs[0].Raw), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func TestEnsureRejectsBadHosts(t *testing.T) {
	tests := []struct {
		name string
		host string
	}{
		{"empty", ""},
		{"with port", "login.example.test:8443"},
		{"URL", "https://login.example.test"},
		{"space", "login example.test"},
		{"empty label", "login..example.test"},
		{"leading hyphen", "-login.example.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tls")
			if _, err := Ensure(dir, []string{tt.host}, t0); err == nil {
				t.Errorf("Ensure(%q) = nil error, want one", tt.host)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("Ensure(%q) created %s; want nothing written", tt.host, dir)
			}
		})
	}
}
