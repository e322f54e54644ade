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

// race is one scenario: wrong guesses, the right one last. guess(i, right) is request i (the
// last one, i == wrongGuesses, is the right credential), sent by client(i); answer reads an
// answer's error code, checked is the code of a wrong guess that was checked, refused that of a
// guess refused by the throttle.
type race struct {
	client           func(i int) *http.Client
	guess            func(i int, right bool) *http.Request
	answer           func(*http.Response, string) string
	checked, refused string
}

// wrongGuesses is how many wrong guesses are in flight together; the limit is 10.
const wrongGuesses = 99

// run sends the wrong guesses at once and waits, bounded by 30 s, until the server holds or
// has answered every one; then it sends the right one, which must be refused, releases the
// held ones and checks that at most 10 were checked.
func (r race) run(t *testing.T, h *holdFailures) {
	t.Helper()
	answers := make(chan string, wrongGuesses)
	send := func(i int) string {
		resp, err := r.client(i).Do(r.guess(i, i == wrongGuesses))
		if err != nil {
			return "transport error: " + err.Error()
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return r.answer(resp, string(b))
	}
	for i := range wrongGuesses {
		go func() { answers <- send(i) }()
	}
	deadline := time.Now().Add(30 * time.Second)
	for int(h.held.Load())+len(answers) < wrongGuesses {
		if time.Now().After(deadline) {
			t.Errorf("after 30 s, %d requests held and %d answered of %d", h.held.Load(), len(answers), wrongGuesses)
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if got := send(wrongGuesses); got != r.refused {
		t.Errorf("the right credential while %d wrong ones were in flight: %s, want %s (refused)", wrongGuesses, got, r.refused)
	}
	close(h.release)
	got := map[string]int{}
	timeout := time.After(30 * time.Second)
	for range wrongGuesses {
		select {
		case a := <-answers:
			got[a]++
		case <-timeout:
			t.Fatalf("answers after release: %v so far", got)
		}
	}
	if got[r.checked] > 10 || got[r.checked]+got[r.refused] != wrongGuesses {
		t.Errorf("answers to %d concurrent wrong guesses: %v; want at most 10 checked (%s), the rest refused (%s)",
			wrongGuesses, got, r.checked, r.refused)
	}
}

// pageCode reads a page's data-error-code.
func pageCode(resp *http.Response, body string) string {
	if c := pageErrorCode(body); c != "" {
		return c
	}
	return fmt.Sprint(resp.StatusCode, " without an error code")
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
	h := newHoldFailures()
	// Each guess comes from its own address (through a trusted proxy), so that only the
	// account's count can stop them — as from an attacker's many machines.
	e := newEnvStore(t, func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} }, h.wrap)
	browsers, forms := make([]*http.Client, wrongGuesses+1), make([]url.Values, wrongGuesses+1)
	for i := range browsers {
		browsers[i] = e.newBrowser()
		forms[i] = e.loginForm(t, browsers[i])
	}
	race{
		client: func(i int) *http.Client { return browsers[i] },
		guess: func(i int, right bool) *http.Request {
			f := url.Values{"username": {alice}, "password": {"wrong"}}
			if right {
				f.Set("password", pw)
			}
			for k, v := range forms[i] {
				f[k] = v
			}
			return postRequest(e.url+"/-/login", f, http.Header{"X-Forwarded-For": {fmt.Sprintf("198.51.%d.%d", i/200, i%200+1)}})
		},
		answer: pageCode, checked: "AADSTS50126", refused: "AADSTS50053",
	}.run(t, h)
	// Afterwards the account is locked for the rest of the window.
	c := e.newBrowser()
	resp, body := e.submitLogin(c, e.loginForm(t, c), alice, pw, false)
	wantLoginAgain(t, resp, body, "AADSTS50053")
}

func TestConcurrentClientSecretGuesses(t *testing.T) {
	t.Parallel()
	h := newHoldFailures()
	e := newEnvStore(t, nil, h.wrap)
	api := e.api()
	race{
		client: func(int) *http.Client { return api },
		guess: func(i int, right bool) *http.Request {
			secret := fmt.Sprint("wrong-", i)
			if right {
				secret = webSecret
			}
			return postRequest(e.tokenURL(tenantID), url.Values{"grant_type": {"client_credentials"}, "client_id": {webClient},
				"client_secret": {secret}, "scope": {"api://todo/.default"}}, nil)
		},
		answer: func(resp *http.Response, body string) string {
			var m struct {
				Error string `json:"error"`
				Codes []int  `json:"error_codes"`
			}
			if err := json.Unmarshal([]byte(body), &m); err != nil || len(m.Codes) != 1 {
				return fmt.Sprint(resp.StatusCode, " ", m.Error)
			}
			return fmt.Sprint(m.Codes[0])
		},
		checked: "7000215", refused: "7000222",
	}.run(t, h)
}

func TestConcurrentUserCodeGuesses(t *testing.T) {
	t.Parallel()
	h := newHoldFailures()
	e := newEnvStore(t, func(c *config.Config) { withCLI(c); c.LoginThrottle.IPFailures = 10 }, h.wrap)
	userCode := str(e.startDevice("openid"), "user_code")
	browsers, forms := make([]*http.Client, wrongGuesses+1), make([]url.Values, wrongGuesses+1)
	for i := range browsers {
		browsers[i] = e.newBrowser()
		_, page := e.get(browsers[i], e.url+"/devicelogin")
		forms[i] = hiddenFields(page)
	}
	race{
		client: func(i int) *http.Client { return browsers[i] },
		guess: func(i int, right bool) *http.Request {
			// Wrong codes of the right shape (the alphabet has no vowels).
			f := url.Values{"user_code": {fmt.Sprintf("BCDFGH%c%cZ", "BCDFGHJKLMNPQRSTVWXZ"[i%20], "BCDFG"[i/20%5])}}
			if right {
				f.Set("user_code", userCode)
			}
			for k, v := range forms[i] {
				f[k] = v
			}
			return postRequest(e.url+"/-/devicelogin", f, nil)
		},
		answer: pageCode, checked: "AADSTS70018", refused: "AADSTS50053",
	}.run(t, h)
}
