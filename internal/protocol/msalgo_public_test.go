package protocol_test

import (
	"context"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
)

// TestMSALGoPublicClientDeviceCode drives MSAL Go's public client through the device code
// flow: AcquireTokenByDeviceCode, then AuthenticationResult polling in a goroutine while the
// test completes the verification page over HTTP as the user would. MSAL Go polls on its own
// schedule (50 ms, growing to 5 s), faster than the interval, so it meets slow_down too; the
// test clock moves past the interval once the user has approved. The account then serves
// AcquireTokenSilent from the cache.
func TestMSALGoPublicClientDeviceCode(t *testing.T) {
	e := newEnv(t, withCLI)
	client, err := public.New(cliClient, public.WithAuthority(e.url+"/contoso.test"),
		public.WithHTTPClient(e.api()), public.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	scopes := []string{"api://todo/Todo.Read"}
	dc, err := client.AcquireTokenByDeviceCode(ctx, scopes)
	if err != nil {
		t.Fatalf("AcquireTokenByDeviceCode: %v", err)
	}
	if dc.Result.VerificationURL != e.url+"/devicelogin" || dc.Result.Interval != 5 || len(dc.Result.UserCode) != 9 {
		t.Fatalf("device code result %+v", dc.Result)
	}
	type outcome struct {
		res public.AuthResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := dc.AuthenticationResult(ctx)
		done <- outcome{res, err}
	}()

	// Meanwhile, the user: the code on the verification page, sign-in, consent.
	_, page := e.deviceSignIn(e.newBrowser(), dc.Result.UserCode, alice, true)
	if got := deviceResult(page); got != "success" {
		cancel()
		<-done
		t.Fatalf("verification page ended with %q: %s", got, page)
	}
	e.clock.Advance(pollInterval + time.Second)

	var o outcome
	select {
	case o = <-done:
	case <-time.After(45 * time.Second):
		cancel()
		<-done
		t.Fatal("MSAL Go did not get tokens within 45 s of the approval")
	}
	if o.err != nil {
		t.Fatalf("AuthenticationResult: %v", o.err)
	}
	at := claims(t, o.res.AccessToken)
	if at["aud"] != "api://todo" || at["scp"] != "Todo.Read" || at["azp"] != cliClient {
		t.Errorf("access token %v", at)
	}
	if o.res.Account.PreferredUsername != alice || o.res.IDToken.PreferredUsername != alice {
		t.Errorf("account %+v", o.res.Account)
	}
	silent, err := client.AcquireTokenSilent(ctx, scopes, public.WithSilentAccount(o.res.Account))
	if err != nil {
		t.Fatalf("AcquireTokenSilent: %v", err)
	}
	if silent.AccessToken != o.res.AccessToken || silent.Metadata.TokenSource != public.TokenSourceCache {
		t.Errorf("silent: source %v, same token %v; want the cached token", silent.Metadata.TokenSource,
			silent.AccessToken == o.res.AccessToken)
	}
}
