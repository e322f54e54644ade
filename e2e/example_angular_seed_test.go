package e2e

import (
	"strings"
	"testing"

	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/e2e/harness"
)

// TestExampleAngularSeed clicks through examples/angular-seed, Microsoft's documented
// msal-angular 1.x code (MsalModule.forRoot, MsalInterceptor, a BroadcastService subscription
// to msal:acquireTokenFailure) on Angular 9 and msal 1.x: popup sign-in; the interceptor's
// bearer access token on the protected API, from the hidden iframe and then from the cache;
// the ID token it sends to the app's own origin and nothing it sends to another unmapped
// origin; once Sigil's session and the cached access tokens are gone, msal:acquireTokenFailure
// within 3 s and the handler's acquireTokenPopup and retried call; and ngOnDestroy, which
// closes the subscription without an error.
func TestExampleAngularSeed(t *testing.T) {
	a := startAngularSeed(t)
	a.popupSignIn("#login", harness.Alice)
	o := a.waitFor("loginPopup", func(o spaOutcome) bool { return o["account"] != "" || o["error"] != "" })
	if o["account"] != harness.Alice || o["account-name"] != "Alice Example" || o["error"] != "" {
		t.Fatalf("after Sign in (popup): want the account %s, got %s", harness.Alice, o)
	}
	if a.eventAfter(0, "msal:loginSuccess") == nil {
		t.Fatalf("no msal:loginSuccess among %v", a.events())
	}

	// The first protected call: no access token in the cache, so msal 1.x gets one in its
	// hidden iframe (prompt=none, answered from Sigil's session).
	iframes := a.e.Requests.SilentAuthorizeRequests()
	seen := len(a.events())
	o = a.ngCall("#call-api", "api-done", "the first protected call")
	if o["api-result"] != harness.Alice || o["api-error"] != "" || !strings.HasPrefix(o["api-sent"], "Bearer access token") {
		t.Fatalf("Call the profile API: want GET /v1.0/me with the interceptor's bearer access token to answer %s, got %s", harness.Alice, o)
	}
	if got := a.e.Requests.SilentAuthorizeRequests(); got != iframes+1 {
		t.Fatalf("the first protected call: prompt=none authorize requests %d → %d, want one more (the hidden iframe)", iframes, got)
	}
	if ev := a.eventAfter(seen, "msal:acquireTokenSuccess"); ev == nil || !strings.HasPrefix(ev.Detail, "access_token") {
		t.Fatalf("the first protected call: want msal:acquireTokenSuccess with an access token among %v", a.events()[seen:])
	}

	// An unmapped URL on the app's own origin: msal-angular 1.x maps it to the scope
	// [clientId] and sends the ID token as the bearer token.
	o = a.ngCall("#call-own", "own-done", "the call of /api/headers")
	idToken := cachedIDToken(t, a.p)
	if o["own-error"] != "" || !strings.HasPrefix(o["own-result"], "Bearer ID token (aud "+harness.ClientID+")") || o["own-raw"] != "Bearer "+idToken {
		t.Fatalf("/api/headers (same origin, not in protectedResourceMap): want msal-angular 1.x to send MSAL's cached ID token as the bearer token, got %s", o)
	}
	t.Logf("/api/headers got: %s", o["own-result"])

	// An unmapped URL on another origin: no token at all. Sigil's userinfo endpoint says so.
	o = a.ngCall("#call-other", "other-done", "the call of Sigil's userinfo")
	if o["other-sent"] != "none" || !strings.HasPrefix(o["other-result"], "401") || !strings.Contains(o["other-result"], "no bearer token") ||
		strings.Contains(o["other-challenge"], "error=") {
		t.Fatalf("Sigil's /oidc/userinfo (other origin, not in protectedResourceMap): want no Authorization header and Sigil's 401 \"no bearer token\", got %s", o)
	}

	// The second protected call takes the access token from MSAL's cache.
	iframes = a.e.Requests.SilentAuthorizeRequests()
	before := a.e.Requests.Count(func(r harness.Request) bool { return r.Path != "/v1.0/me" })
	seen = len(a.events())
	o = a.ngCall("#call-api", "api-done", "the second protected call")
	if o["api-result"] != harness.Alice || !strings.HasPrefix(o["api-sent"], "Bearer access token") {
		t.Fatalf("the second protected call: %s", o)
	}
	if got := a.e.Requests.SilentAuthorizeRequests(); got != iframes {
		t.Fatalf("the second protected call: prompt=none authorize requests %d → %d, want none (the cache)", iframes, got)
	}
	if got := a.e.Requests.Count(func(r harness.Request) bool { return r.Path != "/v1.0/me" }); got != before {
		t.Fatalf("the second protected call sent %d request(s) to Sigil besides the API call", got-before)
	}
	if ev := a.eventAfter(seen, "msal:acquireTokenSuccess"); ev == nil || !strings.HasSuffix(ev.Detail, "(from the cache)") {
		t.Fatalf("the second protected call: want msal:acquireTokenSuccess from the cache among %v", a.events()[seen:])
	}

	// Sigil's session ends and MSAL forgets its access tokens (it keeps the ID token and so
	// the account): the interceptor's acquireTokenSilent fails, msal-angular broadcasts
	// msal:acquireTokenFailure, and the app's handler gets a token with a popup and calls again.
	if err := a.e.Browser.DeleteCookies(a.e.IdP + "/"); err != nil {
		t.Fatal(err)
	}
	// msal 1.x's default cache is sessionStorage (msal-angular passes none other): its token
	// entries are there, none in localStorage.
	keys, err := browser.Eval[map[string][]string](a.p, `({session: Object.keys(sessionStorage), local: Object.keys(localStorage)})`)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys["local"] {
		if strings.Contains(k, "scopes") || strings.HasPrefix(k, "msal.") {
			t.Fatalf("MSAL keeps %q in localStorage; the test removes access tokens from sessionStorage only", k)
		}
	}
	t.Logf("MSAL's sessionStorage keys: %q", keys["session"])
	(&msal1App{a}).forgetAccessTokens()
	iframes = a.e.Requests.SilentAuthorizeRequests()
	seen = len(a.events())
	done := a.outcome()["api-done"]
	wait := a.p.ExpectPopup()
	a.click("#call-api")
	o = a.waitFor("msal:acquireTokenFailure", func(o spaOutcome) bool { return o["api-done"] != done })
	ev := a.eventAfter(seen, "msal:acquireTokenFailure")
	if ev == nil || ev.MS >= 3000 || o["failure-ms"] == "" {
		t.Fatalf("without Sigil's session: want msal:acquireTokenFailure within 3 s of the click, got events %v and %s", a.events()[seen:], o)
	}
	if got := a.e.Requests.SilentAuthorizeRequests(); got != iframes+1 {
		t.Fatalf("without Sigil's session: prompt=none authorize requests %d → %d, want one more", iframes, got)
	}
	t.Logf("msal:acquireTokenFailure %d ms after the click (the handler saw it after %s ms): %s", ev.MS, o["failure-ms"], ev.Detail)
	a.signInPopup(wait, "the acquireTokenFailure handler's acquireTokenPopup", harness.Alice)
	o = a.waitFor("the call after acquireTokenPopup", func(o spaOutcome) bool {
		return o["api-result"] != "" || o["recovered"] == "no"
	})
	if o["recovered"] != "yes" || o["api-result"] != harness.Alice || !strings.HasPrefix(o["api-sent"], "Bearer access token") {
		t.Fatalf("after the handler's acquireTokenPopup: want the API call again answering %s, got %s", harness.Alice, o)
	}

	// AppComponent goes: its ngOnDestroy runs the documented code to the end and its
	// subscription is gone; then it comes back, still signed in, and subscribes again.
	if n := a.outcome()["destroy-count"]; n != "0" {
		t.Fatalf("ngOnDestroy ran %s time(s) before the component was removed", n)
	}
	a.click("#toggle")
	o = a.waitFor("AppComponent to go", func(o spaOutcome) bool { return o["component-shown"] == "removed" })
	if o["destroy-count"] != "1" || o["destroy-subscription-closed"] != "true" || o["destroy-observers"] != "2 → 1" || o["uncaught-errors"] != "" {
		t.Fatalf("removing AppComponent: want one clean run of ngOnDestroy that closes the subscription, got %s", o)
	}
	if _, shown := o["account"]; shown {
		t.Fatalf("AppComponent still shows after its removal: %s", o)
	}
	a.click("#toggle")
	o = a.waitFor("AppComponent to come back", func(o spaOutcome) bool { return o["component-shown"] == "shown" })
	if o["account"] != harness.Alice || o["destroy-observers"] != "1 → 2" || o["uncaught-errors"] != "" {
		t.Fatalf("adding AppComponent again: want it signed in and subscribed once more, got %s", o)
	}
}

