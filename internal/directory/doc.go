// Package directory holds Sigil's domain types — tenants, users, app registrations, API
// registrations and consent grants — and the pure rules that decide questions about them:
// which tenant a path segment names, whether a redirect URI is registered and on which
// platform, how a requested scope string resolves to resources and scope values, and which
// requested scopes still need consent.
//
// It does no I/O: callers load the records from the store and ask the rules. Protocol state
// (sessions, codes, refresh tokens, keys) lives in package store.
package directory
