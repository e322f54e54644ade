package protocol

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// The device authorization grant (RFC 8628): a device without a browser asks for a device
// code and a user code here, shows the user code, and polls the token endpoint with the
// device code (token_device.go) while the user enters the user code on the verification page
// (devicelogin.go) and signs in there.

// Device authorization policy, as Entra's.
const (
	deviceCodeLifetime = 15 * time.Minute
	devicePollInterval = 5 * time.Second
	// devicePollGrace: a poll counts as too fast (slow_down) only when it comes less than
	// devicePollInterval-devicePollGrace after the last one. Clients wait the interval after
	// each answer, and timer or clock jitter must not turn that into slow_down: msal-node
	// treats it as fatal.
	devicePollGrace = time.Second
)

// userCodeAlphabet is what user codes are made of: consonants (no vowels, so no words) and
// the digits that look like no letter of the set (no 0/O, 1/I, 2/Z, 5/S, 8/B).
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ34679"

// userCodeLength gives 25^9 ≈ 2^41.8 codes: guessing one of the few pending ones at the
// throttled rate of the verification page is hopeless within a code's 15 minutes.
const userCodeLength = 9

// deviceCodeResponse is the device authorization response (RFC 8628 §3.2), with Entra's
// message.
type deviceCodeResponse struct {
	DeviceCode      string `json:"device_code"`
	UserCode        string `json:"user_code"`
	VerificationURI string `json:"verification_uri"`
	ExpiresIn       int64  `json:"expires_in"`
	Interval        int64  `json:"interval"`
	Message         string `json:"message"`
}

// deviceCode answers /{tenant}/oauth2/v2.0/devicecode. Like the token endpoint, every answer
// is JSON with CORS headers and Cache-Control: no-store.
func (s *Server) deviceCode(w http.ResponseWriter, r *http.Request) {
	p, ok := s.readCredentialPost(w, r, "devicecode")
	if !ok {
		return
	}
	resp, err := s.runDeviceCode(r.Context(), r, p)
	if err != nil {
		s.failCredentialPost(w, r, "devicecode", err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// runDeviceCode runs, in the token endpoint's order, the steps a device code request shares
// with it — tenant, client, client authentication by the authPublicFlows rule, no browser
// origin — then checks scope and claims, and stores a pending device authorization.
func (s *Server) runDeviceCode(ctx context.Context, r *http.Request, p params) (*deviceCodeResponse, error) {
	tr, err := s.clientRequest(ctx, r, p, grantSpec{auth: authPublicFlows})
	if err != nil {
		return nil, err
	}
	app := tr.app
	scope := p.get("scope")
	if scope == "" {
		return nil, errMissingParam.new("scope")
	}
	if _, err := s.parseScopes(ctx, app, scope); err != nil {
		return nil, err
	}
	if _, err := parseClaimsRequest(p.get("claims")); err != nil {
		return nil, err
	}
	return s.startDeviceAuthorization(ctx, tr.tenant, app, scope, p.get("claims"))
}

// startDeviceAuthorization stores a pending device authorization under fresh codes. A user
// code already in use is drawn again (a few times at most: collisions are rare).
func (s *Server) startDeviceAuthorization(ctx context.Context, t tenantRef, app directory.App, scope, claims string) (*deviceCodeResponse, error) {
	now := s.now()
	deviceCode := tokens.RandomID(32)
	for range 3 {
		userCode := newUserCode()
		err := s.store.CreateDeviceCode(ctx, store.DeviceCode{Hash: tokens.Hash(deviceCode), UserCodeHash: s.userCodeHash(userCode),
			Tenant: t.segment, Scope: scope, Grant: store.Grant{ClientID: app.ClientID, Claims: claims},
			CreatedAt: now, ExpiresAt: now.Add(deviceCodeLifetime)})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		uri := s.publicURL + "/devicelogin"
		return &deviceCodeResponse{DeviceCode: deviceCode, UserCode: userCode, VerificationURI: uri,
			ExpiresIn: int64(deviceCodeLifetime / time.Second), Interval: int64(devicePollInterval / time.Second),
			Message: "To sign in, use a web browser to open the page " + uri + " and enter the code " + userCode + " to authenticate."}, nil
	}
	return nil, errServer.new().because(errors.New("protocol: no free user code after 3 draws"))
}

// newUserCode draws a user code, uniformly from the alphabet.
func newUserCode() string {
	b := make([]byte, userCodeLength)
	for i := range b {
		b[i] = userCodeAlphabet[randIndex(len(userCodeAlphabet))]
	}
	return string(b)
}

// randIndex returns a uniform random number in [0, n) for n <= 256 (rejection sampling, so
// that no character is likelier than another).
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// normalizeUserCode reads a user code as a person types it: in any case, with dashes and
// spaces anywhere. It reports false for anything that cannot be a user code.
func normalizeUserCode(raw string) (string, bool) {
	if len(raw) > 64 {
		return "", false
	}
	var b strings.Builder
	for _, c := range raw {
		switch {
		case c == '-' || c == ' ' || c == '\t':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		if c > 0x7f || !strings.ContainsRune(userCodeAlphabet, c) {
			return "", false
		}
		b.WriteRune(c)
	}
	if b.Len() != userCodeLength {
		return "", false
	}
	return b.String(), true
}

// userCodeHash is how a normalized user code is stored: keyed with the instance secret, so
// that the few bits of a user code cannot be searched offline from a copy of the database.
func (s *Server) userCodeHash(code string) string {
	m := hmac.New(sha256.New, s.pairwise)
	m.Write([]byte("sigil user code\x00" + code))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// devicePlatform is the platform a device grant is recorded under: a confidential client's
// refresh tokens need its credential (web), a public client's do not (publicClient).
func devicePlatform(app directory.App) directory.Platform {
	if app.HasCredentials() {
		return directory.PlatformWeb
	}
	return directory.PlatformPublicClient
}
