// Package app assembles a running Sigil from a validated configuration: it opens the store,
// applies the bootstrap file, loads the signing keys, prepares TLS, builds the protocol
// handler, and serves it with its background jobs. cmd/sigil and the end-to-end tests run the
// same App.
package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/sigil-idp/sigil/internal/admin"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/graph"
	"github.com/sigil-idp/sigil/internal/localca"
	"github.com/sigil-idp/sigil/internal/password"
	"github.com/sigil-idp/sigil/internal/protocol"
	"github.com/sigil-idp/sigil/internal/session"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/store/sqlstore"
	"github.com/sigil-idp/sigil/internal/tokens"
	"github.com/sigil-idp/sigil/internal/web"
	"go.opentelemetry.io/otel/trace"
)

// App is one Sigil server.
type App struct {
	cfg     config.Config
	log     *slog.Logger
	store   store.Store
	keys    *tokens.KeySet
	ring    *tokens.KeyRing // seals the signing keys' private keys
	srv     *protocol.Server
	handler http.Handler
	// shutdownDelay is how long Serve keeps serving, not ready, once asked to stop.
	shutdownDelay time.Duration
	tls           *tls.Config              // nil: plain HTTP behind a TLS-terminating proxy
	caFile        string                   // the local CA of tls.auto, "" otherwise
	caMade        bool                     // tls.auto made that CA on this start
	admin         http.Handler             // the admin listener's, nil when admin.listen is unset
	metrics       *metrics                 // served at the admin listener's /metrics; nil without one
	tracing       *sdktrace.TracerProvider // nil unless tracing is configured
}

// Options adjust an App beyond its configuration.
type Options struct {
	Logger *slog.Logger
	// HashParams are the argon2id parameters for passwords from the bootstrap file; zero
	// means password.DefaultParams.
	HashParams password.Params
	Now        func() time.Time
	// Wrap, when set, wraps the whole HTTP handler (request logging, instrumentation).
	Wrap func(http.Handler) http.Handler
	// WrapStore, when set, wraps the opened store (tests count or hold its calls).
	WrapStore func(store.Store) store.Store
	// TraceExporter, when set, receives every span synchronously (tests); it turns tracing on.
	TraceExporter sdktrace.SpanExporter
	// Dev is sigil dev: error pages carry notes for the developer (registered redirect URIs,
	// the configuration key to edit), and the test-control API is on.
	Dev bool
	// KeyEncryptionKey is what SIGIL_KEY_ENCRYPTION_KEY holds (base64 keys, the first seals),
	// used when keyEncryptionKeyFile is not set.
	KeyEncryptionKey string
	// ShutdownDelay is how long Serve goes on serving once its context ends, with /readyz
	// answering 503 and every answer closing its connection, before it stops accepting: the
	// time a load balancer needs to take the node out of rotation (a few of its health-check
	// intervals), so that a rolling restart loses no request. Zero stops at once.
	ShutdownDelay time.Duration
}

