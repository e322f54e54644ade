package e2e

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/e2e/harness"
)

// TestExampleAngularInterceptor clicks through examples/angular, @azure/msal-angular with
// MsalInterceptor: HttpClient calls of the protected API (Sigil's GET /v1.0/me) carry
// "Authorization: Bearer", calls of the unprotected /api/headers do not; the second protected
// call takes its token from MSAL's cache; and once Sigil's session and the cached tokens are
// gone, MsalBroadcastService reports msal:acquireTokenFailure within 3 s and the
// interceptor's own popup fallback gets a token the API accepts.
func TestExampleAngularInterceptor(t *testing.T) {
	a := startAngular(t)
	a.popupSignIn("#sign-in", harness.Alice)
	o := a.waitFor("loginPopup", func(o spaOutcome) bool { return o["account"] != "" || o["sign-in-error"] != "" })
	if o["account"] != harness.Alice {
		t.Fatalf("after Sign in: want the account %s, got %s", harness.Alice, o)
	}

	o = a.ngCall("#call-api", "api-done", "the first protected call")
	if o["api-status"] != "200" || o["api-result"] != harness.Alice || o["api-error-code"] != "" {
		t.Fatalf("Call API: want GET /v1.0/me, with the interceptor's bearer token, to answer %s; got %s", harness.Alice, o)
	}

	o = a.ngCall("#call-headers", "headers-done", "the unprotected call")
	var echo struct {
		Authorization *string `json:"authorization"`
	}
	if err := json.Unmarshal([]byte(o["headers-result"]), &echo); err != nil || echo.Authorization == nil {
		t.Fatalf("Call /api/headers: want its JSON answer, got %s (%v)", o, err)
	}
	if got := *echo.Authorization; got != "" {
		t.Fatalf("the interceptor sent Authorization %q… to /api/headers, which is not in protectedResourceMap", got[:min(len(got), 24)])
	}

	tokens, authorize := a.e.Requests.TokenRequests(), a.authorizeRequests()
	seen := len(a.events())
	o = a.ngCall("#call-api", "api-done", "the second protected call")
	if o["api-result"] != harness.Alice || o["from-cache"] != "true" {
		t.Fatalf("second Call API: want a token from the cache, got %s", o)
	}
	if got := a.e.Requests.TokenRequests(); got != tokens || a.authorizeRequests() != authorize {
		t.Fatalf("a cache hit went to Sigil: token requests %d → %d, authorize requests %d → %d",
			tokens, got, authorize, a.authorizeRequests())
	}
	if ev := a.eventAfter(seen, "msal:acquireTokenSuccess"); ev == nil || ev.Detail != "fromCache=true" {
		t.Fatalf("second Call API: want msal:acquireTokenSuccess with fromCache=true among %v", a.events()[seen:])
	}

	a.endSession()
	seen = len(a.events())
	done := a.outcome()["api-done"]
	wait := a.p.ExpectPopup()
	a.click("#call-api")
	var failure *ngEvent
	deadline := time.Now().Add(30 * time.Second)
	for failure == nil && time.Now().Before(deadline) {
		failure = a.eventAfter(seen, "msal:acquireTokenFailure")
		time.Sleep(50 * time.Millisecond)
	}
	if failure == nil || failure.MS >= 3000 {
		t.Fatalf("without Sigil's session and cached tokens: want msal:acquireTokenFailure within 3 s, got %v", a.events()[seen:])
	}
	t.Logf("msal:acquireTokenFailure %d ms after the click (%s)", failure.MS, failure.Detail)
	a.signInPopup(wait, "the interceptor's acquireTokenPopup", harness.Alice)
	o = a.waitFor("the protected call after the popup", func(o spaOutcome) bool { return o["api-done"] != done })
	if o["api-status"] != "200" || o["api-result"] != harness.Alice || o["api-error-code"] != "" {
		t.Fatalf("after the interceptor's popup: want the API answering %s, got %s", harness.Alice, o)
	}
	if a.eventAfter(seen, "msal:popupOpened") == nil || a.eventAfter(seen, "msal:acquireTokenSuccess") == nil {
		t.Fatalf("want msal:popupOpened and msal:acquireTokenSuccess after the failure, got %v", a.events()[seen:])
	}
}

