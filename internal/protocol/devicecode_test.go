package protocol_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
)

// cliClient is DESIGN's "Todo CLI": a public client allowed the device code flow.
const cliClient = "2b3c4d5e-1111-4222-8333-944455556666"

// pollInterval is the interval the device code endpoint answers.
const pollInterval = 5 * time.Second

// withCLI registers the Todo CLI app.
func withCLI(c *config.Config) {
	c.Tenants[0].Apps = append(c.Tenants[0].Apps, config.App{DisplayName: "Todo CLI", ClientID: cliClient,
		AllowPublicClientFlows: true, PublicClient: config.Platform{RedirectURIs: []string{"http://localhost"}}})
}

// deviceURL is the device code endpoint of a tenant segment.
func (e *env) deviceURL(tenant string) string {
	return e.url + "/" + tenant + "/oauth2/v2.0/devicecode"
}

// startDevice asks for a device code for the CLI app and returns the response; it fails the
// test unless one comes back.
func (e *env) startDevice(scope string) map[string]any {
	e.t.Helper()
	resp, body := e.postForm(e.api(), e.deviceURL("contoso.test"), url.Values{"client_id": {cliClient}, "scope": {scope}}, nil)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("devicecode: %d %s", resp.StatusCode, body)
	}
	return decodeJSON(e.t, body)
}

