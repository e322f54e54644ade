package graph

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/sigil-idp/sigil/internal/admin"
	"github.com/sigil-idp/sigil/internal/bearer"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// user is Graph's user resource, the properties Sigil keeps.
type user struct {
	ODataContext      string   `json:"@odata.context,omitempty"`
	ID                string   `json:"id"`
	DisplayName       string   `json:"displayName"`
	GivenName         *string  `json:"givenName"`
	Surname           *string  `json:"surname"`
	UserPrincipalName string   `json:"userPrincipalName"`
	Mail              *string  `json:"mail"`
	AccountEnabled    bool     `json:"accountEnabled"`
	BusinessPhones    []string `json:"businessPhones"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toUser(u directory.User) user {
	return user{ID: u.ID, DisplayName: u.DisplayName, GivenName: nullable(u.GivenName), Surname: nullable(u.Surname),
		UserPrincipalName: u.Username, Mail: nullable(u.Email), AccountEnabled: u.Enabled, BusinessPhones: []string{}}
}

// passwordProfile is Graph's; Sigil has no forced-change page, so forceChangePasswordNextSignIn
// is accepted and has no effect.
type passwordProfile struct {
	Password                             string `json:"password"`
	ForceChangePasswordNextSignIn        bool   `json:"forceChangePasswordNextSignIn"`
	ForceChangePasswordNextSignInWithMfa bool   `json:"forceChangePasswordNextSignInWithMfa"`
}

// userInput is a user as Graph's create and update take it.
type userInput struct {
	AccountEnabled    *bool            `json:"accountEnabled"`
	DisplayName       *string          `json:"displayName"`
	MailNickname      *string          `json:"mailNickname"` // accepted; Sigil keeps no nickname
	UserPrincipalName *string          `json:"userPrincipalName"`
	GivenName         *string          `json:"givenName"`
	Surname           *string          `json:"surname"`
	Mail              *string          `json:"mail"`
	PasswordProfile   *passwordProfile `json:"passwordProfile"`
}

// inTenant returns the user the path names ({id}: object id or userPrincipalName), if it is in
// the token's tenant; another tenant's user is not found, as in Graph.
func (a *API) inTenant(r *http.Request, tenantID string) (directory.User, error) {
	ref, _ := url.PathUnescape(r.PathValue("id"))
	u, err := a.Admin.User(r.Context(), ref)
	if err == nil && u.TenantID != tenantID {
		err = fmt.Errorf("user %q: %w", ref, admin.ErrNotFound)
	}
	if err != nil {
		return u, &graphError{status: http.StatusNotFound, code: "Request_ResourceNotFound",
			message: "Resource '" + ref + "' does not exist or one of its queried reference-property objects are not present."}
	}
	return u, nil
}

// upnFilter is the one $filter the list takes: userPrincipalName eq '…'.
var upnFilter = regexp.MustCompile(`^\s*userPrincipalName\s+eq\s+'((?:[^']|'')*)'\s*$`)

// listUsers answers GET /v1.0/users: $top (1–999, default 100), $filter on
// userPrincipalName, and @odata.nextLink with a $skiptoken for the next page.
func (a *API) listUsers(w http.ResponseWriter, r *http.Request, tenantID string) error {
	q := r.URL.Query()
	top := 100
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 999 {
			return badRequest("Invalid page size specified: '" + v + "'. Must be between 1 and 999 inclusive.")
		}
		top = n
	}
	body := map[string]any{"@odata.context": a.BaseURL + "/v1.0/$metadata#users"}
	if f := q.Get("$filter"); f != "" {
		m := upnFilter.FindStringSubmatch(f)
		if m == nil {
			return badRequest("Unsupported query: $filter takes userPrincipalName eq '<name>' only.")
		}
		value := []user{}
		if u, err := a.Admin.User(r.Context(), strings.ReplaceAll(m[1], "''", "'")); err == nil && u.TenantID == tenantID {
			value = append(value, toUser(u))
		}
		body["value"] = value
		bearer.WriteJSON(w, http.StatusOK, body)
		return nil
	}
	after := ""
	if tok := q.Get("$skiptoken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return badRequest("Invalid $skiptoken.")
		}
		after = string(b)
	}
	page, err := a.Admin.Store.Users(r.Context(), tenantID, after, top+1)
	if err != nil {
		return err
	}
	value := make([]user, 0, len(page))
	for i, u := range page {
		if i == top {
			next := url.Values{"$top": {strconv.Itoa(top)}, "$skiptoken": {base64.RawURLEncoding.EncodeToString([]byte(page[top-1].Username))}}
			body["@odata.nextLink"] = a.BaseURL + "/v1.0/users?" + next.Encode()
			break
		}
		value = append(value, toUser(u))
	}
	body["value"] = value
	bearer.WriteJSON(w, http.StatusOK, body)
	return nil
}

