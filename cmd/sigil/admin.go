package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/sigil-idp/sigil/internal/admin"
	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/password"
)

// storeFlags are what an admin command needs to reach the store: the configuration file and
// the storage overrides serve takes.
type storeFlags struct {
	Config  string `short:"c" required:"" help:"The configuration file (YAML) of the server whose store to change." env:"SIGIL_CONFIG"`
	Storage string `help:"sqlite, sqlite:/path/file.db, or postgres://user:pw@host/db." env:"SIGIL_STORAGE"`
	DataDir string `name:"data-dir" help:"Folder of the SQLite database." env:"SIGIL_DATA_DIR"`
}

// open loads the configuration, opens its store (migrating it), and applies the file — as a
// server start would, so the commands work before the first start too. SQLite and PostgreSQL
// both take a change beside a running server.
func (f storeFlags) open(ctx context.Context, log *slog.Logger) (*admin.Admin, func(), error) {
	cfg, err := config.Load(f.Config, config.Overrides{Storage: f.Storage, DataDir: f.DataDir})
	if err != nil {
		return nil, nil, err
	}
	st, err := app.OpenStore(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	hash := password.DefaultParams()
	if err := config.Apply(ctx, cfg, st, hash); err != nil {
		st.Close()
		return nil, nil, err
	}
	actor := "cli"
	if u := os.Getenv("USER"); u != "" {
		actor += ":" + u
	}
	return &admin.Admin{Store: st, Hash: hash, Log: log, Actor: actor}, func() { st.Close() }, nil
}

// usersCmd is `sigil users …`.
type usersCmd struct {
	List        usersListCmd        `cmd:"" help:"List a tenant's users."`
	Add         usersAddCmd         `cmd:"" help:"Create a user (the password is read from standard input)."`
	Disable     usersDisableCmd     `cmd:"" help:"Disable a user and sign it out everywhere."`
	Enable      usersEnableCmd      `cmd:"" help:"Enable a disabled user."`
	SetPassword usersSetPasswordCmd `cmd:"" name:"set-password" help:"Set a user's password (read from standard input) and sign it out everywhere."`
	Delete      usersDeleteCmd      `cmd:"" help:"Delete a user with its sessions, consents and tokens."`
}

type usersListCmd struct {
	storeFlags
	Tenant string `required:"" help:"The tenant's domain or id."`
}

func (c *usersListCmd) Run(ctx context.Context, log *slog.Logger) error {
	a, done, err := c.open(ctx, log)
	if err != nil {
		return err
	}
	defer done()
	users, err := a.Users(ctx, c.Tenant)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "USERNAME\tOBJECT ID\tDISPLAY NAME\tENABLED\tADMIN")
	for _, u := range users {
		fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%v\n", u.Username, u.ID, u.DisplayName, u.Enabled, u.Admin)
	}
	return w.Flush()
}

type usersAddCmd struct {
	storeFlags
	Tenant      string   `required:"" help:"The tenant's domain or id."`
	Username    string   `arg:"" help:"local@domain, with one of the tenant's domains."`
	DisplayName string   `name:"display-name" help:"The name tokens carry."`
	GivenName   string   `name:"given-name"`
	Surname     string   `name:"surname"`
	Email       string   `name:"email"`
	Admin       bool     `help:"May grant consent for the whole tenant."`
	AppRoles    []string `name:"app-role" help:"An app role to assign, <appIdUri>/<value>; repeat for more."`
}

func (c *usersAddCmd) Run(ctx context.Context, log *slog.Logger) error {
	pw, err := readPassword(os.Stdin, "Password for "+c.Username+": ")
	if err != nil {
		return err
	}
	a, done, err := c.open(ctx, log)
	if err != nil {
		return err
	}
	defer done()
	u, err := a.AddUser(ctx, c.Tenant, config.User{Username: c.Username, Password: pw, DisplayName: c.DisplayName,
		GivenName: c.GivenName, Surname: c.Surname, Email: c.Email, Admin: c.Admin, AppRoles: c.AppRoles})
	if err != nil {
		return err
	}
	fmt.Printf("created %s (object id %s)\n", u.Username, u.ID)
	return nil
}

