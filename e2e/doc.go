// Package e2e holds Sigil's browser tests: the real MSAL.js (5.x, and 2.x where its popup
// and iframe completion differ) in headless Chromium against the real server, through
// package harness. See harness for the set-up and e2e/pages for the test app.
package e2e
