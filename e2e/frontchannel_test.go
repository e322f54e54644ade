package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/e2e/harness"
	"github.com/sigil-idp/sigil/internal/config"
)

// TestFrontChannelLogout signs alice in to two apps that registered a logoutUrl — the test SPA
// with msal-browser 5 by popup, a second app by a plain authorization request in the same
// browser — and signs out with MSAL's logoutRedirect: Sigil's logout page loads both apps'
// logoutUrl with the issuer and the session's sid, then lands on the post-logout redirect URI;
// the SPA's backchannelLogoutUrl gets a logout token for the same sid.
func TestFrontChannelLogout(t *testing.T) { // and back-channel
	const second = "7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
	backchannel := make(chan string, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		backchannel <- r.PostForm.Get("logout_token")
	}))
	defer receiver.Close()
	e := harness.Start(t, harness.Options{Edit: func(c *config.Config) {
		apps := &c.Tenants[0].Apps
		origin := strings.TrimSuffix((*apps)[0].SPA.RedirectURIs[0], "/msal5.html")
		(*apps)[0].LogoutURL = origin + "/front-channel-logout?app=todo"
		(*apps)[0].BackchannelLogoutURL = receiver.URL + "/back-channel-logout"
		c.BackchannelLogout.AllowLocalAddresses = true
		*apps = append(*apps, config.App{DisplayName: "Second app", ClientID: second,
			SPA: config.Platform{RedirectURIs: []string{origin + "/blank.html"}}, LogoutURL: origin + "/front-channel-logout?app=second"})
	}})
	p := e.OpenApp("msal5.html")
	r := mustSucceed(t, "loginPopup", e.WithPopup(p, "t.loginPopup("+userRead+")", harness.Alice))
	sid, _ := r.Account.IDTokenClaims["sid"].(string)

	// The second app, in the same browser: Sigil's session answers at once.
	sum := sha256.Sum256([]byte(strings.Repeat("v", 43)))
	q := url.Values{"client_id": {second}, "redirect_uri": {e.SPA + "/blank.html"}, "response_type": {"code"}, "scope": {"openid"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "prompt": {"none"}}
	other, err := e.Browser.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Navigate(e.IdP + "/" + harness.Domain + "/oauth2/v2.0/authorize?" + q.Encode()); err != nil {
		t.Fatal(err)
	}
	if u, err := other.WaitURL(func(u string) bool { return strings.HasPrefix(u, e.SPA+"/blank.html?code=") }, 20*time.Second); err != nil {
		t.Fatalf("the second app's silent sign-in: %s %v", u, err)
	}

	if _, err := browser.Eval[bool](p, "t.logoutRedirect()"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitURL(func(u string) bool { return strings.HasPrefix(u, e.SPA+"/signed-out.html") }, 20*time.Second); err != nil {
		t.Fatalf("logoutRedirect did not land on the post-logout URI: %v", err)
	}
	got := map[string]url.Values{}
	for _, v := range e.FrontChannelLogouts() {
		got[v.Get("app")] = v
	}
	for _, app := range []string{"todo", "second"} {
		v := got[app]
		if v == nil || v.Get("sid") != sid || v.Get("iss") != e.IdP+"/"+harness.TenantID+"/v2.0" {
			t.Errorf("front-channel logout of %s: %v (want sid %s)", app, v, sid)
		}
	}
	// The test SPA also registered a backchannelLogoutUrl: a node delivers within seconds.
	select {
	case token := <-backchannel:
		b, _ := base64.RawURLEncoding.DecodeString(strings.Split(token+"..", ".")[1])
		if !strings.Contains(string(b), `"sid":"`+sid+`"`) || !strings.Contains(string(b), "backchannel-logout") {
			t.Errorf("back-channel logout token: %s", b)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("no back-channel logout within 20 s")
	}
}
