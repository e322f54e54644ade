package protocol

import (
	"errors"
	"net/http"

	"github.com/sigil-idp/sigil/internal/bearer"
	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// userinfoResponse is the OpenID Connect UserInfo answer, with Entra's fields.
type userinfoResponse struct {
	Sub        string `json:"sub"`
	Name       string `json:"name,omitempty"`
	GivenName  string `json:"given_name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
	Email      string `json:"email,omitempty"`
}

// userinfo answers GET and POST /oidc/userinfo for the profile API's access tokens, sent in
// the Authorization header or, with POST, as a form's access_token (RFC 6750 §2.1–2.2, as
// OpenID Connect Core §5.3.1 asks). sub is the same pairwise subject as in the app's ID
// tokens. Email only with the email scope.
func (s *Server) userinfo(guard *bearer.Guard) http.Handler {
	return guard.Protect("GET, POST", func(w http.ResponseWriter, r *http.Request, c tokens.AccessClaims) {
		if !bearer.HasScope(c.Scp, directory.ScopeOpenID) {
			bearer.InsufficientScope(w, s.publicURL, directory.ScopeOpenID)
			return
		}
		u, err := s.store.UserByID(r.Context(), c.OID)
		if errors.Is(err, store.ErrNotFound) || err == nil && !u.Enabled {
			bearer.WriteError(w, http.StatusUnauthorized, "invalid_token", "the user no longer exists or is disabled")
			return
		}
		if err != nil {
			s.logError(r.Context(), "userinfo", asError(err))
			bearer.WriteError(w, http.StatusInternalServerError, "server_error", "the directory is unavailable")
			return
		}
		resp := userinfoResponse{Sub: tokens.PairwiseSubject(s.pairwise, u.ID, c.Azp)}
		if bearer.HasScope(c.Scp, directory.ScopeProfile) {
			resp.Name, resp.GivenName, resp.FamilyName = u.DisplayName, u.GivenName, u.Surname
		}
		if bearer.HasScope(c.Scp, directory.ScopeEmail) {
			resp.Email = u.Email
		}
		bearer.WriteJSON(w, http.StatusOK, resp)
	})
}
