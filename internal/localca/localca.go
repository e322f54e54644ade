package localca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File names inside the directory given to [Ensure].
const (
	CACertFile = "ca.pem"      // the CA certificate, to be trusted by browsers
	CAKeyFile  = "ca-key.pem"  // the CA private key (PKCS #8), mode 0600
	CertFile   = "tls.pem"     // the server certificate followed by the CA certificate
	KeyFile    = "tls-key.pem" // the server private key (PKCS #8), mode 0600
)

// Lifetimes and renewal margins.
const (
	caLifetime   = 10 * 365 * 24 * time.Hour
	leafLifetime = 397 * 24 * time.Hour // the CA/Browser Forum maximum that browsers accept
	caMargin     = 30 * 24 * time.Hour
	leafMargin   = 7 * 24 * time.Hour
	backdate     = time.Hour // tolerates clocks a little behind ours
)

// Files holds the paths of the files [Ensure] keeps.
type Files struct {
	CACert string // CA certificate (PEM)
	Cert   string // server certificate then CA certificate (PEM)
	Key    string // server private key (PEM, PKCS #8)
	// MadeCA is true when Ensure made a new CA this time (the user must trust it anew).
	MadeCA bool
}

// Ensure makes sure dir holds a local CA and a server certificate valid for
// hosts (DNS names or IP literals) and returns the file paths. It reuses the
// CA while it has ≥ 30 days left, and the server certificate while it covers
// every host and has ≥ 7 days left; otherwise it replaces what is stale. A
// new CA always brings a new server certificate. Files that are missing,
// unreadable or do not belong together count as stale.
//
// The server certificate always covers localhost, 127.0.0.1 and ::1 too.
// Writes are atomic (temporary file and rename); dir is created with mode
// 0700 and key files are written with mode 0600.
func Ensure(dir string, hosts []string, now time.Time) (Files, error) {
	names, ips, err := splitHosts(hosts)
	if err != nil {
		return Files{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, fmt.Errorf("localca: %w", err)
	}
	files := Files{
		CACert: filepath.Join(dir, CACertFile),
		Cert:   filepath.Join(dir, CertFile),
		Key:    filepath.Join(dir, KeyFile),
	}
	ca, ok := loadCA(dir, now)
	if !ok {
		if ca, err = newCA(dir, now); err != nil {
			return Files{}, err
		}
		files.MadeCA = true
	}
	if leafUsable(dir, ca, names, ips, now) {
		return files, nil
	}
	if err := newLeaf(dir, ca, names, ips, now); err != nil {
		return Files{}, err
	}
	return files, nil
}

// authority is the CA certificate and its key.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// splitHosts validates hosts, adds the loopback names (so that a local
// browser reaches the server under any of them), and separates DNS names
// (lower-cased) from IP addresses, without duplicates.
func splitHosts(hosts []string) ([]string, []net.IP, error) {
	var names []string
	var ips []net.IP
	seen := make(map[string]bool)
	for _, h := range append(slices.Clone(hosts), "localhost", "127.0.0.1", "::1") {
		h = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"))
		if ip := net.ParseIP(h); ip != nil {
			h = ip.String()
			if !seen[h] {
				ips = append(ips, ip)
			}
		} else if err := checkDNSName(h); err != nil {
			return nil, nil, err
		} else if !seen[h] {
			names = append(names, h)
		}
		seen[h] = true
	}
	return names, ips, nil
}

// checkDNSName accepts names of letters, digits, hyphens and dots, with an
// optional leading "*." wildcard; ports, schemes and spaces are mistakes.
func checkDNSName(h string) error {
	name := strings.TrimPrefix(h, "*.")
	if name == "" || len(name) > 253 {
		return fmt.Errorf("localca: host %q is not a DNS name or IP address", h)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' ||
			strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return fmt.Errorf("localca: host %q is not a DNS name or IP address", h)
		}
	}
	return nil
}

// loadCA reads the CA from dir and reports whether it is usable at now:
// both files parse, the key matches, and ≥ 30 days are left.
func loadCA(dir string, now time.Time) (authority, bool) {
	certs, err := readCerts(filepath.Join(dir, CACertFile))
	if err != nil || len(certs) != 1 {
		return authority{}, false
	}
	key, err := readKey(filepath.Join(dir, CAKeyFile))
	if err != nil || !key.PublicKey.Equal(certs[0].PublicKey) {
		return authority{}, false
	}
	c := certs[0]
	if !c.IsCA || now.Before(c.NotBefore) || c.NotAfter.Sub(now) < caMargin {
		return authority{}, false
	}
	return authority{cert: c, key: key}, true
}

