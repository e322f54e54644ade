package config

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/password"
	"github.com/sigil-idp/sigil/internal/store/sqlstore"
)

const group0 = "a1b2c3d4-0000-4000-8000-000000000001"

// withRoles adds to validConfig app roles, a role assignment and a group.
func withRoles() Config {
	c := validConfig()
	api0(&c).AppRoles = []AppRole{
		{Value: "Todo.ReadAll", AllowedMemberTypes: []string{MemberApplication}},
		{Value: "Todo.Admin", AllowedMemberTypes: []string{MemberUser}},
	}
	u0(&c).AppRoles = []string{"api://todo/Todo.Admin"}
	t0(&c).Groups = []Group{{ID: group0, DisplayName: "Admins", Members: []string{"alice@contoso.test"}}}
	a0(&c).GroupMembershipClaims = GroupClaimsSecurityGroup
	return c
}

func TestValidateRolesAndGroups(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(c *Config)
		wantPath string // "" for a valid change
		wantMsg  string
	}{
		{"as given", func(c *Config) {}, "", ""},
		{"roles without scopes ok", func(c *Config) { api0(c).Scopes, a0(c).AdminConsent = nil, nil }, "", ""},
		{"neither scopes nor roles", func(c *Config) {
			api0(c).Scopes, api0(c).AppRoles, a0(c).AdminConsent, u0(c).AppRoles = nil, nil, nil, nil
		},
			"tenants[0].apis[0].scopes", "at least one scope or app role"},
		{"role value empty", func(c *Config) { api0(c).AppRoles[0].Value = "" }, "tenants[0].apis[0].appRoles[0].value", "must not be empty"},
		{"role value with slash", func(c *Config) { api0(c).AppRoles[0].Value = "a/b" }, "tenants[0].apis[0].appRoles[0].value", `"/"`},
		{"role value repeated", func(c *Config) {
			api0(c).AppRoles = append(api0(c).AppRoles, AppRole{Value: "todo.admin", AllowedMemberTypes: []string{MemberUser}})
		}, "tenants[0].apis[0].appRoles[2].value", "already used"},
		{"member types missing", func(c *Config) { api0(c).AppRoles[0].AllowedMemberTypes = nil }, "tenants[0].apis[0].appRoles[0].allowedMemberTypes", "required"},
		{"member type unknown", func(c *Config) { api0(c).AppRoles[0].AllowedMemberTypes = []string{"user"} }, "tenants[0].apis[0].appRoles[0].allowedMemberTypes[0]", `"user" is not "User" or "Application"`},
		{"member types both ok", func(c *Config) { api0(c).AppRoles[0].AllowedMemberTypes = []string{MemberUser, MemberApplication} }, "", ""},
		{"api clientId not a GUID", func(c *Config) { api0(c).ClientID = "todo" }, "tenants[0].apis[0].clientId", "not a GUID"},
		{"api clientId names no app", func(c *Config) { api0(c).ClientID = client1 }, "tenants[0].apis[0].clientId", "names no app of this tenant"},
		{"api clientId names an app ok", func(c *Config) { api0(c).ClientID = strings.ToUpper(client0) }, "", ""},
		{"user role malformed", func(c *Config) { u0(c).AppRoles = []string{"Todo.Admin"} }, "tenants[0].users[0].appRoles[0]", "not <appIdUri>/<role>"},
		{"user role unknown", func(c *Config) { u0(c).AppRoles = []string{"api://todo/Todo.Delete"} }, "tenants[0].users[0].appRoles[0]", `app role "Todo.Delete"`},
		{"user role of an unknown API", func(c *Config) { u0(c).AppRoles = []string{"api://mail/Todo.Admin"} }, "tenants[0].users[0].appRoles[0]", `appIdUri "api://mail"`},
		{"user role for applications only", func(c *Config) { u0(c).AppRoles = []string{"api://todo/Todo.ReadAll"} }, "tenants[0].users[0].appRoles[0]", "do not include User"},
		{"user role repeated", func(c *Config) { u0(c).AppRoles = []string{"api://todo/Todo.Admin", "API://TODO/todo.admin"} }, "tenants[0].users[0].appRoles[1]", "already used"},
		{"user role is a scope", func(c *Config) { u0(c).AppRoles = []string{"api://todo/Todo.Read"} }, "tenants[0].users[0].appRoles[0]", `app role "Todo.Read"`},
		{"user role of another tenant's API", func(c *Config) { t1(c).Users[0].AppRoles = []string{"api://todo/Todo.Admin"} }, "tenants[1].users[0].appRoles[0]", "no API of this tenant"},
		{"app permission ok", func(c *Config) { a0(c).ApplicationPermissions = []string{"API://todo/todo.readall"} }, "", ""},
		{"app permission for users only", func(c *Config) { a0(c).ApplicationPermissions = []string{"api://todo/Todo.Admin"} }, "tenants[0].apps[0].applicationPermissions[0]", "do not include Application"},
		{"app permission unknown", func(c *Config) { a0(c).ApplicationPermissions = []string{"api://todo/Todo.Purge"} }, "tenants[0].apps[0].applicationPermissions[0]", `app role "Todo.Purge"`},
		{"app permission is a scope", func(c *Config) { a0(c).ApplicationPermissions = []string{"api://todo/Todo.Read"} }, "tenants[0].apps[0].applicationPermissions[0]", `app role "Todo.Read"`},
		{"app permission malformed", func(c *Config) { a0(c).ApplicationPermissions = []string{"Todo.ReadAll"} }, "tenants[0].apps[0].applicationPermissions[0]", "not <appIdUri>/<role>"},
		{"group id missing", func(c *Config) { t0(c).Groups[0].ID = "" }, "tenants[0].groups[0].id", "required"},
		{"group id not a GUID", func(c *Config) { t0(c).Groups[0].ID = "admins" }, "tenants[0].groups[0].id", "not a GUID"},
		{"group id repeated across tenants", func(c *Config) {
			t1(c).Groups = []Group{{ID: strings.ToUpper(group0), DisplayName: "X"}}
		}, "tenants[1].groups[0].id", "already used by tenants[0].groups[0].id"},
		{"group displayName missing", func(c *Config) { t0(c).Groups[0].DisplayName = "" }, "tenants[0].groups[0].displayName", "required"},
		{"group member unknown", func(c *Config) { t0(c).Groups[0].Members = []string{"bob@fabrikam.test"} }, "tenants[0].groups[0].members[0]", "not a username of this tenant"},
		{"group member repeated", func(c *Config) { t0(c).Groups[0].Members = []string{"alice@contoso.test", "Alice@Contoso.test"} }, "tenants[0].groups[0].members[1]", "already used"},
		{"group without members ok", func(c *Config) { t0(c).Groups[0].Members = nil }, "", ""},
		{"groupMembershipClaims All ok", func(c *Config) { a0(c).GroupMembershipClaims = GroupClaimsAll }, "", ""},
		{"groupMembershipClaims None ok", func(c *Config) { a0(c).GroupMembershipClaims = GroupClaimsNone }, "", ""},
		{"groupMembershipClaims unknown", func(c *Config) { a0(c).GroupMembershipClaims = "DirectoryRole" }, "tenants[0].apps[0].groupMembershipClaims", `"DirectoryRole" is not one of`},
		{"groupsOverageLimit zero", func(c *Config) { c.GroupsOverageLimit = 0 }, "groupsOverageLimit", "at least 1"},
		{"groupsOverageLimit one ok", func(c *Config) { c.GroupsOverageLimit = 1 }, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := withRoles()
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantPath == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			got := problems(t, err)
			if len(got) != 1 || !strings.HasPrefix(got[0], tt.wantPath+": ") || !strings.Contains(got[0], tt.wantMsg) {
				t.Errorf("Validate problems %q, want one at %q containing %q", got, tt.wantPath, tt.wantMsg)
			}
		})
	}
}