// userArg names one user of the store.
type userArg struct {
	storeFlags
	Username string `arg:""`
}

type usersDisableCmd struct{ userArg }

func (c *usersDisableCmd) Run(ctx context.Context, log *slog.Logger) error {
	if err := c.setEnabled(ctx, log, false); err != nil {
		return err
	}
	fmt.Printf("disabled %s and ended its sessions and refresh tokens\n", c.Username)
	return nil
}

type usersEnableCmd struct{ userArg }

func (c *usersEnableCmd) Run(ctx context.Context, log *slog.Logger) error {
	if err := c.setEnabled(ctx, log, true); err != nil {
		return err
	}
	fmt.Printf("enabled %s\n", c.Username)
	return nil
}

func (c userArg) setEnabled(ctx context.Context, log *slog.Logger, enabled bool) error {
	a, done, err := c.open(ctx, log)
	if err != nil {
		return err
	}
	defer done()
	return a.SetEnabled(ctx, c.Username, enabled)
}

type usersSetPasswordCmd struct{ userArg }

func (c *usersSetPasswordCmd) Run(ctx context.Context, log *slog.Logger) error {
	pw, err := readPassword(os.Stdin, "New password for "+c.Username+": ")
	if err != nil {
		return err
	}
	a, done, err := c.open(ctx, log)
	if err != nil {
		return err
	}
	defer done()
	if err := a.SetPassword(ctx, c.Username, pw); err != nil {
		return err
	}
	fmt.Printf("set the password of %s and ended its sessions and refresh tokens\n", c.Username)
	return nil
}

type usersDeleteCmd struct{ userArg }

func (c *usersDeleteCmd) Run(ctx context.Context, log *slog.Logger) error {
	a, done, err := c.open(ctx, log)
	if err != nil {
		return err
	}
	defer done()
	if err := a.DeleteUser(ctx, c.Username); err != nil {
		return err
	}
	fmt.Printf("deleted %s\n", c.Username)
	return nil
}

// appsCmd is `sigil apps …`.
type appsCmd struct {
	List appsListCmd `cmd:"" help:"List a tenant's app registrations."`
}

type appsListCmd struct {
	storeFlags
	Tenant string `required:"" help:"The tenant's domain or id."`
}

func (c *appsListCmd) Run(ctx context.Context, log *slog.Logger) error {
	a, done, err := c.open(ctx, log)
	if err != nil {
		return err
	}
	defer done()
	apps, err := a.Apps(ctx, c.Tenant)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CLIENT ID\tDISPLAY NAME\tREDIRECT URIS\tCREDENTIALS")
	for _, app := range apps {
		var uris []string
		for _, u := range app.RedirectURIs {
			uris = append(uris, string(u.Platform)+":"+u.URI)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d secret(s), %d certificate(s)\n", app.ClientID, app.DisplayName,
			strings.Join(uris, " "), len(app.SecretHashes), len(app.Certificates))
	}
	return w.Flush()
}

// hashPasswordCmd is `sigil hash-password`: a passwordHash for the bootstrap file.
type hashPasswordCmd struct{}

func (hashPasswordCmd) Run() error {
	pw, err := readPassword(os.Stdin, "Password: ")
	if err != nil {
		return err
	}
	hash, err := password.Hash(pw, password.DefaultParams())
	if err != nil {
		return err
	}
	fmt.Println(hash)
	return nil
}

// readPassword reads a password: from the terminal without echo, or else the first line of r
// (so `printf '%s' "$pw" | sigil …` works in scripts).
func readPassword(r io.Reader, prompt string) (string, error) {
	if f, ok := r.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(os.Stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on standard input")
	}
	return pw, nil
}
