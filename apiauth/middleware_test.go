package apiauth

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMiddleware(t *testing.T) {
	key := rsaKey(t)
	m := &Middleware{Verifier: NewVerifier(StaticKeySet{testKID: &key.PublicKey}, testConfig())}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := FromContext(r.Context())
		if tok == nil {
			t.Error("no token in the context")
			return
		}
		w.Write([]byte("hello " + tok.ObjectID))
	})
	user := "Bearer " + sign(t, key, testKID, claims())
	c := claims()
	c["scp"], c["roles"] = nil, []string{"Todo.ReadAll"}
	daemon := "Bearer " + sign(t, key, testKID, c)
	c = claims()
	c["exp"] = testNow.Add(-time.Hour).Unix()
	expired := "Bearer " + sign(t, key, testKID, c)
	read := Requirement{AnyScope: []string{"Todo.Read"}}
	readAll := Requirement{AnyRole: []string{"Todo.ReadAll"}}
	tests := []struct {
		name      string
		auth      []string
		reqs      []Requirement
		status    int
		challenge string // the WWW-Authenticate value, "" for none
		body      string // a substring of the body
	}{
		{"no header", nil, nil, 401, `Bearer realm=""`, `"no bearer token"`},
		{"Basic", []string{"Basic YWxpY2U6cHc="}, nil, 401, `Bearer realm=""`, ""},
		{"two headers", []string{user, user}, nil, 400, `Bearer realm="", error="invalid_request", error_description="more than one Authorization header"`, `"invalid_request"`},
		{"Bearer without a token", []string{"Bearer "}, nil, 400, `Bearer realm="", error="invalid_request", error_description="the Authorization header must be 'Bearer <token>'"`, ""},
		{"garbage token", []string{"Bearer abc"}, nil, 401, `Bearer realm="", error="invalid_token", error_description="the access token is malformed"`, `"invalid_token"`},
		{"not a b64token", []string{"Bearer a,b"}, nil, 401, `Bearer realm="", error="invalid_token", error_description="the bearer token is malformed"`, ""},
		{"expired", []string{expired}, nil, 401, `Bearer realm="", error="invalid_token", error_description="the access token expired"`, ""},
		{"valid, nothing required", []string{user}, nil, 200, "", "hello oid-1"},
		{"lowercase scheme", []string{"bearer " + user[len("Bearer "):]}, nil, 200, "", "hello oid-1"},
		{"scope any-of met", []string{user}, []Requirement{{AnyScope: []string{"Todo.Write", "Todo.Read"}}}, 200, "", ""},
		{"scope all-of met", []string{user}, []Requirement{{AllScopes: []string{"Todo.Read", "User.Read"}}}, 200, "", ""},
		{"scope all-of not met", []string{user}, []Requirement{{AllScopes: []string{"Todo.Read", "Todo.Write"}}}, 403,
			`Bearer realm="", error="insufficient_scope", error_description="the access token lacks the scope or role this resource requires", scope="Todo.Read Todo.Write"`, `"insufficient_scope"`},
		{"scope any-of not met", []string{user}, []Requirement{{AnyScope: []string{"Todo.Write"}}}, 403, "", ""},
		{"role any-of met", []string{user}, []Requirement{{AnyRole: []string{"Todo.Admin", "x"}}}, 200, "", ""},
		{"role all-of not met", []string{user}, []Requirement{{AllRoles: []string{"Todo.Admin", "x"}}}, 403, "", ""},
		{"scope and role in one requirement", []string{user}, []Requirement{{AnyScope: []string{"Todo.Read"}, AnyRole: []string{"Todo.Admin"}}}, 200, "", ""},
		{"user token, scope or role", []string{user}, []Requirement{read, readAll}, 200, "", ""},
		{"daemon token, scope or role", []string{daemon}, []Requirement{read, readAll}, 200, "", ""},
		{"daemon token, scope only", []string{daemon}, []Requirement{read}, 403, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/todo", nil)
			for _, a := range tt.auth {
				r.Header.Add("Authorization", a)
			}
			w := httptest.NewRecorder()
			m.Require(ok, tt.reqs...).ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("got %d %s, want %d", w.Code, w.Body, tt.status)
			}
			got := w.Header().Get("WWW-Authenticate")
			if tt.challenge != "" && got != tt.challenge {
				t.Errorf("got WWW-Authenticate %s, want %s", got, tt.challenge)
			}
			if tt.status == 200 && got != "" {
				t.Errorf("got WWW-Authenticate %s on success", got)
			}
			if tt.status != 200 && !strings.HasPrefix(got, "Bearer ") {
				t.Errorf("got WWW-Authenticate %q, want a Bearer challenge", got)
			}
			if tt.status != 200 && w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("error not marked no-store")
			}
			if !strings.Contains(w.Body.String(), tt.body) {
				t.Errorf("got body %s, want it to contain %s", w.Body, tt.body)
			}
		})
	}
}