// New builds an App: the store is opened and migrated, the configuration applied, the keys
// loaded (a first key created), and TLS material prepared. Close releases it.
func New(ctx context.Context, cfg config.Config, o Options) (*App, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HashParams == (password.Params{}) {
		o.HashParams = password.DefaultParams()
	}
	st, err := OpenStore(ctx, cfg, o.Logger)
	if err != nil {
		return nil, err
	}
	if o.WrapStore != nil {
		st = o.WrapStore(st)
	}
	a := &App{cfg: cfg, log: o.Logger, store: st, shutdownDelay: o.ShutdownDelay}
	if err := a.prepare(ctx, o); err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// prepare applies the configuration while the signing key loads (a first start generates
// an RSA key, which takes a while), then builds the handler and TLS.
func (a *App) prepare(ctx context.Context, o Options) error {
	ring, err := a.keyRing(ctx, o)
	if err != nil {
		return err
	}
	a.ring = ring
	var wg sync.WaitGroup
	var keyErr error
	wg.Go(func() { a.keys, keyErr = tokens.LoadKeys(ctx, a.store, ring, o.Now) })
	applyErr := config.Apply(ctx, a.cfg, a.store, o.HashParams)
	wg.Wait()
	if err := errors.Join(applyErr, keyErr); err != nil {
		return err
	}
	a.log.Info("RS256 signing", "backend", a.keys.RSABackend())
	pairwise, err := a.secret(ctx, "pairwise-subject")
	if err != nil {
		return err
	}
	interactionKey, err := a.secret(ctx, "interaction-seal")
	if err != nil {
		return err
	}
	deviceKey, err := a.secret(ctx, "device-cookie")
	if err != nil {
		return err
	}
	refreshKey, err := a.secret(ctx, "refresh-token")
	if err != nil {
		return err
	}
	proxies, err := protocol.ParseProxies(a.cfg.TrustedProxies, a.cfg.ForwardedHeader)
	if err != nil {
		return err
	}
	pages, err := web.New()
	if err != nil {
		return err
	}
	c := a.cfg
	var control *protocol.TestControl
	if c.Testing.ControlAPI || o.Dev {
		control = &protocol.TestControl{Token: c.Testing.ControlToken,
			Reset: func(ctx context.Context) error { return config.Apply(ctx, c, a.store, o.HashParams) }}
	}
	var observe func(protocol.RequestInfo)
	var tokenIssued func(string, string)
	var securityEvent func(string)
	if c.Admin.Listen != "" {
		a.metrics = newMetrics()
		observe, tokenIssued = a.metrics.observe, a.metrics.tokenIssued
		a.keys.OnSign = a.metrics.signed
		a.metrics.watchKeys(a.keys.Keys)
		if o, ok := a.store.(interface {
			SetObserver(func(string, time.Duration, error))
		}); ok {
			o.SetObserver(a.metrics.statement)
		}
		if o, ok := a.store.(interface{ SetBatchObserver(func(int)) }); ok {
			o.SetBatchObserver(a.metrics.committed)
		}
		securityEvent = a.metrics.securityEvent
	}
	if c.AccessLog {
		observe = a.accessLog(observe)
	}
	tracer, err := a.newTracer(ctx, o)
	if err != nil {
		return err
	}
	if t, ok := a.store.(interface{ SetTracer(trace.Tracer) }); ok && tracer != nil {
		t.SetTracer(tracer)
	}
	srv, err := protocol.NewServer(protocol.Options{
		PublicURL: c.PublicURL, Store: a.store, Keys: a.keys, PairwiseKey: pairwise, Pages: pages,
		Sessions:  session.NewManager(a.store, time.Duration(c.Sessions.Lifetime), time.Duration(c.Sessions.RememberLifetime)),
		Lifetimes: c.Lifetimes(),
		Throttle: protocol.Throttle{Account: c.LoginThrottle.AccountFailures, Address: c.LoginThrottle.IPFailures,
			Window: time.Duration(c.LoginThrottle.Window), AddressConcurrency: c.LoginThrottle.AddressConcurrency,
			AddressBurst: c.LoginThrottle.AddressBurst, AddressRefill: time.Duration(c.LoginThrottle.AddressRefill)},
		DeviceKey: deviceKey, Proxies: proxies,
		Passwords: o.HashParams, InteractionKey: interactionKey, RefreshKey: refreshKey, Logger: a.log, Now: o.Now, GroupsOverageLimit: c.GroupsOverageLimit, Dev: o.Dev,
		TestControl: control, Observe: observe, TokenIssued: tokenIssued, Tracer: tracer,
		SecurityEvent:         securityEvent,
		BackchannelAllowLocal: c.BackchannelLogout.AllowLocalAddresses || o.Dev,
	})
	if err != nil {
		return err
	}
	a.srv = srv
	a.handler = closeWhenDraining(srv, srv.Handler())
	if c.Admin.Listen != "" {
		a.admin = a.adminHandler(srv, o)
	}
	if o.Wrap != nil {
		a.handler = o.Wrap(a.handler)
	}
	return a.prepareTLS(o.Now())
}

// secret returns the named 32-byte instance secret, the same on every node: the first node
// to start stores a random one, sealed by the key-encryption key; one stored unsealed by an
// older Sigil, or sealed by an older KEK, is sealed anew (conditionally: racing nodes agree).
func (a *App) secret(ctx context.Context, name string) ([]byte, error) {
	seed := make([]byte, 32)
	rand.Read(seed)
	blob, err := a.store.Secret(ctx, name, a.ring.SealSecret(name, seed))
	if err != nil {
		return nil, err
	}
	value, current, err := a.ring.OpenSecret(name, blob)
	if err != nil {
		return nil, err
	}
	if !current {
		err := a.store.ResealSecret(ctx, name, blob, a.ring.SealSecret(name, value))
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
	}
	return value, nil
}

// Migrate brings the configured database's schema up to date and closes it, reporting the
// versions of the migrations it applied (none when there was nothing to do) and the schema
// version now — `sigil migrate`, run once ahead of a rollout so that the new nodes start on a
// migrated database. A schema newer than this binary is refused
// ([sqlstore.SchemaTooNewError]).
func Migrate(ctx context.Context, cfg config.Config, log *slog.Logger) (applied []int64, version int64, err error) {
	st, err := OpenStore(ctx, cfg, log)
	if err != nil {
		return nil, 0, err
	}
	defer st.Close()
	if m, ok := st.(interface{ Migrations() ([]int64, int64) }); ok {
		applied, version = m.Migrations()
	}
	return applied, version, nil
}

// OpenStore opens (and migrates) the configured storage: a SQLite file (in dataDir by
// default) or PostgreSQL. The admin commands use it beside a running server. With SQLite the
// data folder is made (or narrowed to) 0700 first: it holds the database, the tls.auto keys and the
// generated key-encryption key; log says when it was narrowed.
func OpenStore(ctx context.Context, c config.Config, log *slog.Logger) (store.Store, error) {
	if !isPostgres(c.Storage) {
		if err := dataDir(c.DataDir, log); err != nil {
			return nil, err
		}
	}
	switch {
	case isPostgres(c.Storage):
		return sqlstore.OpenPostgres(ctx, c.Storage)
	case c.Storage == "sqlite":
		return sqlstore.OpenSQLite(ctx, filepath.Join(c.DataDir, "sigil.db"))
	case strings.HasPrefix(c.Storage, "sqlite:"):
		return sqlstore.OpenSQLite(ctx, strings.TrimPrefix(c.Storage, "sqlite:"))
	}
	return nil, fmt.Errorf("app: unsupported storage %q", c.Storage)
}

func isPostgres(storage string) bool {
	return strings.HasPrefix(storage, "postgres://") || strings.HasPrefix(storage, "postgresql://")
}

// dataDir makes the data folder, 0700; one that exists with wider permissions is narrowed to
// 0700 (a warning when that is not possible: the folder may be another user's).
func dataDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("app: data directory: %w", err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("app: data directory: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			log.Warn("the data folder is open to other users and could not be narrowed to 0700", "dir", dir,
				"mode", fmt.Sprintf("%04o", perm), "error", err.Error())
		} else {
			log.Info("narrowed the data folder to 0700", "dir", dir, "was", fmt.Sprintf("%04o", perm))
		}
	}
	return nil
}

