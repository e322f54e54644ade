package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sigil-idp/sigil/internal/demo"
)

type devCmd struct {
	Listen      string `help:"Address Sigil listens on." default:"127.0.0.1:8443" env:"SIGIL_LISTEN"`
	PublicURL   string `name:"public-url" help:"URL browsers use for Sigil." default:"https://localhost:8443" env:"SIGIL_PUBLIC_URL"`
	SPAListen   string `name:"spa-listen" help:"Address the demo SPA listens on; it is served on the same host as Sigil." default:"127.0.0.1:3000"`
	DataDir     string `name:"data-dir" help:"Folder for the database and certificates." default:"./sigil-data" env:"SIGIL_DATA_DIR"`
	NodeModules string `name:"node-modules" help:"Where npm put MSAL.js; the CDN copy is used when it is missing." default:"./node_modules"`
}

// Run starts Sigil with the demo configuration and the demo SPA, prints what an app needs,
// and serves both until interrupted.
func (d *devCmd) Run(ctx context.Context, log *slog.Logger) error {
	start := time.Now()
	dev, err := demo.StartDev(ctx, demo.DevOptions{PublicURL: d.PublicURL, Listen: d.Listen, SPAListen: d.SPAListen,
		DataDir: d.DataDir, NodeModules: d.NodeModules, Logger: log})
	if err != nil {
		return err
	}
	defer dev.Close()
	fmt.Print(dev.Banner(time.Since(start)))
	return dev.Serve(ctx)
}
