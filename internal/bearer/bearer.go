// Package bearer protects Sigil's own APIs (the profile API's /v1.0/me, userinfo) with the
// access tokens Sigil issues: RFC 6750 token extraction and WWW-Authenticate challenges, and
// CORS for the origins of registered single-page apps (browsers call these endpoints with
// the token in an Authorization header, so they preflight).
package bearer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

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

// Handler is a protected endpoint's own work, given the verified claims.
type Handler func(w http.ResponseWriter, r *http.Request, claims tokens.AccessClaims)

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
		if !allowed[r.Method] {
			w.Header().Set("Allow", methods+", OPTIONS")
			WriteError(w, http.StatusMethodNotAllowed, "invalid_request", "method not allowed")
			return
		}
		raw, err := token(r)
		if err != nil {
			WriteError(w, http.StatusBadRequest, "invalid_request", err.Error())
			return
		}
		if raw == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+g.PublicURL+`"`)
			WriteError(w, http.StatusUnauthorized, "", "no access token")
			return
		}
		claims, err := g.Keys.VerifyAccessToken(raw, g.PublicURL, g.Audience, g.Now())
		if err != nil {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q, error="invalid_token", error_description=%q`,
				g.PublicURL, err.Error()))
			WriteError(w, http.StatusUnauthorized, "invalid_token", err.Error())
			return
		}
		h(w, r, claims)
	})
}

// token reads the bearer token from the Authorization header (RFC 6750 §2.1). No header is
// "" and no error; a header that is not a bearer credential is an error.
func token(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	switch {
	case len(values) == 0:
		return "", nil
	case len(values) > 1:
		return "", fmt.Errorf("more than one Authorization header")
	}
	scheme, raw, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return "", fmt.Errorf("the Authorization header must be 'Bearer <token>'")
	}
	return strings.TrimSpace(raw), nil
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

// WriteError answers an OAuth-style JSON error.
func WriteError(w http.ResponseWriter, status int, code, description string) {
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
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q, error="insufficient_scope", scope=%q`, realm, scope))
	WriteError(w, http.StatusForbidden, "insufficient_scope", "the access token lacks the scope "+scope)
}
