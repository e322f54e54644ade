package protocol_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
)

// logBuffer collects a server's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// events returns the security events in the log.
func (l *logBuffer) events(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Text())
		}
		if m["msg"] == "security event" {
			out = append(out, m)
		}
	}
	return out
}

// TestSecurityEvents runs one set of flows — sign-in failure, lockout, sign-in with consent,
// code redemption and its replay, refresh and refresh-token reuse, logout, client
// credentials with a secret, a wrong secret and the throttle — with Sigil's log captured. It
// greps the whole log for every password, secret, code, verifier, token and cookie used or
// issued, finding none, and checks that each kind of event appears with its fields.
func TestSecurityEvents(t *testing.T) {
	var log logBuffer
	e := newEnvLogged(t, func(c *config.Config) { c.LoginThrottle.AccountFailures = 2 }, &log)
	var secrets []string // everything that must never reach the log
	keep := func(v ...string) {
		for _, s := range v {
			if s != "" {
				secrets = append(secrets, s)
			}
		}
	}
	const wrongPassword, wrongSecret = "Wr0ng-Passw0rd-zzqx", "wr0ng-s3cret-s3cret-zzqx"
	keep(pw, wrongPassword, webSecret, wrongSecret)

	// Sign-in failures: bob's wrong password twice, then a lockout (even the right one).
	b := e.newBrowser()
	verifier, challenge := pkce()
	keep(verifier)
	_, body := e.get(b, e.authorizeURL("contoso.test", spaParams(challenge, todoScopes)))
	fields := hiddenFields(body)
	keep(fields.Get("ir"))
	for range 2 {
		_, body = e.submitLogin(b, fields, bob, wrongPassword, false)
		if pageErrorCode(body) != "AADSTS50126" {
			t.Fatalf("wrong password: %q", pageErrorCode(body))
		}
	}
	if _, body = e.submitLogin(b, fields, bob, pw, false); pageErrorCode(body) != "AADSTS50053" {
		t.Fatalf("locked: %q", pageErrorCode(body))
	}

	// Sign-in with consent, code redemption, replay of the code.
	c := e.newBrowser()
	code, verifier := e.spaCode(c, "contoso.test", alice, todoScopes, nil)
	keep(code, verifier)
	resp, tok := e.token("contoso.test", redeemForm(spaClient, code, verifier, todoScopes), spaOriginHeader())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("redeem: %d %v", resp.StatusCode, tok)
	}
	keep(str(tok, "access_token"), str(tok, "id_token"), str(tok, "refresh_token"), str(tok, "client_info"))
	code2, verifier2 := e.spaCode(c, "contoso.test", alice, todoScopes, nil)
	keep(code2, verifier2)
	e.token("contoso.test", redeemForm(spaClient, code2, verifier2, todoScopes), spaOriginHeader())
	if resp, _ := e.token("contoso.test", redeemForm(spaClient, code2, verifier2, todoScopes), spaOriginHeader()); resp.StatusCode != 400 {
		t.Fatalf("replay: %d", resp.StatusCode)
	}

	// Refresh twice, then reuse of the first token (its successor used) after the reuse
	// interval.
	rt := str(tok, "refresh_token")
	resp, tok2 := e.token("contoso.test", refreshForm(spaClient, rt, todoScopes), spaOriginHeader())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d %v", resp.StatusCode, tok2)
	}
	keep(str(tok2, "access_token"), str(tok2, "id_token"), str(tok2, "refresh_token"))
	resp, tok3 := e.token("contoso.test", refreshForm(spaClient, str(tok2, "refresh_token"), todoScopes), spaOriginHeader())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("second refresh: %d %v", resp.StatusCode, tok3)
	}
	keep(str(tok3, "access_token"), str(tok3, "id_token"), str(tok3, "refresh_token"))
	e.clock.Advance(time.Minute)
	if resp, _ := e.token("contoso.test", refreshForm(spaClient, rt, todoScopes), spaOriginHeader()); resp.StatusCode != 400 {
		t.Fatalf("reuse: %d", resp.StatusCode)
	}

	// Logout with MSAL's hint.
	id := claims(t, str(tok, "id_token"))
	for _, ck := range c.Jar.Cookies(&url.URL{Scheme: "https", Host: strings.TrimPrefix(e.url, "https://"), Path: "/"}) {
		keep(ck.Value)
	}
	resp, _ = e.get(c, e.logoutURL("contoso.test", url.Values{"post_logout_redirect_uri": {signedOut},
		"logout_hint": {id["login_hint"].(string)}}))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("logout: %d", resp.StatusCode)
	}

	// Client credentials with the secret; wrong secrets until the client is throttled.
	cc := func(secret string) (*http.Response, map[string]any) {
		return e.token("contoso.test", url.Values{"grant_type": {"client_credentials"}, "client_id": {webClient},
			"client_secret": {secret}, "scope": {"api://todo/.default"}}, nil)
	}
	resp, ct := cc(webSecret)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("client credentials: %d %v", resp.StatusCode, ct)
	}
	keep(str(ct, "access_token"))
	for range 2 {
		cc(wrongSecret)
	}
	if resp, m := cc(webSecret); resp.StatusCode == http.StatusOK {
		t.Fatalf("not throttled: %v", m)
	}

	text := log.String()
	if len(text) == 0 {
		t.Fatal("empty log")
	}
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("the log holds a secret, code or token: %.24s…", s)
		}
		if len(s) > 24 && strings.Contains(text, s[len(s)-16:]) {
			t.Errorf("the log holds the end of a secret, code or token: …%s", s[len(s)-16:])
		}
	}

	aliceID := id["oid"].(string)
	type want struct {
		kind   string
		fields map[string]string // "" means: present and not empty
	}
	base := map[string]string{"tenant_id": tenantID, "client_address": "127.0.0.1", "trace_id": "", "correlation_id": ""}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, w := range []want{
		{"signin.failure", with(map[string]string{"user_id": "", "client_id": spaClient, "aadsts": "50126"})},
		{"signin.lockout", with(map[string]string{"user_id": "", "client_id": spaClient, "aadsts": "50053"})},
		{"signin.success", with(map[string]string{"user_id": aliceID, "client_id": spaClient})},
		{"consent.granted", with(map[string]string{"user_id": aliceID, "client_id": spaClient, "scopes": ""})},
		{"code.replay", with(map[string]string{"user_id": aliceID, "client_id": spaClient})},
		{"refresh.reuse", with(map[string]string{"user_id": aliceID, "client_id": spaClient})},
		{"refresh.family_revoked", with(map[string]string{"user_id": aliceID, "client_id": spaClient, "cause": "refresh_token_reuse"})},
		{"refresh.family_revoked", with(map[string]string{"user_id": aliceID, "client_id": spaClient, "cause": "code_replay"})},
		{"logout", with(map[string]string{"user_id": aliceID})}, // MSAL names no client on logout
		{"clientauth.failure", with(map[string]string{"client_id": webClient})},
		{"clientauth.throttled", with(map[string]string{"client_id": webClient})},
	} {
		found := false
		for _, ev := range log.events(t) {
			if ev["event"] != w.kind {
				continue
			}
			ok := true
			for k, v := range w.fields {
				got, present := ev[k]
				s := strings.TrimSuffix(strings.TrimSuffix(jsonText(got), `"`), `"`)
				s = strings.TrimPrefix(s, `"`)
				if !present || s == "" || v != "" && s != v {
					ok = false
				}
			}
			if ok {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no %s event with %v; events: %v", w.kind, w.fields, log.events(t))
		}
	}
}

// jsonText is a decoded JSON value as text.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
