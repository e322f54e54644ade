package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sigil-idp/sigil/internal/app"
	"github.com/sigil-idp/sigil/internal/config"
)

// keysCmd is `sigil keys …`.
type keysCmd struct {
	List   keysListCmd   `cmd:"" help:"List the signing keys: next (published, not signing), current, retired."`
	Rotate keysRotateCmd `cmd:"" help:"Make the next signing key of each algorithm (RS256, ES256) current now; running nodes pick them up within a minute."`
}

// openApp builds the App of a configuration file (its store, keys sealed with the
// key-encryption key of the file or SIGIL_KEY_ENCRYPTION_KEY) without serving it.
func (f storeFlags) openApp(ctx context.Context, log *slog.Logger) (*app.App, error) {
	cfg, err := config.Load(f.Config, config.Overrides{Storage: f.Storage, DataDir: f.DataDir})
	if err != nil {
		return nil, err
	}
	return app.New(ctx, cfg, app.Options{Logger: log, KeyEncryptionKey: os.Getenv("SIGIL_KEY_ENCRYPTION_KEY")})
}

type keysListCmd struct{ storeFlags }

func (c *keysListCmd) Run(ctx context.Context, log *slog.Logger) error {
	a, err := c.openApp(ctx, log)
	if err != nil {
		return err
	}
	defer a.Close()
	keys, err := a.Keys(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "KID\tALG\tSTATE\tSINCE\tCREATED")
	for _, k := range keys {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.State, k.StateSince.UTC().Format(time.RFC3339),
			k.CreatedAt.UTC().Format(time.RFC3339))
	}
	return w.Flush()
}

type keysRotateCmd struct {
	storeFlags
	Now bool `help:"Rotate even if the next key has been published for less than signingKeys.publishAhead (clients that cached the JWKS before it appeared will reject new tokens until they fetch it again)."`
}

func (c *keysRotateCmd) Run(ctx context.Context, log *slog.Logger) error {
	a, err := c.openApp(ctx, log)
	if err != nil {
		return err
	}
	defer a.Close()
	kids, err := a.RotateKeys(ctx, c.Now)
	if err != nil {
		return err
	}
	fmt.Printf("keys %s sign from now on; running nodes pick them up within a minute\n", strings.Join(kids, " and "))
	return nil
}
