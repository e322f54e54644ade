package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/password"
)

// DevOptions configure a dev server. The string settings are what the user gave on the
// command line or in the environment; "" means the configuration file's value, or the dev
// default.
type DevOptions struct {
	PublicURL   string // URL browsers use for Sigil; default https://localhost:{the listen port}
	Listen      string // where Sigil listens (ignored with IdPListener); default 127.0.0.1:8443
	SPAListen   string // where the demo SPA listens (ignored with SPAListener); its port is the SPA's
	DataDir     string // database and certificates; default ./sigil-data
	NodeModules string // where npm put MSAL.js
	// ConfigFile, when set, is a bootstrap file whose tenants, users and apps Sigil serves
	// beside the demo tenant, with the dev defaults where the file is silent.
	ConfigFile string
	// NoDemo leaves out the demo tenant and the demo SPA.
	NoDemo bool
	Logger *slog.Logger // nil: discard
	// Listeners already open (tests use ports chosen by the system).
	IdPListener, SPAListener net.Listener
	// HashParams for the demo user's password; zero means password.DefaultParams.
	HashParams password.Params
	// Wrap, when set, wraps Sigil's HTTP handler (tests log requests with it).
	Wrap func(http.Handler) http.Handler
	// KeyEncryptionKey is SIGIL_KEY_ENCRYPTION_KEY (app.Options); empty: the configured
	// file, or one generated in the data folder.
	KeyEncryptionKey string
}

// Where `sigil dev` listens unless told otherwise, and how the user tells it.
const (
	DefaultListen    = "127.0.0.1:8443"
	DefaultSPAListen = "127.0.0.1:3000"
	listenSetting    = "--listen or SIGIL_LISTEN"
	spaListenSetting = "--spa-listen or SIGIL_SPA_LISTEN"
)

// Dev is Sigil with the demo configuration and the demo SPA: what `sigil dev` runs.
type Dev struct {
	App       *app.App
	Config    config.Config // what the server runs: the file's and the demo's tenants, dev defaults
	SPA       SPA           // zero with NoDemo
	SPAOrigin string        // "" with NoDemo
	idp, spa  net.Listener
}

// StartDev prepares Sigil and the demo SPA and opens their listeners. Serve runs them.
func StartDev(ctx context.Context, o DevOptions) (*Dev, error) {
	d := &Dev{idp: o.IdPListener, spa: o.SPAListener}
	if d.idp != nil {
		o.Listen = d.idp.Addr().String()
	}
	var err error
	if d.spa == nil && !o.NoDemo {
		if o.SPAListen == "" {
			o.SPAListen = DefaultSPAListen
		}
		if d.spa, err = app.Bind(o.SPAListen, spaListenSetting); err != nil {
			return nil, err
		}
	}
	if d.Config, err = d.config(o); err != nil {
		d.close()
		return nil, err
	}
	if d.App, err = app.New(ctx, d.Config, app.Options{Logger: o.Logger, HashParams: o.HashParams, Wrap: o.Wrap, Dev: true,
		KeyEncryptionKey: o.KeyEncryptionKey}); err != nil {
		d.close()
		return nil, err
	}
	if d.idp == nil {
		if d.idp, err = d.App.Listen(listenSetting); err != nil {
			d.close()
			return nil, err
		}
	}
	if !o.NoDemo {
		pub := d.Config.PublicURL
		d.SPA = SPA{PublicURL: pub, Authority: pub + "/" + Domain, KnownAuthority: KnownAuthority(pub),
			ClientID: ClientID, Origin: d.SPAOrigin, NodeModules: o.NodeModules}
	}
	return d, nil
}

// config reads the user's file, if any, over the dev defaults, applies the command line, and
// adds the demo tenant (unless the file has it already, as `--print-config` writes it).
func (d *Dev) config(o DevOptions) (config.Config, error) {
	var data []byte
	name := "the dev configuration"
	if o.ConfigFile != "" {
		var err error
		if data, err = os.ReadFile(o.ConfigFile); err != nil {
			return config.Config{}, fmt.Errorf("dev: %w", err)
		}
		name = o.ConfigFile
	}
	base := config.Default()
	base.Listen = DefaultListen
	demoPath := "" // where fill put the demo tenant
	fill := func(c *config.Config) {
		if c.PublicURL == "" {
			c.PublicURL = PublicURLFor(c.Listen)
		}
		if c.TLS.CertFile == "" {
			c.TLS.Auto = true // MSAL.js needs https; the local CA makes it work out of the box
		}
		if pub, err := url.Parse(c.PublicURL); err == nil && d.spa != nil {
			_, spaPort, _ := net.SplitHostPort(d.spa.Addr().String())
			d.SPAOrigin = "https://" + net.JoinHostPort(pub.Hostname(), spaPort)
		}
		if o.NoDemo || slices.ContainsFunc(c.Tenants, func(t config.Tenant) bool { return strings.EqualFold(t.ID, TenantID) }) {
			return
		}
		demoPath = fmt.Sprintf("tenants[%d]", len(c.Tenants))
		c.Tenants = append(c.Tenants, Tenant(c.PublicURL, d.SPAOrigin))
	}
	over := config.Overrides{Listen: o.Listen, PublicURL: o.PublicURL, DataDir: o.DataDir}
	c, err := config.ParseWith(name, data, base, over, fill)
	if demoPath != "" && o.ConfigFile != "" && aboutPath(err, demoPath) {
		err = fmt.Errorf("%w\n(sigil dev adds its demo tenant %s beside the file's; --no-demo leaves it out)", err, Domain)
	}
	return c, err
}

