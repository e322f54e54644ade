// Package cluster runs Sigil as an operator deploys it, for tests: `sigil serve` processes
// (the binary built once per test with `go build`), each on its own loopback port speaking
// plain HTTP, behind a TLS-terminating round-robin reverse proxy that counts the requests each
// node answers, on one PostgreSQL database (a fresh one next to SIGIL_TEST_POSTGRES) or on a
// SQLite file. [OwnPostgres] starts a throw-away PostgreSQL cluster of the test's own, for
// tests that restart the database.
//
// Every wait is bounded; every process is killed when the test ends.
package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for creating databases

	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/password"
)

// CheapHashes are the argon2id parameters of the test users' password hashes: what the tests
// measure is the cluster, not the hash.
var CheapHashes = password.Params{Memory: 64, Time: 1, Threads: 1}

// Build compiles cmd/sigil into a temporary folder of the test and returns the binary's path.
func Build(t testing.TB) string {
	t.Helper()
	bin, err := BuildIn(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// BuildIn compiles cmd/sigil into dir (for a TestMain that builds once for its tests) and
// returns the binary's path.
func BuildIn(dir string) (string, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(dir, "sigil")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/sigil")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/sigil: %v\n%s", err, out)
	}
	return bin, nil
}

// Postgres returns the URL of a fresh, empty database next to the one SIGIL_TEST_POSTGRES
// names, dropped when the test ends. Without SIGIL_TEST_POSTGRES it skips the test, or fails it
// under CI=true.
func Postgres(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("SIGIL_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("cluster: SIGIL_TEST_POSTGRES is not set (CI must run PostgreSQL: see .ci/run)")
		}
		t.Skip("cluster: SIGIL_TEST_POSTGRES is not set: no PostgreSQL to run the nodes on")
	}
	return freshDatabase(t, dsn)
}

// freshDatabase creates a database next to the one dsn names and returns its URL.
func freshDatabase(t testing.TB, dsn string) string {
	t.Helper()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := "sigil_cluster_" + strings.ToLower(rand.Text()[:12])
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("cluster: create database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", dsn)
		if err != nil {
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// NodeConfig turns a test configuration into one for `sigil serve` behind the proxy: plain
// HTTP on a free loopback port, the given storage, and the users' passwords as cheap hashes
// (every node applies the file; hashing with the default cost on each would dominate start).
func NodeConfig(t testing.TB, c config.Config, storage string) config.Config {
	t.Helper()
	c.Storage, c.TLS = storage, config.TLS{}
	c.DataDir = t.TempDir()
	for i := range c.Tenants {
		for j := range c.Tenants[i].Users {
			u := &c.Tenants[i].Users[j]
			if u.Password == "" {
				continue
			}
			h, err := password.Hash(u.Password, CheapHashes)
			if err != nil {
				t.Fatal(err)
			}
			u.Password, u.PasswordHash = "", h
		}
	}
	return c
}

// Node is one `sigil serve` process.
type Node struct {
	Name string
	Addr string // host:port it listens on (plain HTTP)
	bin  string
	file string // its configuration file
	t    testing.TB

	mu   sync.Mutex
	cmd  *exec.Cmd
	log  *lockedWriter
	done chan struct{}
}

// StartNodes starts n nodes of cfg (from [NodeConfig]) at the same moment — as a rollout or
// a cold start does — and waits until every one is ready (/readyz answers 200).
func StartNodes(t testing.TB, bin string, cfg config.Config, n int) []*Node {
	t.Helper()
	nodes := make([]*Node, n)
	if cfg.KeyEncryptionKeyFile == "" {
		// Every node seals and opens the signing keys with the same key-encryption key.
		kek := make([]byte, 32)
		rand.Read(kek)
		cfg.KeyEncryptionKeyFile = filepath.Join(t.TempDir(), "kek")
		if err := os.WriteFile(cfg.KeyEncryptionKeyFile, []byte(base64.StdEncoding.EncodeToString(kek)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for i := range nodes {
		c := cfg
		c.Listen = freeAddr(t)
		c.DataDir = filepath.Join(cfg.DataDir, fmt.Sprintf("node%d", i+1))
		text, err := config.Marshal(c, "")
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "sigil.yaml")
		if err := os.WriteFile(file, text, 0o600); err != nil {
			t.Fatal(err)
		}
		nodes[i] = &Node{Name: fmt.Sprintf("node%d", i+1), Addr: c.Listen, bin: bin, file: file, t: t}
	}
	for _, nd := range nodes {
		nd.Start()
	}
	for _, nd := range nodes {
		nd.WaitReady(30 * time.Second)
	}
	return nodes
}

// Start starts the node's process (again, after Kill or Stop). It may be called from any
// goroutine: a failure fails the test without stopping it.
func (n *Node) Start() {
	n.t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	// Drained for a second on SIGTERM: five of the proxy's health-check intervals.
	cmd := exec.Command(n.bin, "serve", "--config", n.file, "--log-level", "warn", "--shutdown-delay", "1s")
	log := &lockedWriter{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		n.t.Errorf("%s: %v", n.Name, err)
		return
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	n.cmd, n.log, n.done = cmd, log, done
	n.t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if n.t.Failed() {
			n.t.Logf("%s log:\n%s", n.Name, log.String())
		}
	})
}

// Kill sends the node SIGKILL and waits for the process to end.
func (n *Node) Kill() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	cmd.Process.Kill()
	<-done
}

// Stop sends the node SIGTERM, as an orchestrator does to drain it, and waits for the process
// to end (at most 30 s, then SIGKILL).
func (n *Node) Stop() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// URL is the node's own address, bypassing the proxy.
func (n *Node) URL() string { return "http://" + n.Addr }

// Ready reports whether /readyz answers 200 now.
func (n *Node) Ready() bool {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(n.URL() + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// WaitReady waits until the node is ready, failing the test after timeout or if the process
// ends.
func (n *Node) WaitReady(timeout time.Duration) {
	n.t.Helper()
	n.mu.Lock()
	done, log := n.done, n.log
	n.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for !n.Ready() {
		select {
		case <-done:
			n.t.Fatalf("%s exited while starting:\n%s", n.Name, log.String())
		default:
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s not ready after %s:\n%s", n.Name, timeout, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lockedWriter collects a process's output while it runs.
type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
