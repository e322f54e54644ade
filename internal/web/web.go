// Package web renders Sigil's pages — sign-in, consent, account picker, sign-out chooser,
// errors, signed-out, the device code pages, and the form_post response — from embedded html/template files, with
// the security headers each needs. It decides nothing: package protocol says which page to
// show with what.
//
// The pages keep the login UI automation contract (README, "Login pages"):
// input[name=username], input[name=password], input[name=remember], button[type=submit];
// button[name=consent][value=accept|decline] with input[type=checkbox][name=scope];
// button[data-username] and button[data-action=other-account]; data-error-code on errors;
// input[name=user_code] on the device code page and data-device-code-result on its result.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// formPostScript is the one inline script Sigil serves; its hash goes in the form_post CSP.
const formPostScript = "document.forms[0].submit()"

// Pages renders the pages.
type Pages struct {
	t            *template.Template
	formPostCSP  string
	assetHandler http.Handler
}

// New parses the embedded templates.
func New() (*Pages, error) {
	t, err := template.ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse templates: %w", err)
	}
	sum := sha256.Sum256([]byte(formPostScript))
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return nil, err
	}
	return &Pages{
		t:            t,
		formPostCSP:  "default-src 'none'; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'",
		assetHandler: http.StripPrefix("/-/assets/", http.FileServerFS(sub)),
	}, nil
}

// Assets serves the stylesheet under /-/assets/.
func (p *Pages) Assets() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		p.assetHandler.ServeHTTP(w, r)
	})
}

// LoginPage is the sign-in form.
type LoginPage struct {
	AppName      string
	Interaction  string
	XSRF         string
	Username     string // pre-filled from login_hint or the account being re-authenticated
	Remember     bool
	ErrorCode    string // AADSTS code shown with data-error-code, e.g. AADSTS50126
	ErrorMessage string
}

// ConsentPage asks the user to grant scopes to an app.
type ConsentPage struct {
	AppName     string
	Interaction string
	XSRF        string
	SessionID   string
	Username    string
	SignIn      bool // openid: shown without a checkbox
	Scopes      []ConsentScope
}

// ConsentScope is one scope checkbox: Value is what the form posts back.
type ConsentScope struct {
	Value string
	Label string
}

// AccountsPage lists signed-in accounts to choose from (account picker, sign-out chooser).
type AccountsPage struct {
	Title        string
	AppName      string
	Action       string            // where the choice is posted
	Hidden       map[string]string // hidden form fields
	Accounts     []Account
	OtherAccount bool // offer "use another account"
}

// SignOutPage asks whether to sign out, for a logout request that may not come from the user
// (no hint, another site): a button signout=confirm posts Hidden to Action, signout=cancel
// keeps the session. Cancelled renders the answer to cancel.
type SignOutPage struct {
	AppName   string
	Username  string
	Action    string
	Hidden    map[string]string
	Cancelled bool
}

// Account is one signed-in account on an AccountsPage.
type Account struct {
	SessionID   string
	Username    string
	DisplayName string
}

// ErrorPage shows an error that cannot be sent to the app.
type ErrorPage struct {
	Code          string // AADSTSnnnnn, carried by data-error-code
	Error         string // the OAuth error code
	Message       string
	TraceID       string
	CorrelationID string
	Timestamp     string
	// DevNotes (dev mode only) tell the developer how to fix the request.
	DevNotes []string
}

// DeviceLoginPage is the device code verification page (RFC 8628 §3.3), where the user
// enters the code a device shows.
type DeviceLoginPage struct {
	XSRF         string
	UserCode     string // pre-filled (the otc query parameter, or what was typed)
	ErrorCode    string // AADSTS code shown with data-error-code
	ErrorMessage string
}

// DeviceResultPage ends a device code sign-in: data-device-code-result is success or
// declined.
type DeviceResultPage struct {
	Success bool
	AppName string
}

// FormPostPage delivers an authorization response by an auto-submitted form.
type FormPostPage struct {
	Action string
	Fields []Field
}

// Field is a hidden form field.
type Field struct{ Name, Value string }

// Login renders the sign-in form with the given status (200, or 400/429 when it re-shows an
// error).
func (p *Pages) Login(w http.ResponseWriter, status int, v LoginPage) {
	p.render(w, status, "login.html", v)
}

