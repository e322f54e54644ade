package harness

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// HTTPBrowser is a cookie-keeping HTTP client that trusts Sigil's local CA and follows no
// redirects: a browser for flows whose pages need no JavaScript (a web app's sign-in, which
// msal-node starts with getAuthCodeUrl), without Chromium.
func (e *Env) HTTPBrowser() *http.Client {
	e.T.Helper()
	pem, err := os.ReadFile(e.CAFile())
	if err != nil {
		e.T.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 20 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var (
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]+)"`) // Sigil's pages' form tags
	hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	scopeBox    = regexp.MustCompile(`<input type="checkbox" name="scope" value="([^"]+)"`)
	errorCode   = regexp.MustCompile(`data-error-code="([^"]+)"`)
)

// AuthResponse is where Sigil finally sends the browser: the app's redirect URI, with the
// response parameters in the query (a redirect) or, for response_mode=form_post, in the form
// the page posts there.
type AuthResponse struct {
	URL      *url.URL
	Params   url.Values
	FormPost bool
}

// SignInHTTP follows an authorization request in c: it signs in as username with the test
// password on Sigil's sign-in page, accepts the consent page with every scope, and returns
// the authorization response it ends with. Only Sigil's own redirects and forms are
// followed; at most 10 steps.
func (e *Env) SignInHTTP(c *http.Client, authorizeURL, username string) (AuthResponse, error) {
	r, err := e.signInHTTP(c, authorizeURL, username)
	if err == nil && !r.FormPost {
		r.Params = r.URL.Query()
	}
	return r, err
}

func (e *Env) signInHTTP(c *http.Client, authorizeURL, username string) (AuthResponse, error) {
	var none AuthResponse
	next, err := http.NewRequest(http.MethodGet, authorizeURL, nil)
	if err != nil {
		return none, err
	}
	for range 10 {
		resp, err := c.Do(next)
		if err != nil {
			return none, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		page := string(body)
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
			u, err := resp.Request.URL.Parse(loc)
			if err != nil {
				return none, err
			}
			if !strings.HasPrefix(u.String(), e.IdP+"/") {
				return AuthResponse{URL: u}, nil
			}
			next, _ = http.NewRequest(http.MethodGet, u.String(), nil)
			continue
		}
		if m := errorCode.FindStringSubmatch(page); m != nil && !strings.Contains(page, `name="password"`) {
			return none, fmt.Errorf("sigil shows an error page: %s", m[1])
		}
		action := formAction.FindStringSubmatch(page)
		if resp.StatusCode != http.StatusOK || action == nil {
			return none, fmt.Errorf("%s: status %d, no redirect and no form: %.400s", resp.Request.URL, resp.StatusCode, page)
		}
		target, err := resp.Request.URL.Parse(html.UnescapeString(action[1]))
		if err != nil {
			return none, err
		}
		form := url.Values{}
		for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
			form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
		switch {
		case !strings.HasPrefix(target.String(), e.IdP+"/"):
			return AuthResponse{URL: target, Params: form, FormPost: true}, nil // response_mode=form_post
		case strings.Contains(page, `name="password"`):
			if m := errorCode.FindStringSubmatch(page); m != nil {
				return none, fmt.Errorf("sign-in refused: %s", m[1])
			}
			form.Set("username", username)
			form.Set("password", Password)
		case strings.Contains(page, `name="consent"`):
			form.Set("consent", "accept")
			for _, m := range scopeBox.FindAllStringSubmatch(page, -1) {
				form.Add("scope", html.UnescapeString(m[1]))
			}
		default:
			return none, fmt.Errorf("%s: a page this driver does not know: %.400s", resp.Request.URL, page)
		}
		next, _ = http.NewRequest(http.MethodPost, target.String(), strings.NewReader(form.Encode()))
		next.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		next.Header.Set("Origin", e.IdP) // a browser's same-origin form post
		next.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	return none, fmt.Errorf("no redirect to the app after 10 steps")
}
