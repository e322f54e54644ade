package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Load is refresh traffic through one token endpoint: chains of refresh tokens, each a client
// that redeems its newest refresh token, keeps the successor, and on a failed answer (no
// answer, 502, 503) sends the same token again — what MSAL does with a refresh token it still
// holds.
type Load struct {
	Token    string // the token endpoint URL
	ClientID string
	Scope    string
	HTTP     *http.Client

	mu    sync.Mutex
	tally map[string]int // outcome → count, see Tally
}

// Chain is one client's refresh-token chain.
type Chain struct {
	RT string // the newest refresh token the client received
	// OK counts successful refreshes; OKAfter those that started after the mark (Load.Mark).
	OK, OKAfter int
	// Retries counts requests that got no usable answer and were sent again.
	Retries int
	// Revoked is the error that ended the chain ("" while it lives); LostAnswer says the
	// token that met it had been sent before without an answer (a retry).
	Revoked    string
	LostAnswer bool
}

// tokenAnswer is what the load reads from a token response.
type tokenAnswer struct {
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
	Codes        []int  `json:"error_codes"`
}

// SignIn gets a first refresh token with the password grant.
func (l *Load) SignIn(t testing.TB, username, pw string) *Chain {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	status, a, err := l.post(ctx, url.Values{"grant_type": {"password"}, "client_id": {l.ClientID},
		"username": {username}, "password": {pw}, "scope": {l.Scope}})
	if err != nil || status != http.StatusOK || a.RefreshToken == "" {
		t.Fatalf("password grant for %s: %d %+v %v", username, status, a, err)
	}
	return &Chain{RT: a.RefreshToken}
}

func (l *Load) post(ctx context.Context, form url.Values) (int, tokenAnswer, error) {
	return l.postHeader(ctx, form, nil)
}

func (l *Load) postHeader(ctx context.Context, form url.Values, header *http.Header) (int, tokenAnswer, error) {
	var a tokenAnswer
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.Token, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, a, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := l.HTTP.Do(req)
	if err != nil {
		return 0, a, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, a, err
	}
	if header != nil {
		*header = resp.Header
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, &a); err != nil {
			return resp.StatusCode, a, fmt.Errorf("token response: %w", err)
		}
	}
	return resp.StatusCode, a, nil
}

// Run drives every chain until ctx ends, each waiting pause between refreshes. mark, when it
// fires, starts the OKAfter count.
func (l *Load) Run(ctx context.Context, chains []*Chain, pause time.Duration, mark <-chan struct{}) {
	var after sync.WaitGroup
	marked := make(chan struct{})
	after.Go(func() {
		select {
		case <-mark:
			close(marked)
		case <-ctx.Done():
		}
	})
	var wg sync.WaitGroup
	for _, c := range chains {
		wg.Go(func() { l.drive(ctx, c, pause, marked) })
	}
	wg.Wait()
	after.Wait()
}

func (l *Load) drive(ctx context.Context, c *Chain, pause time.Duration, marked <-chan struct{}) {
	retrying := false
	for ctx.Err() == nil && c.Revoked == "" {
		isAfter := false
		select {
		case <-marked:
			isAfter = true
		default:
		}
		var h http.Header
		rctx, cancel := context.WithTimeout(ctx, 25*time.Second)
		status, a, err := l.postHeader(rctx, url.Values{"grant_type": {"refresh_token"}, "client_id": {l.ClientID},
			"refresh_token": {c.RT}, "scope": {l.Scope}}, &h)
		cancel()
		if ctx.Err() != nil {
			return // the run ended; this answer is not counted
		}
		outcome := outcomeOf(status, a, h, err)
		l.count(outcome)
		switch {
		case status == http.StatusOK && a.RefreshToken != "":
			c.RT, retrying = a.RefreshToken, false
			c.OK++
			if isAfter {
				c.OKAfter++
			}
		case status == http.StatusBadRequest && a.Error == "invalid_grant":
			c.Revoked, c.LostAnswer = fmt.Sprintf("%s %v: %s", a.Error, a.Codes, firstLine(a.Description)), retrying
			return
		default:
			c.Retries++
			retrying = true
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		if pause > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
		}
	}
}

// outcomeOf names an answer for the tally: "200", "transport error", "502",
// "503 temporarily_unavailable retry-after=5", "500 server_error" and so on.
func outcomeOf(status int, a tokenAnswer, h http.Header, err error) string {
	switch {
	case err != nil && status == 0:
		return "transport error"
	case status == http.StatusOK:
		return "200"
	}
	s := fmt.Sprintf("%d", status)
	if a.Error != "" {
		s += " " + a.Error
	}
	if ra := h.Get("Retry-After"); ra != "" {
		s += " retry-after=" + ra
	}
	return s
}

func (l *Load) count(outcome string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tally == nil {
		l.tally = map[string]int{}
	}
	l.tally[outcome]++
}

// Tally returns how many answers of each outcome the load met.
func (l *Load) Tally() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for k, v := range l.tally {
		out[k] = v
	}
	return out
}

// TallyString is the tally for logs, outcomes sorted.
func (l *Load) TallyString() string {
	t := l.Tally()
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %d; ", k, t[k])
	}
	return strings.TrimSuffix(b.String(), "; ")
}

// RedeemLast refreshes every live chain once more, after the load: the last refresh token each
// client received must work (nothing acknowledged was lost).
func (l *Load) RedeemLast(t testing.TB, chains []*Chain) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i, c := range chains {
		if c.Revoked != "" {
			continue
		}
		status, a, err := l.post(ctx, url.Values{"grant_type": {"refresh_token"}, "client_id": {l.ClientID},
			"refresh_token": {c.RT}, "scope": {l.Scope}})
		if err != nil || status != http.StatusOK || a.RefreshToken == "" {
			t.Errorf("chain %d: the last refresh token its client received no longer works: %d %s %v", i, status, firstLine(a.Description), err)
			continue
		}
		c.RT = a.RefreshToken
	}
}

// CheckChains fails the test for every chain that was revoked, telling a revocation that met
// a retried token (a lost answer) from any other, and for every chain that made no progress
// after the mark; it returns how many were revoked after a lost answer.
func CheckChains(t testing.TB, chains []*Chain) (lostAnswerRevocations int) {
	t.Helper()
	for i, c := range chains {
		switch {
		case c.Revoked != "" && c.LostAnswer:
			lostAnswerRevocations++
			t.Errorf("chain %d: revoked because of a lost answer (the retried token was refused): %s", i, c.Revoked)
		case c.Revoked != "":
			t.Errorf("chain %d: revoked: %s", i, c.Revoked)
		case c.OKAfter == 0:
			t.Errorf("chain %d: no successful refresh after the fault (%d before, %d retries)", i, c.OK, c.Retries)
		}
	}
	return lostAnswerRevocations
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}
