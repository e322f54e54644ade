package protocol

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

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