// Consent renders the consent page.
func (p *Pages) Consent(w http.ResponseWriter, v ConsentPage) {
	p.render(w, http.StatusOK, "consent.html", v)
}

// Accounts renders an account chooser.
func (p *Pages) Accounts(w http.ResponseWriter, v AccountsPage) {
	p.render(w, http.StatusOK, "accounts.html", v)
}

// Error renders an error page with the given HTTP status.
func (p *Pages) Error(w http.ResponseWriter, status int, v ErrorPage) {
	p.render(w, status, "error.html", v)
}

// DeviceLogin renders the device code verification page with the given status.
func (p *Pages) DeviceLogin(w http.ResponseWriter, status int, v DeviceLoginPage) {
	p.render(w, status, "devicelogin.html", v)
}

// DeviceResult renders the end of a device code sign-in.
func (p *Pages) DeviceResult(w http.ResponseWriter, v DeviceResultPage) {
	p.render(w, http.StatusOK, "deviceresult.html", v)
}

// LandingPage is what / (Tenant empty) and a tenant's authority URL answer in a browser.
type LandingPage struct {
	PublicURL, KnownAuthority string
	Tenant, TenantName        string // the path segment and the tenant's display name
	Issuer, Discovery         string // the tenant's
	Example                   string // a discovery URL to try, on /
}

// Landing renders the landing page.
func (p *Pages) Landing(w http.ResponseWriter, v LandingPage) {
	p.render(w, http.StatusOK, "landing.html", v)
}

// Favicon serves Sigil's icon (an SVG) for /favicon.ico, which browsers ask for unprompted.
func (p *Pages) Favicon(w http.ResponseWriter, r *http.Request) {
	icon, _ := assetFS.ReadFile("assets/favicon.svg")
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(icon)
}

// SignOut renders the sign-out confirmation (or, Cancelled, its answer to cancel).
func (p *Pages) SignOut(w http.ResponseWriter, v SignOutPage) {
	p.render(w, http.StatusOK, "signout.html", v)
}

// SignedOut renders the page shown after sign-out when there is nowhere to return to.
func (p *Pages) SignedOut(w http.ResponseWriter) { p.render(w, http.StatusOK, "signedout.html", nil) }

// FrontChannelPage is the signed-out page with a hidden iframe per app to tell (OpenID
// Connect Front-Channel Logout): each frame loads an app's logoutUrl?iss=…&sid=…. With
// Continue, the page moves on there after two seconds (a meta refresh: no script).
type FrontChannelPage struct {
	Frames   []string
	Continue string
}

// FrontChannelLogout renders the page. Its Content-Security-Policy allows frames of the apps'
// logout URLs' origins only.
func (p *Pages) FrontChannelLogout(w http.ResponseWriter, v FrontChannelPage) {
	var origins []string
	for _, f := range v.Frames {
		if u, err := url.Parse(f); err == nil && u.Host != "" && !slices.Contains(origins, u.Scheme+"://"+u.Host) {
			origins = append(origins, u.Scheme+"://"+u.Host)
		}
	}
	var b bytes.Buffer
	if err := p.t.ExecuteTemplate(&b, "frontchannel.html", v); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src "+
		strings.Join(origins, " ")+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
}

// FormPost renders the auto-submitting form of response_mode=form_post. Unlike the other
// pages it may be framed: MSAL's hidden iframe may ask for form_post with prompt=none.
func (p *Pages) FormPost(w http.ResponseWriter, v FormPostPage) {
	var b bytes.Buffer
	if err := p.t.ExecuteTemplate(&b, "formpost.html", v); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", p.formPostCSP)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
}

// render writes a page that must never be framed (clickjacking) and never cached. No
// Cross-Origin-Opener-Policy: MSAL's popup flows need the opener (msal-browser 2.x polls the popup's URL). No
// form-action either: Chromium applies it to the redirect that follows a sign-in POST, which
// goes to the app's origin.
func (p *Pages) render(w http.ResponseWriter, status int, name string, v any) {
	var b bytes.Buffer
	if err := p.t.ExecuteTemplate(&b, name, v); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}
