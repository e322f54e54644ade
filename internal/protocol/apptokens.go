package protocol

import (
	"strings"
	"sync"
	"time"
)

// App-only tokens are reused for a short while: a daemon that asks again for the same token
// — without MSAL's cache, or as many instances of one service — gets the token Sigil signed
// for it moments before, with expires_in counting down, instead of a new RSA signature per
// request (the signature is ~80 % of a client-credentials request's CPU). The token is the
// same one the client could have kept itself: app-only tokens name no user and carry no
// state, and the key includes everything the token says, so a change of the app's
// permissions, of its lifetimes or of the signing key is seen at once.
const (
	appTokenReuse      = 5 * time.Minute // at most; and at most a twelfth of the token's lifetime
	maxCachedAppTokens = 4096            // per node; past it the cache starts over
)

// appTokenKey is everything an app-only token's content depends on, apart from the times.
type appTokenKey struct {
	tenant, client, resource, aud, azpacr, roles, kid string
	lifetime                                          time.Duration
}

// appToken is a cached app-only token and when it was issued and expires.
type appToken struct {
	token    string
	iat, exp time.Time
}

// appTokenCache holds the app-only tokens issued within the reuse window, per node.
type appTokenCache struct {
	mu      sync.Mutex
	entries map[appTokenKey]appToken
}

func newAppTokenCache() *appTokenCache {
	return &appTokenCache{entries: map[appTokenKey]appToken{}}
}

// withRoles returns k for a token carrying roles (in their deterministic order).
func (k appTokenKey) withRoles(roles []string) appTokenKey {
	k.roles = strings.Join(roles, "\x00")
	return k
}

// get returns the token issued for k within the reuse window before now, if any.
func (c *appTokenCache) get(k appTokenKey, now time.Time) (appToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.entries[k]
	if !ok || now.Before(t.iat) || !now.Before(t.iat.Add(reuseWindow(k.lifetime))) {
		return appToken{}, false
	}
	return t, true
}

// put keeps a newly issued token.
func (c *appTokenCache) put(k appTokenKey, t appToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedAppTokens {
		clear(c.entries)
	}
	c.entries[k] = t
}

// reuseWindow is how long after issuing it an app-only token of lifetime is handed out again.
func reuseWindow(lifetime time.Duration) time.Duration {
	return min(appTokenReuse, lifetime/12)
}
