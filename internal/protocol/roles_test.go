package protocol_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/directory"
)

// Groups of the roles tests, in id order.
const (
	groupA = "10000000-0000-4000-8000-00000000000a"
	groupB = "20000000-0000-4000-8000-00000000000b"
	groupC = "30000000-0000-4000-8000-00000000000c"
)

// withRolesAndGroups gives api://todo app roles and names the MSAL 1.x app its own
// registration, assigns alice two of the roles, puts alice in three groups and bob in one,
// asks for groups in the spa and MSAL 1.x apps' tokens, and sets the overage limit to two:
// alice's tokens carry the overage form, bob's the groups.
func withRolesAndGroups(c *config.Config) {
	t := &c.Tenants[0]
	t.APIs[0].AppRoles = []config.AppRole{
		{Value: "Todo.ReadAll", AllowedMemberTypes: []string{config.MemberApplication}},
		{Value: "Todo.Admin", AllowedMemberTypes: []string{config.MemberUser}},
		{Value: "Todo.Audit", AllowedMemberTypes: []string{config.MemberUser, config.MemberApplication}},
	}
	t.Users[0].AppRoles = []string{"api://todo/Todo.Audit", "api://todo/Todo.Admin"}
	t.Groups = []config.Group{
		{ID: groupC, DisplayName: "C", Members: []string{alice}},
		{ID: groupA, DisplayName: "A", Members: []string{alice, bob}},
		{ID: groupB, DisplayName: "B", Members: []string{alice}},
	}
	for i := range t.Apps {
		if id := t.Apps[i].ClientID; id == spaClient || id == implicitApp {
			t.Apps[i].GroupMembershipClaims = config.GroupClaimsSecurityGroup
		}
	}
	t.APIs[0].ClientID = implicitApp // the MSAL 1.x app is the Todo API's own registration
	c.GroupsOverageLimit = 2
}

// strs turns a JSON array claim into strings; nil when the claim is absent.
func strs(t *testing.T, v any) []string {
	t.Helper()
	if v == nil {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		t.Fatalf("claim %v is not an array", v)
	}
	out := make([]string, len(arr))
	for i, x := range arr {
		out[i], _ = x.(string)
	}
	return out
}

// wantOverage checks that _claim_names and _claim_sources must hold past the limit.
func wantOverage(t *testing.T, e *env, what string, c map[string]any) {
	t.Helper()
	if _, ok := c["groups"]; ok {
		t.Errorf("%s: groups %v past the overage limit, want none", what, c["groups"])
	}
	names, _ := json.Marshal(c["_claim_names"])
	sources, _ := json.Marshal(c["_claim_sources"])
	if string(names) != `{"groups":"src1"}` ||
		string(sources) != `{"src1":{"endpoint":"`+e.url+`/v1.0/me/getMemberObjects"}}` {
		t.Errorf("%s: _claim_names %s, _claim_sources %s, want the overage form pointing at getMemberObjects", what, names, sources)
	}
	if _, ok := c["hasgroups"]; ok {
		t.Errorf("%s: hasgroups is for implicit ID tokens only", what)
	}
}

func TestRolesInAccessTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRolesAndGroups)
	c := e.newBrowser()
	tok := e.spaTokens(c, "contoso.test", alice, todoScopes)
	at := claims(t, str(tok, "access_token"))
	if got := strs(t, at["roles"]); !reflect.DeepEqual(got, []string{"Todo.Admin", "Todo.Audit"}) {
		t.Errorf("alice's access token for api://todo: roles %q, want [Todo.Admin Todo.Audit]", got)
	}
	if id := claims(t, str(tok, "id_token")); id["roles"] != nil {
		t.Errorf("spa ID token roles %v, want none: the spa app is not the API's registration", id["roles"])
	}
	graph := claims(t, str(e.spaTokens(c, "contoso.test", alice, "User.Read openid"), "access_token"))
	if _, ok := graph["roles"]; ok {
		t.Errorf("profile API token carries roles %v, want none", graph["roles"])
	}
	bobAT := claims(t, str(e.spaTokens(e.newBrowser(), "contoso.test", bob, todoScopes), "access_token"))
	if _, ok := bobAT["roles"]; ok {
		t.Errorf("bob has no role but his token carries roles %v", bobAT["roles"])
	}

	// A refresh reads the assignments again: a role taken away is gone from the next token.
	err := e.app.Store().SetUserAppRoles(t.Context(), tenantID, str(at, "oid"),
		[]directory.RoleAssignment{{Resource: "api://todo", Role: "Todo.Audit"}})
	if err != nil {
		t.Fatal(err)
	}
	resp, refreshed := e.token("contoso.test", refreshForm(spaClient, str(tok, "refresh_token"), todoScopes), spaOriginHeader())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d %v", resp.StatusCode, refreshed)
	}
	if got := strs(t, claims(t, str(refreshed, "access_token"))["roles"]); !reflect.DeepEqual(got, []string{"Todo.Audit"}) {
		t.Errorf("after the assignment changed: roles %q, want [Todo.Audit]", got)
	}
}

