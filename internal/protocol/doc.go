// Package protocol answers the Microsoft identity platform v2.0 endpoints that MSAL.js and
// standard OpenID Connect clients use: discovery, keys, authorize, token, devicecode, logout,
// userinfo, and the sign-in, account-picker and consent form posts that continue an
// authorization request (and the device code page that starts one: devicelogin.go). One file
// per endpoint; errors.go is the one table of error codes.
//
// An authorization request moves through authorize.go (trust the client and redirect URI,
// then validate; the result carries its delivery), account.go (which signed-in account),
// coverage.go (which scopes are granted, which need consent), pages.go (the pages the user
// acts on), issue.go (a code, implicit tokens, or an encrypted token response — ear.go) and
// delivery.go (the one writer of answers and errors to the redirect URI).
//
// Handlers parse once, validate in protocol order, act through the store, and answer. Every
// error is an *Error; the endpoint picks its delivery: JSON (token endpoint), a redirect with
// state (authorize, once the redirect URI is trusted), or a page with data-error-code.
package protocol
