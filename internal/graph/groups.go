package graph

import (
	"errors"
	"net/http"
	"strings"

	"github.com/sigil-idp/sigil/internal/bearer"
	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// Application permissions of the group endpoints.
var (
	readGroups  = []string{"Group.ReadWrite.All", "Directory.Read.All"}
	writeGroups = []string{"Group.ReadWrite.All"}
)

// group is Graph's group resource: Sigil's groups are security groups.
type group struct {
	ODataContext    string   `json:"@odata.context,omitempty"`
	ID              string   `json:"id"`
	DisplayName     string   `json:"displayName"`
	SecurityEnabled bool     `json:"securityEnabled"`
	MailEnabled     bool     `json:"mailEnabled"`
	GroupTypes      []string `json:"groupTypes"`
}

func toGroup(g directory.Group) group {
	return group{ID: g.ID, DisplayName: g.DisplayName, SecurityEnabled: true, GroupTypes: []string{}}
}

// groupInTenant returns the group the path names if it is in the token's tenant.
func (a *API) groupInTenant(r *http.Request, tenantID string) (directory.Group, error) {
	g, err := a.Admin.Store.GroupByID(r.Context(), strings.ToLower(r.PathValue("id")))
	if errors.Is(err, store.ErrNotFound) || err == nil && g.TenantID != tenantID {
		return g, &graphError{status: http.StatusNotFound, code: "Request_ResourceNotFound",
			message: "Resource '" + r.PathValue("id") + "' does not exist or one of its queried reference-property objects are not present."}
	}
	return g, err
}

// listGroups answers GET /v1.0/groups.
func (a *API) listGroups(w http.ResponseWriter, r *http.Request, tenantID string) error {
	groups, err := a.Admin.Store.TenantGroups(r.Context(), tenantID)
	if err != nil {
		return err
	}
	value := make([]group, 0, len(groups))
	for _, g := range groups {
		value = append(value, toGroup(g))
	}
	bearer.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": a.BaseURL + "/v1.0/$metadata#groups", "value": value})
	return nil
}

// getGroup answers GET /v1.0/groups/{id}.
func (a *API) getGroup(w http.ResponseWriter, r *http.Request, tenantID string) error {
	g, err := a.groupInTenant(r, tenantID)
	if err != nil {
		return err
	}
	out := toGroup(g)
	out.ODataContext = a.BaseURL + "/v1.0/$metadata#groups/$entity"
	bearer.WriteJSON(w, http.StatusOK, out)
	return nil
}

// listMembers answers GET /v1.0/groups/{id}/members: the member users, typed as Graph's
// directory objects are.
func (a *API) listMembers(w http.ResponseWriter, r *http.Request, tenantID string) error {
	g, err := a.groupInTenant(r, tenantID)
	if err != nil {
		return err
	}
	value := []map[string]any{}
	for _, id := range g.Members {
		u, err := a.Admin.Store.UserByID(r.Context(), id)
		if err != nil {
			continue // deleted meanwhile
		}
		v := toUser(u)
		value = append(value, map[string]any{"@odata.type": "#microsoft.graph.user", "id": v.ID, "displayName": v.DisplayName,
			"userPrincipalName": v.UserPrincipalName, "mail": v.Mail, "givenName": v.GivenName, "surname": v.Surname})
	}
	bearer.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": a.BaseURL + "/v1.0/$metadata#directoryObjects", "value": value})
	return nil
}

// addMember answers POST /v1.0/groups/{id}/members/$ref {"@odata.id": ".../directoryObjects/{user id}"}.
func (a *API) addMember(w http.ResponseWriter, r *http.Request, tenantID string) error {
	g, err := a.groupInTenant(r, tenantID)
	if err != nil {
		return err
	}
	var in struct {
		Ref string `json:"@odata.id"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	ref := in.Ref[strings.LastIndex(in.Ref, "/")+1:]
	u, err := a.Admin.User(r.Context(), ref)
	if err != nil || u.TenantID != tenantID {
		return badRequest("Invalid object identifier '" + ref + "'.")
	}
	if err := a.Admin.Store.AddGroupMember(r.Context(), g.ID, u.ID); errors.Is(err, store.ErrConflict) {
		return badRequest("One or more added object references already exist for the following modified properties: 'members'.")
	} else if err != nil {
		return err
	}
	a.Admin.Audit(r.Context(), "group.add_member", "tenant_id", tenantID, "group_id", g.ID, "user_id", u.ID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeMember answers DELETE /v1.0/groups/{id}/members/{member}/$ref.
func (a *API) removeMember(w http.ResponseWriter, r *http.Request, tenantID string) error {
	g, err := a.groupInTenant(r, tenantID)
	if err != nil {
		return err
	}
	member := strings.ToLower(r.PathValue("member"))
	if err := a.Admin.Store.RemoveGroupMember(r.Context(), g.ID, member); errors.Is(err, store.ErrNotFound) {
		return &graphError{status: http.StatusNotFound, code: "Request_ResourceNotFound", message: "The member '" + member + "' is not in the group."}
	} else if err != nil {
		return err
	}
	a.Admin.Audit(r.Context(), "group.remove_member", "tenant_id", tenantID, "group_id", g.ID, "user_id", member)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
