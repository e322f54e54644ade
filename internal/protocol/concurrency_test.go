package protocol_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/store"
)

// Concurrent guesses against one credential (issue 10's first finding). Each test sends 99
// wrong credentials at once, each in its own request (for the sign-in form, on its own form:
// its own sealed interaction and browser), and holds every failure at the moment it is being
// recorded, so that all 99 are in flight together whatever the scheduling; then it sends the
// right credential while they are held. With a limit of 10, at most 10 of the 99 may have
// been checked, and the right one must be refused: the account (client, address) is full of
// checks in flight. A check-then-act throttle lets all 99 through its check before the first
// failure lands, and accepts the right credential.

// holdFailures is a store whose failure recordings wait until released: held counts the
// requests waiting (each waits at its first recording).
type holdFailures struct {
	store.Store
	held    atomic.Int32
	release chan struct{}
}

func newHoldFailures() *holdFailures { return &holdFailures{release: make(chan struct{})} }

func (h *holdFailures) wrap(s store.Store) store.Store { h.Store = s; return h }

func (h *holdFailures) wait() {
	h.held.Add(1)
	<-h.release
}

func (h *holdFailures) FailAttempt(ctx context.Context, id string, keys []string, at time.Time) error {
	h.wait()
	return h.Store.FailAttempt(ctx, id, keys, at)
}

func (h *holdFailures) RecordLoginFailure(ctx context.Context, key string, at time.Time) error {
	h.wait()
	return h.Store.RecordLoginFailure(ctx, key, at)
}

// flood sends n requests at once (made by req(i)) and returns their answers once the server
// holds or has answered every one of them, bounded by 30 s; what the answers are is read by
// answer, on the goroutine of each request. release lets the held ones finish; wait returns
// them all.
type flood struct {
	answers chan string
	n       int
}

