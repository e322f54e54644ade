package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
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
