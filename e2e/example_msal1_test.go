package e2e

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/e2e/harness"
)

// TestExampleMSAL1PopupAndSilent clicks through examples/msal1, Microsoft's documented
// MSAL 1.x snippet (acquireTokenSilent, then acquireTokenPopup when errorMessage contains
// "interaction_required"): popup sign-in, a token from the hidden iframe (prompt=none) and the
// API call with it, a cache hit with no request to Sigil but the API call, and — once Sigil's session and the
// cached access tokens are gone — a fast interaction_required failure that the snippet's popup
// recovers from.
func TestExampleMSAL1PopupAndSilent(t *testing.T) {
	a := startMSAL1(t)
	a.popupSignIn("#sign-in", harness.Alice)
	a.waitFor("loginPopup", func(o spaOutcome) bool { return o["account"] != "" || o["error-code"] != "" })
	o := a.outcome()
	if o["account"] != harness.Alice || o["token-source"] != "popup" || o["error-code"] != "" {
		t.Fatalf("after Sign in (popup): %s", o)
	}

	iframes := a.e.Requests.SilentAuthorizeRequests()
	a.click("#get-token")
	o = a.waitFor("acquireTokenSilent by iframe", apiDoneOrFailed)
	if o["token-source"] != "hidden iframe" || o["api-result"] != harness.Alice || o["error-code"] != "" {
		t.Fatalf("Get token after sign-in: want a token from the hidden iframe and the API answering %s, got %s", harness.Alice, o)
	}
	if got := a.e.Requests.SilentAuthorizeRequests(); got != iframes+1 {
		t.Fatalf("prompt=none authorize requests %d → %d, want one more (the hidden iframe)", iframes, got)
	}

	before := a.requestsBesidesAPI()
	a.click("#get-token")
	o = a.waitFor("acquireTokenSilent from the cache", apiDoneOrFailed)
	if o["token-source"] != "cache" || o["api-result"] != harness.Alice {
		t.Fatalf("second Get token: want a cache hit, got %s", o)
	}
	if got := a.requestsBesidesAPI(); got != before {
		t.Fatalf("a cache hit sent %d request(s) to Sigil besides the API call", got-before)
	}

	// Sigil's session ends, and MSAL forgets its access tokens but keeps the account.
	if err := a.e.Browser.DeleteCookies(a.e.IdP + "/"); err != nil {
		t.Fatal(err)
	}
	a.forgetAccessTokens()
	iframes = a.e.Requests.SilentAuthorizeRequests()
	wait := a.p.ExpectPopup()
	a.click("#get-token")
	o = a.waitFor("acquireTokenSilent without a session", func(o spaOutcome) bool { return o["error-code"] != "" })
	ms, err := strconv.ParseFloat(o["silent-ms"], 64)
	if err != nil || ms >= 3000 || !strings.Contains(o["error-message"], "interaction_required") {
		t.Fatalf("without Sigil's session: want acquireTokenSilent to fail within 3 s with an errorMessage containing interaction_required, got %s", o)
	}
	if got := a.e.Requests.SilentAuthorizeRequests(); got != iframes+1 {
		t.Fatalf("prompt=none authorize requests %d → %d, want one more", iframes, got)
	}
	t.Logf("silent failure after %.0f ms: %s: %s", ms, o["error-code"], o["error-message"])
	popup, err := wait(20 * time.Second)
	if err != nil {
		t.Fatalf("the snippet opened no acquireTokenPopup after interaction_required: %v; page shows %s", err, a.outcome())
	}
	if err := a.e.SignIn(popup, harness.Alice); err != nil {
		t.Fatalf("signing in in the acquireTokenPopup window: %v", err)
	}
	silentErr := o["error-code"] + o["error-message"]
	o = a.waitFor("acquireTokenPopup", func(o spaOutcome) bool {
		return o["api-result"] != "" || o["error-code"]+o["error-message"] != silentErr
	})
	if o["token-source"] != "popup" || o["api-result"] != harness.Alice {
		t.Fatalf("after the snippet's acquireTokenPopup: want the API answering %s, got %s", harness.Alice, o)
	}
}

