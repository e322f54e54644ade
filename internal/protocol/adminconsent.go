package protocol

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// adminConsent answers GET /{tenant}/v2.0/adminconsent (client_id, redirect_uri, scope,
// state), where an administrator grants an app scopes for every user of the tenant: it runs
// as an authorization request — the client and its exact redirect URI first, errors as pages
// until then — whose user must sign in as an administrator (users[].admin) and accept the
// consent page, which offers every requested scope (".default": every scope the resource
// exposes). The answer goes to the redirect URI's query: admin_consent=True, tenant and the
// granted scope, with state; or error and error_description.
func (s *Server) adminConsent(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(w, r)
	if err != nil {
		s.failPage(w, r, "adminconsent", err)
		return
	}
	f, err := s.trustRequest(r, p)
	if err != nil {
		s.failPage(w, r, "adminconsent", err)
		return
	}
	f.req.Reply.Type = responseType{AdminConsent: true}
	if f.req.Scope = p.get("scope"); f.req.Scope == "" {
		s.deliverError(w, r, f.req.Reply, errMissingParam.new("scope"))
		return
	}
	prompt, ok := prompts[p.get("prompt")]
	if !ok || prompt == "none" {
		s.deliverError(w, r, f.req.Reply, errInvalidParam.new("prompt", "use login or select_account, or none at all."))
		return
	}
	f.req.Prompt, f.req.LoginHint = prompt, p.get("login_hint")
	s.proceed(w, r, f)
}

// adminConsentAnswer is the success of /adminconsent: what the administrator granted.
func adminConsentAnswer(user directory.User, grant store.Grant) url.Values {
	scopes := slices.DeleteFunc(slices.Clone(grant.Scopes), func(sc string) bool { return sc == directory.ScopeOpenID })
	return url.Values{"admin_consent": {"True"}, "tenant": {user.TenantID}, "scope": {strings.Join(scopes, " ")}}
}
