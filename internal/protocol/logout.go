package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
	"github.com/sigil-idp/sigil/internal/web"
)

// logoutRequest is a validated end-session request.
type logoutRequest struct {
	tenant     tenantRef
	app        *directory.App // from client_id or id_token_hint, when given
	hint       *idTokenHint
	returnTo   string // a registered post_logout_redirect_uri, or ""
	state      string
	stateGiven bool
}

// idTokenHint is what Sigil needs from an id_token_hint.
type idTokenHint struct {
	Aud string `json:"aud"`
	Iss string `json:"iss"`
	OID string `json:"oid"`
	TID string `json:"tid"`
	SID string `json:"sid"`
}

// logout answers GET and POST /{tenant}/oauth2/v2.0/logout (RP-initiated logout). It ends
// the session of the account named by logout_hint or id_token_hint — or the browser's only
// account — revoking the refresh tokens issued in it, and redirects at once to the registered
// post_logout_redirect_uri with state. With several accounts and no hint it asks which one;
// with one account, no hint and a request that may come from another site it asks whether to
// sign out at all (confirmLogout), so a cross-site link cannot sign the user out.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(w, r)
	if err != nil {
		s.failPage(w, r, "logout", err)
		return
	}
	s.endSession(w, r, p, r.PathValue("tenant"), false)
}

// confirmLogout answers POST /-/signout, the confirmation page's form (behind the
// cross-origin check of Sigil's forms): signout=confirm ends the session as the original
// request asked, anything else keeps it.
func (s *Server) confirmLogout(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(w, r)
	if err != nil {
		s.failPage(w, r, "logout", err)
		return
	}
	if p.get("signout") != "confirm" {
		s.pages.SignOut(w, web.SignOutPage{Cancelled: true})
		return
	}
	s.endSession(w, r, p, p.get("tenant"), true)
}

