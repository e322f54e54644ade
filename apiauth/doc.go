// Package apiauth lets a Go API accept the access tokens Sigil issues, the way an API accepts
// Microsoft Entra ID's v2.0 access tokens: net/http middleware that reads the bearer token
// (RFC 6750 §2.1), verifies its signature with the issuer's published keys (a cached JWKS),
// its issuer (one tenant, or any tenant of a multi-tenant API), audience, lifetime and
// algorithm, checks per-route delegated scopes (scp) or app roles (roles), and hands the
// validated token to the handler in the request context.
//
// The parts can be used alone: [Verifier.Verify] checks one token; [RemoteKeySet] is the
// JWKS cache; [StaticKeySet] serves fixed keys (tests); [WriteError] and
// [WriteClaimsChallenge] answer RFC 6750 errors and Entra-style claims challenges (CAE).
//
// The zero value of every option is the strict one: an empty [Config] rejects every token
// until it names an issuer and an audience, and each check that can be turned off is named
// Skip… or Insecure…
//
// What this package does not do: it reads tokens only from the Authorization header (not
// from form bodies or query strings, RFC 6750 §2.2–2.3); it does not check a token against
// the issuer (no introspection, no revocation: an access token is valid until it expires); it
// does not decrypt tokens (JWE); it does not check the token's "typ" header, "ver" claim,
// "nonce" or ID-token claims. ID tokens are for the app that signed in, not for APIs; use an
// OpenID Connect library for them.
package apiauth
