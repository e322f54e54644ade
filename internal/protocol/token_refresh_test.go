package protocol_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// withNotesAPI adds a second API, api://notes, so one scope string can name two resources.
func withNotesAPI(c *config.Config) {
	c.Tenants[0].APIs = append(c.Tenants[0].APIs, config.API{DisplayName: "Notes", AppIDURI: "api://notes",
		Scopes: []config.Scope{{Value: "Notes.Read"}}})
}

// TestRefreshGrant covers refresh requests: which token, which client, which scopes.
func TestRefreshGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withNotesAPI)
	c := e.newBrowser()
	// alice consents to the profile API (User.Read) first, then to api://todo.
	e.spaTokens(c, "contoso.test", alice, "User.Read openid profile offline_access")
	tok := e.spaTokens(c, "contoso.test", alice, todoScopes)
	firstID := claims(t, str(tok, "id_token"))
	rt := str(tok, "refresh_token")
	refresh := func(t *testing.T, scope string, h http.Header) (*http.Response, map[string]any) {
		t.Helper()
		resp, body := e.token("contoso.test", refreshForm(spaClient, rt, scope), h)
		if resp.StatusCode == http.StatusOK {
			rt = str(body, "refresh_token")
		}
		return resp, body
	}

	errs := []struct {
		name   string
		form   url.Values
		header http.Header
		status int
		want   wantErr
	}{
		{"unknown token", refreshForm(spaClient, "no-such-token", todoScopes), spaOriginHeader(), 400, wantErr{"invalid_grant", 70000}},
		{"another client", refreshForm(preClient, rt, todoScopes), spaOriginHeader(), 400, wantErr{"invalid_grant", 70000}},
		{"no Origin", refreshForm(spaClient, rt, todoScopes), nil, 400, wantErr{"invalid_request", 9002327}},
		{"foreign Origin", refreshForm(spaClient, rt, todoScopes), http.Header{"Origin": {"https://evil.example"}}, 400, wantErr{"invalid_request", 9002326}},
		{"scopes not consented", refreshForm(spaClient, rt, "api://notes/Notes.Read openid profile offline_access"), spaOriginHeader(), 400, wantErr{"invalid_grant", 65001}},
		{"admin-only scope not granted", refreshForm(spaClient, rt, "api://todo/Todo.Admin openid profile offline_access"), spaOriginHeader(), 400, wantErr{"invalid_grant", 65001}},
		{"profile scope not consented", refreshForm(spaClient, rt, "User.Read email openid"), spaOriginHeader(), 400, wantErr{"invalid_grant", 65001}},
		{"two API resources", refreshForm(spaClient, rt, "api://todo/Todo.Read api://notes/Notes.Read openid"), spaOriginHeader(), 400, wantErr{"invalid_scope", 28000}},
		{"unknown API", refreshForm(spaClient, rt, "api://nope/x openid"), spaOriginHeader(), 400, wantErr{"invalid_resource", 500011}},
		{"unknown scope", refreshForm(spaClient, rt, "api://todo/Todo.Nope openid"), spaOriginHeader(), 400, wantErr{"invalid_scope", 70011}},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.token("contoso.test", tt.form, tt.header)
			wantTokenError(t, resp, body, tt.status, tt.want) // invalid_grant: no interaction words
			if tt.want.aadsts == 65001 {
				if got := str(body, "suberror"); got != "consent_required" {
					t.Errorf("suberror %q, want consent_required", got)
				}
			}
		})
	}
	// None of the failures used the token up.
	t.Run("scope of another consented resource", func(t *testing.T) {
		resp, body := refresh(t, "User.Read openid profile offline_access", spaOriginHeader())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
		at := claims(t, str(body, "access_token"))
		if at["aud"] != "00000003-0000-0000-c000-000000000000" || !sameSet(at["scp"].(string), "User.Read openid profile") {
			t.Errorf("aud %v scp %v, want the profile API with User.Read openid profile", at["aud"], at["scp"])
		}
		if !sameSet(str(body, "scope"), "User.Read openid profile offline_access") {
			t.Errorf("scope %q", str(body, "scope"))
		}
	})
	t.Run("back to the first resource", func(t *testing.T) {
		resp, body := refresh(t, todoScopes, spaOriginHeader())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
		if at := claims(t, str(body, "access_token")); at["aud"] != "api://todo" || at["scp"] != "Todo.Read" {
			t.Errorf("aud %v scp %v, want api://todo Todo.Read", at["aud"], at["scp"])
		}
	})
	t.Run("without scope: the grant's scopes", func(t *testing.T) {
		resp, body := refresh(t, "", spaOriginHeader())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
		if !sameSet(str(body, "scope"), str(tok, "scope")) {
			t.Errorf("scope %q, want the grant's %q", str(body, "scope"), str(tok, "scope"))
		}
		if at := claims(t, str(body, "access_token")); at["aud"] != "api://todo" || at["scp"] != "Todo.Read" {
			t.Errorf("aud %v scp %v, want api://todo Todo.Read", at["aud"], at["scp"])
		}
	})
	t.Run("refreshed ID token", func(t *testing.T) {
		e.clock.Advance(5 * time.Minute)
		resp, body := refresh(t, todoScopes, spaOriginHeader())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
		id := claims(t, str(body, "id_token"))
		for _, k := range []string{"sub", "auth_time", "sid", "oid", "tid", "azp", "aud"} {
			if id[k] != firstID[k] {
				t.Errorf("refreshed ID token %s %v, want %v", k, id[k], firstID[k])
			}
		}
		if _, ok := id["nonce"]; ok {
			t.Errorf("refreshed ID token has a nonce %v", id["nonce"])
		}
		if id["iat"].(float64) <= firstID["iat"].(float64) {
			t.Errorf("refreshed ID token iat %v, want after %v", id["iat"], firstID["iat"])
		}
		if str(body, "client_info") == "" || str(body, "refresh_token") == "" {
			t.Errorf("refresh response lacks client_info or refresh_token: %v", body)
		}
	})
}

