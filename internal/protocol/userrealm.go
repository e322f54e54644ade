package protocol

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/sigil-idp/sigil/internal/store"
)

// userRealm is the answer of the user realm endpoint (Entra's /common/UserRealm/{username}).
type userRealm struct {
	Ver               string `json:"ver"`
	AccountType       string `json:"account_type"` // Managed, or Unknown
	DomainName        string `json:"domain_name,omitempty"`
	CloudInstanceName string `json:"cloud_instance_name"`
	CloudAudienceURN  string `json:"cloud_audience_urn"`
}

// userRealmEndpoint answers GET /{tenant}/UserRealm/{username}?api-version=1.0, which MSAL
// Go (and MSAL.NET) ask before the password grant, to learn whether the account is federated.
// Every Sigil account is managed: a username whose domain is a tenant's domain is Managed,
// any other Unknown. The answer depends on the domain only, never on whether the user
// exists, so it tells nothing about accounts.
func (s *Server) userRealmEndpoint(w http.ResponseWriter, r *http.Request) {
	allowAnyOrigin(w)
	username := r.PathValue("username")
	if u, err := url.PathUnescape(username); err == nil {
		username = u
	}
	host := s.publicURL
	if u, err := url.Parse(s.publicURL); err == nil {
		host = u.Host
	}
	answer := userRealm{Ver: "1.0", AccountType: "Unknown", CloudInstanceName: host,
		CloudAudienceURN: "urn:federation:MicrosoftOnline"}
	if _, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(username)), "@"); ok && domain != "" && len(domain) <= 255 {
		_, err := s.store.TenantByDomain(r.Context(), domain)
		switch {
		case err == nil:
			answer.AccountType, answer.DomainName = "Managed", domain
		case !errors.Is(err, store.ErrNotFound):
			s.failJSON(w, r, "userrealm", err)
			return
		}
	}
	writeJSON(w, http.StatusOK, answer)
}
