package protocol

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/sigil-idp/sigil/internal/session"
	"github.com/sigil-idp/sigil/internal/store"
)

// resumeFlow reads a form posted by one of Sigil's pages (sign-in, picker, consent) and
// restores the authorization request it continues. The form must carry the browser's
// anti-forgery value and name an interaction bound to that same browser; the request is
// checked again against the current app registration. On failure it answers and returns nil.
func (s *Server) resumeFlow(w http.ResponseWriter, r *http.Request, where string) (*flow, url.Values) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		s.failPage(w, r, where, errMalformed.new("the form could not be read").because(err))
		return nil, nil
	}
	form := r.PostForm
	browser, ok := session.CheckXSRF(r, form.Get("xsrf"))
	if !ok {
		s.failPage(w, r, where, errForgedForm.new())
		return nil, nil
	}
	req, in, err := s.openInteraction(form.Get("ir"), browser)
	if err != nil {
		s.failPage(w, r, where, err)
		return nil, nil
	}
	f, err := s.restoreFlow(r, req)
	if err != nil {
		s.failPage(w, r, where, err)
		return nil, nil
	}
	f.interaction, f.interactionID, f.interactionExpires = form.Get("ir"), in.ID, time.Unix(in.Expires, 0)
	return f, form
}

// restoreFlow re-resolves a stored request's tenant and app: either may have changed since
// the page was shown, and the redirect URI (when there is one) must still be registered.
func (s *Server) restoreFlow(r *http.Request, req authRequest) (*flow, error) {
	t, err := s.resolveTenant(r.Context(), req.Tenant)
	if err != nil {
		return nil, err
	}
	app, err := s.appFor(r.Context(), t, req.ClientID)
	if err != nil {
		return nil, err
	}
	if req.Reply.Device != nil { // no redirect: the device authorization is decided in the store
		return &flow{req: req, app: app, tenant: t}, nil
	}
	if platform, ok := app.RedirectPlatform(req.Reply.URI); !ok || platform != req.Platform {
		return nil, errRedirectMismatch.new(req.Reply.URI, app.ClientID)
	}
	return &flow{req: req, app: app, tenant: t}, nil
}

// chosenSession returns the browser's session with id sid, if the flow may use it.
func (s *Server) chosenSession(r *http.Request, f *flow, sid string) (*store.Session, error) {
	sessions, err := s.browserSessions(r.Context(), r, f)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(sessions, func(x store.Session) bool { return x.ID == sid })
	if i < 0 {
		return nil, nil
	}
	return &sessions[i], nil
}

// pick answers POST /-/pick, the account picker: continue as the chosen account, or sign in
// with another one.
func (s *Server) pick(w http.ResponseWriter, r *http.Request) {
	f, form := s.resumeFlow(w, r, "pick")
	if f == nil {
		return
	}
	choice := form.Get("account")
	if choice == "other" {
		s.showLogin(w, r, f, "", nil)
		return
	}
	sess, err := s.chosenSession(r, f, choice)
	if err != nil {
		s.failPage(w, r, "pick", err)
		return
	}
	if sess == nil { // signed out meanwhile: start the decision over
		f.req.Prompt = ""
	}
	f.account = sess
	s.proceed(w, r, f)
}
