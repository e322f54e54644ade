package bearer

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

const (
	realm    = "https://login.test"
	tenant   = "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10"
	audience = "00000003-0000-0000-c000-000000000000"
	spa      = "https://app.test"
)

var now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// memKeys is an in-memory store.Keys.
type memKeys struct {
	mu   sync.Mutex
	keys []store.SigningKey
}

var _ store.Keys = (*memKeys)(nil)

func (m *memKeys) SigningKeys(context.Context) ([]store.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]store.SigningKey(nil), m.keys...), nil
}

func (m *memKeys) AddSigningKey(_ context.Context, k store.SigningKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = append(m.keys, k)
	return nil
}

func (m *memKeys) ResealSigningKey(context.Context, string, []byte, []byte) error {
	return store.ErrConflict
}

func (m *memKeys) Secret(context.Context, string, []byte) ([]byte, error) { return nil, nil }

func (m *memKeys) ResealSecret(context.Context, string, []byte, []byte) error {
	return store.ErrConflict
}

func newGuard(tb testing.TB) (*Guard, *tokens.KeySet) {
	tb.Helper()
	keys, err := tokens.LoadKeys(tb.Context(), &memKeys{}, nil, func() time.Time { return now })
	if err != nil {
		tb.Fatal(err)
	}
	return &Guard{Keys: keys, PublicURL: realm, Audience: audience, Now: func() time.Time { return now },
		IsSPAOrigin: func(_ context.Context, origin string) (bool, error) { return origin == spa, nil }}, keys
}

func sign(tb testing.TB, keys *tokens.KeySet, change func(c *tokens.AccessClaims)) string {
	tb.Helper()
	c := tokens.AccessClaims{Aud: audience, Iss: tokens.Issuer(realm, tenant), TID: tenant, OID: "oid-1", Scp: "User.Read openid",
		Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(time.Hour).Unix(), Ver: "2.0"}
	if change != nil {
		change(&c)
	}
	raw, err := keys.Sign(c)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// TestAnswers checks every refusal's status, challenge and body, in both shapes.
func TestAnswers(t *testing.T) {
	g, keys := newGuard(t)
	valid := sign(t, keys, nil)
	expired := sign(t, keys, func(c *tokens.AccessClaims) { c.Exp = now.Add(-time.Hour).Unix() })
	foreign := sign(t, keys, func(c *tokens.AccessClaims) { c.Aud = "api://other" })
	noScope := sign(t, keys, func(c *tokens.AccessClaims) { c.Scp = "openid" })
	gone := sign(t, keys, func(c *tokens.AccessClaims) { c.OID = "gone" })
	h := g.Protect("GET, POST", func(w http.ResponseWriter, r *http.Request, c tokens.AccessClaims) {
		switch {
		case !HasScope(c.Scp, "User.Read"):
			InsufficientScope(w, realm, "User.Read")
		case c.OID == "gone":
			WriteError(w, http.StatusUnauthorized, "invalid_token", "the user no longer exists or is disabled")
		default:
			WriteJSON(w, http.StatusOK, map[string]string{"oid": c.OID})
		}
	})
	form := func(v url.Values) string { return v.Encode() }
	tests := []struct {
		name      string
		method    string
		auth      []string
		form      string // a form body, if not ""
		status    int
		challenge string // exact WWW-Authenticate; "-" for none
		code      string // the OAuth error ("" for none); Graph's code follows from the status
	}{
		{"no credentials", "GET", nil, "", 401, `Bearer realm="https://login.test"`, ""},
		{"Basic", "GET", []string{"Basic YWxpY2U6cHc="}, "", 401, `Bearer realm="https://login.test"`, ""},
		{"Basic on POST", "POST", []string{"Basic YWxpY2U6cHc="}, "", 401, `Bearer realm="https://login.test"`, ""},
		{"garbage token", "GET", []string{"Bearer abc"}, "", 401, "", "invalid_token"},
		{"garbage token on POST", "POST", []string{"Bearer abc"}, "", 401, "", "invalid_token"},
		{"expired token", "GET", []string{"Bearer " + expired}, "", 401, "", "invalid_token"},
		{"token for another audience", "GET", []string{"Bearer " + foreign}, "", 401, "", "invalid_token"},
		{"bad token in the form body", "POST", nil, form(url.Values{"access_token": {"abc"}}), 401, "", "invalid_token"},
		{"valid token in the form body", "POST", nil, form(url.Values{"access_token": {valid}}), 200, "-", ""},
		{"form body without a token", "POST", nil, form(url.Values{"x": {"y"}}), 401, `Bearer realm="https://login.test"`, ""},
		{"token in header and form", "POST", []string{"Bearer " + valid}, form(url.Values{"access_token": {valid}}), 400, "", "invalid_request"},
		{"two Authorization headers", "GET", []string{"Bearer " + valid, "Bearer " + valid}, "", 400, "", "invalid_request"},
		{"Bearer without a token", "GET", []string{"Bearer"}, "", 400, "", "invalid_request"},
		{"method not allowed", "PUT", []string{"Bearer " + valid}, "", 405, "-", "invalid_request"},
		{"scope missing", "GET", []string{"Bearer " + noScope}, "", 403,
			`Bearer realm="https://login.test", error="insufficient_scope", error_description="the access token lacks the scope User.Read", scope="User.Read"`, "insufficient_scope"},
		{"user gone", "GET", []string{"Bearer " + gone}, "", 401,
			`Bearer realm="https://login.test", error="invalid_token", error_description="the user no longer exists or is disabled"`, "invalid_token"},
		{"valid", "GET", []string{"Bearer " + valid}, "", 200, "-", ""},
	}
	for _, path := range []string{"/oidc/userinfo", "/v1.0/me"} {
		for _, tt := range tests {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				var body *strings.Reader
				if tt.form != "" {
					body = strings.NewReader(tt.form)
				} else {
					body = strings.NewReader("")
				}
				r := httptest.NewRequest(tt.method, realm+path, body)
				if tt.form != "" {
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				for _, a := range tt.auth {
					r.Header.Add("Authorization", a)
				}
				r.Header.Set("Origin", spa)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != tt.status {
					t.Fatalf("got %d %s, want %d", w.Code, w.Body, tt.status)
				}
				checkChallenge(t, w.Header().Get("WWW-Authenticate"), tt.challenge, tt.status, tt.code)
				if w.Header().Get("Access-Control-Allow-Origin") != spa || !strings.Contains(w.Header().Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
					t.Errorf("no CORS headers: %v", w.Header())
				}
				if tt.status == 200 {
					return
				}
				if path == "/v1.0/me" {
					checkGraphBody(t, w.Body.Bytes(), tt.status)
				} else {
					checkOAuthBody(t, w.Body.Bytes(), tt.code)
				}
			})
		}
	}
}

