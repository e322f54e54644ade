package protocol

import (
	"net/http"
	"slices"

	"github.com/sigil-idp/sigil/internal/directory"
)

// consent answers POST /-/consent. Decline answers access_denied (AADSTS65004) to the app
// and leaves the user signed in. Accept grants the ticked scopes among those offered — a
// subset is fine — and continues; unticking every offered scope of the requested resource,
// with none of its scopes granted before, is a decline. Scopes an administrator was offered
// for the tenant (admin-only ones, or all of them at /adminconsent) are granted tenant-wide.
func (s *Server) consent(w http.ResponseWriter, r *http.Request) {
	f, form := s.resumeFlow(w, r, "consent")
	if f == nil {
		return
	}
	ctx := r.Context()
	sess, err := s.chosenSession(r, f, form.Get("sid"))
	if err != nil || sess == nil {
		if err == nil { // signed out meanwhile: start the decision over
			s.proceed(w, r, f)
			return
		}
		s.failPage(w, r, "consent", err)
		return
	}
	decline := func() {
		err := error(errDeclined.new())
		if end := s.endInteraction(ctx, f); end != nil {
			err = end
		}
		s.deliverError(w, r, f.req.Reply, err)
	}
	if form.Get("consent") != "accept" {
		decline()
		return
	}
	user, err := s.store.UserByID(ctx, sess.UserID)
	if err != nil {
		s.failPage(w, r, "consent", err)
		return
	}
	set, err := s.parseScopes(ctx, f.app, f.req.Scope)
	if err != nil {
		s.deliverError(w, r, f.req.Reply, err)
		return
	}
	granted, offered, err := s.consentState(ctx, f, &set, user)
	if err != nil {
		s.deliverError(w, r, f.req.Reply, err)
		return
	}
	ticked := form["scope"]
	type target struct {
		resource   string
		tenantWide bool
	}
	chosen, chosenFor := map[target][]string{}, map[string]int{}
	for _, c := range offered {
		if slices.Contains(ticked, c.checkboxValue()) {
			k := target{c.resource, c.tenantWide}
			chosen[k] = append(chosen[k], c.scope.Key())
			chosenFor[c.resource]++
		}
	}
	if primary := set.Primary(); primary >= 0 {
		res := set.Groups[primary].Resource
		if chosenFor[res] == 0 && !grantsAny(set.Groups[primary], granted[res]) {
			decline()
			return
		}
	}
	for k, keys := range chosen {
		g := directory.Grant{TenantID: user.TenantID, ClientID: f.app.ClientID, UserID: user.ID, Resource: k.resource, Scopes: keys}
		if k.tenantWide {
			g.UserID = "" // an administrator's grant, for every user of the tenant
		}
		if err := s.store.AddGrant(ctx, g, s.now()); err != nil {
			s.failPage(w, r, "consent", err)
			return
		}
		s.event(ctx, evConsentGranted, ofConsent(g), nil)
	}
	f.account, f.consented = sess, true
	s.proceed(w, r, f)
}

// grantsAny reports whether any requested scope of g was granted before.
func grantsAny(g directory.ResourceScopes, granted map[string]bool) bool {
	return slices.ContainsFunc(g.Scopes, func(sc directory.Scope) bool { return granted[sc.Key()] })
}
