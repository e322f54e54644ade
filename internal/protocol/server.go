package protocol

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/password"
	"github.com/sigil-idp/sigil/internal/session"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
	"github.com/sigil-idp/sigil/internal/web"
)

// Options are the server's dependencies and settings.
type Options struct {
	PublicURL   string // scheme://host[:port], no trailing slash
	Store       store.Store
	Keys        *tokens.KeySet
	PairwiseKey []byte // instance secret for pairwise subjects
	Sessions    *session.Manager
	Pages       *web.Pages
	Lifetimes   directory.Lifetimes // server defaults; apps override
	Throttle    Throttle
	// GroupsOverageLimit is the most groups a token lists; 0 means Entra's 200.
	GroupsOverageLimit int
	Passwords          password.Params // argon2id parameters for new hashes
	// InteractionKey (32 bytes, the same on every node) seals pending interactions into
	// the sign-in pages' forms.
	InteractionKey []byte
	// RefreshKey (32 bytes, the same on every node) derives refresh tokens' successors from
	// them and authenticates refresh tokens (token_refresh.go).
	RefreshKey []byte
	// DeviceKey (32 bytes, the same on every node) signs the device cookie (device.go).
	DeviceKey []byte
	// Proxies are the reverse proxies whose forwarding header names the client's address.
	Proxies Proxies
	Logger  *slog.Logger
	Now     func() time.Time
	// Dev (sigil dev) adds notes for the developer to error pages: the registered redirect
	// URIs of the app, the configuration key to edit.
	Dev bool
	// TestControl, when not nil, serves the test-control API under /-/test/ (testcontrol.go).
	TestControl *TestControl
	// BackchannelAllowLocal lets back-channel logout reach loopback and link-local addresses
	// (dev mode, tests); they are refused otherwise.
	BackchannelAllowLocal bool
	// SecurityEvent, when set, learns the kind of every security event (signin.lockout,
	// clientauth.throttled, refresh.reuse, …) as it is logged (metrics).
	SecurityEvent func(kind string)
	// Tracer, when set, makes every request a span, with the store's statements and the token
	// signatures as spans under it.
	Tracer trace.Tracer
	// Observe, when set, learns of every request once it is answered (metrics).
	Observe func(RequestInfo)
	// TokenIssued, when set, learns of every successful token response: the grant type and
	// the resource of its access token.
	TokenIssued func(grantType, resource string)
}

// Throttle limits failed sign-ins: after Account failures for one account, or Address
// failures from one client address, within Window, sign-in is refused until the window passes
// (throttle.go). In front of password hashing, each node admits at most AddressConcurrency
// checks at once per address and AddressBurst in a row, then one more every AddressRefill
// (zero values: 2, 5, 10 s).
type Throttle struct {
	Account            int
	Address            int
	Window             time.Duration
	AddressConcurrency int
	AddressBurst       int
	AddressRefill      time.Duration
}

// Server answers the Microsoft identity platform v2.0 endpoints. Build it with NewServer and
// mount Handler.
type Server struct {
	publicURL  string
	store      store.Store
	keys       *tokens.KeySet
	pairwise   []byte
	sessions   *session.Manager
	pages      *web.Pages
	lifetimes  directory.Lifetimes
	throttle   Throttle
	log        *slog.Logger
	now        func() time.Time
	hashing    *hashQueue   // bounds concurrent password hashing (memory × concurrency)
	gate       *addressGate // admits password checks per client address, in front of hashing
	proxies    Proxies
	deviceKey  []byte
	dev        bool // error pages carry notes for the developer
	sealer     *interactionSealer
	refreshKey []byte
	dummyHash  string // verified for unknown usernames, so they cost what known ones do
	passwords  password.Params
	// groupsOverage is the most groups a token lists (mint_roles.go).
	groupsOverage int
	// control is the test-control API's settings, nil when it is off; clockOffset (ns) is
	// what its clock endpoint added to now.
	control     *TestControl
	clockOffset atomic.Int64
	observe     func(RequestInfo)
	tokenIssued func(grantType, resource string)
	backchannel *http.Client // posts back-channel logout tokens (backchannel.go)
	tracer      trace.Tracer // nil: no tracing
	// securityEvent learns of every security event (Options.SecurityEvent).
	securityEvent func(kind string)
	// draining: the process is shutting down (Drain); /readyz answers 503.
	draining atomic.Bool
}

