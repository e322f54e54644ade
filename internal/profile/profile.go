// Package profile is the built-in profile API: GET /v1.0/me answers the signed-in user in
// Microsoft Graph's shape, for access tokens issued to the profile API (scopes such as
// User.Read, requested short or as https://graph.microsoft.com/User.Read). It lets an MSAL
// app written against Graph call "the API" with nothing changed but the host.
package profile

import (
	"errors"
	"net/http"

	"github.com/sigil-idp/sigil/internal/bearer"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// me is Graph's user resource, the fields Sigil knows.
type me struct {
	ODataContext      string   `json:"@odata.context"`
	ID                string   `json:"id"`
	DisplayName       string   `json:"displayName"`
	GivenName         string   `json:"givenName"`
	Surname           string   `json:"surname"`
	UserPrincipalName string   `json:"userPrincipalName"`
	Mail              *string  `json:"mail"`
	BusinessPhones    []string `json:"businessPhones"`
	JobTitle          *string  `json:"jobTitle"`
	MobilePhone       *string  `json:"mobilePhone"`
	OfficeLocation    *string  `json:"officeLocation"`
	PreferredLanguage *string  `json:"preferredLanguage"`
}

// NewHandler returns GET /v1.0/me, protected by guard (whose audience must be the profile
// API's). The token must carry User.Read. Its errors, the guard's included, have Microsoft
// Graph's shape ({"error": {"code": "InvalidAuthenticationToken", "message": …}} for a
// missing or bad token) with RFC 6750's WWW-Authenticate challenge, since the guard's
// writer gives every endpoint under /v1.0/ that shape.
func NewHandler(guard *bearer.Guard, st store.Directory, publicURL string) http.Handler {
	return guard.Protect("GET", func(w http.ResponseWriter, r *http.Request, c tokens.AccessClaims) {
		if !bearer.HasScope(c.Scp, "User.Read") {
			bearer.InsufficientScope(w, publicURL, "User.Read")
			return
		}
		u, err := st.UserByID(r.Context(), c.OID)
		if errors.Is(err, store.ErrNotFound) || err == nil && !u.Enabled {
			bearer.WriteError(w, http.StatusUnauthorized, "invalid_token", "the user no longer exists or is disabled")
			return
		}
		if err != nil {
			bearer.WriteError(w, http.StatusInternalServerError, "server_error", "the directory is unavailable")
			return
		}
		body := me{ODataContext: publicURL + "/v1.0/$metadata#users/$entity", ID: u.ID, DisplayName: u.DisplayName,
			GivenName: u.GivenName, Surname: u.Surname, UserPrincipalName: u.Username, BusinessPhones: []string{}}
		if u.Email != "" {
			body.Mail = &u.Email
		}
		bearer.WriteJSON(w, http.StatusOK, body)
	})
}