// TestExampleAngularGuard checks MsalGuard on examples/angular's /profile route: without an
// account the guard signs in by popup before the route renders; with one the route renders
// at once, with no request to Sigil.
func TestExampleAngularGuard(t *testing.T) {
	a := startAngular(t)
	wait := a.p.ExpectPopup()
	a.click("#nav-profile")
	popup, err := wait(20 * time.Second)
	if err != nil {
		t.Fatalf("the guarded route opened no sign-in popup: %v; page shows %s", err, a.outcome())
	}
	if o := a.outcome(); o["profile"] != "" {
		t.Fatalf("the guarded route rendered before sign-in: %s", o)
	}
	if err := a.e.SignIn(popup, harness.Alice); err != nil {
		t.Fatalf("signing in in MsalGuard's popup: %v", err)
	}
	o := a.waitFor("the guarded route", func(o spaOutcome) bool { return o["profile-account"] != "" })
	if o["profile-account"] != harness.Alice || o["account"] != harness.Alice {
		t.Fatalf("after MsalGuard's popup: want /profile for %s, got %s", harness.Alice, o)
	}

	a.click("#nav-home")
	a.waitFor("the home route", func(o spaOutcome) bool { _, home := o["api-done"]; return home })
	authorize := a.authorizeRequests()
	a.click("#nav-profile")
	o = a.waitFor("the guarded route, signed in", func(o spaOutcome) bool { return o["profile-account"] != "" })
	if o["profile-account"] != harness.Alice || a.authorizeRequests() != authorize {
		t.Fatalf("signed in, /profile should render without an interaction: authorize requests %d → %d, page shows %s",
			authorize, a.authorizeRequests(), o)
	}
}

// startAngular opens examples/angular and waits for MSAL to start.
func startAngular(t *testing.T) *spaExample {
	t.Helper()
	a := startSPAExample(t, "angular", "/")
	o := a.waitFor("MSAL to start", func(o spaOutcome) bool { return o["in-progress"] == "none" })
	if !strings.HasPrefix(o["msal-version"], "5.") || !strings.HasPrefix(o["msal-angular-version"], "6.") {
		t.Fatalf("examples/angular runs msal-browser %q and msal-angular %q, want 5.x and 6.x", o["msal-version"], o["msal-angular-version"])
	}
	if _, signedIn := o["account"]; signedIn {
		t.Fatalf("an account shows before sign-in: %s", o)
	}
	return a
}

// ngCall clicks a button that makes an HttpClient call and waits until the page counts the
// call done in the element with data-testid counter.
func (a *spaExample) ngCall(css, counter, what string) spaOutcome {
	a.t.Helper()
	n, err := strconv.Atoi(a.outcome()[counter])
	if err != nil {
		a.t.Fatalf("%s counter: %v; page shows %s", counter, err, a.outcome())
	}
	a.click(css)
	return a.waitFor(what, func(o spaOutcome) bool { return o[counter] == strconv.Itoa(n+1) })
}

// ngEvent is an MSAL event as examples/angular lists it.
type ngEvent struct {
	N      int    `json:"n"`
	Type   string `json:"type"`
	MS     int    `json:"ms"` // after the last button press, measured in the page
	Detail string `json:"detail"`
}

// String shows the event as n:type@ms(detail), for failure messages.
func (e ngEvent) String() string { return fmt.Sprintf("%d:%s@%dms(%s)", e.N, e.Type, e.MS, e.Detail) }

// events returns the MSAL events the page lists.
func (a *spaExample) events() []ngEvent {
	a.t.Helper()
	evs, err := browser.Eval[[]ngEvent](a.p, `[...document.querySelectorAll("[data-testid=event]")].map((el) => ({
		n: +el.dataset.n, type: el.textContent.trim(), ms: +el.dataset.ms, detail: el.dataset.detail || ""}))`)
	if err != nil {
		a.t.Fatal(err)
	}
	return evs
}

// eventAfter returns the first event of type eventType after the first skip events, or nil.
func (a *spaExample) eventAfter(skip int, eventType string) *ngEvent {
	a.t.Helper()
	evs := a.events()
	for i := skip; i < len(evs); i++ {
		if evs[i].Type == eventType {
			return &evs[i]
		}
	}
	return nil
}
