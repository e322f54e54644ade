package session

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestXSRF(t *testing.T) {
	w := httptest.NewRecorder()
	v := XSRF(w, httptest.NewRequest(http.MethodGet, "/", nil))
	c := w.Result().Cookies()
	if len(c) != 1 || c[0].Name != XSRFCookie || !c[0].Secure || !c[0].HttpOnly || c[0].SameSite != http.SameSiteLaxMode || c[0].Path != "/" || c[0].Domain != "" {
		t.Fatalf("xsrf cookie %+v", c)
	}
	// An existing cookie is reused.
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.AddCookie(c[0])
	w2 := httptest.NewRecorder()
	if XSRF(w2, r) != v || len(w2.Result().Cookies()) != 0 {
		t.Fatal("existing anti-forgery cookie not reused")
	}
	if h, ok := CheckXSRF(r, v); !ok || h == "" {
		t.Fatal("matching form value refused")
	}
	// One character changed — to one it cannot already be, whatever the random value is.
	changed := "A" + v[1:]
	if v[0] == 'A' {
		changed = "B" + v[1:]
	}
	for _, bad := range []string{"", v[:42], v + "x", changed} {
		if _, ok := CheckXSRF(r, bad); ok {
			t.Errorf("form value %q accepted", bad)
		}
	}
	if _, ok := CheckXSRF(httptest.NewRequest(http.MethodPost, "/", nil), v); ok {
		t.Error("accepted without the cookie")
	}
}

func TestBrowserHash(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if BrowserHash(r) != "" {
		t.Fatal("no cookie, but a browser hash")
	}
	r.AddCookie(&http.Cookie{Name: CookieName, Value: "abc"})
	if h := BrowserHash(r); h == "" || h == "abc" {
		t.Fatalf("browser hash %q must be the hash of the cookie", h)
	}
}