// startAngularSeed opens examples/angular-seed and waits for Angular to render it.
func startAngularSeed(t *testing.T) *spaExample {
	t.Helper()
	a := startSPAExample(t, "angular-seed", "/")
	o := a.waitFor("Angular to start", func(o spaOutcome) bool { return o["versions"] != "" || o["bootstrap-error"] != "" })
	if !strings.HasPrefix(o["versions"], "Angular 9.") || !strings.Contains(o["versions"], "msal 1.") {
		t.Fatalf("examples/angular-seed runs %q, want Angular 9 and msal 1.x; page shows %s", o["versions"], o)
	}
	if o["account"] != "" || o["api-done"] != "0" {
		t.Fatalf("the page shows an account or calls before sign-in: %s", o)
	}
	return a
}

// cachedIDToken returns the raw ID token msal 1.x keeps in sessionStorage.
func cachedIDToken(t testing.TB, p *browser.Page) string {
	t.Helper()
	tok, err := browser.Eval[string](p, `(() => {
		for (const k of Object.keys(sessionStorage)) if (k.endsWith(".idtoken")) return sessionStorage.getItem(k);
		return "";
	})()`)
	if err != nil || tok == "" {
		t.Fatalf("no ID token in MSAL's sessionStorage (%v)", err)
	}
	return tok
}
