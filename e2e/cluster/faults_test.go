package cluster

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
)

// sigilBinary is cmd/sigil, built once by TestMain for every test here.
var sigilBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sigil-cluster-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sigilBinary, err = BuildIn(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	tenantID  = "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10"
	cliClient = "9a8b7c6d-0000-4000-8000-00000000c11e"
	alice     = "alice@contoso.test"
	alicePW   = "Passw0rd!alice"
	scope     = "api://todo/Todo.Read offline_access"
)

// testConfig is one tenant with a user, an API and a public client that may use the password
// grant (for first refresh tokens without a browser).
func testConfig(publicURL string) config.Config {
	c := config.Default()
	c.PublicURL = publicURL
	c.Tenants = []config.Tenant{{ID: tenantID, Domains: []string{"contoso.test"}, DisplayName: "Contoso",
		Users: []config.User{{Username: alice, Password: alicePW, DisplayName: "Alice"}},
		APIs:  []config.API{{DisplayName: "Todo API", AppIDURI: "api://todo", Scopes: []config.Scope{{Value: "Todo.Read"}}}},
		Apps: []config.App{{DisplayName: "Todo CLI", ClientID: cliClient, AllowPublicClientFlows: true,
			PublicClient: config.Platform{RedirectURIs: []string{"http://localhost"}},
			AdminConsent: []string{"api://todo/Todo.Read"}}},
	}}
	return c
}