// Drain marks the server as shutting down: from now on /readyz answers 503 so that load
// balancers stop sending it requests, while the requests that still arrive are served.
func (s *Server) Drain() { s.draining.Store(true) }

// Draining reports whether Drain was called.
func (s *Server) Draining() bool { return s.draining.Load() }

// NewServer builds the server.
func NewServer(o Options) (*Server, error) {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	dummy, err := password.Hash(tokens.RandomID(16), o.Passwords)
	if err != nil {
		return nil, err
	}
	sealer, err := newInteractionSealer(o.InteractionKey)
	if err != nil {
		return nil, err
	}
	if len(o.RefreshKey) < 32 {
		return nil, errors.New("protocol: the refresh-token key must have 32 bytes")
	}
	s := &Server{sealer: sealer, refreshKey: o.RefreshKey,
		publicURL: o.PublicURL, store: o.Store, keys: o.Keys, pairwise: o.PairwiseKey, sessions: o.Sessions,
		pages: o.Pages, lifetimes: o.Lifetimes, throttle: o.Throttle, log: o.Logger, now: now,
		hashing: newHashQueue(2), proxies: o.Proxies, deviceKey: o.DeviceKey, dummyHash: dummy, passwords: o.Passwords,
		groupsOverage: o.GroupsOverageLimit, dev: o.Dev, control: o.TestControl, observe: o.Observe, tokenIssued: o.TokenIssued,
		backchannel: backchannelClient(o.BackchannelAllowLocal), tracer: o.Tracer,
		securityEvent: o.SecurityEvent,
	}
	if len(s.deviceKey) == 0 {
		s.deviceKey = []byte(tokens.RandomID(32)) // one node, cookies valid until it restarts
	}
	s.gate = newAddressGate(s.throttle, func() time.Time { return s.now() })
	if s.control != nil {
		// Everything that asks the time — token lifetimes, code and session expiry, throttle
		// windows, bearer-token checks — asks s.now, so the offset moves all of it.
		s.now = func() time.Time { return now().Add(time.Duration(s.clockOffset.Load())) }
	}
	return s, nil
}

// lifetimesFor returns the app's effective lifetimes.
func (s *Server) lifetimesFor(app directory.App) directory.Lifetimes {
	return app.Lifetimes.Over(s.lifetimes)
}

// requestIDs are the ids that Entra-shaped errors report and logs carry: a trace id per
// request, and the client's correlation id (client-request-id) when it sent a usable one.
type requestIDs struct {
	trace       string
	correlation string
	outcome     *outcome // for Options.Observe; nil when nobody observes
	addr        string   // the client's address, for security events
}

type idsKey struct{}

// withIDs is middleware that assigns request ids, and reports each request to the observer.
func (s *Server) withIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ids := requestIDs{trace: newGUID(), addr: s.clientAddress(r)}
		ids.correlation = r.URL.Query().Get("client-request-id")
		if ids.correlation == "" {
			ids.correlation = r.Header.Get("client-request-id")
		}
		if !directory.IsGUID(ids.correlation) {
			ids.correlation = newGUID()
		}
		ctx := r.Context()
		var span trace.Span
		if s.tracer != nil {
			// One server span per request; its trace id is the trace_id errors report.
			ctx, span = s.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer))
			ids.trace = traceGUID(span.SpanContext().TraceID())
		}
		w.Header().Set("x-ms-request-id", ids.trace)
		w.Header().Set("client-request-id", ids.correlation)
		if s.observe == nil && span == nil {
			next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, idsKey{}, ids)))
			return
		}
		ids.outcome = &outcome{}
		s.observed(w, r.WithContext(context.WithValue(ctx, idsKey{}, ids)), next, ids.outcome, span)
	})
}

func idsOf(ctx context.Context) requestIDs {
	ids, _ := ctx.Value(idsKey{}).(requestIDs)
	return ids
}

// logError logs a failure once, at Error for our faults and at Info for the client's.
func (s *Server) logError(ctx context.Context, where string, e *Error) {
	ids := idsOf(ctx)
	if ids.outcome != nil {
		ids.outcome.aadsts = e.AADSTS
	}
	level := slog.LevelInfo
	if e.Status >= 500 {
		level = slog.LevelError
	}
	attrs := []any{"where", where, "error", e.Code, "aadsts", e.AADSTS, "trace_id", ids.trace, "correlation_id", ids.correlation}
	if e.Cause != nil {
		attrs = append(attrs, "cause", e.Cause.Error())
	}
	s.log.Log(ctx, level, e.Description, attrs...)
}
