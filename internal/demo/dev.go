package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/password"
)

// DevOptions configure a dev server.
type DevOptions struct {
	PublicURL   string       // URL browsers use for Sigil
	Listen      string       // where Sigil listens (ignored with IdPListener)
	SPAListen   string       // where the demo SPA listens (ignored with SPAListener); its port is the SPA's
	DataDir     string       // database and certificates
	NodeModules string       // where npm put MSAL.js
	Logger      *slog.Logger // nil: discard
	// Listeners already open (tests use ports chosen by the system).
	IdPListener, SPAListener net.Listener
	// HashParams for the demo user's password; zero means password.DefaultParams.
	HashParams password.Params
}

// Dev is Sigil with the demo configuration and the demo SPA: what `sigil dev` runs.
type Dev struct {
	App       *app.App
	SPA       SPA
	SPAOrigin string
	idp, spa  net.Listener
}

// StartDev prepares Sigil and the demo SPA and opens their listeners. Serve runs them.
func StartDev(ctx context.Context, o DevOptions) (*Dev, error) {
	pub, err := url.Parse(o.PublicURL)
	if err != nil || pub.Scheme != "https" || pub.Host == "" {
		return nil, fmt.Errorf("public URL %q must be an https URL", o.PublicURL)
	}
	d := &Dev{idp: o.IdPListener, spa: o.SPAListener}
	if d.idp != nil {
		o.Listen = d.idp.Addr().String()
	}
	if d.spa == nil {
		if d.spa, err = net.Listen("tcp", o.SPAListen); err != nil {
			return nil, err
		}
	}
	_, spaPort, _ := net.SplitHostPort(d.spa.Addr().String())
	d.SPAOrigin = "https://" + net.JoinHostPort(pub.Hostname(), spaPort)
	cfg := Config(o.PublicURL, o.Listen, o.DataDir, d.SPAOrigin)
	if err := cfg.Validate(); err != nil {
		d.close()
		return nil, err
	}
	if d.App, err = app.New(ctx, cfg, app.Options{Logger: o.Logger, HashParams: o.HashParams}); err != nil {
		d.close()
		return nil, err
	}
	if d.idp == nil {
		if d.idp, err = net.Listen("tcp", cfg.Listen); err != nil {
			d.close()
			return nil, err
		}
	}
	d.SPA = SPA{PublicURL: cfg.PublicURL, Authority: cfg.PublicURL + "/" + Domain, KnownAuthority: KnownAuthority(cfg.PublicURL),
		ClientID: ClientID, Origin: d.SPAOrigin, NodeModules: o.NodeModules}
	return d, nil
}

// KnownAuthority is what MSAL's knownAuthorities needs for a public URL: the host, with the
// port unless it is 443.
func KnownAuthority(publicURL string) string {
	u, _ := url.Parse(publicURL)
	return u.Host
}

// Serve serves Sigil and the demo SPA until ctx ends.
func (d *Dev) Serve(ctx context.Context) error {
	spa := &http.Server{Handler: d.SPA.Handler(), TLSConfig: d.App.TLSConfig(), ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	var spaErr error
	wg.Go(func() {
		if err := spa.ServeTLS(d.spa, "", ""); !errors.Is(err, http.ErrServerClosed) {
			spaErr = err
		}
	})
	err := d.App.Serve(ctx, d.idp)
	spa.Close()
	wg.Wait()
	return errors.Join(err, spaErr)
}

// Close releases what StartDev opened.
func (d *Dev) Close() error {
	d.close()
	if d.App != nil {
		return d.App.Close()
	}
	return nil
}

func (d *Dev) close() {
	for _, ln := range []net.Listener{d.idp, d.spa} {
		if ln != nil {
			ln.Close()
		}
	}
}

// Banner is what `sigil dev` prints: everything an app needs to point at it.
func (d *Dev) Banner(started time.Duration) string {
	pub := d.SPA.PublicURL
	msalFrom := "the jsDelivr CDN (run `npm ci` to serve it from node_modules)"
	if d.SPA.Local() {
		msalFrom = "node_modules"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nSigil is running (started in %s).\n\n", started.Round(time.Millisecond))
	fmt.Fprintf(&b, "  Demo SPA              %s/    (MSAL.js from %s)\n\n", d.SPAOrigin, msalFrom)
	fmt.Fprintf(&b, "  MSAL authority        %s/%s\n", pub, Domain)
	fmt.Fprintf(&b, "  knownAuthorities      [\"%s\"]\n", KnownAuthority(pub))
	fmt.Fprintf(&b, "  OIDC authority        %s/%s/v2.0   (oidc-client-ts, go-oidc: the issuer)\n", pub, TenantID)
	fmt.Fprintf(&b, "  Client id             %s\n", ClientID)
	fmt.Fprintf(&b, "  User / password       %s / %s\n\n", Username, Password)
	fmt.Fprintf(&b, "  Example apps (registered here; run one beside this with `npm start -w examples/<name>`):\n")
	host := "localhost"
	if u, err := url.Parse(pub); err == nil {
		host = u.Hostname()
	}
	for _, ex := range Examples {
		fmt.Fprintf(&b, "    %-14s https://%s   client id %s\n", ex.Name, net.JoinHostPort(host, strconv.Itoa(ex.Port)), ex.ClientID)
	}
	fmt.Fprintf(&b, "\n")
	fmt.Fprintf(&b, "  Certificates come from a local CA: %s\n", d.App.CAFile())
	fmt.Fprintf(&b, "  Trust it (or accept the browser warning on both origins) to use the demo.\n")
	fmt.Fprintf(&b, "  Press Ctrl-C to stop.\n\n")
	return b.String()
}
