// Package session owns the browser side of sign-in: the opaque session cookie that names a
// browser (whose hash keys its server-side sessions, one per signed-in account), signing an
// account in and out, and the pre-login anti-forgery cookie that binds a sign-in form and its
// pending request to the browser that loaded it.
//
// Sessions themselves live in the store; nothing is signed or encrypted into cookies.
package session

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// Cookie names. The __Host- prefix pins them to this origin: Secure, Path=/, no Domain, so
// no sibling subdomain can set or shadow them.
const (
	CookieName = "__Host-sigil-session"
	XSRFCookie = "__Host-sigil-xsrf"
)

// Manager signs accounts in and out of browsers.
type Manager struct {
	store            store.Sessions
	lifetime         time.Duration // a session without "stay signed in"
	rememberLifetime time.Duration // with it
}

// NewManager returns a Manager over the store with the two session lifetimes.
func NewManager(st store.Sessions, lifetime, rememberLifetime time.Duration) *Manager {
	return &Manager{store: st, lifetime: lifetime, rememberLifetime: rememberLifetime}
}

// BrowserHash returns the hash that keys this browser's sessions, or "" when the browser has
// no session cookie.
func BrowserHash(r *http.Request) string {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return ""
	}
	return tokens.Hash(c.Value)
}

// Sessions returns the browser's live sessions, oldest first.
func (m *Manager) Sessions(ctx context.Context, r *http.Request, now time.Time) ([]store.Session, error) {
	h := BrowserHash(r)
	if h == "" {
		return nil, nil
	}
	return m.store.BrowserSessions(ctx, h, now)
}

// SignIn records that user authenticated in this browser now, by password: a new session,
// or the account's existing one with auth_time moved (its sid kept). The session cookie is
// renewed — the browser's sessions move to a new value — so a value planted before sign-in
// is worth nothing after it. The cookie is persistent when any session of the browser is
// "stay signed in".
func (m *Manager) SignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, u directory.User, remember bool, now time.Time) (store.Session, error) {
	value := tokens.RandomID(32)
	if old := BrowserHash(r); old != "" {
		if err := m.store.RebindBrowser(ctx, old, tokens.Hash(value)); err != nil {
			return store.Session{}, fmt.Errorf("session: sign in: %w", err)
		}
	}
	life := m.lifetime
	if remember {
		life = m.rememberLifetime
	}
	s, err := m.store.UpsertSession(ctx, store.Session{ID: tokens.RandomID(24), BrowserHash: tokens.Hash(value),
		TenantID: u.TenantID, UserID: u.ID, AuthTime: now, AMR: []string{"pwd"}, Remember: remember,
		CreatedAt: now, ExpiresAt: now.Add(life)}, now)
	if err != nil {
		return store.Session{}, fmt.Errorf("session: sign in: %w", err)
	}
	all, err := m.store.BrowserSessions(ctx, s.BrowserHash, now)
	if err != nil {
		return store.Session{}, fmt.Errorf("session: sign in: %w", err)
	}
	setCookie(w, value, all, now)
	return s, nil
}

// SignOut ends one session of this browser (revoking its refresh tokens) and clears the
// cookie when no session is left.
func (m *Manager) SignOut(ctx context.Context, w http.ResponseWriter, r *http.Request, sid string, now time.Time) error {
	if err := m.store.EndSession(ctx, sid, now); err != nil {
		return fmt.Errorf("session: sign out: %w", err)
	}
	rest, err := m.Sessions(ctx, r, now)
	if err != nil {
		return fmt.Errorf("session: sign out: %w", err)
	}
	if len(rest) == 0 {
		http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, Secure: true,
			HttpOnly: true, SameSite: http.SameSiteNoneMode})
	}
	return nil
}

// setCookie sets the session cookie: SameSite=None so that MSAL's hidden iframe (a subframe,
// possibly cross-site) carries it; persistent until the last remembered session ends, or a
// browser-session cookie when none is remembered.
func setCookie(w http.ResponseWriter, value string, sessions []store.Session, now time.Time) {
	c := &http.Cookie{Name: CookieName, Value: value, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode}
	for _, s := range sessions {
		if s.Remember && s.ExpiresAt.After(now) {
			if age := int(s.ExpiresAt.Sub(now).Seconds()); age > c.MaxAge {
				c.MaxAge = age
			}
		}
	}
	http.SetCookie(w, c)
}

// XSRF returns the browser's anti-forgery value, setting the cookie when the browser has
// none. Forms carry it in a hidden field; CheckXSRF compares the two (double submit, bound
// to this origin by the __Host- prefix).
func XSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(XSRFCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	v := tokens.RandomID(32)
	http.SetCookie(w, &http.Cookie{Name: XSRFCookie, Value: v, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return v
}

// CheckXSRF reports whether the form's anti-forgery field matches the browser's cookie, and
// returns the hash that binds pending interactions to this browser.
func CheckXSRF(r *http.Request, field string) (browser string, ok bool) {
	c, err := r.Cookie(XSRFCookie)
	if err != nil || len(c.Value) != 43 || subtle.ConstantTimeCompare([]byte(c.Value), []byte(field)) != 1 {
		return "", false
	}
	return tokens.Hash(c.Value), true
}
