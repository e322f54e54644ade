package e2e

import (
	"strings"
	"testing"

	"github.com/sigil-idp/sigil/e2e/harness"
)

// TestInteractionErrorsClassified checks that msal-browser 2 and 5 still classify Sigil's
// "the user must act" errors — whose error_description also carries the word
// interaction_required for MSAL 1.x apps — as InteractionRequiredAuthError with the right
// errorCode, and that an error of another kind is not taken for one.
func TestInteractionErrorsClassified(t *testing.T) {
	for _, page := range []string{"msal2.html", "msal5.html"} {
		t.Run(strings.TrimSuffix(page, ".html"), func(t *testing.T) {
			e := harness.Start(t, harness.Options{})
			p := e.OpenApp(page)
			mustSucceed(t, "loginPopup", e.WithPopup(p, "t.loginPopup("+userRead+")", harness.Alice))

			// An API the user never consented to, asked for silently: the refresh token
			// answers invalid_grant with suberror consent_required, and without it the
			// hidden iframe answers consent_required. Both are interaction errors.
			r := e.Call(p, `t.silent(["api://todo/Todo.Read"], {forceRefresh: true})`)
			if r.Error == nil || !r.Error.InteractionRequired || r.Error.SubError != "consent_required" && r.Error.ErrorCode != "consent_required" {
				t.Errorf("unconsented API through the refresh token: want InteractionRequiredAuthError for consent, got %s", r)
			}
			forget(t, p, "refreshtoken")
			iframes := e.Requests.SilentAuthorizeRequests()
			r = e.Call(p, `t.silent(["api://todo/Todo.Read"], {forceRefresh: true})`)
			if r.Error == nil || !r.Error.InteractionRequired || r.Error.ErrorCode != "consent_required" ||
				!strings.Contains(r.Error.ErrorMessage, "AADSTS65001") || e.Requests.SilentAuthorizeRequests() != iframes+1 {
				t.Errorf("unconsented API through the iframe: want InteractionRequiredAuthError consent_required (AADSTS65001), got %s", r)
			}

			// No session (and no refresh token): login_required, at once.
			if err := e.Browser.DeleteCookies(e.IdP + "/"); err != nil {
				t.Fatal(err)
			}
			r = e.Call(p, "t.silent("+userRead+", {forceRefresh: true})")
			if r.Error == nil || !r.Error.InteractionRequired || r.Error.ErrorCode != "login_required" || r.MS >= 3000 {
				t.Errorf("no session: want InteractionRequiredAuthError login_required in under 3 s, got %s", r)
			}

			// An unknown API is a plain server error, not an interaction.
			r = e.Call(p, `t.silent(["api://nope/Nope.Read"], {forceRefresh: true})`)
			if r.Error == nil || r.Error.InteractionRequired {
				t.Errorf("unknown API: want a non-interaction error, got %s", r)
			}
		})
	}
}
