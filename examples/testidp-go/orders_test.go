package orders

import (
	"strings"
	"testing"

	"github.com/sigil-idp/sigil/testidp"
)

const sigilConfig = `
tenants:
  - id: 0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9
    domains: [fabrikam.test]
    apis:
      - {displayName: Orders API, appIdUri: "api://orders", scopes: [{value: Orders.Read}]}
    apps:
      - displayName: Orders CLI
        clientId: 7d8e9f00-1a2b-4c3d-8e4f-5a6b7c8d9e0f
        allowPublicClientFlows: true
        publicClient: {redirectUris: ["http://localhost"]}
        adminConsent: [api://orders/Orders.Read]
`

// TestLogin signs a user created for the test in, and shows the error the CLI gets for a
// wrong password.
func TestLogin(t *testing.T) {
	idp := testidp.Start(t, testidp.Options{Config: sigilConfig})
	if _, err := idp.Control.CreateUser(t.Context(), testidp.User{Tenant: "fabrikam.test", Username: "erin@fabrikam.test",
		Password: "Passw0rd!erin"}); err != nil {
		t.Fatal(err)
	}
	token, err := Login(t.Context(), idp.Authority, "7d8e9f00-1a2b-4c3d-8e4f-5a6b7c8d9e0f", idp.HTTPClient,
		"erin@fabrikam.test", "Passw0rd!erin")
	if err != nil || strings.Count(token, ".") != 2 {
		t.Fatalf("Login: %q, %v", token, err)
	}
	_, err = Login(t.Context(), idp.Authority, "7d8e9f00-1a2b-4c3d-8e4f-5a6b7c8d9e0f", idp.HTTPClient,
		"erin@fabrikam.test", "wrong")
	if err == nil || !strings.Contains(err.Error(), "AADSTS50126") {
		t.Fatalf("wrong password: %v, want AADSTS50126", err)
	}
}
