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
	pem, err := os.ReadFile(e.App.CAFile())
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
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	scopeBox    = regexp.MustCompile(`<input type="checkbox" name="scope" value="([^"]+)"`)
	errorCode   = regexp.MustCompile(`data-error-code="([^"]+)"`)
)

// SignInHTTP follows an authorization request in c: it signs in as username with the test
// password on Sigil's sign-in page, accepts the consent page with every scope, and returns
// the URL Sigil finally redirects to (the app's redirect URI with code or error). Only
// Sigil's own redirects are followed; at most 10 steps.
func (e *Env) SignInHTTP(c *http.Client, authorizeURL, username string) (*url.URL, error) {
	next, err := http.NewRequest(http.MethodGet, authorizeURL, nil)
	if err != nil {
		return nil, err
	}
	for range 10 {
		resp, err := c.Do(next)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		page := string(body)
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
			u, err := resp.Request.URL.Parse(loc)
			if err != nil {
				return nil, err
			}
			if !strings.HasPrefix(u.String(), e.IdP+"/") {
				return u, nil
			}
			next, _ = http.NewRequest(http.MethodGet, u.String(), nil)
			continue
		}
		if m := errorCode.FindStringSubmatch(page); m != nil && !strings.Contains(page, `name="password"`) {
			return nil, fmt.Errorf("sigil shows an error page: %s", m[1])
		}
		action := formAction.FindStringSubmatch(page)
		if resp.StatusCode != http.StatusOK || action == nil {
			return nil, fmt.Errorf("%s: status %d, no redirect and no form: %.400s", resp.Request.URL, resp.StatusCode, page)
		}
		form := url.Values{}
		for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
			form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
		switch {
		case strings.Contains(page, `name="password"`):
			if m := errorCode.FindStringSubmatch(page); m != nil {
				return nil, fmt.Errorf("sign-in refused: %s", m[1])
			}
			form.Set("username", username)
			form.Set("password", Password)
		case strings.Contains(page, `name="consent"`):
			form.Set("consent", "accept")
			for _, m := range scopeBox.FindAllStringSubmatch(page, -1) {
				form.Add("scope", html.UnescapeString(m[1]))
			}
		default:
			return nil, fmt.Errorf("%s: a page this driver does not know: %.400s", resp.Request.URL, page)
		}
		next, _ = http.NewRequest(http.MethodPost, e.IdP+html.UnescapeString(action[1]), strings.NewReader(form.Encode()))
		next.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		next.Header.Set("Origin", e.IdP) // a browser's same-origin form post
		next.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	return nil, fmt.Errorf("no redirect to the app after 10 steps")
}
