// Command load is a closed-loop load generator for a running Sigil, shaped like the one
// used to measure dex and hydra on this kind of machine: N workers over loopback HTTP/1.1 keep-alive,
// a warm-up, then a measured window, reporting requests/s and latency percentiles.
//
//	go run ./bench/load -base http://127.0.0.1:8480 -op refresh -c 8 -d 15s
//
// Operations: discovery, jwks, silent (prompt=none authorize with a live session), code (a
// silent authorize and the redemption of its code with PKCE, as one request: the sign-in
// half of what an SPA does; a new refresh-token family each time), refresh
// (one refresh-token chain per worker, rotating on every request), client_credentials (a
// daemon with a secret, one app-only token per request), obo (the middle tier exchanging the
// worker's user access token as MSAL sends it, with openid and offline_access: two signatures
// and a new refresh-token family per request) and obo-access (the downstream scope alone: one
// signature, nothing written). Every run is bounded by -d and -max.
//
// dex-refresh runs the refresh loop against dex instead (dex.go), for the side-by-side
// comparison in bench/README.md.
//
// bench/load/sigil.yaml also has an API whose access tokens are ES256 (signingAlg), an SPA
// whose ID tokens are ES256 too (idTokenSigningAlg) and a daemon of that API:
//
//	-op refresh -scope 'api://todo-es256/Todo.Read openid profile offline_access'   # ES256 access token, RS256 ID token
//	-op refresh -client 5c6d7e8f-2222-4333-8444-a55566667777 -scope 'api://todo-es256/Todo.Read openid profile offline_access'   # both ES256
//	-op client_credentials -daemon 6d7e8f90-3333-4444-8555-b66677778888 -daemon-scope api://todo-es256/.default
package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	base, tenant, client, origin, redirect, user, password, scope, op string
	daemon, daemonSecret, daemonScope, middle, middleSecret, oboScope string
	workers                                                           int
	warmup, duration                                                  time.Duration
	max                                                               int64
}

func main() {
	var o options
	flag.StringVar(&o.base, "base", "http://127.0.0.1:8480", "Sigil's address (plain HTTP, as the peer runs)")
	flag.StringVar(&o.tenant, "tenant", "contoso.test", "tenant path segment")
	flag.StringVar(&o.client, "client", "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "SPA client id")
	flag.StringVar(&o.origin, "origin", "https://app.example.test", "the SPA's origin")
	flag.StringVar(&o.redirect, "redirect", "https://app.example.test/redirect.html", "the SPA's redirect URI")
	flag.StringVar(&o.user, "user", "alice@contoso.test", "username")
	flag.StringVar(&o.password, "password", "Passw0rd!alice", "password")
	flag.StringVar(&o.scope, "scope", "api://todo/Todo.Read openid profile offline_access", "scopes")
	flag.StringVar(&o.op, "op", "refresh", "discovery, jwks, silent, code (silent + its redemption), refresh, client_credentials, obo, obo-access or dex-refresh")
	flag.StringVar(&o.daemon, "daemon", "1a2b3c4d-1111-4222-8333-944455556666", "client credentials: the daemon's client id")
	flag.StringVar(&o.daemonSecret, "daemon-secret", "daemon-secret-value", "client credentials: the daemon's secret")
	flag.StringVar(&o.daemonScope, "daemon-scope", "api://todo/.default", "client credentials: the scope (api://todo-es256/.default for the ES256 API)")
	flag.StringVar(&o.middle, "middle", "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8", "on-behalf-of: the middle tier's client id")
	flag.StringVar(&o.middleSecret, "middle-secret", "api-secret-value", "on-behalf-of: the middle tier's secret")
	flag.StringVar(&o.oboScope, "obo-scope", "api://mail/Mail.Send openid profile offline_access", "on-behalf-of: the downstream scopes (obo-access sends the first)")
	flag.IntVar(&o.workers, "c", 8, "concurrent workers")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up")
	flag.DurationVar(&o.duration, "d", 15*time.Second, "measured duration")
	flag.Int64Var(&o.max, "max", 1_000_000, "stop after this many measured requests")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// worker is one closed loop; step makes one request.
type worker struct {
	id     int // 0, 1, …: which of the workers
	o      options
	client *http.Client
	cookie string // session cookie, for silent
	rt     string // current refresh token, for refresh
	at     string // the user's access token, the assertion of obo
	body   string // the request body of client_credentials and obo
}

func run(o options) error {
	tr := &http.Transport{MaxIdleConnsPerHost: o.workers * 2}
	workers := make([]*worker, o.workers)
	for i := range workers {
		w := &worker{id: i, o: o, client: &http.Client{Transport: tr, Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		if err := w.prepare(); err != nil {
			return fmt.Errorf("worker %d: %w", i, err)
		}
		workers[i] = w
	}
	var measuring atomic.Bool
	var count, errs atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			var mine []time.Duration
			for {
				select {
				case <-stop:
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
					return
				default:
				}
				t0 := time.Now()
				err := w.step()
				if !measuring.Load() {
					continue
				}
				if err != nil {
					errs.Add(1)
					if errs.Load() < 5 {
						fmt.Fprintln(os.Stderr, "error:", err)
					}
				}
				mine = append(mine, time.Since(t0))
				if count.Add(1) >= o.max {
					return
				}
			}
		})
	}
	time.Sleep(o.warmup)
	measuring.Store(true)
	start := time.Now()
	deadline := time.After(o.duration)
	for count.Load() < o.max {
		select {
		case <-deadline:
			goto done
		case <-time.After(50 * time.Millisecond):
		}
	}
done:
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000
	}
	fmt.Printf("op=%s c=%d requests=%d errors=%d duration=%.1fs rps=%.1f p50=%.2fms p99=%.2fms\n",
		o.op, o.workers, count.Load(), errs.Load(), elapsed.Seconds(), float64(count.Load())/elapsed.Seconds(), pct(0.5), pct(0.99))
	return nil
}