func TestGroupsClaims(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRolesAndGroups)

	// Within the limit: ID and access tokens list the groups.
	bobTok := e.spaTokens(e.newBrowser(), "contoso.test", bob, todoScopes)
	for what, jwt := range map[string]string{"bob's ID token": str(bobTok, "id_token"), "bob's access token": str(bobTok, "access_token")} {
		c := claims(t, jwt)
		if got := strs(t, c["groups"]); !reflect.DeepEqual(got, []string{groupA}) {
			t.Errorf("%s: groups %q, want [%s]", what, got, groupA)
		}
		if _, ok := c["_claim_names"]; ok {
			t.Errorf("%s: _claim_names within the limit", what)
		}
	}

	// Past the limit, tokens from the token endpoint carry the distributed-claims form.
	aliceTok := e.spaTokens(e.newBrowser(), "contoso.test", alice, todoScopes)
	wantOverage(t, e, "alice's ID token", claims(t, str(aliceTok, "id_token")))
	wantOverage(t, e, "alice's access token", claims(t, str(aliceTok, "access_token")))

	// An app without groupMembershipClaims gets no groups claim at all.
	pre := claims(t, str(e.spaTokens(e.newBrowser(), "contoso.test", bob, "openid profile"), "id_token"))
	if pre["groups"] == nil {
		t.Fatalf("spa app: no groups for bob")
	}
	preCode, verifier := e.spaCode(e.newBrowser(), "contoso.test", bob, "openid profile", func(v url.Values) {
		v.Set("client_id", preClient)
	})
	resp, preTok := e.token("contoso.test", redeemForm(preClient, preCode, verifier, "openid profile"), spaOriginHeader())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("redeem for the app without group claims: %d %v", resp.StatusCode, preTok)
	}
	for _, k := range []string{"groups", "hasgroups", "_claim_names", "_claim_sources"} {
		if v, ok := claims(t, str(preTok, "id_token"))[k]; ok {
			t.Errorf("app without groupMembershipClaims: ID token has %s = %v", k, v)
		}
	}
}

func TestGroupsOverageImplicit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRolesAndGroups)
	req := msal1Params("id_token token", "api://todo/Todo.Read openid profile")
	v := e.authorizeAs(e.newBrowser(), e.authorizeURL("contoso.test", req), alice, false)
	id := claims(t, v.Get("id_token"))
	if id["hasgroups"] != true {
		t.Errorf("implicit ID token past the limit: hasgroups %v, want true", id["hasgroups"])
	}
	for _, k := range []string{"groups", "_claim_names", "_claim_sources"} {
		if val, ok := id[k]; ok {
			t.Errorf("implicit ID token past the limit has %s = %v; Entra sends only hasgroups", k, val)
		}
	}
	if got := strs(t, id["roles"]); !reflect.DeepEqual(got, []string{"Todo.Admin", "Todo.Audit"}) {
		t.Errorf("ID token of the API's own registration: roles %q, want alice's roles of the API", got)
	}
	at := claims(t, v.Get("access_token"))
	wantOverage(t, e, "implicit access token", at)
	if got := strs(t, at["roles"]); !reflect.DeepEqual(got, []string{"Todo.Admin", "Todo.Audit"}) {
		t.Errorf("implicit access token roles %q", got)
	}

	v = e.authorizeAs(e.newBrowser(), e.authorizeURL("contoso.test", req), bob, false)
	id = claims(t, v.Get("id_token"))
	if got := strs(t, id["groups"]); !reflect.DeepEqual(got, []string{groupA}) || id["hasgroups"] != nil {
		t.Errorf("bob's implicit ID token: groups %q hasgroups %v, want [%s] and no hasgroups", got, id["hasgroups"], groupA)
	}
}