// TestExampleMSAL1Redirect walks the redirect variant of the snippet in one tab:
// loginRedirect, then — with Sigil's session ended — acquireTokenSilent failing with
// interaction_required, acquireTokenRedirect, sign-in on Sigil's page, and the response handed
// to the app's authCallback by handleRedirectCallback.
func TestExampleMSAL1Redirect(t *testing.T) {
	a := startMSAL1(t)
	a.click("#sign-in-redirect")
	if err := a.e.SignIn(a.p, harness.Alice); err != nil {
		t.Fatalf("loginRedirect: signing in on Sigil's page: %v", err)
	}
	o := a.waitFor("authCallback after loginRedirect", func(o spaOutcome) bool {
		return strings.HasPrefix(o["action"], "the redirect response") && (o["token-source"] != "" || o["error-code"] != "")
	})
	if o["account"] != harness.Alice || o["token-source"] != "redirect" || o["error-code"] != "" || o["id-token-claims"] == "" {
		t.Fatalf("authCallback after loginRedirect: %s", o)
	}

	if err := a.e.Browser.DeleteCookies(a.e.IdP + "/"); err != nil {
		t.Fatal(err)
	}
	iframes := a.e.Requests.SilentAuthorizeRequests()
	a.click("#get-token-redirect")
	if err := a.e.SignIn(a.p, harness.Alice); err != nil {
		t.Fatalf("acquireTokenRedirect: signing in on Sigil's page: %v", err)
	}
	if got := a.e.Requests.SilentAuthorizeRequests(); got != iframes+1 {
		t.Fatalf("prompt=none authorize requests %d → %d: the redirect should follow one failed hidden-iframe attempt", iframes, got)
	}
	o = a.waitFor("authCallback after acquireTokenRedirect", func(o spaOutcome) bool {
		return strings.HasPrefix(o["action"], "the redirect response") && apiDoneOrFailed(o)
	})
	if o["token-source"] != "redirect" || o["api-result"] != harness.Alice || o["account"] != harness.Alice {
		t.Fatalf("authCallback after acquireTokenRedirect: want an access token that the API accepts for %s, got %s", harness.Alice, o)
	}

	// The token the redirect brought is in MSAL's cache now.
	before := a.requestsBesidesAPI()
	a.click("#get-token-redirect")
	o = a.waitFor("acquireTokenSilent after the redirect", apiDoneOrFailed)
	if o["token-source"] != "cache" || o["api-result"] != harness.Alice || a.requestsBesidesAPI() != before {
		t.Fatalf("Get token after acquireTokenRedirect: want a cache hit, got %s", o)
	}
}

// TestExampleMSAL1ClaimsRequest checks the optional-claims snippet: a claimsRequest for the
// ID token's auth_time, through loginPopup and through acquireTokenPopup (with "openid" among
// the scopes, so that MSAL 1.x asks for a new ID token), goes out as the claims parameter and
// the new ID token MSAL returns carries auth_time. (Sigil puts auth_time into every ID token,
// so the test checks that the token is the request's own, by its nonce, and not the cached one.)
func TestExampleMSAL1ClaimsRequest(t *testing.T) {
	a := startMSAL1(t)
	a.popupSignIn("#sign-in", harness.Alice)
	o := a.waitFor("loginPopup", func(o spaOutcome) bool { return o["account"] != "" || o["error-code"] != "" })
	if o["account"] != harness.Alice || o["error-code"] != "" {
		t.Fatalf("after Sign in (popup): %s", o)
	}
	plain := o.idTokenClaims(t)

	for _, c := range []struct{ button, what, responseType string }{
		{"#token-claims", "acquireTokenPopup with claimsRequest", "id_token token"},
		{"#sign-in-claims", "loginPopup with claimsRequest", "id_token"},
	} {
		start := time.Now().Truncate(time.Second)
		// Without Sigil's session the popup shows the sign-in page at the authorization
		// request's URL, so the browser records that URL.
		if err := a.e.Browser.DeleteCookies(a.e.IdP + "/"); err != nil {
			t.Fatal(err)
		}
		popup := a.popupSignIn(c.button, harness.Alice)
		o := a.waitFor(c.what, func(o spaOutcome) bool { return o["token-source"] != "" || o["error-code"] != "" })
		if o["token-source"] != "popup" || o["error-code"] != "" {
			t.Fatalf("%s: %s", c.what, o)
		}
		// MSAL sent the claims request, and asked for an ID token.
		authorize := a.authorizeURL(popup)
		q := authorize.Query()
		var claimsParam map[string]map[string]map[string]any
		if err := json.Unmarshal([]byte(q.Get("claims")), &claimsParam); err != nil || claimsParam["id_token"]["auth_time"]["essential"] != true ||
			q.Get("response_type") != c.responseType {
			t.Fatalf("%s: want response_type=%s and the claims request in %s", c.what, c.responseType, authorize)
		}
		claims := o.idTokenClaims(t)
		if claims["nonce"] == plain["nonce"] || claims["nonce"] != q.Get("nonce") {
			t.Fatalf("%s returned an ID token with nonce %v, not the new one of its request (%s): %s", c.what, claims["nonce"], q.Get("nonce"), o)
		}
		authTime, err := strconv.ParseInt(o["auth-time"], 10, 64)
		if err != nil || authTime < start.Unix() || authTime > time.Now().Unix() {
			t.Fatalf("%s: want the ID token to carry the auth_time of the sign-in in its popup (between %d and now), got %s", c.what, start.Unix(), o)
		}
		if c.responseType == "id_token token" && o["api-result"] == "" {
			o = a.waitFor(c.what+": the API call", apiDoneOrFailed)
		}
		if c.responseType == "id_token token" && o["api-result"] != harness.Alice {
			t.Fatalf("%s: the access token it returned: %s", c.what, o)
		}
	}
}