// leafUsable reports whether the server certificate in dir was issued by ca,
// matches its key, covers every name and IP, and has ≥ 7 days left.
func leafUsable(dir string, ca authority, names []string, ips []net.IP, now time.Time) bool {
	certs, err := readCerts(filepath.Join(dir, CertFile))
	if err != nil || len(certs) != 2 || !certs[1].Equal(ca.cert) {
		return false
	}
	leaf := certs[0]
	key, err := readKey(filepath.Join(dir, KeyFile))
	if err != nil || !key.PublicKey.Equal(leaf.PublicKey) || leaf.CheckSignatureFrom(ca.cert) != nil {
		return false
	}
	if now.Before(leaf.NotBefore) || leaf.NotAfter.Sub(now) < leafMargin {
		return false
	}
	return covers(leaf, names, ips)
}

// covers reports whether every name and IP is among leaf's SANs.
func covers(leaf *x509.Certificate, names []string, ips []net.IP) bool {
	have := make(map[string]bool)
	for _, n := range leaf.DNSNames {
		have[strings.ToLower(n)] = true
	}
	for _, ip := range leaf.IPAddresses {
		have[ip.String()] = true
	}
	for _, n := range names {
		if !have[n] {
			return false
		}
	}
	for _, ip := range ips {
		if !have[ip.String()] {
			return false
		}
	}
	return true
}

// newCA creates a CA valid for ten years and writes it to dir.
func newCA(dir string, now time.Time) (authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return authority{}, fmt.Errorf("localca: %w", err)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown host"
	}
	tmpl := &x509.Certificate{
		Subject: pkix.Name{
			Organization:       []string{"Sigil local development CA"},
			OrganizationalUnit: []string{host},
			CommonName:         commonName("Sigil local development CA " + host),
		},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	cert, der, err := create(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return authority{}, err
	}
	// The key goes first: a crash in between leaves a pair that does not
	// match, which the next start replaces, never a certificate whose key
	// is lost.
	if err := writeKey(filepath.Join(dir, CAKeyFile), key); err != nil {
		return authority{}, err
	}
	if err := writeFile(filepath.Join(dir, CACertFile), pemCert(der), 0o644); err != nil {
		return authority{}, err
	}
	return authority{cert: cert, key: key}, nil
}

// newLeaf issues a server certificate for names and ips and writes it,
// followed by the CA certificate, to dir.
func newLeaf(dir string, ca authority, names []string, ips []net.IP, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("localca: %w", err)
	}
	notAfter := now.Add(leafLifetime)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	cn := "localhost"
	if len(names) > 0 {
		cn = names[0]
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{Organization: []string{"Sigil local development certificate"}, CommonName: commonName(cn)},
		NotBefore:   now.Add(-backdate),
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    names,
		IPAddresses: ips,
	}
	_, der, err := create(tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return err
	}
	if err := writeKey(filepath.Join(dir, KeyFile), key); err != nil {
		return err
	}
	chain := append(pemCert(der), pemCert(ca.cert.Raw)...)
	return writeFile(filepath.Join(dir, CertFile), chain, 0o644)
}

// create signs tmpl with a random 128-bit serial number and parses the result.
func create(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, []byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("localca: %w", err)
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, nil, fmt.Errorf("localca: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("localca: %w", err)
	}
	return cert, der, nil
}

// commonName keeps s within the 64 characters X.520 allows a common name.
func commonName(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// pemCert encodes a DER certificate as PEM.
func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// readCerts parses every CERTIFICATE block of a PEM file; anything else in
// the file is an error.
func readCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("localca: %s: unexpected %s block", path, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if len(bytes.TrimSpace(data)) != 0 {
		return nil, fmt.Errorf("localca: %s: trailing data", path)
	}
	return certs, nil
}

// readKey reads a PKCS #8 ECDSA P-256 private key from a PEM file.
func readKey(path string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("localca: %s: no PRIVATE KEY block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, errors.New("localca: " + path + ": not an ECDSA P-256 key")
	}
	return key, nil
}

// writeKey writes key as PKCS #8 PEM with mode 0600.
func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("localca: %w", err)
	}
	return writeFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// writeFile replaces path atomically: it writes a temporary file in the same
// directory, syncs it, sets mode, and renames it over path.
func writeFile(path string, data []byte, mode os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("localca: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close() // already failed; the write error is the one to report
			_ = os.Remove(f.Name())
			err = fmt.Errorf("localca: writing %s: %w", path, err)
		}
	}()
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