func TestMemberOfAndGetMemberObjects(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRolesAndGroups)
	c := e.newBrowser()
	graphAT := str(e.spaTokens(c, "contoso.test", alice, "User.Read openid profile"), "access_token")
	todoAT := str(e.spaTokens(c, "contoso.test", alice, todoScopes), "access_token")
	noUserRead := str(e.spaTokens(c, "contoso.test", alice, "openid profile offline_access"), "access_token")
	call := func(method, path, token, body string) (*http.Response, string) {
		req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
		req.Header.Set("Origin", spaOrigin)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		return e.do(e.api(), req)
	}

	resp, body := call("GET", "/v1.0/me/memberOf", graphAT, "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != spaOrigin {
		t.Fatalf("memberOf: %d (CORS %q) %s", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), body)
	}
	var memberOf struct {
		Value []map[string]any `json:"value"`
	}
	json.Unmarshal([]byte(body), &memberOf)
	var ids, names []string
	for _, g := range memberOf.Value {
		if g["@odata.type"] != "#microsoft.graph.group" {
			t.Errorf("memberOf entry %v, want @odata.type #microsoft.graph.group", g)
		}
		ids, names = append(ids, g["id"].(string)), append(names, g["displayName"].(string))
	}
	if !reflect.DeepEqual(ids, []string{groupA, groupB, groupC}) || !reflect.DeepEqual(names, []string{"A", "B", "C"}) {
		t.Errorf("memberOf: ids %q names %q", ids, names)
	}

	for _, only := range []string{"true", "false"} {
		resp, body = call("POST", "/v1.0/me/getMemberObjects", graphAT, `{"securityEnabledOnly":`+only+`}`)
		var got struct {
			Value []string `json:"value"`
		}
		json.Unmarshal([]byte(body), &got)
		if resp.StatusCode != http.StatusOK || !reflect.DeepEqual(got.Value, []string{groupA, groupB, groupC}) {
			t.Errorf("getMemberObjects(securityEnabledOnly %s): %d %s", only, resp.StatusCode, body)
		}
	}

	// The browser preflights the JSON POST.
	req, _ := http.NewRequest(http.MethodOptions, e.url+"/v1.0/me/getMemberObjects", nil)
	req.Header.Set("Origin", spaOrigin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	resp, _ = e.do(e.api(), req)
	if resp.StatusCode/100 != 2 || resp.Header.Get("Access-Control-Allow-Origin") != spaOrigin ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "content-type") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}

	for _, tc := range []struct {
		name, method, path, token, body string
		status                          int
	}{
		{"memberOf without a token", "GET", "/v1.0/me/memberOf", "", "", 401},
		{"memberOf with an API's token", "GET", "/v1.0/me/memberOf", todoAT, "", 401},
		{"memberOf without User.Read", "GET", "/v1.0/me/memberOf", noUserRead, "", 403},
		{"memberOf by POST", "POST", "/v1.0/me/memberOf", graphAT, "{}", 405},
		{"getMemberObjects by GET", "GET", "/v1.0/me/getMemberObjects", graphAT, "", 405},
		{"getMemberObjects without a body", "POST", "/v1.0/me/getMemberObjects", graphAT, "", 400},
		{"getMemberObjects without securityEnabledOnly", "POST", "/v1.0/me/getMemberObjects", graphAT, "{}", 400},
		{"getMemberObjects with a string", "POST", "/v1.0/me/getMemberObjects", graphAT, `{"securityEnabledOnly":"yes"}`, 400},
		{"getMemberObjects with an API's token", "POST", "/v1.0/me/getMemberObjects", todoAT, `{"securityEnabledOnly":true}`, 401},
		{"getMemberObjects without User.Read", "POST", "/v1.0/me/getMemberObjects", noUserRead, `{"securityEnabledOnly":true}`, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := call(tc.method, tc.path, tc.token, tc.body)
			if resp.StatusCode != tc.status {
				t.Errorf("%s %s: %d, want %d: %s", tc.method, tc.path, resp.StatusCode, tc.status, body)
			}
		})
	}

	// A user in no group gets an empty list, not null.
	bobAT := str(e.spaTokens(e.newBrowser(), "contoso.test", bob, "User.Read openid"), "access_token")
	if err := e.app.Store().UpsertGroup(t.Context(), directory.Group{ID: groupA, TenantID: tenantID, DisplayName: "A"}); err != nil {
		t.Fatal(err)
	}
	resp, body = call("POST", "/v1.0/me/getMemberObjects", bobAT, `{"securityEnabledOnly":false}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"value":[]`) {
		t.Errorf("getMemberObjects for a user in no group: %d %s", resp.StatusCode, body)
	}
}
