package apiauth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sigil-idp/sigil/apiauth"
)

// exampleKey stands for Sigil's signing key: the examples sign their own tokens.
var exampleKey, _ = rsa.GenerateKey(rand.Reader, 2048)

// exampleToken signs claims as Sigil would (RS256, kid "k1"), for a token valid for an hour.
func exampleToken(scp string, roles ...string) string {
	now := time.Now().Unix()
	claims, _ := json.Marshal(map[string]any{
		"iss": "https://login.example.test/6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10/v2.0", "aud": "api://todo",
		"tid": "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10", "oid": "5f1c0a52-8c1e-4a4e-9d0e-6b1f2b3c4d5e", "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
		"azp": "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "scp": scp, "roles": roles, "ver": "2.0",
		"iat": now, "nbf": now, "exp": now + 3600})
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: exampleKey},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	jws, _ := signer.Sign(claims)
	raw, _ := jws.CompactSerialize()
	return raw
}

// A Todo API that accepts Sigil's tokens for api://todo from one tenant: reading needs the
// delegated scope Todo.Read, writing Todo.Write, deleting the app role Todo.Admin.
func Example() {
	// In production: &apiauth.RemoteKeySet{URL: "https://login.example.test/<tenant>/discovery/v2.0/keys", Client: client}.
	keys := apiauth.StaticKeySet{"k1": &exampleKey.PublicKey}
	verifier := apiauth.NewVerifier(keys, apiauth.Config{
		Issuer:    "https://login.example.test/6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10/v2.0",
		Audiences: []string{"api://todo"},
	})
	auth := &apiauth.Middleware{Verifier: verifier}
	list := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := apiauth.FromContext(r.Context())
		fmt.Fprintf(w, "todos of %s", tok.ObjectID)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /todos", auth.Require(list, apiauth.Requirement{AnyScope: []string{"Todo.Read"}}))
	mux.Handle("POST /todos", auth.Require(list, apiauth.Requirement{AllScopes: []string{"Todo.Write"}}))
	mux.Handle("DELETE /todos", auth.Require(list, apiauth.Requirement{AnyRole: []string{"Todo.Admin"}}))

	call := func(method, authorization string) {
		r := httptest.NewRequest(method, "/todos", nil)
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if c := w.Header().Get("WWW-Authenticate"); c != "" {
			fmt.Println(method, w.Code, c)
		} else {
			fmt.Println(method, w.Code, w.Body)
		}
	}
	token := exampleToken("Todo.Read")
	call("GET", "")
	call("GET", "Basic YWxpY2U6c2VjcmV0")
	call("GET", "Bearer not-a-jwt")
	call("GET", "Bearer "+token)
	call("POST", "Bearer "+token)
	call("DELETE", "Bearer "+exampleToken("", "Todo.Admin"))
	// Output:
	// GET 401 Bearer realm=""
	// GET 401 Bearer realm=""
	// GET 401 Bearer realm="", error="invalid_token", error_description="the access token is malformed"
	// GET 200 todos of 5f1c0a52-8c1e-4a4e-9d0e-6b1f2b3c4d5e
	// POST 403 Bearer realm="", error="insufficient_scope", error_description="the access token lacks the scope or role this resource requires", scope="Todo.Write"
	// DELETE 200 todos of 5f1c0a52-8c1e-4a4e-9d0e-6b1f2b3c4d5e
}

// A multi-tenant API verifies tokens itself, fetching Sigil's keys (here from a stand-in
// server) and accepting any tenant, by the API's App ID URI or its client id.
func ExampleVerifier_Verify() {
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &exampleKey.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	sigil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(jwks) }))
	defer sigil.Close()

	keys := &apiauth.RemoteKeySet{URL: sigil.URL + "/common/discovery/v2.0/keys", Client: sigil.Client()}
	verifier := apiauth.NewVerifier(keys, apiauth.Config{
		Issuer:    "https://login.example.test/{tenantid}/v2.0",
		Audiences: []string{"api://todo", "4e5f6a7b-8c9d-4e0f-8a1b-2c3d4e5f6a7b"},
	})
	tok, err := verifier.Verify(context.Background(), exampleToken("Todo.Read User.Read"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("tenant:", tok.TenantID)
	fmt.Println("user:", tok.ObjectID)
	fmt.Println("app:", tok.AuthorizedParty)
	fmt.Println("scopes:", tok.Scopes, tok.HasScope("todo.read"))
	var claims struct {
		Ver string `json:"ver"`
	}
	tok.Claims(&claims)
	fmt.Println("ver:", claims.Ver)

	_, err = verifier.Verify(context.Background(), exampleToken("Todo.Read")[:40])
	fmt.Println(err)
	// Output:
	// tenant: 6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10
	// user: 5f1c0a52-8c1e-4a4e-9d0e-6b1f2b3c4d5e
	// app: 3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f
	// scopes: [Todo.Read User.Read] true
	// ver: 2.0
	// apiauth: malformed token: not a compact JWS (three parts)
}

// An API that learns a user's session was revoked (continuous access evaluation) asks the
// app for a token issued after that moment; MSAL passes the decoded claims to
// acquireTokenSilent({claims}) and Sigil answers with a new token.
func ExampleWriteClaimsChallenge() {
	w := httptest.NewRecorder()
	apiauth.WriteClaimsChallenge(w, apiauth.NotBeforeClaims(1764676800), "the session was revoked")
	fmt.Println(w.Code)
	fmt.Println(w.Header().Get("WWW-Authenticate"))
	fmt.Println(w.Body)
	// Output:
	// 401
	// Bearer realm="", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwidmFsdWUiOiIxNzY0Njc2ODAwIn19fQ=="
	// {"error":"insufficient_claims","error_description":"the session was revoked"}
}

// A custom ErrorHandler answers in the API's own error shape, keeping the RFC 6750 challenge.
func ExampleMiddleware_errorHandler() {
	auth := &apiauth.Middleware{
		Verifier: apiauth.NewVerifier(apiauth.StaticKeySet{"k1": &exampleKey.PublicKey}, apiauth.Config{
			Issuer: "https://login.example.test/6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10/v2.0", Audiences: []string{"api://todo"}}),
		Realm: "todo",
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			var e *apiauth.BearerError
			if !errors.As(err, &e) {
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			if c := e.Challenge("todo"); c != "" {
				w.Header().Set("WWW-Authenticate", c)
			}
			w.WriteHeader(e.Status)
			fmt.Fprintf(w, "problem: %s", e.Description)
		},
	}
	w := httptest.NewRecorder()
	auth.Handler(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest("GET", "/todos", nil))
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"), w.Body)
	// Output:
	// 401 Bearer realm="todo" problem: no bearer token
}
