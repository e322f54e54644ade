package profile

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/sigil-idp/sigil/internal/bearer"
	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// maxMemberObjectsBody bounds the getMemberObjects request body (one boolean in JSON).
const maxMemberObjectsBody = 4 << 10

// groupObject is Graph's group resource, the fields Sigil knows.
type groupObject struct {
	ODataType       string `json:"@odata.type"`
	ID              string `json:"id"`
	DisplayName     string `json:"displayName"`
	SecurityEnabled bool   `json:"securityEnabled"`
	MailEnabled     bool   `json:"mailEnabled"`
}

// NewMemberOfHandler returns GET /v1.0/me/memberOf: the groups the signed-in user is a
// direct member of, in Graph's shape ({"value": [{"@odata.type": "#microsoft.graph.group",
// "id", "displayName", …}]}), all in one page. The token must carry User.Read.
func NewMemberOfHandler(guard *bearer.Guard, st store.Directory, publicURL string) http.Handler {
	return guard.Protect("GET", func(w http.ResponseWriter, r *http.Request, c tokens.AccessClaims) {
		groups, ok := userGroups(w, r, st, publicURL, c)
		if !ok {
			return
		}
		value := make([]groupObject, 0, len(groups))
		for _, g := range groups {
			value = append(value, groupObject{ODataType: "#microsoft.graph.group", ID: g.ID, DisplayName: g.DisplayName,
				SecurityEnabled: true})
		}
		bearer.WriteJSON(w, http.StatusOK, map[string]any{
			"@odata.context": publicURL + "/v1.0/$metadata#directoryObjects", "value": value})
	})
}

// NewMemberObjectsHandler returns POST /v1.0/me/getMemberObjects: the object ids of the
// groups the signed-in user is a member of (body {"securityEnabledOnly": bool}; every Sigil
// group is a security group, so both answers agree). It is where the groups overage form of
// tokens points. The token must carry User.Read.
func NewMemberObjectsHandler(guard *bearer.Guard, st store.Directory, publicURL string) http.Handler {
	return guard.Protect("POST", func(w http.ResponseWriter, r *http.Request, c tokens.AccessClaims) {
		var body struct {
			SecurityEnabledOnly *bool `json:"securityEnabledOnly"`
		}
		dec := json.NewDecoder(io.LimitReader(r.Body, maxMemberObjectsBody))
		if err := dec.Decode(&body); err != nil || body.SecurityEnabledOnly == nil {
			graphError(w, http.StatusBadRequest, "Request_BadRequest",
				`the body must be JSON with the boolean "securityEnabledOnly"`)
			return
		}
		groups, ok := userGroups(w, r, st, publicURL, c)
		if !ok {
			return
		}
		ids := make([]string, 0, len(groups))
		for _, g := range groups {
			ids = append(ids, g.ID)
		}
		bearer.WriteJSON(w, http.StatusOK, map[string]any{
			"@odata.context": publicURL + "/v1.0/$metadata#Collection(Edm.String)", "value": ids})
	})
}

// userGroups checks the token's scope and user and returns the user's groups, or answers
// the error and returns false.
func userGroups(w http.ResponseWriter, r *http.Request, st store.Directory, publicURL string, c tokens.AccessClaims) ([]directory.Group, bool) {
	if !bearer.HasScope(c.Scp, "User.Read") {
		bearer.InsufficientScope(w, publicURL, "User.Read")
		return nil, false
	}
	u, err := st.UserByID(r.Context(), c.OID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !u.Enabled {
		bearer.WriteError(w, http.StatusUnauthorized, "invalid_token", "the user no longer exists or is disabled")
		return nil, false
	}
	var groups []directory.Group
	if err == nil {
		groups, err = st.UserGroups(r.Context(), u.ID)
	}
	if err != nil {
		bearer.WriteError(w, http.StatusInternalServerError, "server_error", "the directory is unavailable")
		return nil, false
	}
	return groups, true
}

// graphError answers an error in Microsoft Graph's shape, which Graph SDKs parse.
func graphError(w http.ResponseWriter, status int, code, message string) {
	bearer.WriteJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}
