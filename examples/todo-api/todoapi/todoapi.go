// Package todoapi is the example API of examples/todo-api: a to-do list per user that accepts
// Sigil's access tokens through package apiauth — Todo.Read to list, Todo.Write to add, the
// app role Todo.Admin to clear everyone's — and that, after a simulated security event ("the
// user changed their password"), refuses older tokens with a claims challenge, as Entra's
// CAE-enabled APIs do, so that MSAL's acquireTokenSilent({claims}) gets a fresh token.
//
// State lives in memory: it is an example of the API side, not of storage.
package todoapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/sigil-idp/sigil/apiauth"
)

// Config is what the API needs: the verifier for Sigil's tokens, the browser origins allowed
// to call it (CORS), and a clock.
type Config struct {
	Verifier *apiauth.Verifier
	Origins  []string         // e.g. https://localhost:3004
	Now      func() time.Time // nil: time.Now
}

// Server is the to-do API.
type Server struct {
	cfg Config
	mu  sync.Mutex
	// todos holds each user's items, by the tokens' oid.
	todos map[string][]string
	// notBefore: tokens issued before it get a claims challenge (0: none).
	notBefore int64
}

// New returns the API for cfg.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{cfg: cfg, todos: map[string][]string{}}
}

// Handler is the API's routes:
//
//	GET    /todos                     the caller's items (scope Todo.Read, or the role Todo.Admin)
//	POST   /todos {"text": "…"}       add one (scope Todo.Write)
//	DELETE /todos                     clear every user's items (the app role Todo.Admin)
//	POST   /-/security-event          from now on, tokens issued before now are challenged
func (s *Server) Handler() http.Handler {
	m := &apiauth.Middleware{Verifier: s.cfg.Verifier, ErrorHandler: s.fail}
	mux := http.NewServeMux()
	mux.Handle("GET /todos", m.Require(s.fresh(http.HandlerFunc(s.list)),
		apiauth.Requirement{AnyScope: []string{"Todo.Read"}}, apiauth.Requirement{AnyRole: []string{"Todo.Admin"}}))
	mux.Handle("POST /todos", m.Require(s.fresh(http.HandlerFunc(s.add)), apiauth.Requirement{AnyScope: []string{"Todo.Write"}}))
	mux.Handle("DELETE /todos", m.Require(s.fresh(http.HandlerFunc(s.clear)), apiauth.Requirement{AnyRole: []string{"Todo.Admin"}}))
	mux.HandleFunc("POST /-/security-event", s.securityEvent)
	return s.cors(mux)
}

// fail answers refused requests with apiauth's RFC 6750 answers, CORS headers included (the
// cors wrapper set them already).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	apiauth.WriteError(w, "", err)
}

// fresh refuses tokens issued before the last security event with a claims challenge
// asking for a token issued no earlier than it.
func (s *Server) fresh(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		nb := s.notBefore
		s.mu.Unlock()
		if t := apiauth.FromContext(r.Context()); nb != 0 && t.IssuedAt.Unix() < nb {
			apiauth.WriteClaimsChallenge(w, apiauth.NotBeforeClaims(nb), "the token was issued before a security event; get a new one")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	t := apiauth.FromContext(r.Context())
	s.mu.Lock()
	items := slices.Clone(s.todos[t.ObjectID])
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"user": t.ObjectID, "todos": items})
}

func (s *Server) add(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil || in.Text == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `the body must be {"text": "…"}`})
		return
	}
	t := apiauth.FromContext(r.Context())
	s.mu.Lock()
	s.todos[t.ObjectID] = append(s.todos[t.ObjectID], in.Text)
	items := slices.Clone(s.todos[t.ObjectID])
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"user": t.ObjectID, "todos": items})
}

func (s *Server) clear(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.todos = map[string][]string{}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// securityEvent simulates what makes an Entra CAE API refuse older tokens (a password
// change, a revoked session): tokens issued before the next whole second are challenged.
func (s *Server) securityEvent(w http.ResponseWriter, r *http.Request) {
	nb := s.cfg.Now().Unix() + 1
	s.mu.Lock()
	s.notBefore = nb
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]int64{"notBefore": nb})
}

// cors lets the configured origins call the API with a bearer token and read its challenges.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && slices.Contains(s.cfg.Origins, o) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
			h.Add("Vary", "Origin")
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
