package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/session"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
	"github.com/sigil-idp/sigil/internal/web"
)

// flow is an authorization request on its way to a code: the request, what it resolved to,
// and what the user has just done on one of the pages.
type flow struct {
	req         authRequest
	app         directory.App
	tenant      tenantRef
	interaction string // the pending interaction, once a page was shown

	// account is the session the user just settled on: signed in with a password, picked in
	// the account picker, or consented as. Its cookie may only be in the response so far.
	account   *store.Session
	consented bool // the consent page was just accepted
}

// interactionLifetime bounds how long a sign-in page stays usable.
const interactionLifetime = 30 * time.Minute

// proceed takes a validated request as far as it can go: choose the account, check consent,
// and issue the code — or show the page the user must act on (never for prompt=none).
func (s *Server) proceed(w http.ResponseWriter, r *http.Request, f *flow) {
	ctx, now := r.Context(), s.now()
	fail := func(err error) {
		s.endInteraction(ctx, f)
		s.replyError(w, r, f.req.replyTo(), f.req.State, f.req.StateGiven, err)
	}
	scopes, err := s.parseScopes(ctx, f.app, f.req.Scope)
	if err != nil {
		fail(err)
		return
	}
	sessions, err := s.browserSessions(ctx, r, f)
	if err != nil {
		fail(err)
		return
	}
	sess, next, err := s.chooseAccount(ctx, f, sessions, now)
	switch {
	case err != nil:
		fail(err)
		return
	case next == showLogin:
		s.showLogin(w, r, f, s.hintUsername(ctx, f.req.LoginHint), nil)
		return
	case next == showPicker:
		s.showPicker(w, r, f, sessions)
		return
	}
	user, err := s.store.UserByID(ctx, sess.UserID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !user.Enabled {
		fail(errUserDisabled.new())
		return
	}
	if err != nil {
		fail(err)
		return
	}
	granted, ask, err := s.consentState(ctx, f, &scopes, user)
	switch {
	case err != nil:
		fail(err)
	case len(ask) > 0:
		s.showConsent(w, r, f, sess, user, scopes.OpenID, ask)
	default:
		s.issueCode(w, r, f, sess, user, scopes, granted)
	}
}

// parseScopes resolves a scope parameter for an app. APIs are registered beside the app, so
// they resolve in the app's home tenant — whichever tenant path the request came through and
// whichever tenant the user belongs to, so that authorization and refresh always agree.
func (s *Server) parseScopes(ctx context.Context, app directory.App, raw string) (directory.ScopeSet, error) {
	tenantID := app.TenantID
	set, err := directory.ParseScopes(raw, func(uri string) (directory.API, bool, error) {
		api, err := s.store.APIByURI(ctx, tenantID, uri)
		if errors.Is(err, store.ErrNotFound) {
			return api, false, nil
		}
		return api, err == nil, err
	})
	return set, scopeError(err, tenantID)
}

// scopeError maps a scope resolution failure to the error table.
func scopeError(err error, tenantID string) error {
	var se *directory.ScopeError
	if !errors.As(err, &se) {
		return err
	}
	switch se.Kind {
	case directory.ScopeUnknownResource:
		return errUnknownAPI.new(truncate(se.Scope, 200), tenantID)
	default:
		return errInvalidScope.new(se.Error())
	}
}

type nextStep int

const (
	proceedWithAccount nextStep = iota
	showLogin
	showPicker
)

// chooseAccount decides which signed-in account the request is for, or which page to show,
// following prompt, sid, login_hint and max_age. Silent requests get errors instead of pages.
func (s *Server) chooseAccount(ctx context.Context, f *flow, sessions []store.Session, now time.Time) (store.Session, nextStep, error) {
	if f.account != nil {
		return *f.account, proceedWithAccount, nil
	}
	silent := f.req.silent()
	switch f.req.Prompt {
	case "login", "create":
		return store.Session{}, showLogin, nil
	case "select_account":
		if len(sessions) == 0 {
			return store.Session{}, showLogin, nil
		}
		return store.Session{}, showPicker, nil
	}
	candidates := sessions
	if f.req.SID != "" && silent {
		candidates = slices.DeleteFunc(slices.Clone(sessions), func(x store.Session) bool { return x.ID != f.req.SID })
		if len(candidates) == 0 {
			return store.Session{}, 0, errNoSuchSession.new("no signed-in session matches sid")
		}
	} else if f.req.LoginHint != "" {
		userID := s.hintUserID(ctx, f.req.LoginHint)
		candidates = slices.DeleteFunc(slices.Clone(sessions), func(x store.Session) bool { return x.UserID != userID })
		if len(candidates) == 0 && silent {
			return store.Session{}, 0, errNoSuchSession.new("no signed-in account matches login_hint")
		}
	}
	switch {
	case len(candidates) == 0 && silent:
		return store.Session{}, 0, errLoginRequired.new("")
	case len(candidates) == 0:
		return store.Session{}, showLogin, nil
	case len(candidates) > 1 && silent:
		return store.Session{}, 0, errPickAccount.new()
	case len(candidates) > 1:
		return store.Session{}, showPicker, nil
	}
	sess := candidates[0]
	if f.req.MaxAge >= 0 && now.Sub(sess.AuthTime) > time.Duration(f.req.MaxAge)*time.Second {
		if silent {
			return store.Session{}, 0, errLoginRequired.new(" recently enough for max_age")
		}
		return store.Session{}, showLogin, nil
	}
	return sess, proceedWithAccount, nil
}

// browserSessions returns the browser's sessions of accounts this request may use.
func (s *Server) browserSessions(ctx context.Context, r *http.Request, f *flow) ([]store.Session, error) {
	sessions, err := s.sessions.Sessions(ctx, r, s.now())
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(sessions, func(x store.Session) bool {
		return !f.tenant.admits(x.TenantID) || !f.app.AllowsTenant(x.TenantID)
	}), nil
}

// hintUserID resolves a login_hint — the opaque login_hint claim MSAL sends back, or a
// username — to a user id ("" when it names nobody).
func (s *Server) hintUserID(ctx context.Context, hint string) string {
	if oid, _, ok := tokens.ParseLoginHint(hint); ok {
		return oid
	}
	u, err := s.store.UserByUsername(ctx, strings.ToLower(hint))
	if err != nil {
		return ""
	}
	return u.ID
}

// hintUsername returns the username to pre-fill on the sign-in page for a login_hint.
func (s *Server) hintUsername(ctx context.Context, hint string) string {
	if oid, _, ok := tokens.ParseLoginHint(hint); ok {
		if u, err := s.store.UserByID(ctx, oid); err == nil {
			return u.Username
		}
		return ""
	}
	return truncate(hint, 256)
}

// coverage expands the set's .default scopes and sorts what it asks for by grant: the
// granted scope keys per resource, and the scopes still missing — those the user may grant,
// and those only an administrator may. Authorization and refresh apply their own policies.
func (s *Server) coverage(ctx context.Context, app directory.App, user directory.User, set *directory.ScopeSet) (map[string]map[string]bool, []consentItem, []consentItem, error) {
	grants, err := s.store.Grants(ctx, user.TenantID, app.ClientID, user.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	granted := map[string]map[string]bool{}
	var userMissing, adminMissing []consentItem
	for i := range set.Groups {
		g := &set.Groups[i]
		have := directory.GrantedScopes(grants, g.Resource)
		g.ExpandDefault(have)
		granted[g.Resource] = have
		u, a := g.Missing(have, app.Consent)
		for _, sc := range u {
			userMissing = append(userMissing, consentItem{resource: g.Resource, scope: sc})
		}
		for _, sc := range a {
			adminMissing = append(adminMissing, consentItem{resource: g.Resource, scope: sc})
		}
	}
	return granted, userMissing, adminMissing, nil
}

// consentState returns the granted scope keys per resource and the scopes the consent page
// must ask for: the missing ones, or with prompt=consent every requested one a user may
// grant. Scopes only an administrator may grant, and missing, end the request:
// consent_required when silent, access_denied (AADSTS90094) when interactive — never a
// dead-end page.
func (s *Server) consentState(ctx context.Context, f *flow, set *directory.ScopeSet, user directory.User) (map[string]map[string]bool, []consentItem, error) {
	granted, ask, admin, err := s.coverage(ctx, f.app, user, set)
	switch {
	case err != nil:
		return nil, nil, err
	case len(admin) > 0 && f.req.silent():
		return nil, nil, errConsentNeeded.new(f.app.ClientID, f.app.DisplayName)
	case len(admin) > 0:
		return nil, nil, errAdminConsent.new(admin[0].scope.Requested, f.app.DisplayName)
	case f.consented:
		return granted, nil, nil // what was not ticked stays ungranted; the code carries the rest
	case f.req.Prompt == "consent":
		ask = nil
		for _, g := range set.Groups {
			for _, sc := range g.Scopes {
				if !sc.AdminOnly {
					ask = append(ask, consentItem{resource: g.Resource, scope: sc})
				}
			}
		}
	}
	if len(ask) > 0 && f.req.silent() {
		return nil, nil, errConsentNeeded.new(f.app.ClientID, f.app.DisplayName)
	}
	return granted, ask, nil
}

// consentItem is one scope the consent page asks for.
type consentItem struct {
	resource string
	scope    directory.Scope
}

// checkboxValue is what the consent form posts for a scope: the app's spelling for API
// scopes, the lower-case short name for the profile API (DESIGN.md, "Consent page").
func (c consentItem) checkboxValue() string {
	if c.resource == directory.ProfileResource {
		return c.scope.Key()
	}
	return c.scope.Requested
}

// issueCode stores an authorization code for the granted scopes of the primary resource and
// sends it to the app.
func (s *Server) issueCode(w http.ResponseWriter, r *http.Request, f *flow, sess store.Session, user directory.User, set directory.ScopeSet, granted map[string]map[string]bool) {
	ctx, now := r.Context(), s.now()
	resource, scopes := codeScopes(set, granted, f.app.Consent)
	code := tokens.RandomID(32)
	err := s.store.CreateAuthCode(ctx, store.AuthCode{
		Hash: tokens.Hash(code),
		Grant: store.Grant{TenantID: user.TenantID, ClientID: f.app.ClientID, UserID: user.ID, SessionID: sess.ID,
			Platform: f.req.Platform, Resource: resource, Scopes: scopes, AuthTime: sess.AuthTime, AMR: sess.AMR,
			Remember: sess.Remember},
		RedirectURI: f.req.RedirectURI, RedirectGiven: f.req.RedirectGiven, Nonce: f.req.Nonce,
		CodeChallenge: f.req.CodeChallenge, CreatedAt: now,
		ExpiresAt: now.Add(s.lifetimesFor(f.app).AuthorizationCode),
	})
	s.endInteraction(ctx, f)
	if err != nil {
		s.replyError(w, r, f.req.replyTo(), f.req.State, f.req.StateGiven, err)
		return
	}
	v := url.Values{"code": {code}}
	if f.req.StateGiven {
		v.Set("state", f.req.State)
	}
	if f.req.ClientInfo {
		v.Set("client_info", tokens.ClientInfo(user.ID, user.TenantID))
	}
	s.reply(w, f.req.replyTo(), v)
}

// codeScopes picks what a code grants: the covered scopes of the primary resource (in
// canonical spelling) plus the OpenID Connect scopes that were granted.
func codeScopes(set directory.ScopeSet, granted map[string]map[string]bool, policy directory.ConsentPolicy) (string, []string) {
	var out []string
	if set.OpenID {
		out = append(out, directory.ScopeOpenID)
	}
	covered := func(g directory.ResourceScopes, sc directory.Scope) bool {
		return granted[g.Resource][sc.Key()] || !sc.AdminOnly && policy == directory.ConsentPreauthorized
	}
	primary := set.Primary()
	resource := directory.ProfileResource
	for i, g := range set.Groups {
		if i == primary {
			resource = g.Resource
		}
		for _, sc := range g.Scopes {
			oidc := g.Resource == directory.ProfileResource && sc.Value != "User.Read"
			if (i == primary || oidc) && covered(g, sc) {
				out = append(out, g.Canonical(sc))
			}
		}
	}
	return resource, out
}

// endInteraction forgets the flow's pending interaction, if any.
func (s *Server) endInteraction(ctx context.Context, f *flow) {
	if f.interaction != "" {
		if err := s.store.DeleteInteraction(ctx, f.interaction); err != nil {
			s.log.WarnContext(ctx, "delete interaction", "error", err.Error())
		}
		f.interaction = ""
	}
}

// ensureInteraction stores the request as a pending interaction bound to this browser's
// anti-forgery cookie (once per flow) and returns the cookie value for the form.
func (s *Server) ensureInteraction(w http.ResponseWriter, r *http.Request, f *flow) (string, error) {
	xsrf := session.XSRF(w, r)
	if f.interaction != "" {
		return xsrf, nil
	}
	body, err := json.Marshal(f.req)
	if err != nil {
		return "", err
	}
	now := s.now()
	id := tokens.RandomID(24)
	if err := s.store.CreateInteraction(r.Context(), store.Interaction{ID: id, BrowserHash: tokens.Hash(xsrf),
		Request: body, CreatedAt: now, ExpiresAt: now.Add(interactionLifetime)}); err != nil {
		return "", err
	}
	f.interaction = id
	return xsrf, nil
}

// showLogin renders the sign-in page, with a problem from a failed attempt when pe is set.
func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, f *flow, username string, pe *Error) {
	xsrf, err := s.ensureInteraction(w, r, f)
	if err != nil {
		s.replyError(w, r, f.req.replyTo(), f.req.State, f.req.StateGiven, err)
		return
	}
	page := web.LoginPage{AppName: f.app.DisplayName, Interaction: f.interaction, XSRF: xsrf, Username: username}
	status := http.StatusOK
	if pe != nil {
		page.ErrorCode, page.ErrorMessage, status = "AADSTS"+strconv.Itoa(pe.AADSTS), pe.Description, pe.Status
	}
	s.pages.Login(w, status, page)
}

// showPicker renders the account picker for the browser's accounts.
func (s *Server) showPicker(w http.ResponseWriter, r *http.Request, f *flow, sessions []store.Session) {
	xsrf, err := s.ensureInteraction(w, r, f)
	if err != nil {
		s.replyError(w, r, f.req.replyTo(), f.req.State, f.req.StateGiven, err)
		return
	}
	s.pages.Accounts(w, web.AccountsPage{Title: "Pick an account", AppName: f.app.DisplayName, Action: "/-/pick",
		Hidden:   map[string]string{"ir": f.interaction, "xsrf": xsrf},
		Accounts: s.accounts(r.Context(), sessions), OtherAccount: true})
}

// accounts describes sessions for an account chooser.
func (s *Server) accounts(ctx context.Context, sessions []store.Session) []web.Account {
	var out []web.Account
	for _, x := range sessions {
		u, err := s.store.UserByID(ctx, x.UserID)
		if err != nil {
			continue
		}
		out = append(out, web.Account{SessionID: x.ID, Username: u.Username, DisplayName: u.DisplayName})
	}
	return out
}

// showConsent renders the consent page for the scopes not yet granted.
func (s *Server) showConsent(w http.ResponseWriter, r *http.Request, f *flow, sess store.Session, user directory.User, openid bool, ask []consentItem) {
	xsrf, err := s.ensureInteraction(w, r, f)
	if err != nil {
		s.replyError(w, r, f.req.replyTo(), f.req.State, f.req.StateGiven, err)
		return
	}
	page := web.ConsentPage{AppName: f.app.DisplayName, Interaction: f.interaction, XSRF: xsrf, SessionID: sess.ID,
		Username: user.Username, SignIn: openid}
	for _, c := range ask {
		page.Scopes = append(page.Scopes, web.ConsentScope{Value: c.checkboxValue(), Label: scopeLabel(c)})
	}
	s.pages.Consent(w, page)
}

// scopeLabel is the human text for a scope on the consent page.
func scopeLabel(c consentItem) string {
	if c.resource != directory.ProfileResource {
		if c.scope.Description != "" {
			return c.scope.Description + " (" + c.scope.Requested + ")"
		}
		return c.scope.Requested
	}
	switch c.scope.Key() {
	case directory.ScopeProfile:
		return "View your basic profile (profile)"
	case directory.ScopeEmail:
		return "View your email address (email)"
	case directory.ScopeOfflineAccess:
		return "Maintain access to data you have given it access to (offline_access)"
	}
	return "Sign you in and read your profile (User.Read)"
}
