package graph

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/sigil-idp/sigil/internal/bearer"
	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// Application permissions of the consent endpoints (Graph's DelegatedPermissionGrant.ReadWrite.All
// is Application.ReadWrite.All here).
var (
	readGrants  = []string{"Application.ReadWrite.All", "Directory.Read.All"}
	writeGrants = []string{"Application.ReadWrite.All"}
)

// permissionGrant is Graph's oauth2PermissionGrant: clientId and resourceId are service
// principal object ids, as in Graph; Sigil's derive from the tenant and the app's client id
// (or the API's Application ID URI when it has no registration of its own).
type permissionGrant struct {
	ID          string  `json:"id"`
	ClientID    string  `json:"clientId"`
	ConsentType string  `json:"consentType"` // AllPrincipals (tenant-wide) or Principal
	PrincipalID *string `json:"principalId"`
	ResourceID  string  `json:"resourceId"`
	Scope       string  `json:"scope"`
}

// grantID is a grant's opaque Graph id: its key, encoded.
func grantID(g directory.Grant) string {
	return base64.RawURLEncoding.EncodeToString([]byte(g.ClientID + "\x00" + g.UserID + "\x00" + g.Resource))
}

// listGrants answers GET /v1.0/oauth2PermissionGrants.
func (a *API) listGrants(w http.ResponseWriter, r *http.Request, tenantID string) error {
	grants, err := a.Admin.Store.TenantGrants(r.Context(), tenantID)
	if err != nil {
		return err
	}
	value := make([]permissionGrant, 0, len(grants))
	for _, g := range grants {
		pg := permissionGrant{ID: grantID(g), ClientID: directory.ServicePrincipalID(tenantID, g.ClientID),
			ConsentType: "AllPrincipals", ResourceID: a.resourceID(r, tenantID, g.Resource), Scope: strings.Join(g.Scopes, " ")}
		if g.UserID != "" {
			pg.ConsentType, pg.PrincipalID = "Principal", &g.UserID
		}
		value = append(value, pg)
	}
	bearer.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": a.BaseURL + "/v1.0/$metadata#oauth2PermissionGrants", "value": value})
	return nil
}

// resourceID is the service principal id of a grant's resource.
func (a *API) resourceID(r *http.Request, tenantID, resource string) string {
	if api, err := a.Admin.Store.APIByURI(r.Context(), tenantID, resource); err == nil && api.ClientID != "" {
		return directory.ServicePrincipalID(tenantID, api.ClientID)
	}
	return directory.ServicePrincipalID(tenantID, resource)
}

// deleteGrant answers DELETE /v1.0/oauth2PermissionGrants/{id}: the consent is withdrawn; the
// next sign-in asks again (tokens already issued live on until they expire).
func (a *API) deleteGrant(w http.ResponseWriter, r *http.Request, tenantID string) error {
	b, err := base64.RawURLEncoding.DecodeString(r.PathValue("id"))
	parts := strings.Split(string(b), "\x00")
	if err != nil || len(parts) != 3 {
		return &graphError{status: http.StatusNotFound, code: "Request_ResourceNotFound", message: "No permission grant " + r.PathValue("id") + "."}
	}
	err = a.Admin.Store.DeleteGrant(r.Context(), tenantID, parts[0], parts[1], parts[2])
	if errors.Is(err, store.ErrNotFound) {
		return &graphError{status: http.StatusNotFound, code: "Request_ResourceNotFound", message: "No permission grant " + r.PathValue("id") + "."}
	} else if err != nil {
		return err
	}
	a.Admin.Audit(r.Context(), "grant.delete", "tenant_id", tenantID, "client_id", parts[0], "user_id", parts[1], "resource", parts[2])
	w.WriteHeader(http.StatusNoContent)
	return nil
}