// pollForm is the body a device polls the token endpoint with.
func pollForm(clientID, deviceCode string) url.Values {
	return url.Values{"client_id": {clientID}, "grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {deviceCode}, "client_info": {"1"}}
}

// deviceSignIn enters userCode on the verification page in browser c, picks or signs in as
// username, and accepts (or declines) every consent page; it returns the last page.
func (e *env) deviceSignIn(c *http.Client, userCode, username string, accept bool) (*http.Response, string) {
	e.t.Helper()
	_, page := e.get(c, e.url+"/devicelogin")
	f := hiddenFields(page)
	f.Set("user_code", userCode)
	resp, body := e.postForm(c, e.url+"/-/devicelogin", f, nil)
	if strings.Contains(body, `data-action="other-account"`) {
		f := hiddenFields(body)
		f.Set("account", accountValue(e.t, body, username))
		resp, body = e.postForm(c, e.url+"/-/pick", f, nil)
	}
	if isLoginPage(body) {
		resp, body = e.submitLogin(c, hiddenFields(body), username, pw, false)
	}
	for range 3 {
		if !isConsentPage(body) {
			return resp, body
		}
		f := hiddenFields(body)
		f.Set("consent", "decline")
		if accept {
			f.Set("consent", "accept")
			for _, v := range consentCheckboxes(body) {
				f.Add("scope", v)
			}
		}
		resp, body = e.postForm(c, e.url+"/-/consent", f, nil)
	}
	e.t.Fatal("consent loop")
	return nil, ""
}

// deviceResult returns the page's data-device-code-result, or "".
func deviceResult(page string) string {
	if m := regexp.MustCompile(`data-device-code-result="([^"]+)"`).FindStringSubmatch(page); m != nil {
		return m[1]
	}
	return ""
}

func TestDeviceCodeEndpoint(t *testing.T) {
	e := newEnv(t, withCLI)
	cli := func(edit func(url.Values)) url.Values {
		f := url.Values{"client_id": {cliClient}, "scope": {"openid profile offline_access api://todo/Todo.Read"}}
		if edit != nil {
			edit(f)
		}
		return f
	}
	tests := []struct {
		name   string
		method string
		tenant string
		form   url.Values
		header http.Header
		status int
		want   wantErr // zero: a device code comes back
	}{
		{"public client", "POST", "contoso.test", cli(nil), nil, 200, wantErr{}},
		{"public client by tenant id", "POST", tenantID, cli(nil), nil, 200, wantErr{}},
		{"confidential client with its secret", "POST", "contoso.test", cli(func(f url.Values) {
			f.Set("client_id", webClient)
			f.Set("client_secret", webSecret)
		}), nil, 200, wantErr{}},
		{"confidential client without a secret", "POST", "contoso.test", cli(func(f url.Values) { f.Set("client_id", webClient) }), nil, 401, wantErr{"invalid_client", 7000218}},
		{"confidential client, wrong secret", "POST", "contoso.test", cli(func(f url.Values) {
			f.Set("client_id", webClient)
			f.Set("client_secret", "wrong")
		}), nil, 401, wantErr{"invalid_client", 7000215}},
		{"public client without allowPublicClientFlows", "POST", "contoso.test", cli(func(f url.Values) { f.Set("client_id", nativeClient) }), nil, 401, wantErr{"invalid_client", 7000218}},
		{"public client with a secret", "POST", "contoso.test", cli(func(f url.Values) { f.Set("client_secret", "x") }), nil, 401, wantErr{"invalid_client", 700025}},
		{"missing client_id", "POST", "contoso.test", cli(func(f url.Values) { f.Del("client_id") }), nil, 400, wantErr{"invalid_request", 900144}},
		{"unknown client", "POST", "contoso.test", cli(func(f url.Values) { f.Set("client_id", "99999999-8888-4777-8666-555555555555") }), nil, 400, wantErr{"unauthorized_client", 700016}},
		{"unknown tenant", "POST", "nosuch.test", cli(nil), nil, 400, wantErr{"invalid_request", 90002}},
		{"missing scope", "POST", "contoso.test", cli(func(f url.Values) { f.Del("scope") }), nil, 400, wantErr{"invalid_request", 900144}},
		{"unknown API", "POST", "contoso.test", cli(func(f url.Values) { f.Set("scope", "api://nope/x") }), nil, 400, wantErr{"invalid_resource", 500011}},
		{"bad claims", "POST", "contoso.test", cli(func(f url.Values) { f.Set("claims", "{") }), nil, 400, wantErr{"invalid_request", 90100}},
		{"from a browser", "POST", "contoso.test", cli(nil), spaOriginHeader(), 400, wantErr{"invalid_request", 9002326}},
		{"GET", "GET", "contoso.test", nil, nil, 405, wantErr{"invalid_request", 900561}},
		{"confidential client, HTTP Basic", "POST", "contoso.test", cli(func(f url.Values) { f.Del("client_id") }),
			http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(webClient+":"+webSecret))}}, 200, wantErr{}},
		{"confidential client, HTTP Basic, wrong secret", "POST", "contoso.test", cli(func(f url.Values) { f.Del("client_id") }),
			http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(webClient+":wrong"))}}, 401, wantErr{"invalid_client", 7000215}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			var body string
			if tc.method == "GET" {
				resp, body = e.get(e.api(), e.deviceURL(tc.tenant))
			} else {
				resp, body = e.postForm(e.api(), e.deviceURL(tc.tenant), tc.form, tc.header)
			}
			m := decodeJSON(t, body)
			if tc.want.code != "" {
				wantTokenError(t, resp, m, tc.status, tc.want)
				if tc.header.Get("Authorization") != "" && resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("a failed HTTP Basic authentication without a WWW-Authenticate challenge")
				}
				return
			}
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %v", resp.StatusCode, m)
			}
			wantJSONHeaders(t, resp)
			code := str(m, "user_code")
			if !regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ34679]{9}$`).MatchString(code) {
				t.Errorf("user_code %q", code)
			}
			if len(str(m, "device_code")) < 40 {
				t.Errorf("device_code %q is short", str(m, "device_code"))
			}
			uri := e.url + "/devicelogin"
			wantMsg := "To sign in, use a web browser to open the page " + uri + " and enter the code " + code + " to authenticate."
			if str(m, "verification_uri") != uri || m["expires_in"] != 900.0 || m["interval"] != 5.0 || str(m, "message") != wantMsg {
				t.Errorf("response %v", m)
			}
		})
	}
	t.Run("only hashes are stored", func(t *testing.T) {
		dc := e.startDevice("openid api://todo/Todo.Read")
		var stored []byte
		for _, f := range []string{"sigil.db", "sigil.db-wal"} {
			b, err := os.ReadFile(filepath.Join(e.data, f))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			stored = append(stored, b...)
		}
		if !bytes.Contains(stored, []byte("api://todo/Todo.Read")) {
			t.Fatal("the device authorization is not in the database files: the check below would prove nothing")
		}
		for _, k := range []string{"device_code", "user_code"} {
			if bytes.Contains(stored, []byte(str(dc, k))) {
				t.Errorf("the %s is stored as it was issued", k)
			}
		}
	})
	t.Run("discovery", func(t *testing.T) {
		_, body := e.get(e.api(), e.url+"/contoso.test/v2.0/.well-known/openid-configuration")
		m := decodeJSON(t, body)
		if got := str(m, "device_authorization_endpoint"); got != e.url+"/"+tenantID+"/oauth2/v2.0/devicecode" {
			t.Errorf("device_authorization_endpoint %q", got)
		}
		types := fmt.Sprint(m["grant_types_supported"])
		for _, g := range []string{"urn:ietf:params:oauth:grant-type:device_code", "device_code"} {
			if !strings.Contains(types, g) {
				t.Errorf("grant_types_supported %s lacks %s", types, g)
			}
		}
	})
}

// TestDevicePolling drives every answer of the token endpoint to a device, with the test
// clock: pending, slow_down, declined, expired, another client's code, tokens, and a second
// redemption.
func TestDevicePolling(t *testing.T) {
	e := newEnv(t, withCLI)
	scope := "openid profile offline_access api://todo/Todo.Read"
	type step struct {
		advance time.Duration
		form    func(deviceCode string) url.Values
		status  int
		want    wantErr // zero: tokens
	}
	cliPoll := func(dc string) url.Values { return pollForm(cliClient, dc) }
	plainPoll := func(dc string) url.Values {
		f := pollForm(cliClient, dc)
		f.Set("grant_type", "device_code")
		return f
	}
	pending := step{pollInterval, cliPoll, 400, wantErr{"authorization_pending", 70016}}
	slowDown := step{0, cliPoll, 400, wantErr{"slow_down", 0}}
	tokens := step{pollInterval, cliPoll, 200, wantErr{}}
	tests := []struct {
		name  string
		user  string // "accept" or "decline" on the verification page, before step at; "" for nothing
		at    int
		steps []step
	}{
		{"pending", "", 0, []step{pending, pending}},
		// Too fast is under 4 s: the interval less a second of grace for timer jitter.
		{"slow_down", "", 0, []step{pending, slowDown, {3900 * time.Millisecond, cliPoll, 400, wantErr{"slow_down", 0}},
			{100 * time.Millisecond, cliPoll, 400, wantErr{"authorization_pending", 70016}}}},
		{"declined", "decline", 0, []step{{pollInterval, cliPoll, 400, wantErr{"authorization_declined", 70000}}}},
		{"expired", "", 0, []step{pending, {15 * time.Minute, cliPoll, 400, wantErr{"expired_token", 70019}}}},
		{"expired after approval", "accept", 0, []step{{15 * time.Minute, cliPoll, 400, wantErr{"expired_token", 70019}}}},
		{"another client's device code", "accept", 0, []step{{pollInterval, func(dc string) url.Values {
			f := pollForm(webClient, dc)
			f.Set("client_secret", webSecret)
			return f
		}, 400, wantErr{"invalid_grant", 70000}}, tokens}},
		{"unknown device code", "", 0, []step{{pollInterval, func(string) url.Values { return pollForm(cliClient, "nope") }, 400, wantErr{"invalid_grant", 70000}}}},
		{"missing device_code", "", 0, []step{{pollInterval, func(string) url.Values { return pollForm(cliClient, "") }, 400, wantErr{"invalid_request", 900144}}}},
		{"tokens, then redeemed twice", "accept", 0, []step{tokens, {pollInterval, cliPoll, 400, wantErr{"invalid_grant", 70000}}}},
		{"too fast after approval, then tokens", "accept", 1, []step{pending, slowDown, tokens}},
		{"plain device_code grant type", "accept", 0, []step{{pollInterval, plainPoll, 200, wantErr{}}}},
		{"from a browser", "accept", 0, []step{{pollInterval, cliPoll, 400, wantErr{"invalid_request", 9002326}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dc := e.startDevice(scope)
			deviceCode, userCode := str(dc, "device_code"), str(dc, "user_code")
			for i, st := range tc.steps {
				if tc.user != "" && i == tc.at {
					_, page := e.deviceSignIn(e.newBrowser(), userCode, alice, tc.user == "accept")
					want := map[string]string{"accept": "success", "decline": "declined"}[tc.user]
					if got := deviceResult(page); got != want {
						t.Fatalf("verification page ended with result %q, want %q: %s", got, want, page)
					}
				}
				e.clock.Advance(st.advance)
				var header http.Header
				if tc.name == "from a browser" {
					header = spaOriginHeader()
				}
				resp, m := e.token("contoso.test", st.form(deviceCode), header)
				switch {
				case st.want.code == "slow_down":
					if resp.StatusCode != 400 || str(m, "error") != "slow_down" || m["error_codes"] != nil {
						t.Fatalf("step %d: %d %v, want slow_down without an AADSTS code", i, resp.StatusCode, m)
					}
					wantJSONHeaders(t, resp)
				case st.want.code != "":
					wantTokenError(t, resp, m, st.status, st.want)
				default:
					if resp.StatusCode != 200 {
						t.Fatalf("step %d: %d %v, want tokens", i, resp.StatusCode, m)
					}
					checkDeviceTokens(t, m)
				}
			}
		})
	}
}

// checkDeviceTokens checks a token response for alice and the CLI app.
func checkDeviceTokens(t *testing.T, m map[string]any) {
	t.Helper()
	at := claims(t, str(m, "access_token"))
	if at["aud"] != "api://todo" || at["scp"] != "Todo.Read" || at["azp"] != cliClient || at["azpacr"] != "0" || at["preferred_username"] != alice {
		t.Errorf("access token %v", at)
	}
	id := claims(t, str(m, "id_token"))
	if id["aud"] != cliClient || id["preferred_username"] != alice || id["sid"] == nil {
		t.Errorf("ID token %v", id)
	}
	if str(m, "refresh_token") == "" || str(m, "client_info") == "" || !sameSet(str(m, "scope"), "api://todo/Todo.Read openid profile offline_access") {
		t.Errorf("token response %v", m)
	}
}

// TestDeviceRefresh: the refresh token of a device grant refreshes like a public client's,
// server-side, without a secret.
func TestDeviceRefresh(t *testing.T) {
	e := newEnv(t, withCLI)
	dc := e.startDevice("openid offline_access api://todo/Todo.Read")
	e.deviceSignIn(e.newBrowser(), str(dc, "user_code"), alice, true)
	resp, tok := e.token("contoso.test", pollForm(cliClient, str(dc, "device_code")), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("poll: %d %v", resp.StatusCode, tok)
	}
	resp, again := e.token("contoso.test", refreshForm(cliClient, str(tok, "refresh_token"), ""), nil)
	if resp.StatusCode != 200 || str(again, "access_token") == "" || str(again, "refresh_token") == "" {
		t.Fatalf("refresh: %d %v", resp.StatusCode, again)
	}
	resp, m := e.token("contoso.test", refreshForm(cliClient, str(again, "refresh_token"), ""), spaOriginHeader())
	wantTokenError(t, resp, m, 400, wantErr{"invalid_request", 9002326})
}

// TestDeviceLoginPage drives the verification page over HTTP: the form, ?otc=, wrong codes
// and their throttle, codes typed in lower case with dashes and spaces, one-time use, the
// account picker for a browser already signed in, the anti-forgery check, and the declined
// and success pages.
func TestDeviceLoginPage(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		withCLI(c)
		c.LoginThrottle.IPFailures = 3
	})
	c := e.newBrowser()
	resp, page := e.get(c, e.url+"/devicelogin?otc=bcd-fgh-jkl")
	if resp.StatusCode != 200 || !strings.Contains(page, `name="user_code"`) || !strings.Contains(page, `<button type="submit"`) ||
		!strings.Contains(page, `action="/-/devicelogin"`) || !strings.Contains(page, `value="BCDFGHJKL"`) {
		t.Fatalf("verification page %d: %s", resp.StatusCode, page)
	}
	if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", resp.Header)
	}
	submit := func(c *http.Client, code string) (*http.Response, string) {
		t.Helper()
		_, page := e.get(c, e.url+"/devicelogin")
		f := hiddenFields(page)
		f.Set("user_code", code)
		return e.postForm(c, e.url+"/-/devicelogin", f, nil)
	}

	t.Run("forged form", func(t *testing.T) {
		resp, body := e.postForm(e.newBrowser(), e.url+"/-/devicelogin", url.Values{"user_code": {"BCDFGHJKL"}, "xsrf": {"x"}}, nil)
		wantErrorPage(t, resp, body, 400, "AADSTS90014")
	})
	t.Run("cross-origin post", func(t *testing.T) {
		resp, body := e.postForm(e.newBrowser(), e.url+"/-/devicelogin", url.Values{"user_code": {"BCDFGHJKL"}},
			http.Header{"Sec-Fetch-Site": {"cross-site"}})
		wantErrorPage(t, resp, body, 403, "AADSTS90014")
	})
	t.Run("lower case, dashes and spaces; one-time", func(t *testing.T) {
		code := str(e.startDevice("openid api://todo/Todo.Read"), "user_code")
		typed := strings.ToLower(code[:3] + "-" + code[3:6] + " " + code[6:])
		resp, body := submit(e.newBrowser(), typed)
		if !isLoginPage(body) {
			t.Fatalf("valid code: %d, want the sign-in page: %s", resp.StatusCode, body)
		}
		resp, body = submit(e.newBrowser(), code)
		if resp.StatusCode != 400 || pageErrorCode(body) != "AADSTS70018" || !strings.Contains(body, `name="user_code"`) {
			t.Fatalf("second entry: %d %s, want the form again with AADSTS70018", resp.StatusCode, pageErrorCode(body))
		}
	})
	t.Run("expired code", func(t *testing.T) {
		code := str(e.startDevice("openid api://todo/Todo.Read"), "user_code")
		e.clock.Advance(15 * time.Minute)
		resp, body := submit(e.newBrowser(), code)
		if resp.StatusCode != 400 || pageErrorCode(body) != "AADSTS70018" {
			t.Fatalf("expired code: %d %s", resp.StatusCode, pageErrorCode(body))
		}
	})
	t.Run("signed-in browser gets the account picker, then success", func(t *testing.T) {
		b := e.newBrowser()
		_, first := e.deviceSignIn(b, str(e.startDevice("openid api://todo/Todo.Read"), "user_code"), alice, true)
		if deviceResult(first) != "success" {
			t.Fatalf("first sign-in: %s", first)
		}
		_, body := submit(b, str(e.startDevice("openid api://todo/Todo.Read"), "user_code"))
		if got := accountButtons(body); len(got) != 1 || got[0] != alice || !strings.Contains(body, `data-action="other-account"`) {
			t.Fatalf("want the account picker with alice, got %v: %s", got, body)
		}
		f := hiddenFields(body)
		f.Set("account", accountValue(t, body, alice))
		_, body = e.postForm(b, e.url+"/-/pick", f, nil)
		if deviceResult(body) != "success" || !strings.Contains(body, "Todo CLI") {
			t.Fatalf("consented before: want success at once, got %s", body)
		}
		// The final form cannot be replayed.
		resp, body := e.postForm(b, e.url+"/-/pick", f, nil)
		if deviceResult(body) != "" {
			t.Fatalf("replayed pick: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("declined consent", func(t *testing.T) {
		_, body := e.deviceSignIn(e.newBrowser(), str(e.startDevice("openid api://todo/Todo.Read"), "user_code"), bob, false)
		if deviceResult(body) != "declined" || !strings.Contains(body, "Todo CLI") {
			t.Fatalf("declined: %s", body)
		}
	})
	t.Run("admin-only scope: the error page, and the device is declined", func(t *testing.T) {
		dc := e.startDevice("openid api://todo/Todo.Admin")
		resp, body := e.deviceSignIn(e.newBrowser(), str(dc, "user_code"), alice, true)
		wantErrorPage(t, resp, body, 400, "AADSTS90094")
		e.clock.Advance(pollInterval)
		resp, m := e.token("contoso.test", pollForm(cliClient, str(dc, "device_code")), nil)
		wantTokenError(t, resp, m, 400, wantErr{"authorization_declined", 70000})
	})
	t.Run("wrong codes are throttled per address", func(t *testing.T) {
		e.clock.Advance(16 * time.Minute) // past the wrong entries of the subtests above
		code := str(e.startDevice("openid api://todo/Todo.Read"), "user_code")
		for i, wrong := range []string{"BCDFGHJKL", "short", "BCDFGHJKM"} {
			resp, body := submit(c, wrong)
			if resp.StatusCode != 400 || pageErrorCode(body) != "AADSTS70018" {
				t.Fatalf("wrong code %d: %d %s", i, resp.StatusCode, pageErrorCode(body))
			}
		}
		// Locked: even the right code is refused, until the window passes.
		resp, body := submit(c, code)
		if resp.StatusCode != 400 || pageErrorCode(body) != "AADSTS50053" {
			t.Fatalf("after 3 wrong codes: %d %s, want AADSTS50053", resp.StatusCode, pageErrorCode(body))
		}
		e.clock.Advance(14 * time.Minute)
		if _, body := submit(c, code); pageErrorCode(body) != "AADSTS50053" {
			t.Fatalf("within the window: %s", pageErrorCode(body))
		}
		if _, body := submit(e.newBrowser(), code); pageErrorCode(body) != "AADSTS50053" {
			t.Fatalf("another browser from the same address: %s", pageErrorCode(body))
		}
		e.clock.Advance(time.Minute + time.Second) // the window (15 minutes) has passed, and so has the code
		if _, body := submit(c, str(e.startDevice("openid api://todo/Todo.Read"), "user_code")); !isLoginPage(body) {
			t.Fatalf("after the window: want the sign-in page, got %s", pageErrorCode(body))
		}
	})
}
