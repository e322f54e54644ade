package storetest

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

const (
	bobID   = "22222222-2222-4333-8444-555555555555"
	groupA  = "a0000000-0000-4000-8000-00000000000a"
	groupB  = "b0000000-0000-4000-8000-00000000000b"
	apiApp  = "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"
	todoAPI = "api://todo"
)

// seedRoles adds to seed a second user and an API with app roles.
func seedRoles(tb testing.TB, s store.Store) {
	tb.Helper()
	seed(tb, s)
	must(tb, s.UpsertUser(ctx(tb), directory.User{ID: bobID, TenantID: tenantID, Username: "bob@contoso.test",
		DisplayName: "Bob", PasswordHash: "$argon2id$x", Enabled: true}))
	must(tb, s.UpsertAPI(ctx(tb), directory.API{TenantID: tenantID, DisplayName: "Todo API", AppIDURI: todoAPI,
		Scopes: []directory.APIScope{{Value: "Todo.Read"}},
		AppRoles: []directory.AppRole{
			{Value: "Todo.ReadAll", AllowedMemberTypes: []directory.MemberType{directory.MemberApplication}},
			{Value: "Todo.Admin", AllowedMemberTypes: []directory.MemberType{directory.MemberUser}, Description: "admin"},
			{Value: "Todo.Audit", AllowedMemberTypes: []directory.MemberType{directory.MemberUser, directory.MemberApplication}},
		}}))
}

func testAPIRoles(t *testing.T, s store.Store) {
	seedRoles(t, s)
	api := directory.API{TenantID: tenantID, DisplayName: "Todo API", AppIDURI: todoAPI, ClientID: apiApp,
		AppRoles: []directory.AppRole{
			{Value: "Todo.Admin", AllowedMemberTypes: []directory.MemberType{directory.MemberUser}, Description: "admin"},
			{Value: "Todo.ReadAll", AllowedMemberTypes: []directory.MemberType{directory.MemberApplication}},
		}}
	must(t, s.UpsertAPI(ctx(t), api))
	got, err := s.APIByURI(ctx(t), tenantID, "API://Todo")
	must(t, err)
	if got.ClientID != apiApp || !reflect.DeepEqual(got.AppRoles, api.AppRoles) || len(got.Scopes) != 0 {
		t.Fatalf("got  %+v\nwant %+v", got, api)
	}
	byClient, err := s.APIByURI(ctx(t), tenantID, strings.ToUpper(apiApp))
	must(t, err)
	if byClient.AppIDURI != todoAPI || !reflect.DeepEqual(byClient.AppRoles, api.AppRoles) {
		t.Fatalf("by the API's client id: got %+v", byClient)
	}
	dup := api
	dup.AppRoles = append(dup.AppRoles, dup.AppRoles[0])
	wantErr(t, s.UpsertAPI(ctx(t), dup), store.ErrConflict)
}

// apiRoles is UserRoles for one API alone: no roles of another kind come back.
func apiRoles(t *testing.T, s store.Store, user, api string) ([]string, error) {
	t.Helper()
	roles, other, err := s.UserRoles(ctx(t), tenantID, user, api, "")
	if len(other) != 0 {
		t.Errorf("UserRoles(%s, %q, \"\") returned client roles %q", user, api, other)
	}
	return roles, err
}

// clientRoles is UserRoles for one app's own API alone.
func clientRoles(t *testing.T, s store.Store, user, client string) ([]string, error) {
	t.Helper()
	other, roles, err := s.UserRoles(ctx(t), tenantID, user, "", client)
	if len(other) != 0 {
		t.Errorf("UserRoles(%s, \"\", %q) returned API roles %q", user, client, other)
	}
	return roles, err
}