// prepareTLS loads the configured certificate, or with tls.auto makes (or reuses) a local CA
// and a certificate for publicUrl's host in dataDir.
func (a *App) prepareTLS(now time.Time) error {
	c := a.cfg.TLS
	var certFile, keyFile string
	switch {
	case c.Auto:
		u, err := url.Parse(a.cfg.PublicURL)
		if err != nil {
			return err
		}
		files, err := localca.Ensure(filepath.Join(a.cfg.DataDir, "tls"), []string{u.Hostname()}, now)
		if err != nil {
			return err
		}
		certFile, keyFile, a.caFile, a.caMade = files.Cert, files.Key, files.CACert, files.MadeCA
	case c.CertFile != "":
		certFile, keyFile = c.CertFile, c.KeyFile
	default:
		return nil
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("app: TLS certificate: %w", err)
	}
	a.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return nil
}

// Handler is the whole HTTP surface, for serving elsewhere or testing in-process.
func (a *App) Handler() http.Handler { return a.handler }

// DeliverLogouts sends the due back-channel logouts now (the background does it every five
// seconds), reporting how many were delivered.
func (a *App) DeliverLogouts(ctx context.Context) (int, error) { return a.srv.DeliverLogouts(ctx) }

// RotateKeys makes the next signing key of every algorithm current now (sigil keys rotate),
// refusing while one has been published for less than signingKeys.publishAhead unless
// ignoreAhead; it reports the kids that sign from now on, RS256's first.
func (a *App) RotateKeys(ctx context.Context, ignoreAhead bool) ([]string, error) {
	if _, err := a.keys.Rotate(ctx, a.cfg.KeyRotation(), true, ignoreAhead); err != nil {
		return nil, err
	}
	var kids []string
	for _, alg := range tokens.Algorithms() {
		kids = append(kids, a.keys.CurrentKeyID(alg))
	}
	return kids, nil
}

