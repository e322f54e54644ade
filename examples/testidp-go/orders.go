// Package orders is a stand-in for an app's own code: a CLI that signs its user in with MSAL Go
// and gets a token for its API. Its test (orders_test.go) runs against Sigil started in the test
// with github.com/sigil-idp/sigil/testidp.
package orders

import (
	"context"
	"net/http"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
)

// Scopes are what the CLI asks for.
var Scopes = []string{"api://orders/Orders.Read"}

// Login signs username in with the password grant (the app allows public client flows) and
// returns an access token for the Orders API.
func Login(ctx context.Context, authority, clientID string, hc *http.Client, username, password string) (string, error) {
	client, err := public.New(clientID, public.WithAuthority(authority), public.WithHTTPClient(hc),
		public.WithInstanceDiscovery(false))
	if err != nil {
		return "", err
	}
	//lint:ignore SA1019 the password grant is the CLI's sign-in here; use device code for people
	r, err := client.AcquireTokenByUsernamePassword(ctx, Scopes, username, password)
	if err != nil {
		return "", err
	}
	return r.AccessToken, nil
}