// endSession is logout for the tenant path segment tenant; confirmed is the user's answer on
// the confirmation page.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request, p params, tenant string, confirmed bool) {
	lr, err := s.readLogout(r.Context(), tenant, p)
	if err != nil {
		s.failPage(w, r, "logout", err)
		return
	}
	ctx, now := r.Context(), s.now()
	sessions, err := s.sessions.Sessions(ctx, r, now)
	if err != nil {
		s.failPage(w, r, "logout", err)
		return
	}
	sessions = slices.DeleteFunc(sessions, func(x store.Session) bool { return !lr.tenant.admits(x.TenantID) })
	targets := s.logoutTargets(ctx, lr, p, sessions)
	if len(targets) > 1 {
		s.showLogoutChooser(w, r, p, targets)
		return
	}
	if len(targets) == 1 && !confirmed && !lr.names(p) && !sameSite(r, s.publicURL) {
		s.showSignOutConfirm(w, r, p, lr, tenant, targets[0])
		return
	}
	var frames []string
	for _, x := range targets {
		more, outbox, err := s.appLogouts(ctx, x, now)
		if err == nil && len(outbox) > 0 {
			err = s.store.EnqueueLogouts(ctx, outbox)
		}
		if err != nil {
			s.failPage(w, r, "logout", err)
			return
		}
		frames = append(frames, more...)
		if err := s.sessions.SignOut(ctx, w, r, x.ID, now); err != nil {
			s.failPage(w, r, "logout", err)
			return
		}
		s.event(ctx, evLogout, ofSession(x).withApp(lr.app), nil)
	}
	if lr.returnTo == "" && len(frames) == 0 {
		s.pages.SignedOut(w)
		return
	}
	v := url.Values{}
	if lr.stateGiven {
		v.Set("state", lr.state)
	}
	target := lr.returnTo
	if len(v) > 0 {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + v.Encode()
	}
	if len(frames) > 0 {
		s.pages.FrontChannelLogout(w, web.FrontChannelPage{Frames: frames, Continue: target})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// appLogouts says who to tell that session x ends, for the apps it signed in to: the
// front-channel logout URLs (OpenID Connect Front-Channel Logout 1.0) — logoutUrl with the
// issuer and the session's sid, which the app matches with its ID token's sid — and the
// back-channel logout tokens to POST to backchannelLogoutUrl (Back-Channel Logout 1.0),
// which backchannel.go delivers from the store's outbox.
func (s *Server) appLogouts(ctx context.Context, x store.Session, now time.Time) ([]string, []store.BackchannelLogout, error) {
	clients, err := s.store.SessionClients(ctx, x.ID)
	if err != nil {
		return nil, nil, err
	}
	var frames []string
	var outbox []store.BackchannelLogout
	iss := tokens.Issuer(s.publicURL, x.TenantID)
	for _, id := range clients {
		app, err := s.store.AppByClientID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if app.LogoutURL != "" {
			sep := "?"
			if strings.Contains(app.LogoutURL, "?") {
				sep = "&"
			}
			frames = append(frames, app.LogoutURL+sep+url.Values{"iss": {iss}, "sid": {x.ID}}.Encode())
		}
		if app.BackchannelLogoutURL != "" {
			token, err := s.keys.SignLogoutToken(idTokenAlg(app), logoutClaims{Iss: iss, Aud: app.ClientID, Iat: now.Unix(),
				Exp: now.Add(logoutTokenLifetime).Unix(), JTI: tokens.RandomID(16), SID: x.ID,
				Sub:    tokens.PairwiseSubject(s.pairwise, x.UserID, app.ClientID),
				Events: map[string]struct{}{"http://schemas.openid.net/event/backchannel-logout": {}}})
			if err != nil {
				return nil, nil, err
			}
			outbox = append(outbox, store.BackchannelLogout{ID: tokens.RandomID(16), ClientID: app.ClientID,
				URL: app.BackchannelLogoutURL, LogoutToken: token, DueAt: now, CreatedAt: now})
		}
	}
	return frames, outbox, nil
}

// readLogout checks the tenant, the hints, the client and the post-logout redirect URI.
func (s *Server) readLogout(ctx context.Context, tenant string, p params) (*logoutRequest, error) {
	t, err := s.resolveTenant(ctx, tenant)
	if err != nil {
		return nil, err
	}
	lr := &logoutRequest{tenant: t, state: p.get("state"), stateGiven: p.has("state")}
	clientID := p.get("client_id")
	if raw := p.get("id_token_hint"); raw != "" {
		if lr.hint, err = s.parseIDTokenHint(raw, t); err != nil {
			return nil, err
		}
		if clientID == "" {
			clientID = lr.hint.Aud
		} else if !strings.EqualFold(clientID, lr.hint.Aud) {
			return nil, errIDTokenHint.new("it was issued to another application than client_id.")
		}
	}
	if clientID != "" {
		app, err := s.appFor(ctx, t, clientID)
		if err != nil {
			return nil, err
		}
		lr.app = &app
	}
	uri := p.get("post_logout_redirect_uri")
	if uri == "" {
		return lr, nil
	}
	// MSAL sends no client_id on logout: then any app usable through this tenant path may
	// own the URI (a registered URI is never an open redirect).
	var ok bool
	if lr.app != nil {
		ok = lr.app.AllowsPostLogoutRedirect(uri)
	} else {
		ok, err = s.store.AllowsPostLogoutRedirect(ctx, t.tenant.ID, uri)
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errPostLogoutMismatch.new(truncate(uri, 200))
	}
	lr.returnTo = uri
	return lr, nil
}

// parseIDTokenHint checks an id_token_hint: signed by one of this server's keys and issued
// by the tenant's issuer. Its expiry is not checked: apps hand back whatever ID token they
// hold, often an expired one.
func (s *Server) parseIDTokenHint(raw string, t tenantRef) (*idTokenHint, error) {
	payload, err := s.keys.Verify(raw)
	if err != nil {
		return nil, errIDTokenHint.new(err.Error() + ".")
	}
	var h idTokenHint
	if err := json.Unmarshal(payload, &h); err != nil || h.TID == "" || h.Aud == "" {
		return nil, errIDTokenHint.new("it is not an ID token.")
	}
	if h.Iss != tokens.Issuer(s.publicURL, h.TID) || !t.admits(h.TID) {
		return nil, errIDTokenHint.new("it was issued by another tenant.")
	}
	return &h, nil
}

// logoutTargets picks the sessions to end: the one the chooser posted, the account an
// id_token_hint or logout_hint names, or — without a hint — every session of the browser
// (more than one means the user must choose).
func (s *Server) logoutTargets(ctx context.Context, lr *logoutRequest, p params, sessions []store.Session) []store.Session {
	keep := func(match func(store.Session) bool) []store.Session {
		return slices.DeleteFunc(slices.Clone(sessions), func(x store.Session) bool { return !match(x) })
	}
	switch {
	case p.has("account"):
		return keep(func(x store.Session) bool { return x.ID == p.get("account") })
	case lr.hint != nil && lr.hint.SID != "":
		return keep(func(x store.Session) bool { return x.ID == lr.hint.SID })
	case lr.hint != nil:
		return keep(func(x store.Session) bool { return x.UserID == lr.hint.OID })
	case p.has("logout_hint"):
		userID := s.hintUserID(ctx, p.get("logout_hint"))
		return keep(func(x store.Session) bool { return x.UserID == userID })
	}
	return sessions
}

// showLogoutChooser asks which account to sign out; the choice comes back to this endpoint
// with the original parameters.
func (s *Server) showLogoutChooser(w http.ResponseWriter, r *http.Request, p params, sessions []store.Session) {
	hidden := map[string]string{}
	for _, k := range []string{"post_logout_redirect_uri", "state", "client_id"} {
		if p.has(k) {
			hidden[k] = p.get(k)
		}
	}
	s.pages.Accounts(w, web.AccountsPage{Title: "Pick an account to sign out", Action: r.URL.Path, Hidden: hidden,
		Accounts: s.accounts(r.Context(), sessions)})
}

// names reports whether the request names the account to sign out as an app does: a signed
// id_token_hint, or logout_hint in the form of the ID token's login_hint claim (what MSAL
// sends). A plain username, which any site can write, is not enough. The login_hint claim is
// no secret either (it names the object id), but like Entra, Sigil honours it at once: that is
// the documented promptless logout.
func (lr *logoutRequest) names(p params) bool {
	if lr.hint != nil {
		return true
	}
	_, _, ok := tokens.ParseLoginHint(p.get("logout_hint"))
	return ok
}

// sameSite reports whether a request comes from Sigil's own site, as the browser says:
// Sec-Fetch-Site same-origin, same-site, or none (the user typed or bookmarked the URL);
// without it (older browsers), an Origin or else a Referer of Sigil's own origin. A request
// that says nothing (no browser, or a referrer suppressed) is not same-site.
func sameSite(r *http.Request, publicURL string) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "same-site", "none":
		return true
	case "":
	default:
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		return strings.EqualFold(o, publicURL)
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		return err == nil && strings.EqualFold(u.Scheme+"://"+u.Host, publicURL)
	}
	return false
}

// showSignOutConfirm asks whether to sign out of x; the answer posts the original parameters
// to /-/signout.
func (s *Server) showSignOutConfirm(w http.ResponseWriter, r *http.Request, p params, lr *logoutRequest, tenant string, x store.Session) {
	hidden := map[string]string{"tenant": tenant}
	for _, k := range []string{"post_logout_redirect_uri", "state", "client_id"} {
		if p.has(k) {
			hidden[k] = p.get(k)
		}
	}
	v := web.SignOutPage{Action: "/-/signout", Hidden: hidden}
	if lr.app != nil {
		v.AppName = lr.app.DisplayName
	}
	if a := s.accounts(r.Context(), []store.Session{x}); len(a) == 1 {
		v.Username = a[0].Username
	}
	s.pages.SignOut(w, v)
}
