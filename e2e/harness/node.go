package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/e2e/browser"
)

// NodeTimeout bounds one run of a Node script.
const NodeTimeout = 60 * time.Second

// NodeResult is the one JSON line a script of e2e/node prints: OK with the operation's
// result fields, or an Error with msal-node's error fields. Raw holds the whole line.
type NodeResult struct {
	OK          bool           `json:"ok"`
	AccessToken string         `json:"accessToken"`
	IDToken     string         `json:"idToken"`
	Scopes      []string       `json:"scopes"`
	FromCache   bool           `json:"fromCache"`
	TokenType   string         `json:"tokenType"`
	Code        string         `json:"code"` // acquireTokenByCode: the hybrid spa_code
	URL         string         `json:"url"`  // getAuthCodeUrl
	Account     *NodeAccount   `json:"account"`
	Error       *NodeError     `json:"error"`
	Raw         map[string]any `json:"-"`
	Stderr      string         `json:"-"` // msal-node's log (errors only) and Node's warnings
}

// NodeAccount is msal-node's AccountInfo, in part.
type NodeAccount struct {
	HomeAccountID  string `json:"homeAccountId"`
	Username       string `json:"username"`
	TenantID       string `json:"tenantId"`
	LocalAccountID string `json:"localAccountId"`
}

// NodeError is an msal-node error, in part.
type NodeError struct {
	Name         string `json:"name"`
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	SubError     string `json:"subError"`
}

func (r NodeResult) String() string {
	b, _ := json.Marshal(r.Raw)
	if r.Stderr != "" {
		return string(b) + "\nstderr: " + r.Stderr
	}
	return string(b)
}

// MSALNode returns the node binary and the e2e/node directory of scripts. Without node or
// node_modules/@azure/msal-node it skips the test, or fails it when CI=true.
func MSALNode(t *testing.T) (node, scripts string) {
	t.Helper()
	modules := NodeModules(t)
	skip := func(msg string) {
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		browser.Skip(t, msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("harness: node is not installed")
	}
	if _, err := os.Stat(filepath.Join(modules, "@azure", "msal-node", "package.json")); err != nil {
		skip(fmt.Sprintf("harness: @azure/msal-node is not installed in %s; run `npm ci` in the repository root", modules))
	}
	return node, filepath.Join(filepath.Dir(modules), "e2e", "node")
}

// RunNode runs `node e2e/node/<script> args...` with Sigil's CA in NODE_EXTRA_CA_CERTS and
// returns the JSON line it printed. A script that exits non-zero still answers its line (an
// msal-node error); a script that prints none, or runs past NodeTimeout, fails the test.
func (e *Env) RunNode(script string, args ...string) NodeResult {
	e.T.Helper()
	r, err := e.StartNode(script, args...)()
	if err != nil {
		e.T.Fatal(err)
	}
	return r
}

// StartNode starts a script as RunNode does and returns a function that waits for its
// result. The wait may run on another goroutine (it never calls into the test), so a test
// can act while the script runs — sign in while msal-node's loopback listener waits.
func (e *Env) StartNode(script string, args ...string) func() (NodeResult, error) {
	e.T.Helper()
	node, dir := MSALNode(e.T)
	ctx, cancel := context.WithTimeout(e.T.Context(), NodeTimeout)
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join(dir, script)}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+e.CAFile(), "NODE_NO_WARNINGS=1")
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		e.T.Fatal(err)
	}
	return func() (NodeResult, error) {
		defer cancel()
		runErr := cmd.Wait()
		if ctx.Err() != nil {
			return NodeResult{}, fmt.Errorf("node %s: no answer in %v\nstderr: %s", script, NodeTimeout, stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		last := lines[len(lines)-1]
		r := NodeResult{Stderr: stderr.String()}
		if err := json.Unmarshal([]byte(last), &r); err != nil || json.Unmarshal([]byte(last), &r.Raw) != nil {
			return r, fmt.Errorf("node %s: %v; output is not one JSON line: %q\nstderr: %s", script, runErr, stdout.String(), stderr.String())
		}
		if (runErr == nil) != r.OK {
			return r, fmt.Errorf("node %s: exit %v but ok=%v: %s\nstderr: %s", script, runErr, r.OK, last, stderr.String())
		}
		return r, nil
	}
}

// NodeArgs turns pairs of names and values into the scripts' --name=value arguments,
// leaving out empty values.
func NodeArgs(pairs ...string) []string {
	var out []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			out = append(out, "--"+pairs[i]+"="+pairs[i+1])
		}
	}
	return out
}

// KnownAuthority is the host:port msal-node and MSAL.js must list in knownAuthorities.
func (e *Env) KnownAuthority() string { return strings.TrimPrefix(e.IdP, "https://") }

// Authority is the tenant authority MSAL is configured with.
func (e *Env) Authority() string { return e.IdP + "/" + Domain }
