package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/harness"
)

// TestExampleReact clicks through examples/react, @azure/msal-react on React 19: sign-in by
// popup shows the account in AuthenticatedTemplate; "Call API" runs the documented pattern
// (acquireTokenSilent, acquireTokenPopup on InteractionRequiredAuthError) and calls Sigil's
// GET /v1.0/me with the token; the next call is served from MSAL's cache; and once Sigil's
// session and the cached tokens are gone, the silent call fails fast with
// InteractionRequiredAuthError and the popup fallback recovers.
func TestExampleReact(t *testing.T) {
	a := startSPAExample(t, "react", "/")
	o := a.waitFor("MSAL to start", func(o spaOutcome) bool { return o["in-progress"] == "none" })
	if !strings.HasPrefix(o["msal-version"], "5.") || !strings.HasPrefix(o["msal-react-version"], "5.") {
		t.Fatalf("examples/react runs msal-browser %q and msal-react %q, want 5.x", o["msal-version"], o["msal-react-version"])
	}
	if _, signedIn := o["account"]; signedIn {
		t.Fatalf("AuthenticatedTemplate renders before sign-in: %s", o)
	}

	a.popupSignIn("#sign-in", harness.Alice)
	o = a.waitFor("loginPopup", func(o spaOutcome) bool { return o["account"] != "" || o["error-code"] != "" })
	if o["account"] != harness.Alice || o["error-code"] != "" {
		t.Fatalf("after Sign in: want AuthenticatedTemplate showing %s, got %s", harness.Alice, o)
	}

	call := func(what string) spaOutcome {
		t.Helper()
		n, err := strconv.Atoi(a.outcome()["done"])
		if err != nil {
			t.Fatalf("done counter: %v", err)
		}
		a.click("#call-api")
		return a.waitFor(what, func(o spaOutcome) bool { return o["done"] == strconv.Itoa(n+1) })
	}
	o = call("the first Call API")
	if o["api-result"] != harness.Alice || o["api-status"] != "200" || o["error-code"] != "" || o["silent-error"] != "" {
		t.Fatalf("Call API: want GET /v1.0/me to answer %s, got %s", harness.Alice, o)
	}

	tokens, authorize := a.e.Requests.TokenRequests(), a.authorizeRequests()
	o = call("the second Call API")
	if o["from-cache"] != "true" || o["token-source"] != "cache" || o["api-result"] != harness.Alice {
		t.Fatalf("second Call API: want the token from the cache, got %s", o)
	}
	if got := a.e.Requests.TokenRequests(); got != tokens || a.authorizeRequests() != authorize {
		t.Fatalf("a cache hit went to Sigil: token requests %d → %d, authorize requests %d → %d",
			tokens, got, authorize, a.authorizeRequests())
	}

	a.endSession()
	iframes := a.e.Requests.SilentAuthorizeRequests()
	wait := a.p.ExpectPopup()
	a.click("#call-api")
	o = a.waitFor("acquireTokenSilent without a session", func(o spaOutcome) bool { return o["silent-error"] != "" || o["done"] == "4" })
	ms, err := strconv.ParseFloat(o["silent-ms"], 64)
	if o["silent-error-type"] != "InteractionRequiredAuthError" || err != nil || ms >= 3000 {
		t.Fatalf("without Sigil's session and cached tokens: want InteractionRequiredAuthError within 3 s, got %s", o)
	}
	if got := a.e.Requests.SilentAuthorizeRequests(); got != iframes+1 {
		t.Fatalf("prompt=none authorize requests %d → %d, want one (the hidden iframe)", iframes, got)
	}
	t.Logf("acquireTokenSilent failed after %.0f ms with %s", ms, o["silent-error"])
	a.signInPopup(wait, "the acquireTokenPopup fallback", harness.Alice)
	o = a.waitFor("acquireTokenPopup", func(o spaOutcome) bool { return o["done"] == "4" })
	if o["token-source"] != "popup" || o["api-result"] != harness.Alice || o["error-code"] != "" || o["account"] != harness.Alice {
		t.Fatalf("after the popup fallback: want the API answering %s, got %s", harness.Alice, o)
	}
}

// authorizeRequests counts the authorization requests Sigil received.
func (a *spaExample) authorizeRequests() int {
	return a.e.Requests.Count(func(r harness.Request) bool { return strings.HasSuffix(r.Path, "/oauth2/v2.0/authorize") })
}

// TestExampleReactTodoAPI clicks examples/react's "Call Todo API" against examples/todo-api:
// the first call needs consent for api://todo/Todo.Read, which the popup fallback gets; after a
// security event the API answers with a claims challenge, and the app's
// acquireTokenSilent({claims}) gets a token the API accepts, with no popup.
func TestExampleReactTodoAPI(t *testing.T) {
	a := startSPAExample(t, "react", "/")
	apiURL, event := startTodoAPI(t, a.e)
	a.e.SetTodoAPI(apiURL)
	if err := a.p.Navigate(a.e.SPA + "/"); err != nil { // reload: /config.js now names the API
		t.Fatal(err)
	}
	a.waitFor("MSAL to start", func(o spaOutcome) bool { return o["in-progress"] == "none" })
	a.popupSignIn("#sign-in", harness.Alice)
	a.waitFor("loginPopup", func(o spaOutcome) bool { return o["account"] != "" })

	call := func(what string, popup bool) spaOutcome {
		t.Helper()
		n, _ := strconv.Atoi(a.outcome()["done"])
		if popup { // no consent for api://todo yet: acquireTokenSilent fails, the popup asks
			wait := a.p.ExpectPopup()
			a.click("#call-todo-api")
			p, err := wait(20 * time.Second)
			if err != nil {
				t.Fatalf("%s opened no popup: %v; page shows %s", what, err, a.outcome())
			}
			if err := a.e.AcceptConsent(p); err != nil { // signed in already: only consent
				t.Fatalf("%s: consent in the popup: %v", what, err)
			}
		} else {
			a.click("#call-todo-api")
		}
		return a.waitFor(what, func(o spaOutcome) bool { return o["done"] == strconv.Itoa(n+1) })
	}
	o := call("the first Call Todo API", true)
	if o["api-status"] != "200" || !strings.Contains(o["todo-result"], `"todos"`) || o["claims-challenge"] != "" {
		t.Fatalf("Call Todo API: %s", o)
	}
	notBefore := event()
	tokens := a.e.Requests.TokenRequests()
	o = call("Call Todo API after a security event", false)
	if o["api-status"] != "200" || !strings.Contains(o["claims-challenge"], strconv.FormatInt(notBefore, 10)) || o["error-code"] != "" {
		t.Fatalf("after the security event: want the challenge met, got %s", o)
	}
	if a.e.Requests.TokenRequests() != tokens+1 {
		t.Errorf("the challenge took %d token requests, want 1 (the refresh with the claims)", a.e.Requests.TokenRequests()-tokens)
	}
}