// aboutPath reports whether a problem in the configuration error err concerns the value at
// path (as its place, or named in its message).
func aboutPath(err error, path string) bool {
	var ce *config.Error
	if !errors.As(err, &ce) {
		return false
	}
	return slices.ContainsFunc(ce.Problems, func(p config.Problem) bool {
		return strings.HasPrefix(p.Path, path) || strings.Contains(p.Message, path)
	})
}

// ConfigText is what `sigil dev --print-config` prints: the demo tenant as a bootstrap file,
// with comments on how dev mode runs it.
func ConfigText() ([]byte, error) {
	c := config.Default()
	c.Listen = DefaultListen
	c.Tenants = []config.Tenant{Tenant(PublicURLFor(DefaultListen), "https://localhost:3000")}
	return config.Marshal(c, `The demo configuration of sigil dev: a starting point for your own.
Edit it (add your app under apps, your users under users) and run
  sigil dev --config this-file.yaml
sigil dev serves it with dev defaults: listen 127.0.0.1:8443, publicUrl https://localhost:{port},
tls.auto (a local CA in the data folder), SQLite in ./sigil-data. Set any of them here to change it.
Since this file holds the demo tenant, sigil dev uses it instead of adding its own.`)
}

// demoRegistered reports whether the demo SPA's registration has the SPA's origin as a
// redirect URI (a file that carries its own copy of the demo tenant may not).
func (d *Dev) demoRegistered() bool {
	for _, t := range d.Config.Tenants {
		for _, a := range t.Apps {
			if a.ClientID == ClientID && slices.Contains(a.SPA.RedirectURIs, d.SPAOrigin+"/") {
				return true
			}
		}
	}
	return false
}

// PublicURLFor is the public URL `sigil dev` assumes for a listen address: https on
// localhost (for any loopback or wildcard host) or on the named host, at the listen port.
func PublicURLFor(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "https://localhost"
	}
	if ip := net.ParseIP(host); host == "" || host == "localhost" || ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		host = "localhost"
	}
	if port == "443" {
		return "https://" + hostForURL(host)
	}
	return "https://" + net.JoinHostPort(host, port)
}

// hostForURL brackets an IPv6 literal.
func hostForURL(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}

// KnownAuthority is what MSAL's knownAuthorities needs for a public URL: the host, with the
// port unless it is 443.
func KnownAuthority(publicURL string) string {
	u, _ := url.Parse(publicURL)
	return u.Host
}

// Serve serves Sigil and the demo SPA until ctx ends.
func (d *Dev) Serve(ctx context.Context) error {
	if d.spa == nil {
		return d.App.Serve(ctx, d.idp)
	}
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

// Banner is what `sigil dev` prints: everything an app needs to point at it — the demo's
// settings, and the authority and registrations of each tenant from the user's file.
func (d *Dev) Banner(started time.Duration) string {
	pub := d.Config.PublicURL
	var b strings.Builder
	fmt.Fprintf(&b, "\nSigil is running (started in %s).\n\n", started.Round(time.Millisecond))
	if d.spa != nil {
		msalFrom := "the jsDelivr CDN (run `npm ci` to serve it from node_modules)"
		if d.SPA.Local() {
			msalFrom = "node_modules"
		}
		fmt.Fprintf(&b, "  Demo SPA              %s/    (MSAL.js from %s)\n", d.SPAOrigin, msalFrom)
		if !d.demoRegistered() {
			fmt.Fprintf(&b, "  WARNING: the demo SPA's registration in your file lacks %s/ among its spa\n"+
				"  redirect URIs, so its sign-in will fail with AADSTS50011; add it or change --spa-listen.\n", d.SPAOrigin)
		}
		fmt.Fprintf(&b, "\n")
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
	}
	for _, t := range d.Config.Tenants {
		if strings.EqualFold(t.ID, TenantID) {
			continue
		}
		name := t.ID
		if len(t.Domains) > 0 {
			name = t.Domains[0]
		}
		fmt.Fprintf(&b, "  Tenant %s", name)
		if t.DisplayName != "" {
			fmt.Fprintf(&b, " (%s)", t.DisplayName)
		}
		fmt.Fprintf(&b, "\n    MSAL authority      %s/%s\n", pub, name)
		fmt.Fprintf(&b, "    knownAuthorities    [\"%s\"]\n", KnownAuthority(pub))
		fmt.Fprintf(&b, "    OIDC authority      %s/%s/v2.0\n", pub, t.ID)
		for _, a := range t.Apps {
			fmt.Fprintf(&b, "    App %-16s client id %s\n", a.DisplayName, a.ClientID)
			for _, uri := range slices.Concat(a.SPA.RedirectURIs, a.Web.RedirectURIs, a.PublicClient.RedirectURIs) {
				fmt.Fprintf(&b, "      redirect URI      %s\n", uri)
			}
		}
		for _, u := range t.Users {
			fmt.Fprintf(&b, "    User                %s\n", u.Username)
		}
		fmt.Fprintf(&b, "\n")
	}
	if ca := d.App.CAFile(); ca != "" {
		fmt.Fprintf(&b, "  Certificates come from a local CA: %s\n", ca)
		if d.App.CAMade() {
			fmt.Fprintf(&b, "  It was made just now. ")
		} else {
			fmt.Fprintf(&b, "  ")
		}
		fmt.Fprintf(&b, "Trust it (or accept the browser warning on each origin) to use Sigil.\n")
	}
	fmt.Fprintf(&b, "  Press Ctrl-C to stop.\n\n")
	return b.String()
}
