package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/sigil-idp/sigil/internal/demo"
)

// devCmd is `sigil dev`. Listen, public URL and data folder have no flag defaults: an empty
// value means the configuration file's, or else the dev default the help text names.
type devCmd struct {
	Config      string `short:"c" help:"A bootstrap file (YAML) whose tenants, users and apps to serve beside the demo; dev defaults fill what it leaves out." env:"SIGIL_CONFIG" type:"existingfile"`
	NoDemo      bool   `name:"no-demo" help:"Leave out the demo tenant and the demo SPA." env:"SIGIL_NO_DEMO"`
	PrintConfig bool   `name:"print-config" help:"Print the demo configuration (a starting point for --config) and exit."`
	Listen      string `help:"Address Sigil listens on (default 127.0.0.1:8443)." env:"SIGIL_LISTEN"`
	PublicURL   string `name:"public-url" help:"URL browsers use for Sigil (default https://localhost:{the --listen port})." env:"SIGIL_PUBLIC_URL"`
	SPAListen   string `name:"spa-listen" help:"Address the demo SPA listens on; it is served on the same host as Sigil." default:"127.0.0.1:3000" env:"SIGIL_SPA_LISTEN"`
	DataDir     string `name:"data-dir" help:"Folder for the database and certificates (default ./sigil-data)." env:"SIGIL_DATA_DIR"`
	NodeModules string `name:"node-modules" help:"Where npm put MSAL.js; the CDN copy is used when it is missing." default:"./node_modules" env:"SIGIL_NODE_MODULES"`
}

// Run starts Sigil with the demo configuration (and the user's file) and the demo SPA,
// prints what an app needs, and serves both until interrupted.
func (d *devCmd) Run(ctx context.Context, log *slog.Logger) error {
	if d.PrintConfig {
		return printDevConfig()
	}
	start := time.Now()
	dev, err := demo.StartDev(ctx, demo.DevOptions{PublicURL: d.PublicURL, Listen: d.Listen, SPAListen: d.SPAListen,
		DataDir: d.DataDir, NodeModules: d.NodeModules, ConfigFile: d.Config, NoDemo: d.NoDemo, Logger: log,
		KeyEncryptionKey: os.Getenv("SIGIL_KEY_ENCRYPTION_KEY")})
	if err != nil {
		return err
	}
	defer dev.Close()
	fmt.Print(dev.Banner(time.Since(start)))
	return dev.Serve(ctx)
}

// printDevConfig writes the demo tenant as a bootstrap file to standard output.
func printDevConfig() error {
	out, err := demo.ConfigText()
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}
