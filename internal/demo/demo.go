// Package demo is what `sigil dev` adds to a plain server: a built-in configuration (one
// tenant, a user, an API, and a single-page app registration) and the demo SPA itself, served
// on a second origin of the same site so that MSAL's hidden iframe keeps its session cookie.
//
// The SPA uses the real MSAL.js: served from node_modules when `npm ci` has run, otherwise
// from a pinned CDN URL with a Subresource Integrity hash. Nothing of MSAL is in this repository.
package demo

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sigil-idp/sigil/internal/config"
)

// The demo directory. Fixed ids, so a browser that used the demo before still matches.
const (
	TenantID = "c0ffee00-5161-4000-8000-00000000d3e0"
	Domain   = "contoso.test"
	ClientID = "5161d3e0-0000-4000-8000-0000000005ba"
	Username = "alice@contoso.test"
	Password = "Passw0rd!alice"
)

// Config returns the demo configuration for a server at publicURL and the demo SPA at
// spaOrigin. The caller validates it.
func Config(publicURL, listen, dataDir, spaOrigin string) config.Config {
	c := config.Default()
	c.PublicURL, c.Listen, c.DataDir, c.TLS.Auto = publicURL, listen, dataDir, true
	c.Tenants = []config.Tenant{Tenant(publicURL, spaOrigin)}
	return c
}

// Tenant returns the demo tenant — its user, the Todo API, the demo SPA's registration at
// spaOrigin and those of the example apps on publicURL's host — for a server at publicURL.
func Tenant(publicURL, spaOrigin string) config.Tenant {
	t := config.Tenant{
		ID: TenantID, Domains: []string{Domain}, DisplayName: "Contoso (demo)",
		Users: []config.User{{Username: Username, Password: Password, DisplayName: "Alice Example",
			GivenName: "Alice", Surname: "Example", Email: Username, AppRoles: []string{"api://todo/Todo.Admin"}}},
		// The API examples/todo-api serves.
		APIs: []config.API{{DisplayName: "Todo API", AppIDURI: "api://todo", Scopes: []config.Scope{
			{Value: "Todo.Read", Description: "Read your to-do lists"},
			{Value: "Todo.Write", Description: "Change your to-do lists", AdminConsentRequired: true}},
			AppRoles: []config.AppRole{{Value: "Todo.Admin", AllowedMemberTypes: []string{config.MemberUser}}}}},
		Apps: []config.App{{
			DisplayName: "Sigil demo SPA", ClientID: ClientID,
			SPA:                    config.Platform{RedirectURIs: []string{spaOrigin + "/", spaOrigin + "/redirect.html"}},
			PostLogoutRedirectURIs: []string{spaOrigin + "/"},
			OptionalClaims:         config.OptionalClaims{IDToken: []string{"email"}},
		}},
	}
	host := "localhost"
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	for _, ex := range Examples {
		origin := "https://" + net.JoinHostPort(host, strconv.Itoa(ex.Port))
		app := config.App{DisplayName: ex.DisplayName, ClientID: ex.ClientID,
			SPA:                    config.Platform{RedirectURIs: []string{origin + "/", origin + "/redirect.html"}},
			PostLogoutRedirectURIs: []string{origin + "/"}}
		if ex.Implicit {
			app.ImplicitGrant = config.ImplicitGrant{IDTokens: true, AccessTokens: true}
		}
		t.Apps = append(t.Apps, app)
	}
	return t
}

// Example is one of the apps under examples/ in the repository: its registration in the demo
// configuration, on https://{Sigil's host}:{Port}.
type Example struct {
	Name        string // the folder under examples/
	DisplayName string
	ClientID    string
	Port        int
	Implicit    bool // MSAL 1.x apps use the implicit grant
}

// Examples are the example apps `sigil dev` has registrations for. Their package.json files
// carry the same port and client id.
var Examples = []Example{
	{Name: "msal1", DisplayName: "MSAL 1.x example", ClientID: "5161d3e0-0000-4000-8000-000000000001", Port: 3001, Implicit: true},
	{Name: "angular-seed", DisplayName: "msal-angular 1.x example", ClientID: "5161d3e0-0000-4000-8000-000000000002", Port: 3002, Implicit: true},
	{Name: "angular", DisplayName: "msal-angular example", ClientID: "5161d3e0-0000-4000-8000-000000000003", Port: 3003},
	{Name: "react", DisplayName: "msal-react example", ClientID: "5161d3e0-0000-4000-8000-000000000004", Port: 3004},
}

//go:embed site
var site embed.FS

// MSAL 5.30.0 files, as served by jsDelivr from the npm package, with their SRI hashes
// (sha384 of the exact bytes in the npm tarball).
const (
	msalVersion     = "5.30.0"
	msalCDN         = "https://cdn.jsdelivr.net/npm/@azure/msal-browser@" + msalVersion + "/lib/"
	msalFile        = "msal-browser.min.js"
	msalSRI         = "sha384-jZgMryu+4u6YigBEcQY0MnBDCLVoqAGLm8S8PXoaGI2HJWA5XcxSalRmz/KFODUW"
	bridgeFile      = "redirect-bridge/msal-redirect-bridge.min.js"
	bridgeSRI       = "sha384-LlK8zdUFClmmIsZa4r9fDJ7pLPwT5LtoG9YLslLOeiYTquUF2E+t9H55eje2GbsF"
	nodeModulesPath = "@azure/msal-browser/lib"
)

// SPA is the demo app's HTTP handler.
type SPA struct {
	// Settings handed to the page as window.sigilDemo.
	PublicURL, Authority, KnownAuthority, ClientID, Origin string
	// NodeModules is where `npm ci` put the packages; MSAL comes from there when present.
	NodeModules string
}

// Local reports whether MSAL is served from node_modules rather than the CDN.
func (s SPA) Local() bool {
	_, err := os.Stat(filepath.Join(s.NodeModules, nodeModulesPath, msalFile))
	return err == nil
}

// Handler serves the SPA's pages, its settings, and MSAL from node_modules when present.
func (s SPA) Handler() http.Handler {
	mux := http.NewServeMux()
	local := s.Local()
	script := func(file, sri string) string {
		if local {
			return `<script src="/lib/` + file + `"></script>`
		}
		return `<script src="` + msalCDN + file + `" integrity="` + sri + `" crossorigin="anonymous"></script>`
	}
	page := func(name, placeholder, tag string) http.HandlerFunc {
		body, _ := site.ReadFile("site/" + name)
		html := strings.Replace(string(body), placeholder, tag, 1)
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Write([]byte(html))
		}
	}
	mux.HandleFunc("GET /{$}", page("index.html", "{{MSAL}}", script(msalFile, msalSRI)))
	mux.HandleFunc("GET /redirect.html", page("redirect.html", "{{BRIDGE}}", script(bridgeFile, bridgeSRI)))
	static, _ := fs.Sub(site, "site")
	mux.Handle("GET /demo.js", http.FileServerFS(static))
	mux.Handle("GET /demo.css", http.FileServerFS(static))
	settings, _ := json.Marshal(map[string]string{"publicUrl": s.PublicURL, "authority": s.Authority,
		"knownAuthority": s.KnownAuthority, "clientId": s.ClientID, "origin": s.Origin})
	mux.HandleFunc("GET /config.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write([]byte("window.sigilDemo = " + string(settings) + ";\n"))
	})
	if local {
		lib := http.Dir(filepath.Join(s.NodeModules, nodeModulesPath))
		mux.Handle("GET /lib/", http.StripPrefix("/lib/", http.FileServer(lib)))
	}
	return mux
}