func startFlood(t *testing.T, h *holdFailures, c func(i int) *http.Client, n int, req func(i int) *http.Request,
	answer func(*http.Response, string) string) *flood {
	t.Helper()
	f := &flood{answers: make(chan string, n), n: n}
	for i := range n {
		go func() {
			resp, err := c(i).Do(req(i))
			if err != nil {
				f.answers <- "transport error: " + err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			f.answers <- answer(resp, string(b))
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for int(h.held.Load())+len(f.answers) < n {
		if time.Now().After(deadline) {
			t.Errorf("after 30 s, %d requests held and %d answered of %d", h.held.Load(), len(f.answers), n)
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	return f
}

// finish releases the held requests and counts the answers.
func (f *flood) finish(t *testing.T, h *holdFailures) map[string]int {
	t.Helper()
	close(h.release)
	got := map[string]int{}
	timeout := time.After(30 * time.Second)
	for range f.n {
		select {
		case a := <-f.answers:
			got[a]++
		case <-timeout:
			t.Fatalf("answers after release: %v so far", got)
		}
	}
	return got
}

func postRequest(rawURL string, form url.Values, header http.Header) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return req
}

func TestConcurrentPasswordGuesses(t *testing.T) {
	t.Parallel()
	const wrong = 99
	h := newHoldFailures()
	// Each guess comes from its own address (through a trusted proxy), so that only the
	// account's count can stop them — as from an attacker's many machines.
	e := newEnvStore(t, func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} }, h.wrap)
	browsers, forms := make([]*http.Client, wrong+1), make([]url.Values, wrong+1)
	for i := range browsers {
		browsers[i] = e.newBrowser()
		forms[i] = e.loginForm(t, browsers[i])
	}
	login := func(i int, password string) *http.Request {
		f := url.Values{"username": {alice}, "password": {password}}
		for k, v := range forms[i] {
			f[k] = v
		}
		return postRequest(e.url+"/-/login", f, http.Header{"X-Forwarded-For": {fmt.Sprintf("198.51.%d.%d", i/200, i%200+1)}})
	}
	code := func(resp *http.Response, body string) string {
		if c := pageErrorCode(body); c != "" {
			return c
		}
		return fmt.Sprint(resp.StatusCode, " without an error code")
	}
	f := startFlood(t, h, func(i int) *http.Client { return browsers[i] }, wrong,
		func(i int) *http.Request { return login(i, "wrong") }, code)

	resp, err := browsers[wrong].Do(login(wrong, pw))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := code(resp, string(b)); got != "AADSTS50053" {
		t.Errorf("the right password while 99 wrong ones were in flight: %s, want AADSTS50053 (locked)", got)
	}
	got := f.finish(t, h)
	if got["AADSTS50126"] > 10 || got["AADSTS50126"]+got["AADSTS50053"] != wrong {
		t.Errorf("answers to %d concurrent wrong passwords: %v; want at most 10 checked (AADSTS50126), the rest refused (AADSTS50053)", wrong, got)
	}
	// Afterwards the account is locked for the rest of the window.
	c := e.newBrowser()
	resp2, body := e.submitLogin(c, e.loginForm(t, c), alice, pw, false)
	wantLoginAgain(t, resp2, body, "AADSTS50053")
}

func TestConcurrentClientSecretGuesses(t *testing.T) {
	t.Parallel()
	const wrong = 99
	h := newHoldFailures()
	e := newEnvStore(t, nil, h.wrap)
	secret := func(s string) *http.Request {
		return postRequest(e.tokenURL(tenantID), url.Values{"grant_type": {"client_credentials"}, "client_id": {webClient},
			"client_secret": {s}, "scope": {"api://todo/.default"}}, nil)
	}
	code := func(resp *http.Response, body string) string {
		var m struct {
			Error string `json:"error"`
			Codes []int  `json:"error_codes"`
		}
		if err := json.Unmarshal([]byte(body), &m); err != nil || len(m.Codes) != 1 {
			return fmt.Sprint(resp.StatusCode, " ", m.Error)
		}
		return fmt.Sprint(m.Codes[0])
	}
	api := e.api()
	f := startFlood(t, h, func(int) *http.Client { return api }, wrong, func(i int) *http.Request { return secret(fmt.Sprint("wrong-", i)) }, code)
	resp, err := api.Do(secret(webSecret))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := code(resp, string(b)); got != "7000222" {
		t.Errorf("the right secret while 99 wrong ones were in flight: %s, want 7000222 (client throttled)", got)
	}
	got := f.finish(t, h)
	if got["7000215"] > 10 || got["7000215"]+got["7000222"] != wrong {
		t.Errorf("answers to %d concurrent wrong secrets: %v; want at most 10 checked (7000215), the rest refused (7000222)", wrong, got)
	}
}

func TestConcurrentUserCodeGuesses(t *testing.T) {
	t.Parallel()
	const wrong = 99
	h := newHoldFailures()
	e := newEnvStore(t, func(c *config.Config) { withCLI(c); c.LoginThrottle.IPFailures = 10 }, h.wrap)
	userCode := str(e.startDevice("openid"), "user_code")
	browsers, forms := make([]*http.Client, wrong+1), make([]url.Values, wrong+1)
	for i := range browsers {
		browsers[i] = e.newBrowser()
		_, page := e.get(browsers[i], e.url+"/devicelogin")
		forms[i] = hiddenFields(page)
	}
	enter := func(i int, code string) *http.Request {
		f := url.Values{"user_code": {code}}
		for k, v := range forms[i] {
			f[k] = v
		}
		return postRequest(e.url+"/-/devicelogin", f, nil)
	}
	code := func(resp *http.Response, body string) string {
		if c := pageErrorCode(body); c != "" {
			return c
		}
		return fmt.Sprint(resp.StatusCode, " without an error code")
	}
	// Wrong codes of the right shape: BCDFGHJKL and on (the alphabet has no vowels).
	wrongCode := func(i int) string {
		return fmt.Sprintf("BCDFGH%c%c%c", "BCDFGHJKLMNPQRSTVWXZ"[i%20], "BCDFG"[i/20%5], 'Z')
	}
	f := startFlood(t, h, func(i int) *http.Client { return browsers[i] }, wrong,
		func(i int) *http.Request { return enter(i, wrongCode(i)) }, code)
	resp, err := browsers[wrong].Do(enter(wrong, userCode))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := code(resp, string(b)); got != "AADSTS50053" {
		t.Errorf("the right user code while 99 wrong ones were in flight: %s, want AADSTS50053 (address locked)", got)
	}
	got := f.finish(t, h)
	if got["AADSTS70018"] > 10 || got["AADSTS70018"]+got["AADSTS50053"] != wrong {
		t.Errorf("answers to %d concurrent wrong user codes: %v; want at most 10 checked (AADSTS70018), the rest refused (AADSTS50053)", wrong, got)
	}
}