// refreshStep is one refresh request in a rotation table: after a wait, present the token
// saved under a name (by a client, "" for spaClient) and expect either a 200 — saving the
// new refresh token under save, which must equal the one saved under same when given, or
// differ from every other one — or an error.
type refreshStep struct {
	wait    time.Duration
	present string
	client  string
	prune   bool     // run the store's DeleteExpired before the request
	gone    []string // tokens the store must no longer know after pruning
	save    string
	same    string
	want    wantErr // zero: success
}

// TestRefreshRotation drives the rotation state machine (package store's doc) through the
// token endpoint, as MSAL sees it: the same refresh token for a retry within the reuse
// interval, a new one for a lost answer after it (no sign-out), and AADSTS50173 —
// invalid_grant, which MSAL answers with a silent iframe or an interactive sign-in — for
// reuse, including a pruned token coming back.
func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	const r = 30 * time.Second // the default reuse interval
	revoked := wantErr{"invalid_grant", 50173}
	cases := []struct {
		name  string
		reuse *time.Duration
		steps []refreshStep
	}{
		{name: "(a) retries and a second tab within the interval get the same token", steps: []refreshStep{
			{present: "r0", save: "r1"},
			{wait: 10 * time.Second, present: "r0", save: "r1b", same: "r1"},
			{wait: 19 * time.Second, present: "r0", save: "r1c", same: "r1"},
			{present: "r1", save: "r2"},
			{present: "r2", save: "r3"},
		}},
		{name: "(b) a lost answer after the interval: a new token, no sign-out", steps: []refreshStep{
			{present: "r0", save: "lost"},
			{wait: 2 * r, present: "r0", save: "r1"},
			{present: "r1", save: "r2"},
			{present: "lost", want: revoked}, // superseded: reuse
			{present: "r2", want: revoked},
		}},
		{name: "(b) an outage of an hour", steps: []refreshStep{
			{present: "r0", save: "lost1"},
			{wait: 20 * time.Minute, present: "r0", save: "lost2"},
			{wait: 40 * time.Minute, present: "r0", save: "r1"},
			{present: "r1", save: "r2"},
		}},
		{name: "(c) a replaced token after the interval revokes the family", steps: []refreshStep{
			{present: "r0", save: "r1"},
			{present: "r1", save: "r2"},
			{wait: r, present: "r0", want: revoked},
			{present: "r2", want: revoked},
			{present: "r1", want: revoked},
		}},
		{name: "(c) a thief supersedes an idle owner; the owner's next refresh revokes", steps: []refreshStep{
			{present: "r0", save: "owner"},
			{wait: 10 * time.Minute, present: "r0", save: "thief"},
			{wait: 10 * time.Minute, present: "owner", want: revoked},
			{present: "thief", want: revoked},
		}},
		{name: "(c) a pruned token comes back: the family is revoked", steps: []refreshStep{
			{present: "r0", save: "r1"},
			{present: "r1", save: "r2"},
			{wait: time.Minute, present: "r2", save: "r3", prune: true, gone: []string{"r0"}}, // r0 spent, pruned
			{present: "r0", want: revoked},
			{present: "r3", want: revoked},
		}},
		{name: "a pruned token of another app, or a forged one: AADSTS70000, family kept", steps: []refreshStep{
			{present: "r0", save: "r1"},
			{present: "r1", save: "r2"},
			{wait: time.Minute, prune: true, gone: []string{"r0"}, present: "r0", client: preClient, want: wantErr{"invalid_grant", 70000}},
			{present: "r0+forged", want: wantErr{"invalid_grant", 70000}},
			{present: "r2", save: "r3"},
		}},
		{name: "(d) reuse interval 0: every presentation supersedes the previous answer", reuse: new(time.Duration), steps: []refreshStep{
			{present: "r0", save: "r1"},
			{present: "r0", save: "r1b"},
			{present: "r1b", save: "r2"},
			{present: "r1", want: revoked},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *config.Config) {
				if tc.reuse != nil {
					c.RefreshTokens.ReuseInterval = config.Duration(*tc.reuse)
				}
			})
			saved := map[string]string{"r0": str(e.spaTokens(e.newBrowser(), "contoso.test", alice, todoScopes), "refresh_token")}
			for i, st := range tc.steps {
				e.clock.Advance(st.wait)
				if st.prune {
					if err := e.app.Store().DeleteExpired(t.Context(), e.clock.Now()); err != nil {
						t.Fatal(err)
					}
					for _, name := range st.gone {
						if _, _, err := e.app.Store().RefreshToken(t.Context(), tokens.Hash(saved[name])); !errors.Is(err, store.ErrNotFound) {
							t.Fatalf("step %d: %s not pruned: %v", i+1, name, err)
						}
					}
				}
				rt, forged := strings.CutSuffix(st.present, "+forged")
				rt = saved[rt]
				if forged {
					rt = rt[:len(rt)-2] + "AA"
				}
				client, header := spaClient, spaOriginHeader()
				if st.client != "" {
					client = st.client
				}
				resp, body := e.token("contoso.test", refreshForm(client, rt, todoScopes), header)
				if st.want != (wantErr{}) {
					wantTokenError(t, resp, body, 400, st.want)
					if t.Failed() {
						t.Fatalf("step %d: presenting %s", i+1, st.present)
					}
					continue
				}
				got := str(body, "refresh_token")
				if resp.StatusCode != http.StatusOK || got == "" {
					t.Fatalf("step %d: presenting %s: %d %v", i+1, st.present, resp.StatusCode, body)
				}
				for name, v := range saved {
					if (v == got) != (st.same != "" && v == saved[st.same]) {
						t.Fatalf("step %d: presenting %s gave the token saved as %q; want it to equal only %q", i+1, st.present, name, st.same)
					}
				}
				if st.same == "" {
					if at := claims(t, str(body, "access_token")); at["aud"] != "api://todo" {
						t.Fatalf("step %d: access token aud %v", i+1, at["aud"])
					}
				}
				saved[st.save] = got
			}
		})
	}
}