// msal1App is examples/msal1 open in one tab.
type msal1App struct {
	*spaExample
}

// startMSAL1 builds examples/msal1, serves it at the test app's origin and opens it.
func startMSAL1(t *testing.T) *msal1App {
	t.Helper()
	a := &msal1App{startSPAExample(t, "msal1", "/")}
	o := a.waitFor("the page to load", func(o spaOutcome) bool { return o["msal-version"] != "" })
	if !strings.HasPrefix(o["msal-version"], "1.") {
		t.Fatalf("examples/msal1 runs msal %q, want 1.x", o["msal-version"])
	}
	return a
}

// idTokenClaims decodes the ID token claims the page shows.
func (o spaOutcome) idTokenClaims(t *testing.T) map[string]any {
	t.Helper()
	var claims map[string]any
	if err := json.Unmarshal([]byte(o["id-token-claims"]), &claims); err != nil || len(claims) == 0 {
		t.Fatalf("the page shows no ID token claims (%v): %s", err, o)
	}
	return claims
}

// apiDoneOrFailed reports whether a Get token click has come to an end: the API answered,
// or an error shows.
func apiDoneOrFailed(o spaOutcome) bool { return o["api-result"] != "" || o["error-code"] != "" }

// authorizeURL returns the authorization request that a popup showed Sigil's sign-in page at.
func (a *msal1App) authorizeURL(popup *browser.Page) *url.URL {
	a.t.Helper()
	for _, line := range popup.Logs() {
		if u, ok := strings.CutPrefix(line, "navigated: "); ok && strings.HasPrefix(u, a.e.IdP) && strings.Contains(u, "/oauth2/v2.0/authorize?") {
			parsed, err := url.Parse(u)
			if err != nil {
				a.t.Fatal(err)
			}
			return parsed
		}
	}
	a.t.Fatalf("the popup loaded no authorization request: %q", popup.Logs())
	return nil
}

// requestsBesidesAPI counts the requests Sigil received other than calls of the API
// (GET /v1.0/me), which the app makes with every token.
func (a *msal1App) requestsBesidesAPI() int {
	return a.e.Requests.Count(func(r harness.Request) bool { return r.Path != "/v1.0/me" })
}

// forgetAccessTokens removes MSAL 1.x's cached access tokens from sessionStorage — the
// entries whose key is a JSON object with "scopes" — and checks that the ID token, from which
// MSAL 1.x builds the account, stays.
func (a *msal1App) forgetAccessTokens() {
	a.t.Helper()
	r, err := browser.Eval[struct {
		Removed []string `json:"removed"`
		Kept    []string `json:"kept"`
	}](a.p, `(() => {
		const removed = [], kept = [];
		for (const k of Object.keys(sessionStorage)) {
			let key = null;
			try { key = JSON.parse(k); } catch (e) {}
			if (key && typeof key === "object" && "scopes" in key) { sessionStorage.removeItem(k); removed.push(k); }
			else kept.push(k);
		}
		return {removed, kept};
	})()`)
	if err != nil {
		a.t.Fatal(err)
	}
	idToken := false
	for _, k := range r.Kept {
		idToken = idToken || strings.HasSuffix(k, ".idtoken")
	}
	if len(r.Removed) == 0 || !idToken {
		a.t.Fatalf("MSAL's sessionStorage: want access-token entries to remove and an ID token to keep; removed %q, kept %q", r.Removed, r.Kept)
	}
	a.t.Logf("removed %d cached access token(s)", len(r.Removed))
}