// plainProxy serves the proxy over nodes on a loopback port without TLS (what is tested here
// is the nodes, not TLS; the browser test serves the proxy with TLS) and returns its URL.
func plainProxy(t *testing.T, ln net.Listener, nodes []*Node) *Proxy {
	p := NewProxy(t, nodes)
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { srv.Serve(ln); close(done) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return p
}

// proxiedNodes starts n nodes on the PostgreSQL database dsn, started together, behind the
// plain proxy, and signs clients in through it, one refresh chain each.
func proxiedNodes(t *testing.T, dsn string, n, clients int) ([]*Node, *Proxy, *Load, []*Chain) {
	ln, addr := listen(t)
	nodes := StartNodes(t, sigilBinary, NodeConfig(t, testConfig("https://login.example.test:"+portOf(addr)), dsn), n)
	p := plainProxy(t, ln, nodes)
	l := newLoad("http://" + addr)
	return nodes, p, l, signIn(t, l, clients)
}

func listen(t *testing.T) (net.Listener, string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, ln.Addr().String()
}

func newLoad(base string) *Load {
	return &Load{Token: base + "/contoso.test/oauth2/v2.0/token", ClientID: cliClient, Scope: scope,
		HTTP: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

func signIn(t *testing.T, l *Load, n int) []*Chain {
	chains := make([]*Chain, n)
	for i := range chains {
		chains[i] = l.SignIn(t, alice, alicePW)
	}
	return chains
}

// get returns the body of a GET, failing the test on anything but 200.
func get(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return b
}

// checkConverged checks that nodes started together agree: every node publishes the same
// JWKS with one key per algorithm (RS256, ES256), and the database holds one signing key of
// each and each migration once.
func checkConverged(t *testing.T, dsn string, nodes []*Node) {
	t.Helper()
	first := get(t, nodes[0].URL()+"/contoso.test/discovery/v2.0/keys")
	var set struct{ Keys []struct{ Kid, Alg string } }
	if err := json.Unmarshal(first, &set); err != nil || len(set.Keys) != 2 || set.Keys[0].Alg != "RS256" || set.Keys[1].Alg != "ES256" {
		t.Fatalf("JWKS of %s: %s (%v), want an RS256 and an ES256 key", nodes[0].Name, first, err)
	}
	for _, n := range nodes[1:] {
		if b := get(t, n.URL()+"/contoso.test/discovery/v2.0/keys"); string(b) != string(first) {
			t.Fatalf("%s publishes another JWKS than %s:\n%s\n%s", n.Name, nodes[0].Name, b, first)
		}
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var keys, migrations, distinct int
	if err := db.QueryRow(`SELECT COUNT(*) FROM signing_keys`).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&migrations, &distinct); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../internal/store/sqlstore/migrations/*.sql")
	if keys != 2 || migrations != len(files) || distinct != migrations {
		t.Fatalf("after %d nodes started together: %d signing keys (want 2: RS256, ES256), %d migration records for %d files",
			len(nodes), keys, migrations, len(files))
	}
}

// TestNodeKilledUnderRefreshLoad: three nodes on one PostgreSQL behind the proxy, refresh
// chains running through it; one node is SIGKILLed. Only the requests it had in flight fail
// (at most one a client), every chain continues on the other nodes, no family is revoked, and
// the killed node, started again, serves again.
func TestNodeKilledUnderRefreshLoad(t *testing.T) {
	dsn := Postgres(t)
	nodes, p, l, chains := proxiedNodes(t, dsn, 3, 16)
	checkConverged(t, dsn, nodes)

	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Second)
	defer cancel()
	mark := make(chan struct{})
	var before, atKill []int64
	go func() {
		time.Sleep(2500 * time.Millisecond)
		before = p.Served()
		nodes[1].Kill()
		atKill = p.Served()
		close(mark)
		time.Sleep(3 * time.Second)
		nodes[1].Start() // it must rejoin: the health check puts it back in rotation
	}()
	l.Run(ctx, chains, 0, mark)
	after := p.Served()
	t.Logf("answers per node before the kill %v, at it %v, at the end %v; outcomes: %s", before, atKill, after, l.TallyString())

	CheckChains(t, chains)
	l.RedeemLast(t, chains)
	failed := 0
	for outcome, n := range l.Tally() {
		switch {
		case outcome == "200":
		case outcome == "transport error", strings.HasPrefix(outcome, "502"):
			failed += n
		default:
			t.Errorf("%d answers %q: a killed node may only cost its in-flight requests (502)", n, outcome)
		}
	}
	if failed > len(chains) {
		t.Errorf("%d failed requests, more than the %d clients could have had in flight at the kill", failed, len(chains))
	}
	for i := range nodes {
		if before[i] == 0 {
			t.Errorf("%s answered nothing before the kill: the proxy did not spread the load", nodes[i].Name)
		}
	}
	if after[0] <= atKill[0] || after[2] <= atKill[2] {
		t.Errorf("the surviving nodes answered nothing after the kill: %v → %v", atKill, after)
	}
	if after[1] <= atKill[1] {
		t.Errorf("%s, started again, answered nothing: %v → %v", nodes[1].Name, atKill, after)
	}
}

// TestRollingRestart: three nodes behind the proxy are restarted one after the other, each
// with SIGTERM (as an orchestrator drains it) and started again once the previous one is
// ready, under refresh load. A rolling upgrade must cost no request at all.
func TestRollingRestart(t *testing.T) {
	dsn := Postgres(t)
	nodes, _, l, chains := proxiedNodes(t, dsn, 3, 12)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mark := make(chan struct{})
	go func() {
		defer cancel()
		time.Sleep(time.Second)
		close(mark)
		for _, n := range nodes {
			n.Stop()
			n.Start()
			for deadline := time.Now().Add(15 * time.Second); !n.Ready() && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(500 * time.Millisecond) // the proxy's health check sees it back
		}
		time.Sleep(time.Second)
	}()
	l.Run(ctx, chains, 0, mark)
	t.Logf("outcomes: %s", l.TallyString())
	CheckChains(t, chains)
	l.RedeemLast(t, chains)
	for outcome, n := range l.Tally() {
		if outcome != "200" {
			t.Errorf("%d answers %q during a rolling restart: want none", n, outcome)
		}
	}
}

// TestPostgresRestartUnderLoad: two nodes on a PostgreSQL of the test's own; the database
// crashes (immediate stop) under refresh load and comes back. While it is down every node is
// not ready on /readyz and answers token requests 503 temporarily_unavailable with Retry-After
// and Entra's JSON error, never 500; afterwards the nodes recover by themselves and every chain
// continues from the last refresh token it received (nothing acknowledged is lost).
func TestPostgresRestartUnderLoad(t *testing.T) {
	pg := OwnPostgres(t)
	nodes, _, l, chains := proxiedNodes(t, pg.DSN, 2, 12)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	mark := make(chan struct{})
	var downReady []bool
	var down struct {
		status     int
		retryAfter string
		body       tokenAnswer
		err        error
	}
	var recovered time.Duration
	var authorize struct {
		status     int
		retryAfter string
	}
	go func() {
		defer cancel()
		time.Sleep(2 * time.Second)
		pg.Crash()
		time.Sleep(1500 * time.Millisecond)
		for _, n := range nodes {
			downReady = append(downReady, n.Ready())
		}
		direct := newLoad(nodes[0].URL())
		var h http.Header
		down.status, down.body, down.err = direct.postHeader(ctx, map[string][]string{"grant_type": {"refresh_token"},
			"client_id": {cliClient}, "refresh_token": {"anything"}, "scope": {scope}}, &h)
		if h != nil {
			down.retryAfter = h.Get("Retry-After")
		}
		if resp, err := http.Get(nodes[1].URL() + "/contoso.test/oauth2/v2.0/authorize?client_id=" + cliClient +
			"&response_type=code&redirect_uri=http%3A%2F%2Flocalhost&scope=openid"); err == nil {
			authorize.status, authorize.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
			resp.Body.Close()
		}
		pg.Start()
		close(mark)
		start := time.Now()
		for deadline := start.Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if nodes[0].Ready() && nodes[1].Ready() {
				recovered = time.Since(start)
				break
			}
		}
		time.Sleep(3 * time.Second) // refreshes after the recovery
	}()
	l.Run(ctx, chains, 20*time.Millisecond, mark)
	t.Logf("outcomes: %s; nodes ready %s after PostgreSQL started again", l.TallyString(), recovered)

	for i, ready := range downReady {
		if ready {
			t.Errorf("%s reported ready on /readyz while PostgreSQL was down", nodes[i].Name)
		}
	}
	if down.err != nil || down.status != http.StatusServiceUnavailable || down.retryAfter == "" ||
		down.body.Error != "temporarily_unavailable" || len(down.body.Codes) != 1 || down.body.Codes[0] != 90033 {
		t.Errorf("token request while PostgreSQL was down: %d Retry-After %q %+v %v, want 503 temporarily_unavailable (AADSTS90033) with Retry-After",
			down.status, down.retryAfter, down.body, down.err)
	}
	if authorize.status != http.StatusServiceUnavailable || authorize.retryAfter == "" {
		t.Errorf("authorization request while PostgreSQL was down: %d Retry-After %q, want an error page with 503 and Retry-After",
			authorize.status, authorize.retryAfter)
	}
	if recovered == 0 {
		t.Fatal("the nodes did not become ready within 15 s of PostgreSQL starting again")
	}
	for outcome, n := range l.Tally() {
		if strings.HasPrefix(outcome, "500") || strings.HasPrefix(outcome, "503") && !strings.Contains(outcome, "temporarily_unavailable retry-after=") {
			t.Errorf("%d answers %q during the outage: want 503 temporarily_unavailable with Retry-After", n, outcome)
		}
	}
	CheckChains(t, chains)
	l.RedeemLast(t, chains)
}

// killSQLiteNode runs clients refresh chains against one node on a SQLite file, SIGKILLs it
// two seconds in, starts it again on the same file after down, and returns the load and its
// chains when the run of the given length ends.
func killSQLiteNode(t *testing.T, clients int, reuse, down, run time.Duration) (*Load, []*Chain) {
	_, addr := listen(t) // only its port: the publicUrl
	cfg := NodeConfig(t, testConfig("https://login.example.test:"+portOf(addr)), "")
	cfg.Storage = "sqlite:" + filepath.Join(cfg.DataDir, "sigil.db")
	if reuse > 0 {
		cfg.RefreshTokens.ReuseInterval = config.Duration(reuse)
	}
	node := StartNodes(t, sigilBinary, cfg, 1)[0]
	l := newLoad(node.URL())
	chains := signIn(t, l, clients)
	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	mark := make(chan struct{})
	go func() {
		time.Sleep(2 * time.Second)
		node.Kill()
		close(mark)
		time.Sleep(down)
		node.Start()
	}()
	l.Run(ctx, chains, 0, mark)
	return l, chains
}

// TestSQLiteKilledUnderLoad: one node on a SQLite file, SIGKILLed under refresh load and
// started again on the same file. Every chain continues from the last refresh token its client
// received — a token the node acknowledged was durable (synchronous=FULL), and one whose answer
// the kill swallowed is redeemed again as a lost answer — and none is revoked.
func TestSQLiteKilledUnderLoad(t *testing.T) {
	l, chains := killSQLiteNode(t, 12, 0, 300*time.Millisecond, 9*time.Second)
	t.Logf("outcomes: %s", l.TallyString())
	CheckChains(t, chains)
	l.RedeemLast(t, chains)
	for outcome, n := range l.Tally() {
		if strings.HasPrefix(outcome, "5") {
			t.Errorf("%d answers %q: a killed node answers nothing, a started one answers properly", n, outcome)
		}
	}
}

// TestLostAnswersBeyondTheReuseInterval: as TestSQLiteKilledUnderLoad, but the node stays down
// longer than the reuse interval (1 s here), so a client whose refresh committed without an
// answer presents its old token after the interval. That is a lost answer, not a theft: the
// rule is that no family is revoked for it (a new successor supersedes the unused one).
func TestLostAnswersBeyondTheReuseInterval(t *testing.T) {
	l, chains := killSQLiteNode(t, 16, time.Second, 2500*time.Millisecond, 10*time.Second)
	lost := CheckChains(t, chains)
	t.Logf("outcomes: %s; families revoked because of a lost answer: %d of %d", l.TallyString(), lost, len(chains))
	if lost != 0 {
		t.Errorf("%d of %d families revoked for a lost answer, want none", lost, len(chains))
	}
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}
