package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/demo"
)

type devCmd struct {
	Listen      string `help:"Address Sigil listens on." default:"127.0.0.1:8443" env:"SIGIL_LISTEN"`
	PublicURL   string `name:"public-url" help:"URL browsers use for Sigil." default:"https://localhost:8443" env:"SIGIL_PUBLIC_URL"`
	SPAListen   string `name:"spa-listen" help:"Address the demo SPA listens on; it is served on the same host as Sigil." default:"127.0.0.1:3000"`
	DataDir     string `name:"data-dir" help:"Folder for the database and certificates." default:"./sigil-data" env:"SIGIL_DATA_DIR"`
	NodeModules string `name:"node-modules" help:"Where npm put MSAL.js; the CDN copy is used when it is missing." default:"./node_modules"`
}

// Run starts Sigil with the demo configuration and the demo SPA, prints what an app needs,
// and serves both until interrupted.
func (d *devCmd) Run(ctx context.Context, log *slog.Logger) error {
	start := time.Now()
	pub, err := url.Parse(d.PublicURL)
	if err != nil || pub.Host == "" {
		return fmt.Errorf("--public-url %q is not a URL", d.PublicURL)
	}
	_, spaPort, err := net.SplitHostPort(d.SPAListen)
	if err != nil {
		return fmt.Errorf("--spa-listen: %w", err)
	}
	spaOrigin := "https://" + net.JoinHostPort(pub.Hostname(), spaPort)
	cfg := demo.Config(d.PublicURL, d.Listen, d.DataDir, spaOrigin)
	if err := cfg.Validate(); err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.Options{Logger: log})
	if err != nil {
		return err
	}
	defer a.Close()
	idp, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	spaLn, err := net.Listen("tcp", d.SPAListen)
	if err != nil {
		idp.Close()
		return err
	}
	spa := demo.SPA{PublicURL: cfg.PublicURL, Authority: cfg.PublicURL + "/" + demo.Domain,
		KnownAuthority: hostPort(cfg.PublicURL), ClientID: demo.ClientID, Origin: spaOrigin, NodeModules: d.NodeModules}
	spaSrv := &http.Server{Handler: spa.Handler(), TLSConfig: a.TLSConfig(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := spaSrv.ServeTLS(spaLn, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("demo SPA", "error", err.Error())
		}
	}()
	defer spaSrv.Close()
	printBanner(cfg.PublicURL, spaOrigin, a.CAFile(), spa.Local(), time.Since(start))
	return a.Serve(ctx, idp)
}

// hostPort is what MSAL's knownAuthorities needs: the host, with the port unless it is 443.
func hostPort(publicURL string) string {
	u, _ := url.Parse(publicURL)
	return u.Host
}

func printBanner(publicURL, spaOrigin, caFile string, localMSAL bool, took time.Duration) {
	msalFrom := "the jsDelivr CDN (run `npm ci` to serve it from node_modules)"
	if localMSAL {
		msalFrom = "node_modules"
	}
	fmt.Fprintf(os.Stdout, `
Sigil is running (started in %s).

  Demo SPA              %s/    (MSAL.js from %s)

  MSAL authority        %s/%s
  knownAuthorities      ["%s"]
  OIDC authority        %s/%s/v2.0   (oidc-client-ts, go-oidc: the issuer)
  Client id             %s
  User / password       %s / %s

  Certificates come from a local CA: %s
  Trust it (or accept the browser warning on both origins) to use the demo.
  Press Ctrl-C to stop.

`, took.Round(time.Millisecond), spaOrigin, msalFrom, publicURL, demo.Domain, hostPort(publicURL), publicURL, demo.TenantID,
		demo.ClientID, demo.Username, demo.Password, caFile)
}