func checkChallenge(t *testing.T, got, want string, status int, code string) {
	t.Helper()
	switch {
	case want == "-":
		if got != "" {
			t.Errorf("got WWW-Authenticate %s, want none", got)
		}
	case want != "":
		if got != want {
			t.Errorf("got WWW-Authenticate %s, want %s", got, want)
		}
	default:
		prefix := `Bearer realm="https://login.test", error="` + code + `", error_description="`
		if !strings.HasPrefix(got, prefix) {
			t.Errorf("got WWW-Authenticate %s, want it to start with %s", got, prefix)
		}
	}
}

func checkOAuthBody(t *testing.T, b []byte, code string) {
	t.Helper()
	var body map[string]string
	if err := json.Unmarshal(b, &body); err != nil || body["error"] != code || body["error_description"] == "" {
		t.Errorf("got body %s, want error %q with a description", b, code)
	}
	if _, ok := body["error"]; code == "" && ok {
		t.Errorf("got body %s, want no error code", b)
	}
}

func checkGraphBody(t *testing.T, b []byte, status int) {
	t.Helper()
	var body struct {
		Error struct{ Code, Message string }
	}
	want := map[int]string{400: "BadRequest", 401: "InvalidAuthenticationToken", 403: "Authorization_RequestDenied", 405: "BadRequest"}[status]
	if err := json.Unmarshal(b, &body); err != nil || body.Error.Code != want || body.Error.Message == "" {
		t.Errorf("got body %s, want Graph's shape with code %s", b, want)
	}
}

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

func TestWriteErrorOutsideGuard(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, http.StatusBadRequest, "invalid_request", "bad")
	if w.Code != 400 || w.Body.String() != `{"error":"invalid_request","error_description":"bad"}` || w.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("got %d %s %v", w.Code, w.Body, w.Header())
	}
}

func (m *memKeys) PromoteSigningKey(context.Context, string, string, time.Time) error {
	return errors.New("memKeys: no rotation")
}

func (m *memKeys) DeleteRetiredKeys(context.Context, time.Time) error { return nil }
