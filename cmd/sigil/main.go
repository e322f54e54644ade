// Command sigil runs Sigil, a self-hosted identity platform for single-page apps that speaks
// the Microsoft identity platform v2.0 protocol.
//
//	sigil serve --config sigil.yaml   run the server from a configuration file
//	sigil dev                         run it with a demo tenant, user and SPA
//	sigil migrate --config sigil.yaml apply the database migrations and exit (before a rollout)
//	sigil version                     print the version (also: sigil --version)
//	sigil users list|add|disable|enable|set-password|delete --config sigil.yaml …
//	sigil apps list --config sigil.yaml --tenant contoso.test
//	sigil keys list|rotate --config sigil.yaml
//	sigil hash-password               a passwordHash for the bootstrap file
//
// Exit status: 0 on a clean stop, 1 when the server cannot start or fails, 2 for usage errors
// (an unknown command or flag, a missing argument).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/config"
)

// cli is the command line; flags fall back to SIGIL_* environment variables.
type cli struct {
	LogLevel  string           `help:"Log level: debug, info, warn or error." default:"info" enum:"debug,info,warn,error" env:"SIGIL_LOG_LEVEL"`
	LogFormat string           `help:"Log format: text or json." default:"text" enum:"text,json" env:"SIGIL_LOG_FORMAT"`
	Version_  kong.VersionFlag `name:"version" help:"Print the version and exit."`

	Serve   serveCmd   `cmd:"" help:"Run the server from a configuration file."`
	Dev     devCmd     `cmd:"" help:"Run Sigil with a demo tenant, user and single-page app; no configuration needed."`
	Migrate migrateCmd `cmd:"" help:"Apply the database migrations and exit: run it once before rolling out a new version."`
	Version versionCmd `cmd:"" help:"Print the version."`

	Users        usersCmd        `cmd:"" help:"Administer the users of a configuration's store (safe beside a running server)."`
	Apps         appsCmd         `cmd:"" help:"Look at the app registrations of a configuration's store."`
	Keys         keysCmd         `cmd:"" help:"List and rotate the signing keys of a configuration's store."`
	HashPassword hashPasswordCmd `cmd:"" name:"hash-password" help:"Read a password from standard input and print its argon2id hash, for passwordHash in the bootstrap file."`
}

// overrides are the settings a flag or environment variable may take over from the file.
type overrides struct {
	Listen    string `help:"Address to listen on (host:port)." env:"SIGIL_LISTEN"`
	PublicURL string `name:"public-url" help:"Scheme, host and port that browsers use, e.g. https://login.example.test:8443." env:"SIGIL_PUBLIC_URL"`
	Storage   string `help:"sqlite, sqlite:/path/file.db, or postgres://user:pw@host/db." env:"SIGIL_STORAGE"`
	DataDir   string `name:"data-dir" help:"Folder for the SQLite database and tls.auto certificates." env:"SIGIL_DATA_DIR"`
}

func (o overrides) config() config.Overrides {
	return config.Overrides{Listen: o.Listen, PublicURL: o.PublicURL, Storage: o.Storage, DataDir: o.DataDir}
}

type serveCmd struct {
	Config string `short:"c" required:"" help:"The configuration file (YAML)." env:"SIGIL_CONFIG"`
	overrides
	ShutdownDelay time.Duration `name:"shutdown-delay" help:"On SIGTERM, keep serving this long with /readyz answering 503 before stopping, so a load balancer drains the node first (e.g. 5s)." default:"0s" env:"SIGIL_SHUTDOWN_DELAY"`
}

