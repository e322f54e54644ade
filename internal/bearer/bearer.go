// Package bearer protects Sigil's own APIs (the profile API's /v1.0/me, userinfo) with the
// access tokens Sigil issues: RFC 6750 token extraction and error answers, and CORS for the
// origins of registered single-page apps (browsers call these endpoints with the token in an
// Authorization header, so they preflight).
//
// Its answers are apiauth's, so Sigil's APIs and the APIs built on the public package
// challenge alike: no credentials (or another scheme, such as Basic) is a bare 401
// `WWW-Authenticate: Bearer realm="…"`; a presented token that is bad, expired or foreign is
// 401 error="invalid_token"; a malformed request is 400 invalid_request; a missing scope 403
// insufficient_scope. Bodies have the OAuth shape ({"error", "error_description"}), except
// under /v1.0/, the profile API shaped as Microsoft Graph, where they have Graph's
// ({"error": {"code": "InvalidAuthenticationToken", "message": …}}), since Graph SDKs parse
// that. CORS headers are on every answer, errors included.
package bearer

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/apiauth"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// Guard verifies bearer tokens for one audience.
type Guard struct {
	Keys      *tokens.KeySet
	PublicURL string
	Audience  string
	Now       func() time.Time
	// IsSPAOrigin says whether an Origin belongs to a registered single-page app.
	IsSPAOrigin func(ctx context.Context, origin string) (bool, error)
}

// Handler is a protected endpoint's own work, given the verified claims. Errors it answers
// through [WriteError] and [InsufficientScope] with the w it was given get the endpoint's
// shape and challenge.
type Handler func(w http.ResponseWriter, r *http.Request, claims tokens.AccessClaims)

// maxFormBody bounds a form body read for its access_token (RFC 6750 §2.2).
const maxFormBody = 64 << 10

// Protect returns an http.Handler that answers CORS preflights, requires a valid bearer
// token, and calls h. methods lists the methods h serves (e.g. "GET, POST").
func (g *Guard) Protect(methods string, h Handler) http.Handler {
	allowed := map[string]bool{}
	for _, m := range strings.Split(methods, ",") {
		allowed[strings.TrimSpace(m)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.cors(w, r)
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", methods+", OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			w.Header().Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		ew := &errorWriter{ResponseWriter: w, realm: g.PublicURL, graph: strings.HasPrefix(r.URL.Path, "/v1.0/")}
		if !allowed[r.Method] {
			w.Header().Set("Allow", methods+", OPTIONS")
			ew.fail(&apiauth.BearerError{Status: http.StatusMethodNotAllowed, Code: apiauth.CodeInvalidRequest,
				Description: "method not allowed"})
			return
		}
		raw, err := token(r)
		if err != nil {
			ew.fail(err)
			return
		}
		claims, err := g.Keys.VerifyAccessToken(raw, g.PublicURL, g.Audience, g.Now())
		if err != nil {
			ew.fail(&apiauth.BearerError{Status: http.StatusUnauthorized, Code: apiauth.CodeInvalidToken,
				Description: err.Error(), Err: err})
			return
		}
		h(ew, r, claims)
	})
}

// token reads the bearer token from the Authorization header (RFC 6750 §2.1), or from a
// POSTed form's access_token (§2.2, which OpenID Connect's userinfo must accept). No token
// (or another scheme, such as Basic) is an error wrapping apiauth.ErrNoToken; errors are
// *apiauth.BearerError.
func token(r *http.Request) (string, error) {
	raw, err := apiauth.BearerToken(r)
	if err != nil && !errors.Is(err, apiauth.ErrNoToken) || r.Method != http.MethodPost {
		return raw, err
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return raw, err
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxFormBody)
	if perr := r.ParseForm(); perr != nil {
		return "", &apiauth.BearerError{Status: http.StatusBadRequest, Code: apiauth.CodeInvalidRequest,
			Description: "the form body is malformed"}
	}
	form, ok := r.PostForm["access_token"]
	switch {
	case !ok:
		return raw, err
	case err == nil || len(form) > 1: // in the header too, or twice
		return "", &apiauth.BearerError{Status: http.StatusBadRequest, Code: apiauth.CodeInvalidRequest,
			Description: "send the access token once, in the Authorization header or the form body"}
	case form[0] == "":
		return "", &apiauth.BearerError{Status: http.StatusBadRequest, Code: apiauth.CodeInvalidRequest,
			Description: "the access_token parameter is empty"}
	}
	return form[0], nil
}

// cors lets registered single-page apps read the answer, errors included.
func (g *Guard) cors(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" || g.IsSPAOrigin == nil {
		return
	}
	if ok, err := g.IsSPAOrigin(r.Context(), origin); err == nil && ok {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Expose-Headers", "WWW-Authenticate")
	}
}

// errorWriter is the ResponseWriter a protected endpoint gets: it knows the endpoint's
// realm and error shape, so every error of the endpoint leaves through fail.
type errorWriter struct {
	http.ResponseWriter
	realm string
	graph bool // Microsoft Graph's error shape
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *errorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// fail answers err (a *apiauth.BearerError; anything else is a 500): the RFC 6750
// challenge, and the body in the endpoint's shape.
func (w *errorWriter) fail(err error) {
	e, ok := errors.AsType[*apiauth.BearerError](err)
	if !ok {
		e = &apiauth.BearerError{Status: http.StatusInternalServerError, Code: "server_error", Description: "internal error"}
	}
	if !w.graph {
		apiauth.WriteError(w.ResponseWriter, w.realm, e)
		return
	}
	if c := e.Challenge(w.realm); c != "" {
		w.Header().Set("WWW-Authenticate", c)
	}
	WriteJSON(w.ResponseWriter, e.Status, map[string]any{"error": map[string]string{"code": graphCode(e), "message": e.Description}})
}

// graphCode is Microsoft Graph's error code for an answer.
func graphCode(e *apiauth.BearerError) string {
	switch {
	case e.Status == http.StatusUnauthorized:
		return "InvalidAuthenticationToken"
	case e.Status == http.StatusForbidden:
		return "Authorization_RequestDenied"
	case e.Status == http.StatusServiceUnavailable:
		return "serviceNotAvailable"
	case e.Status >= 500:
		return "generalException"
	}
	return "BadRequest"
}

// WriteError answers an error. Given the writer of a [Guard]-protected endpoint, it has that
// endpoint's shape and, for 401 and 403, its WWW-Authenticate challenge; otherwise it is an
// OAuth-style JSON error.
func WriteError(w http.ResponseWriter, status int, code, description string) {
	e := &apiauth.BearerError{Status: status, Code: code, Description: description}
	if ew, ok := w.(*errorWriter); ok {
		ew.fail(e)
		return
	}
	body := map[string]string{"error_description": description}
	if code != "" {
		body["error"] = code
	}
	WriteJSON(w, status, body)
}

// WriteJSON answers v as JSON, never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

// HasScope reports whether a space-separated scp claim holds want (case-insensitively).
func HasScope(scp, want string) bool {
	for _, s := range strings.Fields(scp) {
		if strings.EqualFold(s, want) {
			return true
		}
	}
	return false
}

// InsufficientScope answers 403 with an insufficient_scope challenge (RFC 6750 §3.1).
func InsufficientScope(w http.ResponseWriter, realm, scope string) {
	e := &apiauth.BearerError{Status: http.StatusForbidden, Code: apiauth.CodeInsufficientScope,
		Description: "the access token lacks the scope " + scope, Scope: scope}
	if ew, ok := w.(*errorWriter); ok {
		ew.fail(e)
		return
	}
	apiauth.WriteError(w, realm, e)
}