func testUserAppRoles(t *testing.T, s store.Store) {
	seedRoles(t, s)
	roles, err := apiRoles(t, s, userID, todoAPI)
	must(t, err)
	if len(roles) != 0 {
		t.Fatalf("before any assignment: got %q", roles)
	}
	must(t, s.SetUserAppRoles(ctx(t), tenantID, userID, []directory.RoleAssignment{
		{Resource: "API://todo", Role: "Todo.Audit"}, {Resource: todoAPI, Role: "Todo.Admin"},
		{Resource: todoAPI, Role: "Todo.Admin"}, // repeated: one assignment
		{Resource: todoAPI, Role: "Todo.Gone"},  // not defined: never returned
		{Resource: "api://other", Role: "Todo.Admin"},
	}))
	must(t, s.SetUserAppRoles(ctx(t), tenantID, bobID, []directory.RoleAssignment{{Resource: todoAPI, Role: "Todo.Audit"}}))
	for _, tc := range []struct {
		user, api string
		want      []string
	}{
		{userID, "api://TODO", []string{"Todo.Admin", "Todo.Audit"}},
		{bobID, todoAPI, []string{"Todo.Audit"}},
		{userID, "api://other", nil}, // no such API: its assignment names no defined role
		{userID, "api://nothing", nil},
	} {
		got, err := apiRoles(t, s, tc.user, tc.api)
		must(t, err)
		if !slices.Equal(got, tc.want) {
			t.Errorf("API roles (%s, %s) = %q, want %q", tc.user, tc.api, got, tc.want)
		}
	}
	// The roles of the API whose own registration an app is: what its ID tokens carry.
	got, err := clientRoles(t, s, userID, apiApp)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("client roles before the API names its registration: %q", got)
	}
	api, err := s.APIByURI(ctx(t), tenantID, todoAPI)
	must(t, err)
	api.ClientID = apiApp
	must(t, s.UpsertAPI(ctx(t), api))
	got, err = clientRoles(t, s, userID, apiApp)
	must(t, err)
	if !slices.Equal(got, []string{"Todo.Admin", "Todo.Audit"}) {
		t.Fatalf("client roles = %q, want [Todo.Admin Todo.Audit]", got)
	}
	for _, other := range []string{clientID, ""} {
		if got, err := clientRoles(t, s, userID, other); err != nil || len(got) != 0 {
			t.Fatalf("client roles of %q = %q, %v; want none", other, got, err)
		}
	}
	// UserRoles reads both kinds at once; an empty name asks for none of its kind.
	for _, tc := range []struct {
		user, api, client string
		wantAPI, wantApp  []string
	}{
		{userID, "api://TODO", apiApp, []string{"Todo.Admin", "Todo.Audit"}, []string{"Todo.Admin", "Todo.Audit"}},
		{bobID, todoAPI, apiApp, []string{"Todo.Audit"}, []string{"Todo.Audit"}},
		{userID, "", apiApp, nil, []string{"Todo.Admin", "Todo.Audit"}},
		{userID, todoAPI, "", []string{"Todo.Admin", "Todo.Audit"}, nil},
		{userID, "api://nothing", clientID, nil, nil},
		{userID, "", "", nil, nil},
	} {
		gotAPI, gotApp, err := s.UserRoles(ctx(t), tenantID, tc.user, tc.api, tc.client)
		must(t, err)
		if !slices.Equal(gotAPI, tc.wantAPI) || !slices.Equal(gotApp, tc.wantApp) {
			t.Errorf("UserRoles(%s, %q, %q) = %q, %q; want %q, %q", tc.user, tc.api, tc.client, gotAPI, gotApp, tc.wantAPI, tc.wantApp)
		}
	}

	// Replacing the API's roles keeps the assignments of roles it still defines.
	must(t, s.UpsertAPI(ctx(t), directory.API{TenantID: tenantID, DisplayName: "Todo API", AppIDURI: todoAPI,
		AppRoles: []directory.AppRole{{Value: "Todo.Admin", AllowedMemberTypes: []directory.MemberType{directory.MemberUser}}}}))
	got, err = apiRoles(t, s, userID, todoAPI)
	must(t, err)
	if !slices.Equal(got, []string{"Todo.Admin"}) {
		t.Fatalf("after the API dropped Todo.Audit: got %q", got)
	}
	// Setting replaces.
	must(t, s.SetUserAppRoles(ctx(t), tenantID, userID, nil))
	got, err = apiRoles(t, s, userID, todoAPI)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("after clearing: got %q", got)
	}
}

func testGroups(t *testing.T, s store.Store) {
	seedRoles(t, s)
	_, err := s.GroupByID(ctx(t), groupA)
	wantErr(t, err, store.ErrNotFound)
	must(t, s.UpsertGroup(ctx(t), directory.Group{ID: groupB, TenantID: tenantID, DisplayName: "B", Members: []string{userID}}))
	must(t, s.UpsertGroup(ctx(t), directory.Group{ID: groupA, TenantID: tenantID, DisplayName: "A", Members: []string{userID, bobID}}))
	got, err := s.GroupByID(ctx(t), groupA)
	must(t, err)
	want := directory.Group{ID: groupA, TenantID: tenantID, DisplayName: "A", Members: []string{userID, bobID}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	groups, err := s.UserGroups(ctx(t), userID)
	must(t, err)
	if len(groups) != 2 || groups[0].ID != groupA || groups[0].DisplayName != "A" || groups[1].ID != groupB ||
		groups[1].TenantID != tenantID {
		t.Fatalf("UserGroups(alice) = %+v", groups)
	}
	// Upsert replaces the member list and the name.
	must(t, s.UpsertGroup(ctx(t), directory.Group{ID: groupA, TenantID: tenantID, DisplayName: "A2", Members: []string{bobID}}))
	groups, err = s.UserGroups(ctx(t), userID)
	must(t, err)
	if len(groups) != 1 || groups[0].ID != groupB {
		t.Fatalf("after alice left A: UserGroups(alice) = %+v", groups)
	}
	groups, err = s.UserGroups(ctx(t), bobID)
	must(t, err)
	if len(groups) != 1 || groups[0].DisplayName != "A2" {
		t.Fatalf("UserGroups(bob) = %+v", groups)
	}
	// A member that is no user fails, and changes nothing.
	err = s.UpsertGroup(ctx(t), directory.Group{ID: groupA, TenantID: tenantID, DisplayName: "A3",
		Members: []string{"99999999-2222-4333-8444-555555555555"}})
	wantErr(t, err, store.ErrNotFound)
	got, err = s.GroupByID(ctx(t), groupA)
	must(t, err)
	if got.DisplayName != "A2" || !slices.Equal(got.Members, []string{bobID}) {
		t.Fatalf("after a failed upsert: got %+v", got)
	}
	// Which groups an app's tokens carry is kept with the app.
	app, err := s.AppByClientID(ctx(t), clientID)
	must(t, err)
	app.GroupClaims = directory.GroupClaimsSecurityGroup
	must(t, s.UpsertApp(ctx(t), app))
	if app, err = s.AppByClientID(ctx(t), clientID); err != nil || app.GroupClaims != directory.GroupClaimsSecurityGroup {
		t.Fatalf("app group claims: got %q, %v", app.GroupClaims, err)
	}
	groups, err = s.UserGroups(ctx(t), "99999999-2222-4333-8444-555555555555")
	must(t, err)
	if len(groups) != 0 {
		t.Fatalf("UserGroups(nobody) = %+v", groups)
	}
}