// Keys describes the stored signing keys (sigil keys list), after running the schedule once.
func (a *App) Keys(ctx context.Context) ([]tokens.KeyInfo, error) {
	if _, err := a.keys.Rotate(ctx, a.cfg.KeyRotation(), false, false); err != nil {
		return nil, err
	}
	return a.keys.Keys(ctx)
}

// KeyRing is the key-encryption keys that seal the signing keys in the store.
func (a *App) KeyRing() *tokens.KeyRing { return a.ring }

// Store is the App's store.
func (a *App) Store() store.Store { return a.store }

// TLSConfig is the server's TLS configuration, nil when it serves plain HTTP.
func (a *App) TLSConfig() *tls.Config { return a.tls }

// CAFile is the local CA certificate of tls.auto (for users to trust), or "".
func (a *App) CAFile() string { return a.caFile }

// CAMade reports whether tls.auto made its local CA on this start (rather than reusing the
// one in the data folder), so the user must trust it anew.
func (a *App) CAMade() bool { return a.caMade }

// accessLog returns an observer that logs each request, then calls next (when not nil).
func (a *App) accessLog(next func(protocol.RequestInfo)) func(protocol.RequestInfo) {
	return func(info protocol.RequestInfo) {
		a.log.Info("access", "method", info.Method, "path", info.Path, "route", info.Route, "status", info.Status,
			"aadsts", info.AADSTS, "duration_ms", float64(info.Duration.Microseconds())/1000, "trace_id", info.TraceID,
			"client_address", info.Address)
		if next != nil {
			next(info)
		}
	}
}

// adminHandler is the admin listener's URL map: the Graph-shaped admin API under /v1.0/,
// Prometheus metrics at /metrics, and /healthz and /readyz as the main listener answers them.
func (a *App) adminHandler(srv *protocol.Server, o Options) http.Handler {
	api := &graph.API{Guard: srv.Guard(directory.AdminResource), BaseURL: "http://" + a.cfg.Admin.Listen,
		Admin: &admin.Admin{Store: a.store, Hash: o.HashParams, Log: a.log, Now: o.Now, Actor: "admin-api"}}
	mux := http.NewServeMux()
	mux.Handle("/v1.0/", api.Handler())
	mux.Handle("GET /metrics", a.metrics.handler())
	if a.cfg.Admin.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.Handle("GET /healthz", a.handler)
	mux.Handle("GET /readyz", a.handler)
	return mux
}

// AdminHandler is the admin listener's handler, nil when admin.listen is unset.
func (a *App) AdminHandler() http.Handler { return a.admin }

// ServeAdmin serves the admin listener on ln (plain HTTP) until ctx ends.
func (a *App) ServeAdmin(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: a.admin, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: serverErrorLog(a.log)}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Listen opens the configured listen address, naming setting (how the user changes it) in
// the error if it cannot. Serve serves on it.
func (a *App) Listen(setting string) (net.Listener, error) { return Bind(a.cfg.Listen, setting) }

// Bind listens on addr; when it cannot, the error is a [*BindError] naming setting.
func Bind(addr, setting string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &BindError{Addr: addr, Setting: setting, Err: err}
	}
	return ln, nil
}

// BindError is a listen address that could not be opened, with the setting that chooses it
// (such as "--listen or SIGIL_LISTEN"), so the message says what to change.
type BindError struct {
	Addr    string
	Setting string
	Err     error
}

func (e *BindError) Error() string {
	why := e.Err.Error()
	if errors.Is(e.Err, syscall.EADDRINUSE) {
		why = "the port is in use by another process"
	}
	return fmt.Sprintf("cannot listen on %s: %s; choose another address with %s", e.Addr, why, e.Setting)
}

// Unwrap returns the listen error.
func (e *BindError) Unwrap() error { return e.Err }

// Serve serves on ln, with the background jobs, until ctx ends; then it shuts down
// gracefully (in-flight requests get transport.shutdownTimeout). Connections over the
// transport caps are closed as they are accepted; over TLS the server offers HTTP/2.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	t := a.cfg.Transport
	ln = limitConnections(ln, t.MaxConnections, t.MaxConnectionsPerAddress)
	srv := a.httpServer()
	if a.tls != nil {
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	jobs, stopJobs := context.WithCancel(ctx)
	defer stopJobs()
	go a.background(jobs)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if a.shutdownDelay > 0 {
		a.Drain()
		a.log.Info("sigil draining: /readyz answers 503 until the server stops", "shutdown_delay", a.shutdownDelay.String())
		select {
		case err := <-errc:
			return err
		case <-time.After(a.shutdownDelay):
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), time.Duration(t.ShutdownTimeout))
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	return nil
}

