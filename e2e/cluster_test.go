package e2e

import (
	"crypto/tls"
	"net"
	"os"
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
	if os.Getenv("SIGIL_TEST_POSTGRES") == "" && os.Getenv("CI") != "true" {
		browser.Skip(t, "SIGIL_TEST_POSTGRES is not set: the cluster test runs its nodes on PostgreSQL")
	}
	dsn := cluster.Postgres(t) // under CI=true without it: a failure
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
	silentPath(t, e, p, 3) // three refreshes: one for each node, round-robin
	served := proxy.Served()
	t.Logf("answers per node: %v", served)
	for i, n := range served {
		if n == 0 {
			t.Errorf("%s answered no request: the flow did not cross the nodes (%v)", nodes[i].Name, served)
		}
	}
}
