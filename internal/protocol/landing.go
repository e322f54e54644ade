package protocol

import (
	"net/http"
	"net/url"

	"github.com/sigil-idp/sigil/internal/tokens"
	"github.com/sigil-idp/sigil/internal/web"
)

// landing answers / with a page that says what this server is and how an app points at it,
// instead of a JSON 404 for the first URL a developer opens.
func (s *Server) landing(w http.ResponseWriter, r *http.Request) {
	s.pages.Landing(w, web.LandingPage{PublicURL: s.publicURL, KnownAuthority: knownAuthority(s.publicURL),
		Example: s.publicURL + "/common/v2.0/.well-known/openid-configuration"})
}

// tenantLanding answers a tenant's authority URL — what `sigil dev` prints and developers
// paste into a browser — with the tenant's settings for MSAL and OpenID Connect clients. An
// unknown tenant gets the JSON error every unknown URL gets.
func (s *Server) tenantLanding(w http.ResponseWriter, r *http.Request) {
	t, err := s.resolveTenant(r.Context(), r.PathValue("tenant"))
	if err != nil || t.multi {
		s.failJSON(w, r, "route", errNotFound.new(truncate(r.Method+" "+r.URL.Path, 200)))
		return
	}
	s.pages.Landing(w, web.LandingPage{PublicURL: s.publicURL, KnownAuthority: knownAuthority(s.publicURL),
		Tenant: t.segment, TenantName: t.tenant.DisplayName, Issuer: tokens.Issuer(s.publicURL, t.tenant.ID),
		Discovery: s.publicURL + "/" + t.segment + "/v2.0/.well-known/openid-configuration"})
}

// knownAuthority is what MSAL's knownAuthorities needs: the public URL's host, with its port
// unless it is 443.
func knownAuthority(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return publicURL
	}
	return u.Host
}
