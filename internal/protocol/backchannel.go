package protocol

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/sigil-idp/sigil/internal/store"
)

// logoutClaims are a back-channel logout token's (OpenID Connect Back-Channel Logout 1.0 §2.4):
// no nonce, an events claim, the session's sid and the app's pairwise sub.
type logoutClaims struct {
	Iss    string              `json:"iss"`
	Aud    string              `json:"aud"`
	Iat    int64               `json:"iat"`
	Exp    int64               `json:"exp"`
	JTI    string              `json:"jti"`
	SID    string              `json:"sid"`
	Sub    string              `json:"sub"`
	Events map[string]struct{} `json:"events"`
}

// Back-channel delivery: each POST is bounded in time and in what is read back; a failure is
// retried with back-off (10 s doubling to an hour) until the logout is a day old, when
// DeleteExpired gives it up. A claim leases the logout, so of several nodes one sends it.
const (
	logoutTokenLifetime = 2 * time.Minute
	backchannelTimeout  = 5 * time.Second
	backchannelLease    = time.Minute
	maxBackchannelBody  = 64 << 10
)

// backchannelClient POSTs logout tokens: no redirects, no proxy, a short timeout, and — unless
// allowLocal — no connection to loopback, link-local or unspecified addresses, checked on the
// address actually dialled (so a name that resolves there is refused too).
func backchannelClient(allowLocal bool) *http.Client {
	dialer := &net.Dialer{Timeout: backchannelTimeout}
	if !allowLocal {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			ip := net.ParseIP(host)
			if err != nil || ip == nil || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
				ip.IsUnspecified() || ip.IsMulticast() {
				return fmt.Errorf("back-channel logout to %s refused: loopback, link-local and unspecified addresses are not allowed (backchannelLogout.allowLocalAddresses)", address)
			}
			return nil
		}
	}
	return &http.Client{Timeout: backchannelTimeout,
		Transport:     &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: backchannelTimeout, MaxIdleConns: 16},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// DeliverLogouts sends the due back-channel logouts from the store's outbox until none is due
// (or ctx ends), and reports how many were delivered. Every node runs it every few seconds.
func (s *Server) DeliverLogouts(ctx context.Context) (int, error) {
	delivered := 0
	for ctx.Err() == nil {
		now := s.now()
		l, err := s.store.ClaimLogout(ctx, now, backchannelLease)
		if errors.Is(err, store.ErrNotFound) {
			return delivered, nil
		}
		if err != nil {
			return delivered, err
		}
		if err := s.postLogout(ctx, l); err != nil {
			backoff := min(10*time.Second<<min(l.Attempts, 12), time.Hour)
			s.log.WarnContext(ctx, "back-channel logout failed; will retry", "client_id", l.ClientID,
				"attempt", l.Attempts+1, "retry_in", backoff.String(), "error", err.Error())
			if err := s.store.RetryLogout(ctx, l.ID, now.Add(backoff)); err != nil {
				return delivered, err
			}
			continue
		}
		if err := s.store.FinishLogout(ctx, l.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return delivered, err
		}
		delivered++
	}
	return delivered, ctx.Err()
}

// postLogout POSTs one logout token as application/x-www-form-urlencoded logout_token; a 2xx
// answer is delivery.
func (s *Server) postLogout(ctx context.Context, l store.BackchannelLogout) error {
	ctx, cancel := context.WithTimeout(ctx, backchannelTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.URL,
		strings.NewReader(url.Values{"logout_token": {l.LogoutToken}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.backchannel.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxBackchannelBody))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("answered %d", resp.StatusCode)
	}
	return nil
}
