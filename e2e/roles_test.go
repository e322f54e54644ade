package e2e

import (
	"reflect"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/e2e/harness"
	"github.com/sigil-idp/sigil/internal/config"
)

// The groups of the roles test, in id order.
var rolesTestGroups = []string{
	"10000000-0000-4000-8000-00000000000a",
	"20000000-0000-4000-8000-00000000000b",
	"30000000-0000-4000-8000-00000000000c",
}

// withRolesAndGroups gives api://todo the user role Todo.Admin (and an application-only role),
// assigns alice Todo.Admin, puts alice in three groups and bob in one, and asks for groups in
// the test app's tokens with an overage limit of two.
func withRolesAndGroups(c *config.Config) {
	t := &c.Tenants[0]
	t.APIs[0].AppRoles = []config.AppRole{
		{Value: "Todo.Admin", AllowedMemberTypes: []string{config.MemberUser}},
		{Value: "Todo.ReadAll", AllowedMemberTypes: []string{config.MemberApplication}},
	}
	t.Users[0].AppRoles = []string{"api://todo/Todo.Admin"}
	for i, id := range rolesTestGroups {
		g := config.Group{ID: id, DisplayName: "Group " + string(rune('A'+i)), Members: []string{harness.Alice}}
		if i == 0 {
			g.Members = append(g.Members, harness.Bob)
		}
		t.Groups = append(t.Groups, g)
	}
	t.Apps[0].GroupMembershipClaims = config.GroupClaimsSecurityGroup
	c.GroupsOverageLimit = 2
}

// TestMSAL5RolesAndGroups signs alice in with msal-browser 5 for api://todo: her access token
// carries roles ["Todo.Admin"], and since she is in more groups than the limit, her ID and
// access tokens carry the overage form instead of groups. The page then does what an app does
// with that form: it follows _claim_sources to getMemberObjects with a User.Read token (a
// CORS POST from the app's origin) and reads memberOf. Bob, within the limit, gets groups.
func TestMSAL5RolesAndGroups(t *testing.T) {
	e := harness.Start(t, harness.Options{Edit: withRolesAndGroups})
	p := e.OpenApp("msal5.html")
	todo := mustSucceed(t, "loginPopup", e.WithPopup(p, `t.loginPopup(["api://todo/Todo.Read"])`, harness.Alice))
	at := jwtClaims(t, todo.AccessToken)
	if at["aud"] != "api://todo" {
		t.Fatalf("loginPopup gave an access token for %v, want api://todo", at["aud"])
	}
	if roles, _ := at["roles"].([]any); !reflect.DeepEqual(roles, []any{"Todo.Admin"}) {
		t.Errorf("access token for api://todo: roles %v, want [Todo.Admin]", at["roles"])
	}
	source := ""
	for what, c := range map[string]map[string]any{"ID token": jwtClaims(t, todo.IDToken), "access token": at} {
		names, _ := c["_claim_names"].(map[string]any)
		sources, _ := c["_claim_sources"].(map[string]any)
		src1, _ := sources["src1"].(map[string]any)
		endpoint, _ := src1["endpoint"].(string)
		if c["groups"] != nil || names["groups"] != "src1" || endpoint != e.IdP+"/v1.0/me/getMemberObjects" {
			t.Fatalf("%s past the overage limit: groups %v, _claim_names %v, _claim_sources %v", what, c["groups"], names, sources)
		}
		source = endpoint
	}
	// MSAL's own view of the ID token agrees.
	if todo.Account.IDTokenClaims["_claim_names"] == nil {
		t.Errorf("account idTokenClaims lack _claim_names: %v", todo.Account.IDTokenClaims)
	}

	graph := mustSucceed(t, "acquireTokenPopup User.Read",
		e.WithPopup(p, "t.tokenPopup("+userRead+", {prompt: 'login'})", harness.Alice))
	if jwtClaims(t, graph.AccessToken)["roles"] != nil {
		t.Errorf("the profile API's token carries roles %v", jwtClaims(t, graph.AccessToken)["roles"])
	}
	type answer struct {
		Status int            `json:"status"`
		CORS   bool           `json:"cors"`
		Body   map[string]any `json:"body"`
	}
	fetch := `(async () => {
		const res = await fetch(` + jsString(source) + `, {method: "POST",
			headers: {Authorization: "Bearer " + ` + jsString(graph.AccessToken) + `, "Content-Type": "application/json"},
			body: JSON.stringify({securityEnabledOnly: true})});
		return {status: res.status, cors: res.type === "cors", body: await res.json()};
	})()`
	got, err := browser.EvalTimeout[answer](p, fetch, 20*time.Second)
	if err != nil || got.Status != 200 || !got.CORS {
		t.Fatalf("POST getMemberObjects from the page: %+v, %v", got, err)
	}
	if ids, _ := got.Body["value"].([]any); len(ids) != 3 || ids[0] != rolesTestGroups[0] || ids[2] != rolesTestGroups[2] {
		t.Errorf("getMemberObjects value %v, want %v", got.Body["value"], rolesTestGroups)
	}
	memberOf, err := browser.EvalTimeout[answer](p, "t.callAPI("+jsString(e.IdP+"/v1.0/me/memberOf")+", "+jsString(graph.AccessToken)+")", 20*time.Second)
	if err != nil || memberOf.Status != 200 {
		t.Fatalf("GET memberOf from the page: %+v, %v", memberOf, err)
	}
	if value, _ := memberOf.Body["value"].([]any); len(value) != 3 {
		t.Errorf("memberOf value %v, want three groups", memberOf.Body["value"])
	} else if g, _ := value[1].(map[string]any); g["@odata.type"] != "#microsoft.graph.group" || g["displayName"] != "Group B" {
		t.Errorf("memberOf entry %v", g)
	}
	// The API's token is not the profile API's: getMemberObjects refuses it.
	if got, err := browser.EvalTimeout[answer](p, "t.callAPI("+jsString(e.IdP+"/v1.0/me/memberOf")+", "+jsString(todo.AccessToken)+")", 20*time.Second); err != nil || got.Status != 401 {
		t.Errorf("memberOf with the api://todo token: %+v, %v; want 401", got, err)
	}

	// Bob, in one group, gets it listed and no role.
	if err := e.Browser.DeleteCookies(e.IdP + "/"); err != nil {
		t.Fatal(err)
	}
	bob := mustSucceed(t, "acquireTokenPopup as bob",
		e.WithPopup(p, `t.tokenPopup(["api://todo/Todo.Read"], {prompt: 'login'})`, harness.Bob))
	bat := jwtClaims(t, bob.AccessToken)
	if groups, _ := bat["groups"].([]any); !reflect.DeepEqual(groups, []any{rolesTestGroups[0]}) || bat["roles"] != nil ||
		bat["_claim_names"] != nil {
		t.Errorf("bob's access token: groups %v roles %v _claim_names %v; want his one group and no roles",
			bat["groups"], bat["roles"], bat["_claim_names"])
	}
}
