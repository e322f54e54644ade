package bearer

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sigil-idp/sigil/internal/tokens"
)

func TestProtectMethods(t *testing.T) {
	g := &Guard{PublicURL: "https://login.test"}
	h := g.Protect("GET, POST", func(w http.ResponseWriter, r *http.Request, c tokens.AccessClaims) {
		t.Fatalf("handler reached for %s", r.Method)
	})
	for method, want := range map[string]int{"T": 405, "GE": 405, "PUT": 405, "GET": 401, "POST": 401, "OPTIONS": 204} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, "/", nil))
		if w.Code != want {
			t.Errorf("%s: got %d, want %d", method, w.Code, want)
		}
	}
}

func TestToken(t *testing.T) {
	for header, want := range map[string]string{"": "", "Bearer abc": "abc", "bearer  abc ": "abc"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		if got, err := token(r); err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", header, got, err, want)
		}
	}
	for _, header := range []string{"Basic abc", "Bearer", "Bearer ", "abc"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", header)
		if _, err := token(r); err == nil {
			t.Errorf("%q accepted", header)
		}
	}
}
