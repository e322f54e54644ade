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
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/localca"
	"github.com/sigil-idp/sigil/internal/password"
	"github.com/sigil-idp/sigil/internal/protocol"
	"github.com/sigil-idp/sigil/internal/session"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/store/sqlstore"
	"github.com/sigil-idp/sigil/internal/tokens"
	"github.com/sigil-idp/sigil/internal/web"
)

// App is one Sigil server.
type App struct {
	cfg     config.Config
	log     *slog.Logger
	store   store.Store
	keys    *tokens.KeySet
	handler http.Handler
	tls     *tls.Config // nil: plain HTTP behind a TLS-terminating proxy
	caFile  string      // the local CA of tls.auto, "" otherwise
	caMade  bool        // tls.auto made that CA on this start
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
	// Dev is sigil dev: error pages carry notes for the developer (registered redirect URIs,
	// the configuration key to edit), and the test-control API is on.
	Dev bool
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
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: o.Logger, store: st}
	if err := a.prepare(ctx, o); err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// prepare applies the configuration while the signing key loads (a first start generates
// an RSA key, which takes a while), then builds the handler and TLS.
func (a *App) prepare(ctx context.Context, o Options) error {
	var wg sync.WaitGroup
	var keyErr error
	wg.Go(func() { a.keys, keyErr = tokens.LoadKeys(ctx, a.store, o.Now) })
	applyErr := config.Apply(ctx, a.cfg, a.store, o.HashParams)
	wg.Wait()
	if err := errors.Join(applyErr, keyErr); err != nil {
		return err
	}
	seed := make([]byte, 32)
	rand.Read(seed)
	pairwise, err := a.store.Secret(ctx, "pairwise-subject", seed)
	if err != nil {
		return err
	}
	seed = make([]byte, 32)
	rand.Read(seed)
	interactionKey, err := a.store.Secret(ctx, "interaction-seal", seed)
	if err != nil {
		return err
	}
	seed = make([]byte, 32)
	rand.Read(seed)
	refreshKey, err := a.store.Secret(ctx, "refresh-token", seed)
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
	srv, err := protocol.NewServer(protocol.Options{
		PublicURL: c.PublicURL, Store: a.store, Keys: a.keys, PairwiseKey: pairwise, Pages: pages,
		Sessions:  session.NewManager(a.store, time.Duration(c.Sessions.Lifetime), time.Duration(c.Sessions.RememberLifetime)),
		Lifetimes: c.Lifetimes(),
		Throttle: protocol.Throttle{Account: c.LoginThrottle.AccountFailures, Address: c.LoginThrottle.IPFailures,
			Window: time.Duration(c.LoginThrottle.Window)},
		Passwords: o.HashParams, InteractionKey: interactionKey, RefreshKey: refreshKey, Logger: a.log, Now: o.Now, GroupsOverageLimit: c.GroupsOverageLimit, Dev: o.Dev,
		TestControl: control,
	})
	if err != nil {
		return err
	}
	a.handler = srv.Handler()
	if o.Wrap != nil {
		a.handler = o.Wrap(a.handler)
	}
	return a.prepareTLS(o.Now())
}

// openStore opens the configured storage: a SQLite file (in dataDir by default) or
// PostgreSQL.
func openStore(ctx context.Context, c config.Config) (store.Store, error) {
	switch {
	case strings.HasPrefix(c.Storage, "postgres://"), strings.HasPrefix(c.Storage, "postgresql://"):
		return sqlstore.OpenPostgres(ctx, c.Storage)
	case c.Storage == "sqlite":
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("app: data directory: %w", err)
		}
		return sqlstore.OpenSQLite(ctx, filepath.Join(c.DataDir, "sigil.db"))
	case strings.HasPrefix(c.Storage, "sqlite:"):
		return sqlstore.OpenSQLite(ctx, strings.TrimPrefix(c.Storage, "sqlite:"))
	}
	return nil, fmt.Errorf("app: unsupported storage %q", c.Storage)
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

// Store is the App's store.
func (a *App) Store() store.Store { return a.store }

// TLSConfig is the server's TLS configuration, nil when it serves plain HTTP.
func (a *App) TLSConfig() *tls.Config { return a.tls }

// CAFile is the local CA certificate of tls.auto (for users to trust), or "".
func (a *App) CAFile() string { return a.caFile }

// CAMade reports whether tls.auto made its local CA on this start (rather than reusing the
// one in the data folder), so the user must trust it anew.
func (a *App) CAMade() bool { return a.caMade }

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
// gracefully (in-flight requests get ten seconds).
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	if a.tls != nil {
		ln = tls.NewListener(ln, a.tls)
	}
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelDebug)}
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
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	return nil
}

// background reloads the signing keys every minute (another node may rotate them) and
// deletes expired records every ten minutes.
func (a *App) background(ctx context.Context) {
	keys := time.NewTicker(time.Minute)
	cleanup := time.NewTicker(10 * time.Minute)
	defer keys.Stop()
	defer cleanup.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-keys.C:
			if err := a.keys.Reload(ctx); err != nil {
				a.log.ErrorContext(ctx, "reload signing keys", "error", err.Error())
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

// Close releases the store.
func (a *App) Close() error { return a.store.Close() }