// getUser answers GET /v1.0/users/{id | userPrincipalName}.
func (a *API) getUser(w http.ResponseWriter, r *http.Request, tenantID string) error {
	u, err := a.inTenant(r, tenantID)
	if err != nil {
		return err
	}
	out := toUser(u)
	out.ODataContext = a.BaseURL + "/v1.0/$metadata#users/$entity"
	bearer.WriteJSON(w, http.StatusOK, out)
	return nil
}

// createUser answers POST /v1.0/users: userPrincipalName, displayName and
// passwordProfile.password are required, as in Graph; the user is created in the token's
// tenant, validated as the bootstrap file's users are.
func (a *API) createUser(w http.ResponseWriter, r *http.Request, tenantID string) error {
	var in userInput
	if err := readJSON(r, &in); err != nil {
		return err
	}
	switch {
	case in.UserPrincipalName == nil || *in.UserPrincipalName == "":
		return badRequest("Property 'userPrincipalName' is required.")
	case in.DisplayName == nil || *in.DisplayName == "":
		return badRequest("Property 'displayName' is required.")
	case in.PasswordProfile == nil || in.PasswordProfile.Password == "":
		return badRequest("Property 'passwordProfile' with a password is required.")
	}
	cu := config.User{Username: *in.UserPrincipalName, Password: in.PasswordProfile.Password, DisplayName: *in.DisplayName,
		Enabled: in.AccountEnabled}
	for dst, src := range map[*string]*string{&cu.GivenName: in.GivenName, &cu.Surname: in.Surname, &cu.Email: in.Mail} {
		if src != nil {
			*dst = *src
		}
	}
	u, err := a.Admin.AddUser(r.Context(), tenantID, cu)
	if err != nil {
		return err
	}
	out := toUser(u)
	out.ODataContext = a.BaseURL + "/v1.0/$metadata#users/$entity"
	w.Header().Set("Location", a.BaseURL+"/v1.0/users/"+u.ID)
	bearer.WriteJSON(w, http.StatusCreated, out)
	return nil
}

// updateUser answers PATCH /v1.0/users/{id}: the profile properties given are set (one
// statement), accountEnabled false disables the user and signs it out, a passwordProfile sets
// the password and signs it out; userPrincipalName cannot change.
func (a *API) updateUser(w http.ResponseWriter, r *http.Request, tenantID string) error {
	u, err := a.inTenant(r, tenantID)
	if err != nil {
		return err
	}
	var in userInput
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if in.UserPrincipalName != nil && !strings.EqualFold(*in.UserPrincipalName, u.Username) {
		return badRequest("Sigil does not rename users: userPrincipalName cannot change.")
	}
	ctx := r.Context()
	p := store.UserProfile{DisplayName: in.DisplayName, GivenName: in.GivenName, Surname: in.Surname, Email: in.Mail}
	if p != (store.UserProfile{}) {
		if err := a.Admin.UpdateProfile(ctx, u.ID, p); err != nil {
			return err
		}
	}
	if in.AccountEnabled != nil {
		if err := a.Admin.SetEnabled(ctx, u.ID, *in.AccountEnabled); err != nil {
			return err
		}
	}
	if in.PasswordProfile != nil {
		if err := a.Admin.SetPassword(ctx, u.ID, in.PasswordProfile.Password); err != nil {
			return badRequest(err.Error())
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteUser answers DELETE /v1.0/users/{id}.
func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, tenantID string) error {
	u, err := a.inTenant(r, tenantID)
	if err != nil {
		return err
	}
	if err := a.Admin.DeleteUser(r.Context(), u.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// revokeSessions answers POST /v1.0/users/{id}/revokeSignInSessions with Graph's
// {"value": true}.
func (a *API) revokeSessions(w http.ResponseWriter, r *http.Request, tenantID string) error {
	u, err := a.inTenant(r, tenantID)
	if err != nil {
		return err
	}
	if err := a.Admin.RevokeSessions(r.Context(), u.ID); err != nil {
		return err
	}
	bearer.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": a.BaseURL + "/v1.0/$metadata#Edm.Boolean", "value": true})
	return nil
}
