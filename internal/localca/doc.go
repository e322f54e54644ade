// Package localca keeps a local certificate authority and a server
// certificate in a directory, for `tls.auto: true` and `sigil dev`.
//
// [Ensure] creates what is missing and replaces what is stale, so the server
// can call it on every start: the CA is reused for as long as it has 30 days
// left, which keeps a CA the developer has already trusted in their browser
// or OS trust store valid across restarts.
//
// It leaves out installing the CA into any trust store (the caller prints
// where ca.pem is), serving TLS, and reloading certificates while running.
// Keys are ECDSA P-256; nothing here is meant for a public deployment.
package localca
