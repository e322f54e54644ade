package protocol

import (
	"net/http"

	"github.com/sigil-idp/sigil/internal/bearer"
	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/profile"
)

// Handler returns every route Sigil serves. This function is the whole URL map.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	// Metadata, readable from any origin.
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /{tenant}/.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", s.jwks)
	// The protocol.
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", s.authorize)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/authorize", s.authorize)
	mux.HandleFunc("/{tenant}/oauth2/v2.0/token", s.token)           // every method: errors are JSON too
	mux.HandleFunc("/{tenant}/oauth2/v2.0/devicecode", s.deviceCode) // the same
	mux.HandleFunc("GET /devicelogin", s.deviceLoginPage)
	mux.HandleFunc("GET /{tenant}/v2.0/adminconsent", s.adminConsent)
	mux.HandleFunc("GET /{tenant}/UserRealm/{username}", s.userRealmEndpoint) // MSAL Go, before the password grant
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/logout", s.logout)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/logout", s.logout)
	mux.Handle("/oidc/userinfo", s.userinfo(s.Guard(directory.ProfileAudience)))
	// The built-in profile API (Microsoft Graph's /me, in part).
	profileGuard := s.Guard(directory.ProfileAudience)
	mux.Handle("/v1.0/me", profile.NewHandler(profileGuard, s.store, s.publicURL))
	mux.Handle("/v1.0/me/memberOf", profile.NewMemberOfHandler(profileGuard, s.store, s.publicURL))
	mux.Handle("/v1.0/me/getMemberObjects", profile.NewMemberObjectsHandler(profileGuard, s.store, s.publicURL))
	// Sigil's own pages post back here; cross-origin posts are refused (CSRF) with an error
	// page like any other.
	forms := http.NewCrossOriginProtection()
	forms.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := errForgedForm.new()
		e.Status = http.StatusForbidden
		s.failPage(w, r, "form", e)
	}))
	mux.Handle("POST /-/login", forms.Handler(http.HandlerFunc(s.login)))
	mux.Handle("POST /-/consent", forms.Handler(http.HandlerFunc(s.consent)))
	mux.Handle("POST /-/pick", forms.Handler(http.HandlerFunc(s.pick)))
	mux.Handle("POST /-/devicelogin", forms.Handler(http.HandlerFunc(s.deviceLogin)))
	mux.Handle("POST /-/signout", forms.Handler(http.HandlerFunc(s.confirmLogout)))
	mux.Handle("GET /-/assets/", s.pages.Assets())
	// For people: what this server is, and a tenant's settings at its authority URL.
	mux.HandleFunc("GET /{$}", s.landing)
	mux.HandleFunc("GET /{tenant}", s.tenantLanding)
	mux.HandleFunc("GET /favicon.ico", s.pages.Favicon)
	// The test-control API, only when it is turned on (testcontrol.go; README's contract).
	if s.control != nil {
		mux.Handle("POST /-/test/users", s.controlGuard(s.controlCreateUser))
		mux.Handle("DELETE /-/test/users/{username}", s.controlGuard(s.controlDeleteUser))
		mux.Handle("POST /-/test/users/{username}/revoke", s.controlGuard(s.controlRevokeUser))
		mux.Handle("POST /-/test/failures", s.controlGuard(s.controlForceFailure))
		mux.Handle("DELETE /-/test/failures", s.controlGuard(s.controlClearFailures))
		mux.Handle("GET /-/test/clock", s.controlGuard(s.controlGetClock))
		mux.Handle("PUT /-/test/clock", s.controlGuard(s.controlSetClock))
		mux.Handle("DELETE /-/test/throttles", s.controlGuard(s.controlClearThrottles))
		mux.Handle("POST /-/test/reset", s.controlGuard(s.controlReset))
	}
	// Operations.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.failJSON(w, r, "route", errNotFound.new(truncate(r.Method+" "+r.URL.Path, 200)))
	})
	return s.withIDs(mux)
}

// Guard returns a bearer-token guard for access tokens issued for audience.
func (s *Server) Guard(audience string) *bearer.Guard {
	return &bearer.Guard{Keys: s.keys, PublicURL: s.publicURL, Audience: audience, Now: s.now,
		IsSPAOrigin: s.store.IsSPAOrigin}
}

// healthz says the process serves requests.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyz says the process can answer protocol requests: it is not shutting down (Drain), the
// database responds and a signing key is loaded.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.Draining() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("shutting down\n"))
		return
	}
	if err := s.store.Ping(r.Context()); err != nil {
		s.logError(r.Context(), "readyz", asError(err))
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("database unavailable\n"))
		return
	}
	if len(s.keys.JWKS()) == 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("no signing key\n"))
		return
	}
	w.Write([]byte("ok\n"))
}
