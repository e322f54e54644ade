package protocol

import (
	"strings"
	"testing"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// TestCarriedScopes: a refresh skips the consent read only when its grant carries every
// scope it asks for (in any spelling) and it asks for no .default.
func TestCarriedScopes(t *testing.T) {
	todo := directory.API{AppIDURI: "api://todo", Scopes: []directory.APIScope{{Value: "Todo.Read"}, {Value: "Todo.Write"}}}
	find := func(uri string) (directory.API, bool, error) { return todo, strings.EqualFold(uri, "api://todo"), nil }
	grant := store.Grant{Resource: "api://todo", Scopes: []string{"openid", "profile", "offline_access", "api://todo/Todo.Read"}}
	for _, tc := range []struct {
		scope   string
		carried bool
	}{
		{"api://todo/Todo.Read openid profile offline_access", true},
		{"API://TODO/todo.read openid", true}, // another spelling of the same scopes
		{"openid profile", true},
		{"api://todo/Todo.Read", true},
		{"api://todo/Todo.Write openid profile offline_access", false}, // not in the grant
		{"api://todo/Todo.Read email openid", false},                   // email was never granted
		{"api://todo/.default openid", false},                          // expands by the grants
		{"User.Read openid", false},
	} {
		set, err := directory.ParseScopes(tc.scope, find)
		if err != nil {
			t.Fatalf("%q: %v", tc.scope, err)
		}
		granted := carriedScopes(grant, set)
		if (granted != nil) != tc.carried {
			t.Errorf("%q: carried %v, want %v", tc.scope, granted != nil, tc.carried)
			continue
		}
		for _, g := range set.Groups {
			for _, sc := range g.Scopes {
				if tc.carried && !granted[g.Resource][sc.Key()] {
					t.Errorf("%q: %s of %s not granted", tc.scope, sc.Key(), g.Resource)
				}
			}
		}
	}
}
