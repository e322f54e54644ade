package web

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func newPages(t *testing.T) *Pages {
	t.Helper()
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// count returns how many times a regular expression matches the page.
func count(page, expr string) int { return len(regexp.MustCompile(expr).FindAllString(page, -1)) }

// TestAutomationContract pins the selectors of the login UI automation contract,
// which test suites outside this repository rely on.
func TestAutomationContract(t *testing.T) {
	p := newPages(t)
	render := func(f func(http.ResponseWriter)) (*httptest.ResponseRecorder, string) {
		w := httptest.NewRecorder()
		f(w)
		return w, w.Body.String()
	}
	_, login := render(func(w http.ResponseWriter) {
		p.Login(w, 400, LoginPage{AppName: "App", Interaction: "i", XSRF: "x", Username: "a@b.test", ErrorCode: "AADSTS50126", ErrorMessage: "bad"})
	})
	_, consent := render(func(w http.ResponseWriter) {
		p.Consent(w, ConsentPage{AppName: "App", SignIn: true, Scopes: []ConsentScope{{Value: "api://todo/Todo.Read", Label: "read"}, {Value: "user.read", Label: "me"}}})
	})
	_, picker := render(func(w http.ResponseWriter) {
		p.Accounts(w, AccountsPage{Title: "Pick", Action: "/-/pick", Accounts: []Account{{SessionID: "s1", Username: "alice@contoso.test"}, {SessionID: "s2", Username: "bob@contoso.test"}}, OtherAccount: true})
	})
	_, signOut := render(func(w http.ResponseWriter) {
		p.SignOut(w, SignOutPage{AppName: "App", Username: "alice@contoso.test", Action: "/-/signout", Hidden: map[string]string{"tenant": "t"}})
	})
	_, errPage := render(func(w http.ResponseWriter) { p.Error(w, 400, ErrorPage{Code: "AADSTS50011", Error: "invalid_request"}) })
	tests := []struct {
		name, page, expr string
		want             int
	}{
		{"login form", login, `<form method="post"`, 1},
		{"username input", login, `<input [^>]*name="username"`, 1},
		{"username pre-filled", login, `name="username"[^>]*value="a@b.test"`, 1},
		{"password input", login, `<input [^>]*name="password"[^>]*type="password"`, 1},
		{"remember checkbox", login, `<input type="checkbox" name="remember"`, 1},
		{"one submit button", login, `<button type="submit"`, 1},
		{"login error code", login, `data-error-code="AADSTS50126"`, 1},
		{"consent accept", consent, `<button type="submit" name="consent" value="accept"`, 1},
		{"consent decline", consent, `<button type="submit" name="consent" value="decline"`, 1},
		{"scope checkboxes", consent, `<input type="checkbox" name="scope" value="(api://todo/Todo.Read|user.read)"`, 2},
		{"openid without checkbox", consent, `Sign you in`, 1},
		{"account buttons", picker, `<button [^>]*data-username="(alice|bob)@contoso.test"`, 2},
		{"other account", picker, `<button [^>]*data-action="other-account"`, 1},
		{"sign-out confirm", signOut, `<button type="submit" name="signout" value="confirm"`, 1},
		{"sign-out cancel", signOut, `<button type="submit" name="signout" value="cancel"`, 1},
		{"error page code", errPage, `data-error-code="AADSTS50011"`, 1},
	}
	for _, tc := range tests {
		if got := count(tc.page, tc.expr); got != tc.want {
			t.Errorf("%s: %q matches %d times, want %d", tc.name, tc.expr, got, tc.want)
		}
	}
}

func TestPageHeaders(t *testing.T) {
	p := newPages(t)
	w := httptest.NewRecorder()
	p.Login(w, 200, LoginPage{})
	h := w.Header()
	if h.Get("X-Frame-Options") != "DENY" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("sign-in page may be framed: %v", h)
	}
	if h.Get("Cross-Origin-Opener-Policy") != "" {
		t.Error("COOP breaks MSAL's popup polling")
	}
	if strings.Contains(h.Get("Content-Security-Policy"), "form-action") {
		t.Error("form-action would block the redirect to the app that follows a sign-in post")
	}
}

// TestFormPostCSP checks the form_post page: framable (the hidden iframe may ask for it),
// escaped, and its Content-Security-Policy allows exactly the inline script it contains.
func TestFormPostCSP(t *testing.T) {
	p := newPages(t)
	w := httptest.NewRecorder()
	p.FormPost(w, FormPostPage{Action: "https://app.example.test/cb", Fields: []Field{{Name: "state", Value: `"><script>x</script>`}}})
	body := w.Body.String()
	if strings.Contains(body, "<script>x") || w.Header().Get("X-Frame-Options") != "" {
		t.Fatalf("form_post page: headers %v body %s", w.Header(), body)
	}
	m := regexp.MustCompile(`<script>(.*)</script>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no inline script")
	}
	sum := sha256.Sum256([]byte(m[1]))
	want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if !strings.Contains(w.Header().Get("Content-Security-Policy"), want) {
		t.Fatalf("CSP %q does not allow the page's script (%s)", w.Header().Get("Content-Security-Policy"), want)
	}
}
