package e2e

import (
	"crypto/tls"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/browser"
	"github.com/sigil-idp/sigil/e2e/cluster"
	"github.com/sigil-idp/sigil/e2e/harness"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/localca"
)

// TestClusterMSAL5 runs msal-browser 5's pattern against three `sigil serve` processes on one
// PostgreSQL behind a round-robin proxy that terminates TLS: sign-in by popup, a silent token
// from the cache, forceRefresh, the API call and the hidden iframe — with the requests landing
// on every node (the sign-in page on one, the code redeemed on another, the refresh on a
// third), which works only if the nodes share everything through the database.
func TestClusterMSAL5(t *testing.T) {
	dsn := cluster.Postgres(t)
	var proxy *cluster.Proxy
	var nodes []*cluster.Node
	e := harness.Start(t, harness.Options{Backend: func(t *testing.T, cfg config.Config, ln net.Listener, log *harness.RequestLog) harness.Backend {
		nodes = cluster.StartNodes(t, cluster.Build(t), cluster.NodeConfig(t, cfg, dsn), 3)
		proxy = cluster.NewProxy(t, nodes)
		files, err := localca.Ensure(filepath.Join(t.TempDir(), "tls"), []string{"login.example.test"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		cert, err := tls.LoadX509KeyPair(files.Cert, files.Key)
		if err != nil {
			t.Fatal(err)
		}
		tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		proxy.Serve(t, ln, tlsConfig, log.Wrap)
		return harness.Backend{TLS: tlsConfig, CAFile: files.CACert}
	}})
	p := e.OpenApp("msal5.html")
	if v, _ := browser.Eval[string](p, "t.version()"); !strings.HasPrefix(v, "5.") {
		t.Fatalf("test page runs msal-browser %q, want 5.x", v)
	}

	r := mustSucceed(t, "loginPopup", e.WithPopup(p, "t.loginPopup("+userRead+")", harness.Alice))
	if r.Account == nil || r.Account.Username != harness.Alice {
		t.Fatalf("loginPopup account: %s", r)
	}
	tokens := e.Requests.TokenRequests()
	if r = mustSucceed(t, "silent from cache", e.Call(p, "t.silent("+userRead+")")); !r.FromCache || e.Requests.TokenRequests() != tokens {
		t.Fatalf("silent call was not served from the cache: %s", r)
	}
	for i := range 3 { // one refresh per node, round-robin
		tokens, iframes := e.Requests.TokenRequests(), e.Requests.SilentAuthorizeRequests()
		r = mustSucceed(t, "forceRefresh", e.Call(p, "t.silent("+userRead+", {forceRefresh: true})"))
		if r.FromCache || e.Requests.TokenRequests() != tokens+1 || e.Requests.SilentAuthorizeRequests() != iframes {
			t.Fatalf("forceRefresh %d did not use the refresh token alone: %s", i+1, r)
		}
	}
	api, err := browser.EvalTimeout[struct {
		Status int            `json:"status"`
		Body   map[string]any `json:"body"`
	}](p, "t.callAPI("+jsString(e.IdP+"/v1.0/me")+", "+jsString(r.AccessToken)+")", 20*time.Second)
	if err != nil || api.Status != 200 || api.Body["userPrincipalName"] != harness.Alice {
		t.Fatalf("GET /v1.0/me with the bearer token: %+v, %v", api, err)
	}
	forget(t, p, "refreshtoken")
	tokens, iframes := e.Requests.TokenRequests(), e.Requests.SilentAuthorizeRequests()
	mustSucceed(t, "silent without a refresh token", e.Call(p, "t.silent("+userRead+", {forceRefresh: true})"))
	if e.Requests.SilentAuthorizeRequests() != iframes+1 || e.Requests.TokenRequests() != tokens+1 {
		t.Fatalf("without a refresh token the hidden iframe should get a code: iframes %d→%d, tokens %d→%d",
			iframes, e.Requests.SilentAuthorizeRequests(), tokens, e.Requests.TokenRequests())
	}
	served := proxy.Served()
	t.Logf("answers per node: %v", served)
	for i, n := range served {
		if n == 0 {
			t.Errorf("%s answered no request: the flow did not cross the nodes (%v)", nodes[i].Name, served)
		}
	}
}
