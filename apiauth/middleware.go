package apiauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Requirement is what a route asks of a verified token. Every non-empty field must hold;
// an empty Requirement asks only for a valid token.
type Requirement struct {
	AnyScope  []string // scp holds at least one of these (delegated permissions)
	AllScopes []string // scp holds every one of these
	AnyRole   []string // roles holds at least one of these (app roles)
	AllRoles  []string // roles holds every one of these
}

// met says whether t satisfies r.
func (r Requirement) met(t *Token) bool {
	return anyOf(r.AnyScope, t.HasScope) && allOf(r.AllScopes, t.HasScope) &&
		anyOf(r.AnyRole, t.HasRole) && allOf(r.AllRoles, t.HasRole)
}

func anyOf(want []string, has func(string) bool) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		if has(w) {
			return true
		}
	}
	return false
}

func allOf(want []string, has func(string) bool) bool {
	for _, w := range want {
		if !has(w) {
			return false
		}
	}
	return true
}

// scopes is the scope attribute of an insufficient_scope answer: the scopes that would do.
func (r Requirement) scopes() []string {
	if len(r.AllScopes) > 0 {
		return r.AllScopes
	}
	return r.AnyScope
}

// ErrorHandler answers a refused request. err is a *[BearerError] (see [WriteError]).
type ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

// Middleware protects http.Handlers with bearer tokens checked by Verifier (required:
// without one every request is refused with a 500). Its zero ErrorHandler answers with
// [WriteError] and Realm.
type Middleware struct {
	Verifier *Verifier
	// Realm is the challenges' realm; "" is allowed (Entra sends realm="").
	Realm string
	// ErrorHandler answers refused requests; nil is WriteError.
	ErrorHandler ErrorHandler
}

// Handler returns next protected by a valid token, with no scope or role required.
func (m *Middleware) Handler(next http.Handler) http.Handler { return m.Require(next) }

// Require returns next protected by a valid token that meets at least one of reqs (no
// reqs: any valid token). A request is refused with 401 (no token, or an invalid one:
// invalid_token) or 403 insufficient_scope; the handler finds the token with
// [FromContext]. Require answers no CORS preflight: put a CORS handler in front of it.
//
// Combine with one Requirement per accepted kind of token, for example a user's token
// with a scope or a daemon's token with an app role:
//
//	m.Require(h, apiauth.Requirement{AnyScope: []string{"Todo.Read"}},
//		apiauth.Requirement{AnyRole: []string{"Todo.ReadAll"}})
func (m *Middleware) Require(next http.Handler, reqs ...Requirement) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := m.authenticate(r)
		if err == nil && !meetsAny(t, reqs) {
			err = insufficient(reqs)
		}
		if err != nil {
			m.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, t)))
	})
}

func meetsAny(t *Token, reqs []Requirement) bool {
	if len(reqs) == 0 {
		return true
	}
	for _, req := range reqs {
		if req.met(t) {
			return true
		}
	}
	return false
}

func insufficient(reqs []Requirement) *BearerError {
	var scopes []string
	for _, req := range reqs {
		scopes = append(scopes, req.scopes()...)
	}
	return &BearerError{Status: http.StatusForbidden, Code: CodeInsufficientScope,
		Description: "the access token lacks the scope or role this resource requires", Scope: strings.Join(scopes, " ")}
}

// authenticate reads and verifies the request's token.
func (m *Middleware) authenticate(r *http.Request) (*Token, error) {
	if m.Verifier == nil {
		return nil, VerifyError(fmt.Errorf("%w: Middleware without a Verifier", ErrConfig))
	}
	raw, err := BearerToken(r)
	if err != nil {
		return nil, err
	}
	t, err := m.Verifier.Verify(r.Context(), raw)
	if err != nil {
		return nil, VerifyError(err)
	}
	return t, nil
}

// VerifyError turns an error of [Verifier.Verify] into its RFC 6750 answer: 401
// invalid_token for a token that is not acceptable, 503 when the issuer's keys are
// unavailable, 500 for a configuration error. The description says what failed, without
// the token.
func VerifyError(err error) *BearerError {
	switch {
	case errors.Is(err, ErrConfig):
		return &BearerError{Status: http.StatusInternalServerError, Code: "server_error", Description: "internal error", Err: err}
	case errors.Is(err, ErrKeySetUnavailable):
		return &BearerError{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
			Description: "the token issuer's keys are unavailable", Err: err}
	}
	desc := "the access token is invalid"
	for _, e := range []struct {
		err  error
		desc string
	}{
		{ErrExpired, "the access token expired"}, {ErrNotYetValid, "the access token is not yet valid"},
		{ErrIssuer, "the access token is from another issuer"}, {ErrAudience, "the access token is for another audience"},
		{ErrAlgorithm, "the access token's signature algorithm is not accepted"},
		{ErrSignature, "the access token's signature is invalid"}, {ErrUnknownKey, "the access token is signed by an unknown key"},
		{ErrMalformed, "the access token is malformed"},
	} {
		if errors.Is(err, e.err) {
			desc = e.desc
			break
		}
	}
	return &BearerError{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: desc, Err: err}
}

func (m *Middleware) fail(w http.ResponseWriter, r *http.Request, err error) {
	if m.ErrorHandler != nil {
		m.ErrorHandler(w, r, err)
		return
	}
	WriteError(w, m.Realm, err)
}

type tokenKey struct{}

// FromContext returns the token the [Middleware] verified for this request, or nil.
func FromContext(ctx context.Context) *Token {
	t, _ := ctx.Value(tokenKey{}).(*Token)
	return t
}