// prepare signs the worker's user in (for silent) and starts its refresh-token chain.
func (w *worker) prepare() error {
	switch w.o.op {
	case "client_credentials":
		w.body = url.Values{"grant_type": {"client_credentials"}, "client_id": {w.o.daemon},
			"client_secret": {w.o.daemonSecret}, "scope": {w.o.daemonScope}}.Encode()
		return nil
	case "dex-refresh":
		return w.dexPrepare()
	case "silent", "code", "refresh", "obo", "obo-access":
	default:
		return nil
	}
	page, resp, err := w.get(w.authorizeURL(""), "")
	if err != nil {
		return err
	}
	form := url.Values{"username": {w.o.user}, "password": {w.o.password}}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(page, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	var cookies []string
	for _, c := range resp.Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	req, _ := http.NewRequest(http.MethodPost, w.o.base+"/-/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", strings.Join(cookies, "; "))
	resp, err = w.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-sigil-session" {
			w.cookie = c.Name + "=" + c.Value
		}
	}
	if w.cookie == "" {
		return fmt.Errorf("sign-in failed: %s", resp.Status)
	}
	if w.o.op == "silent" || w.o.op == "code" {
		return nil
	}
	code, err := w.silentCode()
	if err != nil {
		return err
	}
	if err := w.token(url.Values{"client_id": {w.o.client}, "redirect_uri": {w.o.redirect}, "code": {code},
		"code_verifier": {verifier}, "grant_type": {"authorization_code"}, "scope": {w.o.scope}}); err != nil {
		return err
	}
	scope := w.o.oboScope
	if w.o.op == "obo-access" {
		scope = strings.Fields(scope)[0]
	}
	w.body = url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "client_id": {w.o.middle},
		"client_secret": {w.o.middleSecret}, "assertion": {w.at}, "requested_token_use": {"on_behalf_of"},
		"scope": {scope}}.Encode()
	return nil
}

const verifier = "load-test-verifier-load-test-verifier-0123456789"

func (w *worker) authorizeURL(prompt string) string {
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {w.o.client}, "redirect_uri": {w.o.redirect}, "response_type": {"code"},
		"scope": {w.o.scope}, "response_mode": {"fragment"}, "state": {"s"}, "nonce": {"n"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	if prompt != "" {
		q.Set("prompt", prompt)
	}
	return w.o.base + "/" + w.o.tenant + "/oauth2/v2.0/authorize?" + q.Encode()
}

func (w *worker) get(u, cookie string) (string, *http.Response, error) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), resp, err
}

func (w *worker) silentCode() (string, error) {
	_, resp, err := w.get(w.authorizeURL("none"), w.cookie)
	if err != nil {
		return "", err
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	v, _ := url.ParseQuery(loc.Fragment)
	if v.Get("code") == "" {
		return "", fmt.Errorf("silent authorize: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	return v.Get("code"), nil
}

func (w *worker) token(form url.Values) error {
	req, _ := http.NewRequest(http.MethodPost, w.o.base+"/"+w.o.tenant+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", w.o.origin)
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		Error        string `json:"error_description"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusOK || out.RefreshToken == "" {
		return fmt.Errorf("token: %s %s", resp.Status, out.Error)
	}
	w.rt, w.at = out.RefreshToken, out.AccessToken
	return nil
}

// serverToken posts a server-side token request (no Origin) and checks that it answered an
// access token.
func (w *worker) serverToken() error {
	req, _ := http.NewRequest(http.MethodPost, w.o.base+"/"+w.o.tenant+"/oauth2/v2.0/token", strings.NewReader(w.body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error_description"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		return fmt.Errorf("token: %s %s", resp.Status, out.Error)
	}
	return nil
}

// step makes one request of the operation.
func (w *worker) step() error {
	switch w.o.op {
	case "discovery", "jwks":
		path := "/v2.0/.well-known/openid-configuration"
		if w.o.op == "jwks" {
			path = "/discovery/v2.0/keys"
		}
		_, resp, err := w.get(w.o.base+"/"+w.o.tenant+path, "")
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s", resp.Status)
		}
		return err
	case "silent":
		_, err := w.silentCode()
		return err
	case "code": // a silent sign-in as MSAL makes it: the code, then its redemption
		code, err := w.silentCode()
		if err != nil {
			return err
		}
		return w.token(url.Values{"client_id": {w.o.client}, "redirect_uri": {w.o.redirect}, "code": {code},
			"code_verifier": {verifier}, "grant_type": {"authorization_code"}, "scope": {w.o.scope}})
	case "client_credentials", "obo", "obo-access":
		return w.serverToken()
	case "dex-refresh":
		return w.dexRefresh()
	case "refresh":
		return w.token(url.Values{"client_id": {w.o.client}, "grant_type": {"refresh_token"}, "refresh_token": {w.rt},
			"scope": {w.o.scope}})
	}
	return fmt.Errorf("unknown op %q", w.o.op)
}
