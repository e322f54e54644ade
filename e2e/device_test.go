package e2e

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/harness"
	"github.com/sigil-idp/sigil/internal/config"
)

// deviceClient is DESIGN's "Todo CLI": a public client allowed the device code flow.
const deviceClient = "2b3c4d5e-1111-4222-8333-944455556666"

// withDeviceClient registers the Todo CLI app.
func withDeviceClient(c *config.Config) {
	c.Tenants[0].Apps = append(c.Tenants[0].Apps, config.App{DisplayName: "Todo CLI", ClientID: deviceClient,
		AllowPublicClientFlows: true, PublicClient: config.Platform{RedirectURIs: []string{"http://localhost"}}})
}

// deviceCall posts a form to one of Sigil's endpoints in-process, as the device would, and
// returns the status and the JSON answer.
func deviceCall(t *testing.T, e *harness.Env, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	e.App.Handler().ServeHTTP(w, req)
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("%s answered %d, not JSON: %s", path, w.Code, w.Body.String())
	}
	return w.Code, m
}

// startDevice asks for a device code for the Todo CLI and returns the device code and the
// user code.
func startDevice(t *testing.T, e *harness.Env, scope string) (deviceCode, userCode string) {
	t.Helper()
	status, m := deviceCall(t, e, "/"+harness.Domain+"/oauth2/v2.0/devicecode", url.Values{"client_id": {deviceClient}, "scope": {scope}})
	deviceCode, _ = m["device_code"].(string)
	userCode, _ = m["user_code"].(string)
	if status != 200 || deviceCode == "" || userCode == "" {
		t.Fatalf("devicecode: %d %v", status, m)
	}
	return deviceCode, userCode
}

// TestDeviceCodeInBrowser signs a device in through the verification page in Chromium, by
// the automation contract's selectors only — input[name=user_code], button[type=submit],
// the sign-in form, the consent page, [data-device-code-result] — while the device polls.
func TestDeviceCodeInBrowser(t *testing.T) {
	e := harness.Start(t, harness.Options{Edit: withDeviceClient})
	p, err := e.Browser.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	deviceCode, userCode := startDevice(t, e, "openid offline_access api://todo/Todo.Read")
	poll := func() (int, map[string]any) {
		return deviceCall(t, e, "/"+harness.Domain+"/oauth2/v2.0/token", url.Values{"client_id": {deviceClient},
			"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {deviceCode}})
	}
	if status, m := poll(); status != 400 || m["error"] != "authorization_pending" {
		t.Fatalf("before the user: %d %v", status, m)
	}

	if err := p.Navigate(e.IdP + "/devicelogin"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitVisible("input[name=user_code]", 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.SetValue("input[name=user_code]", strings.ToLower(userCode[:4]+"-"+userCode[4:])); err != nil {
		t.Fatal(err)
	}
	if err := p.Click("button[type=submit]"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitVisible("input[name=username]", 20*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, f := range [][2]string{{"input[name=username]", harness.Alice}, {"input[name=password]", harness.Password}} {
		if err := p.SetValue(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Click("button[type=submit]"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitVisible("button[name=consent][value=accept]", 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.Click("button[name=consent][value=accept]"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitVisible("[data-device-code-result=success]", 20*time.Second); err != nil {
		t.Fatal(err)
	}

	// The device's next poll, past the interval, gets the tokens.
	time.Sleep(5*time.Second + 100*time.Millisecond)
	status, m := poll()
	if status != 200 || m["access_token"] == nil || m["refresh_token"] == nil || m["id_token"] == nil {
		t.Fatalf("after approval: %d %v", status, m)
	}
}

// TestMSALNodeDeviceCode runs msal-node's PublicClientApplication.acquireTokenByDeviceCode:
// msal-node shows the code through deviceCodeCallback and polls every interval (it treats
// anything but authorization_pending as fatal, slow_down included), while the test, after
// letting it poll a while, completes the verification page over HTTP.
func TestMSALNodeDeviceCode(t *testing.T) {
	e := startNode(t, withDeviceClient, false)
	codeFile := filepath.Join(t.TempDir(), "device-code.json")
	wait := e.StartNode("device-code.mjs", harness.NodeArgs("authority", e.Authority(), "known-authority", e.KnownAuthority(),
		"client-id", deviceClient, "scopes", "api://todo/Todo.Read", "code-file", codeFile)...)
	var dc struct {
		UserCode        string `json:"userCode"`
		VerificationURI string `json:"verificationUri"`
		Interval        int    `json:"interval"`
		Message         string `json:"message"`
	}
	for deadline := time.Now().Add(30 * time.Second); dc.UserCode == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(codeFile); err == nil {
			json.Unmarshal(b, &dc)
		}
	}
	if dc.UserCode == "" {
		r, err := wait()
		t.Fatalf("msal-node never showed a code: %s %v", r, err)
	}
	if dc.VerificationURI != e.IdP+"/devicelogin" || dc.Interval != 5 || !strings.Contains(dc.Message, dc.UserCode) {
		t.Errorf("device code response %+v", dc)
	}
	time.Sleep(6 * time.Second) // two polls: authorization_pending, then msal-node waits the interval
	page, err := deviceSignInHTTP(e, e.HTTPBrowser(), dc.UserCode)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, `data-device-code-result="success"`) {
		t.Fatalf("verification page ended with: %.400s", page)
	}
	r, err := wait()
	if err != nil {
		t.Fatal(err)
	}
	mustNode(t, "acquireTokenByDeviceCode", r)
	if r.AccessToken == "" || r.IDToken == "" || r.Account == nil || r.Account.Username != harness.Alice ||
		!slices.Contains(r.Scopes, "api://todo/Todo.Read") {
		t.Fatalf("result %s", r)
	}
}

var (
	pageForm   = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	pageHidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	pageScope  = regexp.MustCompile(`<input type="checkbox" name="scope" value="([^"]+)"`)
)

// deviceSignInHTTP completes the verification page in c as a user would: the code, the
// sign-in form (alice), the consent page (every scope accepted); it returns the page it ends
// on, the result page or an error page. At most 5 steps.
func deviceSignInHTTP(e *harness.Env, c *http.Client, userCode string) (string, error) {
	req, _ := http.NewRequest(http.MethodGet, e.IdP+"/devicelogin", nil)
	for range 5 {
		resp, err := c.Do(req)
		if err != nil {
			return "", err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		page := string(body)
		action := pageForm.FindStringSubmatch(page)
		if strings.Contains(page, "data-device-code-result") || strings.Contains(page, "data-error-code") && !strings.Contains(page, `name="password"`) || action == nil {
			return page, nil
		}
		form := url.Values{}
		for _, m := range pageHidden.FindAllStringSubmatch(page, -1) {
			form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
		switch {
		case strings.Contains(page, `name="user_code"`):
			form.Set("user_code", userCode)
		case strings.Contains(page, `name="password"`):
			form.Set("username", harness.Alice)
			form.Set("password", harness.Password)
		case strings.Contains(page, `name="consent"`):
			form.Set("consent", "accept")
			for _, m := range pageScope.FindAllStringSubmatch(page, -1) {
				form.Add("scope", html.UnescapeString(m[1]))
			}
		default:
			return "", fmt.Errorf("a page this driver does not know: %.400s", page)
		}
		req, _ = http.NewRequest(http.MethodPost, e.IdP+html.UnescapeString(action[1]), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", e.IdP) // a browser's same-origin form post
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	return "", fmt.Errorf("no result page after 5 steps")
}
