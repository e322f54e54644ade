package protocol_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/config"
)

// TestBackchannelLogout: signing out of a session that signed in to an app with a
// backchannelLogoutUrl POSTs it a logout token that verifies against the JWKS (typ
// logout+jwt, the back-channel event, the session's sid, the app's sub, no nonce). With the
// receiver down, the outbox retries with back-off and delivers once it is back — from another
// App on the same store, as after a restart — and only once.
func TestBackchannelLogout(t *testing.T) {
	var mu sync.Mutex
	var up bool
	var got []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if !up {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		r.ParseForm()
		got = append(got, r.PostForm.Get("logout_token"))
	}))
	defer receiver.Close()
	e := newEnv(t, func(c *config.Config) {
		c.BackchannelLogout.AllowLocalAddresses = true // the receiver is on 127.0.0.1
		for i, a := range c.Tenants[0].Apps {
			if a.ClientID == spaClient {
				c.Tenants[0].Apps[i].BackchannelLogoutURL = receiver.URL + "/logout"
			}
		}
	})
	ctx := t.Context()
	c := e.newBrowser()
	tok := e.spaTokens(c, "contoso.test", alice, todoScopes)
	id := claims(t, str(tok, "id_token"))
	e.signOut(t, c, str(tok, "id_token"))

	// Down: the attempt fails and is put off.
	if n, err := e.app.DeliverLogouts(ctx); err != nil || n != 0 {
		t.Fatalf("delivery to a receiver that is down: %d, %v", n, err)
	}
	if n, _ := e.app.DeliverLogouts(ctx); n != 0 {
		t.Fatalf("a retry before its back-off delivered %d", n)
	}
	mu.Lock()
	up = true
	mu.Unlock()
	// Another App on the same store (a restart) delivers it once the back-off has passed.
	node2, err := app.New(ctx, e.cfg, app.Options{HashParams: cheapHashes, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer node2.Close()
	e.clock.Advance(11 * time.Second)
	if n, err := node2.DeliverLogouts(ctx); err != nil || n != 1 {
		t.Fatalf("delivery after the back-off: %d, %v", n, err)
	}
	if n, _ := e.app.DeliverLogouts(ctx); n != 0 {
		t.Errorf("delivered again: %d", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("receiver got %d logout tokens", len(got))
	}
	raw := got[0]
	head, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	var h map[string]string
	json.Unmarshal(head, &h)
	if h["typ"] != "logout+jwt" {
		t.Errorf("header %v, want typ logout+jwt", h)
	}
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(ctx, e.api()), e.url+"/"+tenantID+"/discovery/v2.0/keys")
	payload, err := keys.VerifySignature(ctx, raw)
	if err != nil {
		t.Fatalf("the logout token does not verify against the JWKS: %v", err)
	}
	var lc map[string]any
	json.Unmarshal(payload, &lc)
	events, _ := lc["events"].(map[string]any)
	if _, ok := events["http://schemas.openid.net/event/backchannel-logout"]; !ok || lc["sid"] != id["sid"] || lc["sub"] != id["sub"] ||
		lc["aud"] != spaClient || lc["iss"] != e.url+"/"+tenantID+"/v2.0" || lc["nonce"] != nil || lc["jti"] == nil {
		t.Errorf("logout token claims %v (ID token %v)", lc, id)
	}
}

// TestBackchannelRefusesLocalAddresses: without allowLocalAddresses a logout token is never
// sent to a loopback address, and the attempt is put off, not lost.
func TestBackchannelRefusesLocalAddresses(t *testing.T) {
	hit := false
	receiver := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit = true }))
	defer receiver.Close()
	e := newEnv(t, func(c *config.Config) {
		for i, a := range c.Tenants[0].Apps {
			if a.ClientID == spaClient {
				c.Tenants[0].Apps[i].BackchannelLogoutURL = receiver.URL + "/logout"
			}
		}
	})
	c := e.newBrowser()
	tok := e.spaTokens(c, "contoso.test", alice, todoScopes)
	id := claims(t, str(tok, "id_token"))
	e.get(c, e.logoutURL("contoso.test", url.Values{"logout_hint": {id["login_hint"].(string)}}))
	if n, err := e.app.DeliverLogouts(t.Context()); err != nil || n != 0 || hit {
		t.Fatalf("delivery to 127.0.0.1: %d, %v, hit %v", n, err, hit)
	}
	l, err := e.app.Store().ClaimLogout(t.Context(), e.clock.Now().Add(time.Hour), time.Minute)
	if err != nil || l.Attempts != 1 || l.URL != receiver.URL+"/logout" {
		t.Errorf("the refused logout is not kept for a retry: %+v, %v", l, err)
	}
}