// TestRefreshLifetimes: idle expiry (AADSTS700082), the SPA absolute lifetime (700084), and
// the absolute lifetime of other clients (70008) — all invalid_grant that MSAL retries
// silently (wantTokenError checks the description).
func TestRefreshLifetimes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) {
		c.RefreshTokens.IdleLifetime = config.Duration(time.Hour)
		c.RefreshTokens.SPAAbsoluteLifetime = config.Duration(150 * time.Minute)
		c.RefreshTokens.AbsoluteLifetime = config.Duration(150 * time.Minute)
	})
	spa := func() string {
		return str(e.spaTokens(e.newBrowser(), "contoso.test", alice, todoScopes), "refresh_token")
	}
	native := func() string {
		c := e.newBrowser()
		verifier, challenge := pkce()
		p := spaParams(challenge, "openid profile offline_access")
		p.Set("client_id", nativeClient)
		p.Set("redirect_uri", nativeURI)
		v := e.authorizeAs(c, e.authorizeURL("contoso.test", p), alice, false)
		_, tok := e.token("contoso.test", url.Values{"client_id": {nativeClient}, "grant_type": {"authorization_code"},
			"code": {v.Get("code")}, "redirect_uri": {nativeURI}, "code_verifier": {verifier}}, nil)
		if str(tok, "refresh_token") == "" {
			t.Fatalf("native redemption: %v", tok)
		}
		return str(tok, "refresh_token")
	}
	type client struct {
		rt     func() string
		id     string
		header http.Header
	}
	spaC := client{spa, spaClient, spaOriginHeader()}
	nativeC := client{native, nativeClient, nil}
	tests := []struct {
		name  string
		c     client
		steps []time.Duration // waits before each refresh; the last one fails
		want  wantErr
	}{
		{"spa idle", spaC, []time.Duration{50 * time.Minute, 61 * time.Minute}, wantErr{"invalid_grant", 700082}},
		{"native idle", nativeC, []time.Duration{61 * time.Minute}, wantErr{"invalid_grant", 700082}},
		{"spa absolute", spaC, []time.Duration{50 * time.Minute, 50 * time.Minute, 50 * time.Minute}, wantErr{"invalid_grant", 700084}},
		{"native absolute", nativeC, []time.Duration{50 * time.Minute, 50 * time.Minute, 50 * time.Minute}, wantErr{"invalid_grant", 70008}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := tt.c.rt()
			for i, wait := range tt.steps {
				e.clock.Advance(wait)
				resp, body := e.token("contoso.test", refreshForm(tt.c.id, rt, ""), tt.c.header)
				if i < len(tt.steps)-1 {
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("refresh %d: %d %v", i+1, resp.StatusCode, body)
					}
					if got := body["refresh_token_expires_in"].(float64); got > 3600 {
						t.Errorf("refresh_token_expires_in %v, want at most the idle lifetime", got)
					}
					rt = str(body, "refresh_token")
					continue
				}
				wantTokenError(t, resp, body, 400, tt.want)
			}
		})
	}
}