func TestValidateNormalizesRoles(t *testing.T) {
	c := withRoles()
	u0(&c).AppRoles = []string{"API://TODO/todo.admin"}
	t0(&c).Groups[0].ID = strings.ToUpper(group0)
	t0(&c).Groups[0].Members = []string{"Alice@Contoso.TEST"}
	api0(&c).ClientID = strings.ToUpper(client0)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, got, want string }{
		{"user appRoles", u0(&c).AppRoles[0], "api://todo/Todo.Admin"},
		{"group id", t0(&c).Groups[0].ID, group0},
		{"group member", t0(&c).Groups[0].Members[0], "alice@contoso.test"},
		{"api clientId", api0(&c).ClientID, client0},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

const rolesYAML = `publicUrl: https://login.example.test
groupsOverageLimit: 5
tenants:
  - id: 6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10
    domains: [contoso.test]
    users:
      - username: alice@contoso.test
        password: Passw0rd!alice
        appRoles: [api://todo/Todo.Admin]
    groups:
      - id: a1b2c3d4-0000-4000-8000-000000000001
        displayName: Admins
        members: [alice@contoso.test]
    apis:
      - displayName: Todo API
        appIdUri: api://todo
        clientId: 3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f
        appRoles:
          - value: Todo.ReadAll
            allowedMemberTypes: [Application]
          - value: Todo.Admin
            allowedMemberTypes: [User]
            description: Administers todos
    apps:
      - displayName: Todo SPA
        clientId: 3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f
        spa: {redirectUris: ["https://app.example.test:3000/"]}
        groupMembershipClaims: SecurityGroup
`

func TestParseRolesAndGroups(t *testing.T) {
	c, err := Parse("sigil.yaml", []byte(rolesYAML), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	tn := c.Tenants[0]
	want := API{DisplayName: "Todo API", AppIDURI: "api://todo", ClientID: client0, AppRoles: []AppRole{
		{Value: "Todo.ReadAll", AllowedMemberTypes: []string{"Application"}},
		{Value: "Todo.Admin", AllowedMemberTypes: []string{"User"}, Description: "Administers todos"}}}
	if c.GroupsOverageLimit != 5 || !reflect.DeepEqual(tn.APIs[0], want) ||
		!slices.Equal(tn.Users[0].AppRoles, []string{"api://todo/Todo.Admin"}) ||
		!reflect.DeepEqual(tn.Groups, []Group{{ID: group0, DisplayName: "Admins", Members: []string{"alice@contoso.test"}}}) ||
		tn.Apps[0].GroupMembershipClaims != GroupClaimsSecurityGroup {
		t.Fatalf("got %+v", c)
	}
	// Problems carry the line and column of the value at fault.
	for _, tc := range []struct{ name, from, to, want string }{
		{"unknown role", "appRoles: [api://todo/Todo.Admin]", "appRoles: [api://todo/Todo.Nope]",
			`sigil.yaml:9:20: tenants[0].users[0].appRoles[0]: "api://todo/Todo.Nope": no API of this tenant`},
		{"unknown member", "members: [alice@contoso.test]", "members: [eve@contoso.test]",
			`sigil.yaml:13:19: tenants[0].groups[0].members[0]: "eve@contoso.test" is not a username of this tenant's users`},
		{"member type", "allowedMemberTypes: [Application]", "allowedMemberTypes: [Daemon]",
			`sigil.yaml:20:34: tenants[0].apis[0].appRoles[0].allowedMemberTypes[0]: "Daemon" is not "User" or "Application"`},
		{"group claims", "groupMembershipClaims: SecurityGroup", "groupMembershipClaims: Security",
			`sigil.yaml:28:32: tenants[0].apps[0].groupMembershipClaims: "Security" is not one of`},
		{"overage limit", "groupsOverageLimit: 5", "groupsOverageLimit: 0",
			`sigil.yaml:2:21: groupsOverageLimit: must be at least 1, got 0`},
		{"unknown key", "description: Administers todos", "descriptoin: Administers todos",
			`sigil.yaml:23:13: tenants[0].apis[0].appRoles[1]: unknown key "descriptoin"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("sigil.yaml", []byte(strings.Replace(rolesYAML, tc.from, tc.to, 1)), Overrides{})
			got := problems(t, err)
			if len(got) != 1 || !strings.HasPrefix(got[0], tc.want) {
				t.Fatalf("problems %q, want one starting %q", got, tc.want)
			}
		})
	}
}

// TestApplyRolesAndGroups applies roles and groups twice (idempotent), then a file that moves
// them: assignments and member lists follow the file.
func TestApplyRolesAndGroups(t *testing.T) {
	ctx := context.Background()
	c, err := Parse("sigil.yaml", []byte(rolesYAML), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "sigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cheap := password.Params{Memory: 64, Time: 1, Threads: 1}
	alice := UserID(c.Tenants[0].ID, "alice@contoso.test")
	check := func(wantRoles, wantMembers []string) {
		t.Helper()
		roles, _, err := st.UserRoles(ctx, c.Tenants[0].ID, alice, "api://todo", "")
		if err != nil || !slices.Equal(roles, wantRoles) {
			t.Fatalf("roles: got %q, %v; want %q", roles, err, wantRoles)
		}
		g, err := st.GroupByID(ctx, group0)
		if err != nil || !slices.Equal(g.Members, wantMembers) || g.DisplayName != "Admins" {
			t.Fatalf("group: got %+v, %v; want members %q", g, err, wantMembers)
		}
	}
	for range 2 {
		if err := Apply(ctx, c, st, cheap); err != nil {
			t.Fatal(err)
		}
		check([]string{"Todo.Admin"}, []string{alice})
	}
	api, err := st.APIByURI(ctx, c.Tenants[0].ID, "api://todo")
	if err != nil || api.ClientID != client0 || len(api.AppRoles) != 2 ||
		!slices.Equal(api.AppRoles[1].AllowedMemberTypes, []directory.MemberType{directory.MemberUser}) {
		t.Fatalf("api: %+v, %v", api, err)
	}
	app, err := st.AppByClientID(ctx, client0)
	if err != nil || app.GroupClaims != directory.GroupClaimsSecurityGroup {
		t.Fatalf("app: %+v, %v", app, err)
	}
	c.Tenants[0].Users[0].AppRoles = nil
	c.Tenants[0].Groups[0].Members = nil
	if err := Apply(ctx, c, st, cheap); err != nil {
		t.Fatal(err)
	}
	check(nil, nil)
}