func (c *serveCmd) Run(ctx context.Context, log *slog.Logger) error {
	cfg, err := config.Load(c.Config, c.overrides.config())
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.Options{Logger: log, KeyEncryptionKey: os.Getenv("SIGIL_KEY_ENCRYPTION_KEY"),
		ShutdownDelay: c.ShutdownDelay})
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := a.Listen("listen in " + c.Config + ", --listen or SIGIL_LISTEN")
	if err != nil {
		return err
	}
	attrs := []any{"listen", ln.Addr().String(), "public_url", cfg.PublicURL, "storage", storageName(cfg.Storage)}
	if a.CAFile() != "" {
		attrs = append(attrs, "ca_file", a.CAFile())
	}
	log.Info("sigil serving", attrs...)
	if a.CAMade() {
		log.Info("tls.auto made a local CA; trust it in your browser or OS to avoid certificate warnings", "ca_file", a.CAFile())
	}
	if a.AdminHandler() == nil {
		return a.Serve(ctx, ln)
	}
	adminLn, err := app.Bind(cfg.Admin.Listen, "admin.listen in "+c.Config)
	if err != nil {
		ln.Close()
		return err
	}
	log.Info("sigil admin listener serving", "admin_listen", adminLn.Addr().String())
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	adminErr := make(chan error, 1)
	go func() { adminErr <- a.ServeAdmin(ctx, adminLn) }()
	err = a.Serve(ctx, ln)
	stop()
	return errors.Join(err, <-adminErr)
}

type migrateCmd struct {
	Config  string `short:"c" help:"The configuration file (YAML); only its storage and dataDir are used. Without it, --storage and --data-dir (or their defaults)." env:"SIGIL_CONFIG"`
	Storage string `help:"sqlite, sqlite:/path/file.db, or postgres://user:pw@host/db." env:"SIGIL_STORAGE"`
	DataDir string `name:"data-dir" help:"Folder for the SQLite database." env:"SIGIL_DATA_DIR"`
}

func (c *migrateCmd) Run(ctx context.Context, log *slog.Logger) error {
	cfg := config.Default() // only storage and dataDir matter: a file without tenants will do
	if c.Config != "" {
		var err error
		if cfg, err = config.Load(c.Config, config.Overrides{Storage: c.Storage, DataDir: c.DataDir}); err != nil {
			return err
		}
	}
	if c.Storage != "" {
		cfg.Storage = c.Storage
	}
	if c.DataDir != "" {
		cfg.DataDir = c.DataDir
	}
	applied, version, err := app.Migrate(ctx, cfg, log)
	if err != nil {
		return err
	}
	log.Info("sigil migrate: schema up to date", "storage", storageName(cfg.Storage), "applied", len(applied),
		"migrations", fmt.Sprint(applied), "schema_version", version)
	return nil
}

// storageName is the storage setting without credentials, for logs.
func storageName(s string) string {
	if strings.HasPrefix(s, "postgres") {
		return "postgres"
	}
	return s
}

type versionCmd struct{}

func (versionCmd) Run() error {
	fmt.Println(version())
	return nil
}

// version describes the build: module version and VCS revision when known.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "sigil (unknown version)"
	}
	v := "sigil " + info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	return v + " " + info.GoVersion
}

func main() { os.Exit(run(os.Args[1:])) }

// run parses args and runs the command, returning the exit status.
func run(args []string) int {
	var c cli
	k, err := kong.New(&c, kong.Name("sigil"), kong.UsageOnError(), kong.Vars{"version": version()},
		kong.Description("Sigil: a self-hosted identity platform for single-page apps (Microsoft identity platform v2.0 on the wire)."))
	if err != nil {
		fmt.Fprintln(os.Stderr, "sigil:", err)
		return 1
	}
	exit := -1
	k.Exit = func(code int) { exit = code }
	kctx, err := k.Parse(args)
	if exit >= 0 { // --help or --version ran
		return exit
	}
	if err != nil {
		var parseErr *kong.ParseError
		if errors.As(err, &parseErr) {
			parseErr.Context.PrintUsage(true)
		}
		fmt.Fprintln(os.Stderr, "sigil:", err)
		return 2
	}
	log := newLogger(c.LogLevel, c.LogFormat)
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	kctx.BindTo(ctx, (*context.Context)(nil))
	if err := kctx.Run(log); err != nil {
		fmt.Fprintln(os.Stderr, "sigil:", err)
		return 1
	}
	return 0
}

func newLogger(level, format string) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
