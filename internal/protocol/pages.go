package protocol

import (
	"context"
	"net/http"
	"strconv"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/web"
)

// showLogin renders the sign-in page, with a problem from a failed attempt when pe is set.
func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, f *flow, username string, pe *Error) {
	xsrf, err := s.ensureInteraction(w, r, f)
	if err != nil {
		s.deliverError(w, r, f.req.Reply, err)
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
		s.deliverError(w, r, f.req.Reply, err)
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
		s.deliverError(w, r, f.req.Reply, err)
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
