package apiauth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// RFC 6750 §3.1 error codes, and Entra's insufficient_claims (a claims challenge).
const (
	CodeInvalidRequest     = "invalid_request"
	CodeInvalidToken       = "invalid_token"
	CodeInsufficientScope  = "insufficient_scope"
	CodeInsufficientClaims = "insufficient_claims"
)

// ErrNoToken is the error of a request without a bearer token: no Authorization header, or
// one of another scheme (such as Basic). Its answer is a bare challenge (RFC 6750 §3.1: "the
// resource server SHOULD NOT include an error code").
var ErrNoToken = errors.New("apiauth: no bearer token")

// BearerError is an RFC 6750 error answer: its HTTP status, error code (empty for a bare
// challenge), description, and for insufficient_scope the scopes that would do. The
// [Middleware] hands one to its ErrorHandler for every refused request.
type BearerError struct {
	Status      int    // 400, 401, 403, or 500/503 for the server's own failures
	Code        string // CodeInvalidToken…, or "" for a request without a token
	Description string // human-readable, safe to show the client
	Scope       string // space-separated scopes for insufficient_scope, else ""
	Err         error  // the cause, for errors.Is; not shown to the client
}

// Error says what was refused and why, for logs.
func (e *BearerError) Error() string {
	if e.Code == "" {
		return "apiauth: " + e.Description
	}
	return "apiauth: " + e.Code + ": " + e.Description
}

// Unwrap returns the cause, so errors.Is finds the [Verifier.Verify] error behind e.
func (e *BearerError) Unwrap() error { return e.Err }

// Challenge returns the WWW-Authenticate value for e (RFC 6750 §3): `Bearer realm="…"` and,
// when e has a code, its error, error_description and scope. It is empty for statuses other
// than 400, 401 and 403 (the server's own failures challenge nothing).
func (e *BearerError) Challenge(realm string) string {
	if e.Status != http.StatusBadRequest && e.Status != http.StatusUnauthorized && e.Status != http.StatusForbidden {
		return ""
	}
	var b strings.Builder
	b.WriteString("Bearer realm=")
	b.WriteString(quote(realm))
	if e.Code != "" {
		b.WriteString(", error=" + quote(e.Code))
		if e.Description != "" {
			b.WriteString(", error_description=" + quote(e.Description))
		}
		if e.Scope != "" {
			b.WriteString(", scope=" + quote(e.Scope))
		}
	}
	return b.String()
}

// quote makes an RFC 9110 quoted-string of s; RFC 6750 limits error_description and scope to
// printable ASCII without " and \, so other bytes are replaced.
func quote(s string) string {
	return `"` + strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, s) + `"`
}

// WriteError answers err, a *[BearerError]: its WWW-Authenticate challenge (with realm),
// its status, and a JSON body {"error": …, "error_description": …} (no "error" for a bare
// challenge), never cached. Any other error is answered as a 500 without details.
func WriteError(w http.ResponseWriter, realm string, err error) {
	e, ok := errors.AsType[*BearerError](err)
	if !ok {
		e = &BearerError{Status: http.StatusInternalServerError, Code: "server_error", Description: "internal error"}
	}
	if c := e.Challenge(realm); c != "" {
		w.Header().Set("WWW-Authenticate", c)
	}
	body := map[string]string{"error_description": e.Description}
	if e.Code != "" {
		body["error"] = e.Code
	}
	writeJSON(w, e.Status, body)
}

// WriteClaimsChallenge answers 401 with a claims challenge as Entra's CAE-enabled APIs do:
//
//	WWW-Authenticate: Bearer realm="", error="insufficient_claims", claims="<base64 of claims>"
//
// claims is the JSON of an OpenID Connect claims request, such as
// {"access_token":{"nbf":{"essential":true,"value":"1700000000"}}} (see [NotBeforeClaims]);
// MSAL passes it, decoded, to acquireTokenSilent({claims}) to get a new token. The body is
// {"error": "insufficient_claims", "error_description": description}.
func WriteClaimsChallenge(w http.ResponseWriter, claims, description string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="", error="insufficient_claims", claims="`+
		base64.StdEncoding.EncodeToString([]byte(claims))+`"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": CodeInsufficientClaims, "error_description": description})
}

// NotBeforeClaims returns the claims request of a CAE challenge asking for an access token
// issued not before unix (seconds): {"access_token":{"nbf":{"essential":true,"value":"<unix>"}}}.
func NotBeforeClaims(unix int64) string {
	return `{"access_token":{"nbf":{"essential":true,"value":"` + strconv.FormatInt(unix, 10) + `"}}}`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

// BearerToken reads the token of the Authorization header (RFC 6750 §2.1: "Bearer", any
// case, then the token, a b64token). No header, or one of another scheme, is [ErrNoToken];
// more than one Authorization header or "Bearer" without a token is a 400 invalid_request;
// a value that is not a b64token is a 401 invalid_token. Errors are *[BearerError].
func BearerToken(r *http.Request) (string, error) {
	return parseAuthorization(r.Header.Values("Authorization"))
}

func parseAuthorization(values []string) (string, error) {
	switch {
	case len(values) == 0:
		return "", noToken()
	case len(values) > 1:
		return "", &BearerError{Status: http.StatusBadRequest, Code: CodeInvalidRequest,
			Description: "more than one Authorization header"}
	}
	v := strings.TrimLeft(values[0], " \t")
	scheme, rest, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", noToken()
	}
	token := strings.Trim(rest, " \t")
	if token == "" {
		return "", &BearerError{Status: http.StatusBadRequest, Code: CodeInvalidRequest,
			Description: "the Authorization header must be 'Bearer <token>'"}
	}
	if !isB64Token(token) {
		return "", &BearerError{Status: http.StatusUnauthorized, Code: CodeInvalidToken,
			Description: "the bearer token is malformed"}
	}
	return token, nil
}

func noToken() error {
	return &BearerError{Status: http.StatusUnauthorized, Description: "no bearer token", Err: ErrNoToken}
}

// isB64Token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" (RFC 6750 §2.1).
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0 {
			continue
		}
		return false
	}
	return true
}