// TestRefreshMultiTenant: a multi-tenant app that signed in a user of another tenant
// through common refreshes with the same scope string it was granted. MSAL sends the scope
// on every refresh; if it fails with anything but invalid_grant the app is stuck.
func TestRefreshMultiTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const scope = "api://todo/Todo.Read openid profile offline_access"
	verifier, challenge := pkce()
	p := spaParams(challenge, scope)
	p.Set("client_id", multiClient)
	v := e.authorizeAs(e.newBrowser(), e.authorizeURL("common", p), carol, false)
	resp, tok := e.token("common", redeemForm(multiClient, v.Get("code"), verifier, scope), spaOriginHeader())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("redeem: %d %v", resp.StatusCode, tok)
	}
	if at := claims(t, str(tok, "access_token")); at["aud"] != "api://todo" || at["tid"] != otherTenant {
		t.Fatalf("access token aud %v tid %v", at["aud"], at["tid"])
	}
	resp, body := e.token("common", refreshForm(multiClient, str(tok, "refresh_token"), scope), spaOriginHeader())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh with the granted scope: %d %s %v, want tokens for api://todo", resp.StatusCode, str(body, "error"), body["error_codes"])
	}
	if at := claims(t, str(body, "access_token")); at["aud"] != "api://todo" || at["scp"] != "Todo.Read" {
		t.Errorf("refreshed access token aud %v scp %v", at["aud"], at["scp"])
	}
}

// TestRefreshDisabledUser: a refresh for a user who was disabled is refused (AADSTS50034,
// invalid_grant, so MSAL falls back to interaction) without using the token up: once the
// user is enabled again the same token refreshes.
func TestRefreshDisabledUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.spaTokens(e.newBrowser(), "contoso.test", alice, todoScopes)
	rt := str(tok, "refresh_token")
	oid, _ := claims(t, str(tok, "id_token"))["oid"].(string)
	st := e.app.Store()
	if err := st.SetUserEnabled(t.Context(), oid, false); err != nil {
		t.Fatal(err)
	}
	resp, body := e.token("contoso.test", refreshForm(spaClient, rt, todoScopes), spaOriginHeader())
	wantTokenError(t, resp, body, 400, wantErr{"invalid_grant", 50034})
	if err := st.SetUserEnabled(t.Context(), oid, true); err != nil {
		t.Fatal(err)
	}
	if resp, body = e.token("contoso.test", refreshForm(spaClient, rt, todoScopes), spaOriginHeader()); resp.StatusCode != http.StatusOK {
		t.Fatalf("after enabling the user again: %d %v, want the token to refresh", resp.StatusCode, body)
	}
}
