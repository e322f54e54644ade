// Package tokens owns what goes into a token and how it is signed: the signing keys (created
// on first start, kept in the store, loaded once into memory and published as a JWKS with
// kid, x5t and x5c; an RS256 and an ES256 lineage), signing, verification of tokens this server issued, and the shapes
// of ID and access token claims, pairwise subjects, login hints and client_info.
//
// RS256 signs through OpenSSL 3's libcrypto when the binary was built with cgo on Linux and
// the library loads (rsa_openssl.go, which looks its few functions up at run time), else with
// Go's crypto/rsa; each key's OpenSSL signer must first make Go's signature of a test digest,
// byte for byte (PKCS #1 v1.5 is deterministic).
//
// It does not decide who gets which token; package protocol does.
package tokens
