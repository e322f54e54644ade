// Package testidp runs Sigil inside a Go test and scripts it through Sigil's test-control API,
// so that a test of an app that signs users in with MSAL (or any OpenID Connect client) gets a
// real Microsoft-identity-platform-shaped server on a loopback port, with users, failures and a
// clock under the test's control:
//
//	idp := testidp.Start(t, testidp.Options{Config: tenantsYAML})
//	client, _ := public.New(clientID, public.WithAuthority(idp.Authority), public.WithHTTPClient(idp.HTTPClient))
//	idp.Control.FailNext(ctx, testidp.Failure{Error: "login_required"})
//
// [Connect] gives the same [Client] for a Sigil started elsewhere (sigil dev, a container in CI).
package testidp

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/password"
)

// Options configure [Start].
type Options struct {
	// Config is a bootstrap file (YAML) — its tenants, users, APIs and apps. Where it is silent,
	// Start fills in: publicUrl and listen (a free loopback port), tls.auto, a data folder in the
	// test's temporary directory, and the test-control API.
	Config string
	// Logger receives Sigil's log; nil discards it.
	Logger *slog.Logger
	// RealPasswordHashing keeps Sigil's production argon2id parameters for the file's
	// passwords; by default Start uses cheap ones, since a test is not a password store.
	RealPasswordHashing bool
}

// IdP is a running Sigil.
type IdP struct {
	// URL is Sigil's public URL, https://127.0.0.1:<port>.
	URL string
	// Authority is the MSAL authority of the file's first tenant: URL/<its first domain>.
	Authority string
	// KnownAuthority is the value for MSAL's knownAuthorities ("127.0.0.1:<port>").
	KnownAuthority string
	// CAFile is the PEM file of the local CA that issued Sigil's certificate (for
	// NODE_EXTRA_CA_CERTS or a browser); HTTPClient already trusts it.
	CAFile string
	// HTTPClient trusts Sigil's certificate; hand it to MSAL Go (WithHTTPClient) or oauth2.
	HTTPClient *http.Client
	// Control scripts this Sigil.
	Control *Client
}

// Start runs Sigil for the test and stops it when the test ends. It fails the test (with
// every problem in the file, by line) when Sigil cannot start.
func Start(tb testing.TB, o Options) *IdP {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testidp: %v", err)
	}
	pub := "https://" + ln.Addr().String()
	base := config.Default()
	base.DataDir = tb.TempDir()
	fill := func(c *config.Config) {
		c.PublicURL, c.Listen = pub, ln.Addr().String()
		if c.TLS.CertFile == "" {
			c.TLS.Auto = true
		}
		c.Testing.ControlAPI = true
	}
	cfg, err := config.ParseWith("testidp.Options.Config", []byte(o.Config), base, config.Overrides{}, fill)
	if err != nil {
		ln.Close()
		tb.Fatalf("testidp: %v", err)
	}
	opts := app.Options{Logger: o.Logger}
	if !o.RealPasswordHashing {
		opts.HashParams = password.Params{Memory: 64, Time: 1, Threads: 1}
	}
	a, err := app.New(tb.Context(), cfg, opts)
	if err != nil {
		ln.Close()
		tb.Fatalf("testidp: %v", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.Serve(ctx, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			tb.Errorf("testidp: serve: %v", err)
		}
	})
	tb.Cleanup(func() {
		stop()
		wg.Wait()
		a.Close()
	})
	hc, err := trusting(a.CAFile())
	if err != nil {
		tb.Fatalf("testidp: %v", err)
	}
	idp := &IdP{URL: pub, KnownAuthority: ln.Addr().String(), CAFile: a.CAFile(), HTTPClient: hc,
		Control: Connect(pub, cfg.Testing.ControlToken, hc)}
	if len(cfg.Tenants) > 0 {
		idp.Authority = pub + "/" + cfg.Tenants[0].Domains[0]
	}
	return idp
}

// trusting returns an HTTP client that trusts the CA in caFile (and nothing else).
func trusting(caFile string) (*http.Client, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", caFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig.RootCAs = roots
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, nil
}

// Issuer is the OpenID Connect issuer of a tenant (by id): what oidc-client-ts or go-oidc
// take as their authority.
func (idp *IdP) Issuer(tenantID string) string {
	return idp.URL + "/" + strings.ToLower(tenantID) + "/v2.0"
}
