package harness

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/e2e/browser"
)

// Result is what the test driver (e2e/pages/driver.js) returns for an MSAL call.
type Result struct {
	AccessToken string   `json:"accessToken"`
	IDToken     string   `json:"idToken"`
	Scopes      []string `json:"scopes"`
	FromCache   bool     `json:"fromCache"`
	Account     *struct {
		Username      string         `json:"username"`
		HomeAccountID string         `json:"homeAccountId"`
		TenantID      string         `json:"tenantId"`
		IDTokenClaims map[string]any `json:"idTokenClaims"`
	} `json:"account"`
	Error *struct {
		Name                string `json:"name"`
		ErrorCode           string `json:"errorCode"`
		ErrorMessage        string `json:"errorMessage"`
		SubError            string `json:"subError"`
		InteractionRequired bool   `json:"interactionRequired"`
	} `json:"error"`
	MS float64 `json:"ms"` // how long MSAL took, measured in the page
}

func (r Result) String() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// OpenApp opens a tab on one of the test pages (msal5.html, msal2.html) and waits for MSAL to
// initialise and handle any redirect response.
func (e *Env) OpenApp(page string) *browser.Page {
	e.T.Helper()
	p, err := e.Browser.NewPage()
	if err != nil {
		e.T.Fatal(err)
	}
	e.Navigate(p, e.SPA+"/"+page)
	return p
}

// Navigate loads url in p and waits for the test driver when it is a test page.
func (e *Env) Navigate(p *browser.Page, url string) {
	e.T.Helper()
	if err := p.Navigate(url); err != nil {
		e.T.Fatal(err)
	}
	e.WaitReady(p)
}

// WaitReady waits for the page's MSAL to initialise and handle a redirect response.
func (e *Env) WaitReady(p *browser.Page) {
	e.T.Helper()
	// A document that has just loaded may not have run its scripts yet.
	js := `new Promise((resolve, reject) => {
		const t0 = Date.now();
		(function poll() {
			if (window.ready) return window.ready.then(resolve, reject);
			if (Date.now() - t0 > 15000) return reject(new Error("window.ready never appeared on " + location.href));
			setTimeout(poll, 25);
		})();
	})`
	if _, err := browser.EvalTimeout[bool](p, js, 20*time.Second); err != nil {
		e.T.Fatalf("test app did not start: %v", err)
	}
}

// Call runs a driver call such as `t.silent(["User.Read"])` and returns its result.
func (e *Env) Call(p *browser.Page, js string) Result {
	e.T.Helper()
	r, err := browser.EvalTimeout[Result](p, js, 40*time.Second)
	if err != nil {
		e.T.Fatalf("%s: %v", js, err)
	}
	return r
}

// WithPopup runs a driver call that opens a popup (loginPopup, acquireTokenPopup), signs in
// as username on Sigil's page in the popup (accepting consent if asked), and returns the
// call's result.
func (e *Env) WithPopup(p *browser.Page, js, username string) Result {
	e.T.Helper()
	wait := p.ExpectPopup()
	done := make(chan Result, 1)
	errs := make(chan error, 1)
	go func() {
		r, err := browser.EvalTimeout[Result](p, js, 60*time.Second)
		if err != nil {
			errs <- err
			return
		}
		done <- r
	}()
	popup, err := wait(20 * time.Second)
	if err != nil {
		e.T.Fatalf("%s: no popup: %v", js, err)
	}
	if err := e.SignIn(popup, username); err != nil {
		e.T.Fatalf("%s: signing in in the popup: %v", js, err)
	}
	select {
	case r := <-done:
		return r
	case err := <-errs:
		e.T.Fatalf("%s: %v", js, err)
	case <-time.After(60 * time.Second):
		e.T.Fatalf("%s: no result", js)
	}
	return Result{}
}

// SignIn fills Sigil's sign-in form in p and submits it, then accepts the consent page if
// one follows; it returns once the page has left Sigil (or, for a popup, closed).
func (e *Env) SignIn(p *browser.Page, username string) error {
	return e.SignInAs(p, username, Password)
}

// SignInAs is SignIn with another password.
func (e *Env) SignInAs(p *browser.Page, username, password string) error {
	if err := p.WaitVisible("input[name=username]", 20*time.Second); err != nil {
		return err
	}
	for _, f := range [][2]string{{"input[name=username]", username}, {"input[name=password]", password}} {
		if err := p.SetValue(f[0], f[1]); err != nil {
			return err
		}
	}
	if err := p.Click("button[type=submit]"); err != nil {
		return err
	}
	return e.AcceptConsent(p)
}

// AcceptConsent clicks Accept when Sigil shows its consent page, and waits until p leaves
// Sigil's origin or closes.
func (e *Env) AcceptConsent(p *browser.Page) error {
	deadline := time.Now().Add(20 * time.Second)
	// gone reports whether p closed or left Sigil's origin, seen twice 150 ms apart: while a
	// form post is answered and the next document replaces the old one, a single look can
	// catch a page in between.
	gone := func() (bool, error) {
		for look := 0; ; look++ {
			url, err := p.URL()
			switch {
			case p.Closed():
			case err != nil:
				return false, err
			case strings.HasPrefix(url, e.IdP), url == "", url == "about:blank":
				return false, nil
			}
			if look == 1 {
				return true, nil
			}
			time.Sleep(150 * time.Millisecond)
		}
	}
	for time.Now().Before(deadline) {
		if left, err := gone(); left || err != nil {
			return err
		}
		if has, _ := browser.Eval[bool](p, `!!document.querySelector("button[name=consent][value=accept]")`); has {
			if err := p.Click("button[name=consent][value=accept]"); err != nil && !p.Closed() {
				return err
			}
		}
		if code, _ := browser.Eval[string](p, `(document.querySelector("[data-error-code]")||{}).textContent||""`); code != "" {
			return fmt.Errorf("sigil shows an error: %s", strings.TrimSpace(code))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("still on Sigil's pages after 20s")
}