func TestMiddlewareErrorHandler(t *testing.T) {
	var got error
	m := &Middleware{Verifier: NewVerifier(StaticKeySet{}, testConfig()),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			w.WriteHeader(http.StatusTeapot)
		}}
	w := httptest.NewRecorder()
	m.Handler(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	e, ok := got.(*BearerError)
	if w.Code != http.StatusTeapot || !ok || e.Status != 401 || e.Code != "" {
		t.Fatalf("got %d and %#v, want the ErrorHandler called with a bare 401", w.Code, got)
	}
}

func TestWriteClaimsChallenge(t *testing.T) {
	w := httptest.NewRecorder()
	claims := NotBeforeClaims(1700000000)
	WriteClaimsChallenge(w, claims, "the token was issued before the session was revoked")
	want := `Bearer realm="", error="insufficient_claims", claims="` + base64.StdEncoding.EncodeToString([]byte(claims)) + `"`
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != want {
		t.Fatalf("got %d %q, want 401 %q", w.Code, w.Header().Get("WWW-Authenticate"), want)
	}
	var body map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["error"] != "insufficient_claims" {
		t.Fatalf("got body %s", w.Body)
	}
	if claims != `{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}` {
		t.Fatalf("got claims %s", claims)
	}
}

func TestChallengeQuoting(t *testing.T) {
	e := &BearerError{Status: 401, Code: CodeInvalidToken, Description: "bad \"token\"\n\\ é"}
	if got, want := e.Challenge("r"), `Bearer realm="r", error="invalid_token", error_description="bad ?token??? ?"`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if got := (&BearerError{Status: 503}).Challenge("r"); got != "" {
		t.Fatalf("a 5xx challenges nothing, got %s", got)
	}
}

func TestParseAuthorization(t *testing.T) {
	for _, tt := range []struct {
		values []string
		token  string
		status int // 0: accepted
		code   string
	}{
		{nil, "", 401, ""},
		{[]string{"Basic abc"}, "", 401, ""},
		{[]string{"Bearerabc"}, "", 401, ""},
		{[]string{""}, "", 401, ""},
		{[]string{"Bearer abc"}, "abc", 0, ""},
		{[]string{"BEARER  abc.def-_~+/== "}, "abc.def-_~+/==", 0, ""},
		{[]string{"Bearer"}, "", 400, CodeInvalidRequest},
		{[]string{"Bearer   "}, "", 400, CodeInvalidRequest},
		{[]string{"Bearer a", "Bearer a"}, "", 400, CodeInvalidRequest},
		{[]string{"Bearer a b"}, "", 401, CodeInvalidToken},
		{[]string{"Bearer =abc"}, "", 401, CodeInvalidToken},
		{[]string{"Bearer ==="}, "", 401, CodeInvalidToken},
	} {
		token, err := parseAuthorization(tt.values)
		if tt.status == 0 {
			if err != nil || token != tt.token {
				t.Errorf("%q: got %q, %v; want %q", tt.values, token, err, tt.token)
			}
			continue
		}
		e, ok := err.(*BearerError)
		if !ok || e.Status != tt.status || e.Code != tt.code {
			t.Errorf("%q: got %q, %#v; want %d %q", tt.values, token, err, tt.status, tt.code)
		}
	}
}

// FuzzBearerHeader checks that parsing any Authorization header either yields a b64token
// that occurs in the header or a well-formed RFC 6750 error, and never panics.
func FuzzBearerHeader(f *testing.F) {
	for _, s := range []string{"", "Bearer abc", "bearer  a.b.c ", "Basic YTpi", "Bearer", "Bearer a b", "Bearer ==", "Bearer\tx", "Bearer é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		token, err := parseAuthorization([]string{header})
		if err != nil {
			e, ok := err.(*BearerError)
			if !ok || token != "" || e.Status != 400 && e.Status != 401 {
				t.Fatalf("%q: got %q, %#v", header, token, err)
			}
			if c := e.Challenge(""); !strings.HasPrefix(c, `Bearer realm=""`) || strings.ContainsAny(c, "\r\n") {
				t.Fatalf("%q: bad challenge %q", header, c)
			}
			return
		}
		if !isB64Token(token) || !strings.Contains(header, token) || !strings.EqualFold(strings.Fields(header)[0], "Bearer") {
			t.Fatalf("%q: accepted %q", header, token)
		}
	})
}

func TestMiddlewareWithoutVerifier(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer abc")
	(&Middleware{}).Handler(http.NotFoundHandler()).ServeHTTP(w, r)
	if w.Code != http.StatusInternalServerError || w.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("got %d %q, want a 500 without a challenge", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}
