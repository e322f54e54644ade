package protocol

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/sigil-idp/sigil/internal/web"
)

// Response modes of the authorization endpoint.
const (
	modeQuery    = "query"
	modeFragment = "fragment"
	modeFormPost = "form_post"
)

// responseType is what a successful authorization response carries, from response_type:
// an authorization code, or the implicit grant's ID token and access token (MSAL 1.x).
type responseType struct {
	Code    bool `json:"code,omitempty"`
	IDToken bool `json:"id_token,omitempty"`
	Token   bool `json:"token,omitempty"`
	Refresh bool `json:"refresh_token,omitempty"` // only in an encrypted authorize response
	// AdminConsent: the /adminconsent endpoint's answer, admin_consent=True with the tenant
	// and the granted scopes, instead of any token.
	AdminConsent bool `json:"admin_consent,omitempty"`
}

// tokens reports whether the response carries tokens, which never travel in a query string.
func (t responseType) tokens() bool { return t.IDToken || t.Token || t.Refresh }

// ear reports whether the response type is the encrypted authorize response's.
func (t responseType) ear() bool { return t == responseType{IDToken: true, Token: true, Refresh: true} }

// String spells the response type as response_type does.
func (t responseType) String() string {
	var parts []string
	for _, p := range []struct {
		on   bool
		name string
	}{{t.Code, "code"}, {t.IDToken, "id_token"}, {t.Token, "token"}, {t.Refresh, "refresh_token"}} {
		if p.on {
			parts = append(parts, p.name)
		}
	}
	return strings.Join(parts, " ")
}

// delivery is how an authorization response reaches the app, settled once the client and its
// redirect URI are trusted: the URI, the part of it that carries the answer (query, fragment
// or an auto-submitted form), the state to echo, and what a success carries. Every answer
// from then on — the code, the tokens, or an error — leaves through [Server.deliver]
// (errors by way of [Server.deliverError]); before it, errors are pages.
type delivery struct {
	URI        string       `json:"uri"`
	Mode       string       `json:"mode"`
	State      string       `json:"state,omitempty"`
	StateGiven bool         `json:"state_given,omitempty"`
	Type       responseType `json:"type"`
	// EAR, for msal-browser 5's protocolMode "EAR": the whole token response goes as ear_jwe,
	// encrypted to the key the browser sent.
	EAR *earParams `json:"ear,omitempty"`
	// Device, for a sign-in started on the device code verification page: no redirect at
	// all; the answer decides the device authorization and shows a result page
	// (devicelogin.go). URI and Mode are empty.
	Device *deviceReply `json:"device,omitempty"`
}

// earParams are a validated encrypted-authorize-response request's ear_jwk and
// ear_jwe_crypto, kept as sent while the user signs in.
type earParams struct {
	JWK    string `json:"jwk"`
	Crypto string `json:"crypto"`
}

// defaultMode is the response mode when the request names none: the query for a code, the
// fragment for tokens (OAuth 2.0 Multiple Response Type Encoding Practices §5).
func defaultMode(t responseType) string {
	if t.tokens() {
		return modeFragment
	}
	return modeQuery
}

// deliverError sends an error to the trusted redirect URI in the request's mode, with state.
// When the user must act (login_required, consent_required, interaction_required) the
// description also names the error and the word interaction_required: MSAL 1.x apps, as
// Microsoft's documentation writes them, look for it in errorMessage, which is the
// error_description verbatim.
func (s *Server) deliverError(w http.ResponseWriter, r *http.Request, d delivery, err error) {
	if d.Device != nil {
		s.deliverDeviceError(w, r, *d.Device, err)
		return
	}
	e := asError(err)
	s.logError(r.Context(), "authorize", e)
	b := s.errorBody(r.Context(), e)
	v := url.Values{"error": {b.Error}, "error_description": {interactionText(b.Error, b.Description)},
		"timestamp": {b.Timestamp}, "trace_id": {b.TraceID}, "correlation_id": {b.CorrelationID}}
	if len(b.Codes) > 0 {
		v.Set("error_codes", fmt.Sprint(b.Codes))
	}
	if b.Suberror != "" {
		v.Set("suberror", b.Suberror)
	}
	s.deliver(w, d, v)
}

// interactionText adds "(<code>: interaction_required)" to the description of the three
// errors that mean the user must act, and leaves every other description alone: MSAL 2–5
// treat any description containing these words as InteractionRequiredAuthError.
func interactionText(code, description string) string {
	switch code {
	case "login_required", "consent_required", "interaction_required":
		return description + "\r\n(" + code + ": interaction_required)"
	}
	return description
}

// deliver writes the authorization response parameters — a success's, or deliverError's —
// to the app, with state: a 302 carrying them in the query or the fragment, or an
// auto-submitting form for form_post.
func (s *Server) deliver(w http.ResponseWriter, d delivery, v url.Values) {
	if d.StateGiven {
		v.Set("state", d.State)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if d.Mode == modeFormPost {
		names := make([]string, 0, len(v))
		for k := range v {
			names = append(names, k)
		}
		sort.Strings(names)
		fields := make([]web.Field, 0, len(names))
		for _, k := range names {
			fields = append(fields, web.Field{Name: k, Value: v.Get(k)})
		}
		s.pages.FormPost(w, web.FormPostPage{Action: d.URI, Fields: fields})
		return
	}
	w.Header().Set("Location", d.location(v))
	w.WriteHeader(http.StatusFound)
}

// location is the redirect target for the query and fragment modes. Every value is
// percent-encoded ("+" as %2B, space as "+", which URLSearchParams and MSAL 1.x both read
// back as a space), so state returns byte for byte. A fragment replaces none of the URI's
// query; a query is appended to the registered URI's own.
func (d delivery) location(v url.Values) string {
	enc := v.Encode()
	switch {
	case d.Mode == modeFragment:
		return d.URI + "#" + enc
	case strings.Contains(d.URI, "?"):
		return d.URI + "&" + enc
	default:
		return d.URI + "?" + enc
	}
}
