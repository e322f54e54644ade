package protocol_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sigil-idp/sigil/internal/config"
)

// TestFrontChannelLogout: signing out of a session that signed in to an app with a logoutUrl
// answers a page that loads logoutUrl?iss=…&sid=… in a hidden iframe (its CSP allows that
// origin's frames only), then moves on to the post-logout redirect URI with state. (Apps
// without a logoutUrl are redirected at once, as TestLogout shows.)
func TestFrontChannelLogout(t *testing.T) {
	const frontChannel = "https://app.example.test:3000/logout/front-channel?tab=1"
	e := newEnv(t, func(c *config.Config) {
		for i, a := range c.Tenants[0].Apps {
			if a.ClientID == spaClient {
				c.Tenants[0].Apps[i].LogoutURL = frontChannel
			}
		}
	})
	c := e.newBrowser()
	tok := e.spaTokens(c, "contoso.test", alice, todoScopes)
	id := claims(t, str(tok, "id_token"))
	p := url.Values{"post_logout_redirect_uri": {signedOut}, "state": {"s-1"}, "logout_hint": {id["login_hint"].(string)},
		"client_id": {spaClient}}
	resp, body := e.get(c, e.logoutURL("contoso.test", p))
	wantFrame := frontChannel + "&" + url.Values{"iss": {e.url + "/" + tenantID + "/v2.0"}, "sid": {id["sid"].(string)}}.Encode()
	if resp.StatusCode != http.StatusOK || !strings.Contains(html.UnescapeString(body), `src="`+wantFrame+`"`) {
		t.Fatalf("logout: %d, want a page framing %s:\n%s", resp.StatusCode, wantFrame, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-src https://app.example.test:3000;") {
		t.Errorf("CSP %q does not allow the app's frames (only)", csp)
	}
	if !strings.Contains(html.UnescapeString(body), `content="2;url=`+signedOut+"?state=s-1") {
		t.Errorf("the page does not move on to the post-logout redirect URI:\n%s", body)
	}
	if e.signedInAs(t, c, alice) {
		t.Errorf("still signed in after the front-channel logout")
	}
}
