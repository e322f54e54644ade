package graph_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/password"
)

const (
	tenantID   = "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10"
	otherID    = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
	writerID   = "1a2b3c4d-1111-4222-8333-944455556666"
	readerID   = "1a2b3c4d-2222-4222-8333-944455556666"
	nobodyID   = "1a2b3c4d-3333-4222-8333-944455556666"
	otherAppID = "1a2b3c4d-4444-4222-8333-944455556666"
	secret     = "admin-secret-value"
)

// env is Sigil with the admin listener: the token endpoint over TLS, the admin API over
// plain HTTP, as `sigil serve` runs them.
type env struct {
	t           *testing.T
	idp, admin  string
	idpClient   *http.Client
	adminClient *http.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	idp := httptest.NewUnstartedServer(nil)
	adminLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := config.Default()
	c.PublicURL, c.DataDir, c.Admin.Listen = "https://"+idp.Listener.Addr().String(), t.TempDir(), adminLn.Addr().String()
	reg := func(name, id string, perms ...string) config.App {
		return config.App{DisplayName: name, ClientID: id, ClientSecrets: []string{secret}, ApplicationPermissions: perms}
	}
	c.Tenants = []config.Tenant{{ID: tenantID, Domains: []string{"contoso.test"},
		Users: []config.User{{Username: "alice@contoso.test", Password: "Passw0rd!alice", DisplayName: "Alice"}},
		APIs: []config.API{{DisplayName: "Todo", AppIDURI: "api://todo", Scopes: []config.Scope{{Value: "Todo.Read"}},
			AppRoles: []config.AppRole{{Value: "Todo.ReadAll", AllowedMemberTypes: []string{"Application"}}}}},
		Groups: []config.Group{{ID: "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b", DisplayName: "Writers", Members: []string{"alice@contoso.test"}}},
		Apps: []config.App{reg("Provisioning", writerID, "api://sigil-admin/User.ReadWrite.All", "api://sigil-admin/Group.ReadWrite.All",
			"api://sigil-admin/Application.ReadWrite.All"),
			reg("Auditor", readerID, "api://sigil-admin/Directory.Read.All"),
			func() config.App {
				a := reg("Todo daemon", nobodyID, "api://todo/Todo.ReadAll")
				a.AdminConsent = []string{"api://todo/Todo.Read"}
				return a
			}()}},
		{ID: otherID, Domains: []string{"fabrikam.test"},
			Users: []config.User{{Username: "carol@fabrikam.test", Password: "Passw0rd!carol", DisplayName: "Carol"}},
			Apps:  []config.App{reg("Fabrikam provisioning", otherAppID, "api://sigil-admin/User.ReadWrite.All")}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(t.Context(), c, app.Options{HashParams: password.Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	idp.Config.Handler = a.Handler()
	idp.StartTLS()
	adm := httptest.NewUnstartedServer(a.AdminHandler())
	adm.Listener.Close()
	adm.Listener = adminLn
	adm.Start()
	t.Cleanup(func() { idp.Close(); adm.Close(); a.Close() })
	return &env{t: t, idp: c.PublicURL, admin: adm.URL, idpClient: idp.Client(), adminClient: adm.Client()}
}

// token gets an app-only token for scope by client credentials.
func (e *env) token(tenant, clientID, scope string) string {
	e.t.Helper()
	resp, err := e.idpClient.PostForm(e.idp+"/"+tenant+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {clientID}, "client_secret": {secret}, "scope": {scope}})
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error_description"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	if out.AccessToken == "" {
		e.t.Fatalf("token for %s: %d %s", clientID, resp.StatusCode, out.Error)
	}
	return out.AccessToken
}

// call sends a Graph request and decodes the answer.
func (e *env) call(token, method, path string, body string) (int, map[string]any) {
	e.t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = e.admin + path
	}
	req, _ := http.NewRequest(method, target, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.adminClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// TestUsers drives the users API with Graph's documented JSON: create, page through the list,
// filter, get, update, revoke sessions, delete; errors in Graph's shape.
func TestUsers(t *testing.T) {
	e := newEnv(t)
	w := e.token("contoso.test", writerID, "api://sigil-admin/.default")

	status, u := e.call(w, "POST", "/v1.0/users", `{"accountEnabled": true, "displayName": "Dana Admin",
		"mailNickname": "dana", "userPrincipalName": "dana@contoso.test", "givenName": "Dana",
		"passwordProfile": {"forceChangePasswordNextSignIn": false, "password": "Passw0rd!dana"}}`)
	if status != 201 || u["userPrincipalName"] != "dana@contoso.test" || u["displayName"] != "Dana Admin" ||
		u["givenName"] != "Dana" || u["surname"] != nil || u["id"] == "" || !strings.HasSuffix(u["@odata.context"].(string), "$metadata#users/$entity") {
		t.Fatalf("create: %d %v", status, u)
	}
	id := u["id"].(string)
	if status, m := e.call(w, "POST", "/v1.0/users", `{"displayName": "Dana", "userPrincipalName": "dana@contoso.test",
		"passwordProfile": {"password": "x"}}`); status != 400 || errCode(m) != "Request_BadRequest" {
		t.Errorf("create a taken name: %d %v", status, m)
	}
	if status, m := e.call(w, "POST", "/v1.0/users", `{"displayName": "Eve", "userPrincipalName": "eve@contoso.test",
		"passwordProfile": {"password": "x"}, "favouriteColour": "red"}`); status != 400 || errCode(m) != "Request_BadRequest" {
		t.Errorf("an unknown property: %d %v", status, m)
	}

	// One at a time through @odata.nextLink: alice, dana.
	var names []string
	for next := "/v1.0/users?$top=1"; next != ""; {
		status, page := e.call(w, "GET", next, "")
		if status != 200 {
			t.Fatalf("list %s: %d %v", next, status, page)
		}
		for _, v := range page["value"].([]any) {
			names = append(names, v.(map[string]any)["userPrincipalName"].(string))
		}
		next, _ = page["@odata.nextLink"].(string)
		if len(names) > 5 {
			t.Fatalf("paging does not end: %v", names)
		}
	}
	if strings.Join(names, ",") != "alice@contoso.test,dana@contoso.test" {
		t.Errorf("listed %v, want alice and dana (and no user of another tenant)", names)
	}
	status, page := e.call(w, "GET", "/v1.0/users?$filter="+url.QueryEscape("userPrincipalName eq 'dana@contoso.test'"), "")
	if v, _ := page["value"].([]any); status != 200 || len(v) != 1 {
		t.Errorf("filter: %d %v", status, page)
	}
	if status, m := e.call(w, "GET", "/v1.0/users?$filter="+url.QueryEscape("startswith(displayName,'D')"), ""); status != 400 {
		t.Errorf("an unsupported filter: %d %v", status, m)
	}
	for _, ref := range []string{id, "dana@contoso.test"} {
		if status, m := e.call(w, "GET", "/v1.0/users/"+ref, ""); status != 200 || m["id"] != id {
			t.Errorf("get %s: %d %v", ref, status, m)
		}
	}

	if status, m := e.call(w, "PATCH", "/v1.0/users/"+id, `{"displayName": "Dana B.", "accountEnabled": false}`); status != 204 {
		t.Fatalf("update: %d %v", status, m)
	}
	if _, m := e.call(w, "GET", "/v1.0/users/"+id, ""); m["displayName"] != "Dana B." || m["accountEnabled"] != false || m["givenName"] != "Dana" {
		t.Errorf("after the update: %v", m)
	}
	if status, m := e.call(w, "POST", "/v1.0/users/"+id+"/revokeSignInSessions", ""); status != 200 || m["value"] != true {
		t.Errorf("revokeSignInSessions: %d %v", status, m)
	}
	if status, _ := e.call(w, "DELETE", "/v1.0/users/"+id, ""); status != 204 {
		t.Fatalf("delete: %d", status)
	}
	if status, m := e.call(w, "GET", "/v1.0/users/"+id, ""); status != 404 || errCode(m) != "Request_ResourceNotFound" {
		t.Errorf("get after delete: %d %v", status, m)
	}
	// Another tenant's user is not there for this tenant's token.
	if status, m := e.call(w, "GET", "/v1.0/users/carol@fabrikam.test", ""); status != 404 {
		t.Errorf("another tenant's user: %d %v", status, m)
	}
	other := e.token("fabrikam.test", otherAppID, "api://sigil-admin/.default")
	if status, m := e.call(other, "GET", "/v1.0/users/carol@fabrikam.test", ""); status != 200 {
		t.Errorf("fabrikam's app reading its user: %d %v", status, m)
	}
}

// TestPermissions: reading needs Directory.Read.All or User.ReadWrite.All, writing the
// latter; no token, another API's token and an unknown path answer Graph's errors.
func TestPermissions(t *testing.T) {
	e := newEnv(t)
	r := e.token("contoso.test", readerID, "api://sigil-admin/.default")
	if status, m := e.call(r, "GET", "/v1.0/users", ""); status != 200 || len(m["value"].([]any)) != 1 {
		t.Errorf("reader lists: %d %v", status, m)
	}
	if status, m := e.call(r, "DELETE", "/v1.0/users/alice@contoso.test", ""); status != 403 || errCode(m) != "Authorization_RequestDenied" {
		t.Errorf("reader deletes: %d %v", status, m)
	}
	noRoles := e.token("contoso.test", nobodyID, "api://sigil-admin/.default")
	if status, m := e.call(noRoles, "GET", "/v1.0/users", ""); status != 403 {
		t.Errorf("an app with no admin permission: %d %v", status, m)
	}
	todo := e.token("contoso.test", nobodyID, "api://todo/.default")
	if status, m := e.call(todo, "GET", "/v1.0/users", ""); status != 401 || errCode(m) != "InvalidAuthenticationToken" {
		t.Errorf("a token for another API: %d %v", status, m)
	}
	if status, m := e.call("", "GET", "/v1.0/users", ""); status != 401 || errCode(m) != "InvalidAuthenticationToken" {
		t.Errorf("no token: %d %v", status, m)
	}
	if status, _ := e.call(r, "GET", "/v1.0/nothingHere", ""); status != 400 {
		t.Errorf("an unknown segment: %d", status)
	}
}

// TestGroupsAndGrants: groups with their members, adding and removing a member by Graph's
// $ref, and the tenant's consents as oauth2PermissionGrants, withdrawn by id.
func TestGroupsAndGrants(t *testing.T) {
	e := newEnv(t)
	w := e.token("contoso.test", writerID, "api://sigil-admin/.default")
	const gid = "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0b"
	status, m := e.call(w, "GET", "/v1.0/groups", "")
	if v, _ := m["value"].([]any); status != 200 || len(v) != 1 || v[0].(map[string]any)["displayName"] != "Writers" {
		t.Fatalf("groups: %d %v", status, m)
	}
	status, u := e.call(w, "POST", "/v1.0/users", `{"displayName": "Bob", "userPrincipalName": "bob@contoso.test",
		"passwordProfile": {"password": "Passw0rd!bob"}}`)
	if status != 201 {
		t.Fatalf("create bob: %d %v", status, u)
	}
	ref := `{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/` + u["id"].(string) + `"}`
	if status, m := e.call(w, "POST", "/v1.0/groups/"+gid+"/members/$ref", ref); status != 204 {
		t.Fatalf("add bob: %d %v", status, m)
	}
	if status, m := e.call(w, "POST", "/v1.0/groups/"+gid+"/members/$ref", ref); status != 400 {
		t.Errorf("add bob twice: %d %v", status, m)
	}
	members := func() []string {
		_, m := e.call(w, "GET", "/v1.0/groups/"+gid+"/members", "")
		var names []string
		for _, v := range m["value"].([]any) {
			names = append(names, v.(map[string]any)["userPrincipalName"].(string))
		}
		return names
	}
	if got := strings.Join(members(), ","); got != "alice@contoso.test,bob@contoso.test" && got != "bob@contoso.test,alice@contoso.test" {
		t.Errorf("members: %s", got)
	}
	if status, m := e.call(w, "DELETE", "/v1.0/groups/"+gid+"/members/"+u["id"].(string)+"/$ref", ""); status != 204 {
		t.Fatalf("remove bob: %d %v", status, m)
	}
	if got := members(); len(got) != 1 {
		t.Errorf("members after removing bob: %v", got)
	}
	reader := e.token("contoso.test", readerID, "api://sigil-admin/.default")
	if status, _ := e.call(reader, "DELETE", "/v1.0/groups/"+gid+"/members/"+u["id"].(string)+"/$ref", ""); status != 403 {
		t.Errorf("reader removes a member: %d", status)
	}

	status, m = e.call(reader, "GET", "/v1.0/oauth2PermissionGrants", "")
	v, _ := m["value"].([]any)
	var todo map[string]any
	for _, g := range v {
		if g := g.(map[string]any); g["scope"] == "todo.read" {
			todo = g
		}
	}
	if status != 200 || todo == nil || todo["consentType"] != "AllPrincipals" || todo["principalId"] != nil {
		t.Fatalf("grants: %d %v", status, m)
	}
	if status, _ := e.call(reader, "DELETE", "/v1.0/oauth2PermissionGrants/"+todo["id"].(string), ""); status != 403 {
		t.Errorf("reader deletes a grant: %d", status)
	}
	if status, m := e.call(w, "DELETE", "/v1.0/oauth2PermissionGrants/"+todo["id"].(string), ""); status != 204 {
		t.Fatalf("delete the grant: %d %v", status, m)
	}
	if status, _ := e.call(w, "DELETE", "/v1.0/oauth2PermissionGrants/"+todo["id"].(string), ""); status != 404 {
		t.Errorf("delete the grant twice: %d", status)
	}
}

// TestApplications: an app registered through the API, its redirect URIs changed, a secret
// added (which then authenticates at the token endpoint) and removed (which then does not),
// and the service principals listed.
func TestApplications(t *testing.T) {
	e := newEnv(t)
	w := e.token("contoso.test", writerID, "api://sigil-admin/.default")
	status, app := e.call(w, "POST", "/v1.0/applications", `{"displayName": "Orders SPA", "spa": {"redirectUris": ["https://orders.example.test/"]}}`)
	if status != 201 || app["appId"] == "" || app["id"] == app["appId"] || app["displayName"] != "Orders SPA" {
		t.Fatalf("create: %d %v", status, app)
	}
	id, appID := app["id"].(string), app["appId"].(string)
	if status, m := e.call(w, "PATCH", "/v1.0/applications/"+id, `{"web": {"redirectUris": ["http://localhost:5000/cb"]}}`); status != 204 {
		t.Fatalf("update: %d %v", status, m)
	}
	if status, m := e.call(w, "PATCH", "/v1.0/applications/"+id, `{"spa": {"redirectUris": ["http://evil.example/"]}}`); status != 400 {
		t.Errorf("an http redirect URI off loopback: %d %v", status, m)
	}
	_, got := e.call(w, "GET", "/v1.0/applications/"+appID, "") // by appId too
	spa, web := got["spa"].(map[string]any)["redirectUris"].([]any), got["web"].(map[string]any)["redirectUris"].([]any)
	if len(spa) != 1 || len(web) != 1 || web[0] != "http://localhost:5000/cb" {
		t.Errorf("after the update: %v", got)
	}
	status, pw := e.call(w, "POST", "/v1.0/applications/"+id+"/addPassword", `{"passwordCredential": {"displayName": "ci"}}`)
	secret, _ := pw["secretText"].(string)
	if status != 200 || len(secret) < 32 || pw["keyId"] == "" {
		t.Fatalf("addPassword: %d %v", status, pw)
	}
	resp, err := e.idpClient.PostForm(e.idp+"/contoso.test/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {appID}, "client_secret": {secret}, "scope": {"api://sigil-admin/.default"}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("client credentials with the new secret: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if status, m := e.call(w, "POST", "/v1.0/applications/"+id+"/removePassword", `{"keyId": "`+pw["keyId"].(string)+`"}`); status != 204 {
		t.Fatalf("removePassword: %d %v", status, m)
	}
	resp, err = e.idpClient.PostForm(e.idp+"/contoso.test/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {appID}, "client_secret": {secret}, "scope": {"api://sigil-admin/.default"}})
	if err != nil || resp.StatusCode != 401 {
		t.Errorf("client credentials with the removed secret: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	_, sps := e.call(w, "GET", "/v1.0/servicePrincipals", "")
	found := false
	for _, sp := range sps["value"].([]any) {
		found = found || sp.(map[string]any)["appId"] == appID
	}
	if !found {
		t.Errorf("service principals lack %s: %v", appID, sps)
	}
	r := e.token("contoso.test", readerID, "api://sigil-admin/.default")
	if status, _ := e.call(r, "POST", "/v1.0/applications", `{"displayName": "x"}`); status != 403 {
		t.Errorf("reader creates an app: %d", status)
	}
}
