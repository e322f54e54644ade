// Package tokens owns what goes into a token and how it is signed: the signing keys (created
// on first start, kept in the store, loaded once into memory and published as a JWKS with
// kid, x5t and x5c; an RS256 and an ES256 lineage), signing, verification of tokens this server issued, and the shapes
// of ID and access token claims, pairwise subjects, login hints and client_info.
//
// It does not decide who gets which token; package protocol does.
package tokens
