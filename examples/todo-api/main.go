// Command todo-api is the example API for Sigil's tokens: `go run ./examples/todo-api` beside
// `go run ./cmd/sigil dev`. It serves https://localhost:4000 with sigil dev's certificate,
// trusts sigil dev's local CA to fetch the signing keys, and accepts access tokens for
// api://todo from the demo tenant; see package todoapi for the routes.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/apiauth"
	"github.com/sigil-idp/sigil/examples/todo-api/todoapi"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:4000", "address to listen on")
	sigil := flag.String("sigil", "https://localhost:8443", "Sigil's public URL")
	tenant := flag.String("tenant", "c0ffee00-5161-4000-8000-00000000d3e0", "tenant id (sigil dev's demo tenant)")
	audience := flag.String("audience", "api://todo", "the API's App ID URI")
	dataDir := flag.String("data-dir", "./sigil-data", "sigil dev's data folder: its TLS certificate and CA")
	origins := flag.String("origins", "https://localhost:3000,https://localhost:3001,https://localhost:3002,https://localhost:3003,https://localhost:3004",
		"browser origins allowed to call the API (comma-separated)")
	flag.Parse()
	if err := run(*listen, strings.TrimSuffix(*sigil, "/"), *tenant, *audience, *dataDir, strings.Split(*origins, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "todo-api:", err)
		os.Exit(1)
	}
}

func run(listen, sigil, tenant, audience, dataDir string, origins []string) error {
	tlsDir := filepath.Join(dataDir, "tls")
	ca, err := os.ReadFile(filepath.Join(tlsDir, "ca.pem"))
	if err != nil {
		return fmt.Errorf("%w (start Sigil first: go run ./cmd/sigil dev)", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		return fmt.Errorf("%s/ca.pem holds no certificate", tlsDir)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	keys := &apiauth.RemoteKeySet{URL: sigil + "/" + tenant + "/discovery/v2.0/keys", Client: client}
	verifier := apiauth.NewVerifier(keys, apiauth.Config{Issuer: sigil + "/" + tenant + "/v2.0", Audiences: []string{audience}})
	api := todoapi.New(todoapi.Config{Verifier: verifier, Origins: origins})
	srv := &http.Server{Addr: listen, Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("todo-api on https://%s (tokens from %s/%s, audience %s)", strings.Replace(listen, "127.0.0.1", "localhost", 1), sigil, tenant, audience)
	return srv.ListenAndServeTLS(filepath.Join(tlsDir, "tls.pem"), filepath.Join(tlsDir, "tls-key.pem"))
}