// serverErrorLog is net/http's error log: a handler's panic (which net/http recovers, closing
// the connection) at error level, everything else it reports (a client's failed TLS
// handshake, a malformed request) at debug.
func serverErrorLog(l *slog.Logger) *log.Logger {
	return log.New(serverLogWriter{l}, "", 0)
}

type serverLogWriter struct{ l *slog.Logger }

func (w serverLogWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	level := slog.LevelDebug
	if strings.Contains(msg, "http: panic serving") {
		level = slog.LevelError
	}
	w.l.Log(context.Background(), level, msg)
	return len(p), nil
}

// httpServer is the HTTP server of the transport settings: HTTP/1.1, and HTTP/2 over TLS
// (offered by ALPN) with at most maxConcurrentStreams streams a connection.
func (a *App) httpServer() *http.Server {
	t := a.cfg.Transport
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: time.Duration(t.ReadHeaderTimeout),
		ReadTimeout: time.Duration(t.ReadTimeout), WriteTimeout: time.Duration(t.WriteTimeout),
		IdleTimeout: time.Duration(t.IdleTimeout), MaxHeaderBytes: t.MaxHeaderBytes,
		HTTP2:    &http.HTTP2Config{MaxConcurrentStreams: t.MaxConcurrentStreams, MaxDecoderHeaderTableSize: 4 << 10},
		ErrorLog: serverErrorLog(a.log)}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	if a.tls != nil {
		srv.Protocols.SetHTTP2(true)
		srv.TLSConfig = a.tls.Clone()
		srv.TLSConfig.NextProtos = []string{"h2", "http/1.1"}
	}
	return srv
}

// background delivers due back-channel logouts every five seconds, runs the signing keys'
// schedule every minute — publishing a next key, rotating
// when it is due, deleting retired keys, reloading what another node changed — and
// deletes expired records every ten minutes.
func (a *App) background(ctx context.Context) {
	keys := time.NewTicker(time.Minute)
	cleanup := time.NewTicker(10 * time.Minute)
	logouts := time.NewTicker(5 * time.Second)
	defer keys.Stop()
	defer cleanup.Stop()
	defer logouts.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-keys.C:
			rotated, err := a.keys.Rotate(ctx, a.cfg.KeyRotation(), false, false)
			if err != nil {
				a.log.ErrorContext(ctx, "signing key rotation", "error", err.Error())
			} else if rotated {
				a.log.InfoContext(ctx, "rotated the signing keys: the next keys sign now",
					"kid", a.keys.CurrentKeyID(tokens.RS256), "es256_kid", a.keys.CurrentKeyID(tokens.ES256))
			}
		case <-logouts.C:
			if _, err := a.srv.DeliverLogouts(ctx); err != nil && ctx.Err() == nil {
				a.log.ErrorContext(ctx, "back-channel logout delivery", "error", err.Error())
			}
		case now := <-cleanup.C:
			err := errors.Join(a.store.DeleteExpired(ctx, now),
				a.store.PruneLoginFailures(ctx, now.Add(-time.Duration(a.cfg.LoginThrottle.Window))))
			if err != nil {
				a.log.ErrorContext(ctx, "delete expired records", "error", err.Error())
			}
		}
	}
}

// Drain makes /readyz answer 503 and every answer close its connection from now on, while
// requests are still served: the start of a graceful stop behind a load balancer (Serve does
// it by itself with Options.ShutdownDelay).
func (a *App) Drain() { a.srv.Drain() }

// closeWhenDraining answers "Connection: close" while the server drains, so that a balancer's
// kept-alive connections end after an answer instead of being cut while a request is on its
// way.
func closeWhenDraining(srv *protocol.Server, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if srv.Draining() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// Close flushes the traces still batched and releases the store.
func (a *App) Close() error {
	var err error
	if a.tracing != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = a.tracing.Shutdown(ctx) // flushes the spans still batched
	}
	return errors.Join(err, a.store.Close())
}
