package web

import (
	"net/http/httptest"
	"testing"
)

// TestDeviceAutomationContract pins the device code pages' selectors of the login UI contract:
// input[name=user_code] and one button[type=submit] on the verification page, and
// data-device-code-result on the result page.
func TestDeviceAutomationContract(t *testing.T) {
	p := newPages(t)
	login := httptest.NewRecorder()
	p.DeviceLogin(login, 400, DeviceLoginPage{XSRF: "x", UserCode: `"><b>`, ErrorCode: "AADSTS70018", ErrorMessage: "bad"})
	success, declined := httptest.NewRecorder(), httptest.NewRecorder()
	p.DeviceResult(success, DeviceResultPage{Success: true, AppName: "Todo CLI"})
	p.DeviceResult(declined, DeviceResultPage{AppName: "<Todo CLI>"})
	tests := []struct {
		name, page, expr string
		want             int
	}{
		{"code form", login.Body.String(), `<form method="post" action="/-/devicelogin"`, 1},
		{"code input", login.Body.String(), `<input [^>]*name="user_code"`, 1},
		{"one submit button", login.Body.String(), `<button type="submit"`, 1},
		{"anti-forgery field", login.Body.String(), `<input type="hidden" name="xsrf" value="x">`, 1},
		{"error code", login.Body.String(), `data-error-code="AADSTS70018"`, 1},
		{"typed code escaped", login.Body.String(), `<b>`, 0},
		{"success", success.Body.String(), `data-device-code-result="success"`, 1},
		{"success names the app", success.Body.String(), `Todo CLI`, 1},
		{"declined", declined.Body.String(), `data-device-code-result="declined"`, 1},
		{"app name escaped", declined.Body.String(), `<Todo CLI>`, 0},
	}
	for _, tc := range tests {
		if got := count(tc.page, tc.expr); got != tc.want {
			t.Errorf("%s: %q matches %d times, want %d", tc.name, tc.expr, got, tc.want)
		}
	}
	if login.Code != 400 || login.Header().Get("X-Frame-Options") != "DENY" || success.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("status %d, headers %v", login.Code, login.Header())
	}
}
