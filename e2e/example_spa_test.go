package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/e2e/harness"
)

// spaExample is one of the bundled example apps (examples/react, examples/angular) open in
// one tab. Both show what they did in elements with a data-testid.
type spaExample struct {
	t *testing.T
	e *harness.Env
	p *browser.Page
}

// startSPAExample builds examples/<name>, serves it at the test app's origin and opens path.
func startSPAExample(t *testing.T, name, path string) *spaExample {
	t.Helper()
	e := harness.Start(t, harness.Options{Site: harness.BuildExample(t, name)})
	p, err := e.Browser.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(e.SPA + path); err != nil {
		t.Fatal(err)
	}
	return &spaExample{t: t, e: e, p: p}
}

// spaOutcome is what an example shows: the text of each element with a data-testid (the
// first, when several share one).
type spaOutcome map[string]string

// String shows the outcome as JSON, for failure messages.
func (o spaOutcome) String() string {
	b, _ := json.Marshal(map[string]string(o))
	return string(b)
}

// outcome reads what the page shows now.
func (a *spaExample) outcome() spaOutcome {
	a.t.Helper()
	o, err := a.readOutcome()
	if err != nil {
		a.t.Fatalf("reading the page: %v", err)
	}
	return o
}

func (a *spaExample) readOutcome() (spaOutcome, error) {
	return browser.Eval[spaOutcome](a.p, `(() => {
		const o = {};
		for (const el of document.querySelectorAll("[data-testid]")) {
			if (!(el.dataset.testid in o)) o[el.dataset.testid] = el.textContent.trim();
		}
		return o;
	})()`)
}

// waitFor polls the page until done accepts what it shows, and returns that.
func (a *spaExample) waitFor(what string, done func(spaOutcome) bool) spaOutcome {
	a.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	var last spaOutcome
	var lastErr error
	for time.Now().Before(deadline) {
		o, err := a.readOutcome()
		if err == nil && done(o) {
			return o
		}
		if err == nil {
			last = o
		}
		lastErr = err
		time.Sleep(50 * time.Millisecond)
	}
	url, _ := a.p.URL()
	logs := a.p.Logs()
	if len(logs) > 30 {
		logs = logs[len(logs)-30:]
	}
	a.t.Fatalf("waiting for %s: page %s shows %s (last read error: %v); the page's last log lines:\n%s",
		what, url, last, lastErr, strings.Join(logs, "\n"))
	return nil
}

// click clicks an element of the example.
func (a *spaExample) click(css string) {
	a.t.Helper()
	if err := a.p.Click(css); err != nil {
		a.t.Fatalf("%v; page shows %s", err, a.outcome())
	}
}

// popupSignIn clicks an element that makes MSAL open a popup, signs in there as username,
// and returns the popup.
func (a *spaExample) popupSignIn(css, username string) *browser.Page {
	a.t.Helper()
	wait := a.p.ExpectPopup()
	a.click(css)
	return a.signInPopup(wait, css, username)
}

// signInPopup waits for the popup that wait expects, signs in there as username, and
// returns the popup.
func (a *spaExample) signInPopup(wait func(time.Duration) (*browser.Page, error), what, username string) *browser.Page {
	a.t.Helper()
	popup, err := wait(20 * time.Second)
	if err != nil {
		a.t.Fatalf("%s opened no popup: %v; page shows %s", what, err, a.outcome())
	}
	if err := a.e.SignIn(popup, username); err != nil {
		a.t.Fatalf("%s: signing in in the popup: %v", what, err)
	}
	return popup
}

// endSession ends Sigil's session (its cookies go) and makes MSAL forget every cached token —
// access, refresh and ID tokens, in sessionStorage and localStorage — so that only an
// interaction can get a new access token.
func (a *spaExample) endSession() {
	a.t.Helper()
	if err := a.e.Browser.DeleteCookies(a.e.IdP + "/"); err != nil {
		a.t.Fatal(err)
	}
	removed, err := browser.Eval[[]string](a.p, `(() => {
		const removed = [];
		for (const store of [localStorage, sessionStorage]) {
			for (const k of Object.keys(store)) {
				if (["accesstoken", "refreshtoken", "idtoken"].some((kind) => k.toLowerCase().includes(kind))) {
					store.removeItem(k);
					removed.push(k);
				}
			}
		}
		return removed;
	})()`)
	if err != nil {
		a.t.Fatal(err)
	}
	for _, kind := range []string{"accesstoken", "refreshtoken", "idtoken"} {
		found := false
		for _, k := range removed {
			found = found || strings.Contains(strings.ToLower(k), kind)
		}
		if !found {
			a.t.Fatalf("MSAL's cache held no %s entry to remove; removed %q", kind, removed)
		}
	}
}
