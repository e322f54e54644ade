// Package storetest is the conformance suite for store.Store implementations: every
// behaviour the rest of Sigil relies on — lookups, not-found and conflict errors, expiry,
// atomic code redemption, refresh rotation and device-code state changes under concurrent requests — tested once and run
// against each backend.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// Run runs the suite; newStore returns a fresh, empty store for each subtest, and reopen a
// second instance on the database of one it returned — its own connections and pool, as
// another process (another node) would have. The race tests present their requests through
// both, so that nothing in one process (a mutex, a pool) can serialise them: only the
// database's conditional statements can make them exact.
func Run(t *testing.T, newStore func(testing.TB) store.Store, reopen func(testing.TB, store.Store) store.Store) {
	pairs := []struct {
		name string
		fn   func(t *testing.T, a, b store.Store)
	}{
		{"CodeRedeemRace", testCodeRedeemRace},
		{"RefreshRaceWithinReuseInterval", testRefreshRaceGrace},
		{"RefreshRaceStrict", testRefreshRaceStrict},
		{"RefreshRaceUseVersusRetry", testRefreshRaceUseVersusRetry},
		{"DeviceRaces", testDeviceRaces},
		{"ForcedFailureRace", testForcedFailureRace},
		{"DirectoryChanges", testDirectoryChanges},
		{"RefreshIssue", testRefreshIssue},
	}
	for _, tc := range pairs {
		t.Run(tc.name, func(t *testing.T) {
			a := newStore(t)
			tc.fn(t, a, reopen(t, a))
		})
	}
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"Tenants", testTenants},
		{"Users", testUsers},
		{"Apps", testApps},
		{"APIs", testAPIs},
		{"Grants", testGrants},
		{"APIRoles", testAPIRoles},
		{"UserAppRoles", testUserAppRoles},
		{"Groups", testGroups},
		{"Sessions", testSessions},
		{"Interactions", testInteractions},
		{"CodeRedemption", testCodeRedemption},
		{"CodeReplayRevokesFamilies", testCodeReplay},
		{"CodeReplayBurnsChildCodes", testChildCodeReplay},
		{"FamilyWithoutCode", testFamilyWithoutCode},
		{"RefreshRotation", testRefreshRotation},
		{"RefreshTokenAndUser", testRefreshTokenAndUser},
		{"RefreshStateMachine", testRefreshStateMachine},
		{"RefreshPruning", testRefreshPruning},
		{"RefreshPruningWhen", testRefreshPruningWhen},
		{"EndSessionRevokes", testEndSession},
		{"DeviceCodes", testDeviceCodes},
		{"DeviceCodeExpiry", testDeviceCodeExpiry},
		{"DeviceDecline", testDeviceDecline},
		{"DevicePolling", testDevicePolling},
		{"DeviceCodesOfUser", testDeviceCodesOfUser},
		{"SigningKeys", testSigningKeys},
		{"Secrets", testSecrets},
		{"Throttle", testThrottle},
		{"ThrottleReservations", testReservations},
		{"ThrottleMultiKey", testMultiKeyReservations},
		{"DeleteExpired", testDeleteExpired},
		{"ForcedFailures", testForcedFailures},
		{"RevokeAndDeleteUser", testRevokeAndDeleteUser},
		{"ResetState", testResetState},
		{"UserAdmin", testUserAdmin},
		{"KeyRotation", testKeyRotation},
		{"KeyLineages", testKeyLineages},
		{"GroupAndGrantAdmin", testGroupAndGrantAdmin},
		{"SessionClients", testSessionClients},
		{"Outbox", testOutbox},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// base is a fixed instant with sub-second precision in a non-UTC zone: stores must keep
// instants exactly (to the millisecond), whatever the zone.
var base = time.Date(2026, 11, 25, 10, 30, 15, 123_000_000, time.FixedZone("CET", 3600))

const (
	tenantID = "6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10"
	userID   = "11111111-2222-4333-8444-555555555555"
	clientID = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
)

func ctx(tb testing.TB) context.Context { return tb.Context() }

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func wantErr(tb testing.TB, err, want error) {
	tb.Helper()
	if !errors.Is(err, want) {
		tb.Fatalf("got error %v, want %v", err, want)
	}
}

func sameTime(tb testing.TB, what string, got, want time.Time) {
	tb.Helper()
	if !got.Equal(want) {
		tb.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// seed creates a tenant, a user and an spa app.
func seed(tb testing.TB, s store.Store) {
	tb.Helper()
	must(tb, s.UpsertTenant(ctx(tb), directory.Tenant{ID: tenantID, Domains: []string{"contoso.test"}, DisplayName: "Contoso"}))
	must(tb, s.UpsertUser(ctx(tb), directory.User{ID: userID, TenantID: tenantID, Username: "alice@contoso.test",
		DisplayName: "Alice", PasswordHash: "$argon2id$x", Enabled: true}))
	must(tb, s.UpsertApp(ctx(tb), directory.App{ClientID: clientID, TenantID: tenantID, DisplayName: "SPA",
		SignInAudience: directory.AudienceThisTenant, Consent: directory.ConsentUser,
		RedirectURIs: []directory.RedirectURI{{URI: "https://app.example.test:3000/", Platform: directory.PlatformSPA}}}))
}

func testTenants(t *testing.T, s store.Store) {
	_, err := s.TenantByID(ctx(t), tenantID)
	wantErr(t, err, store.ErrNotFound)
	must(t, s.UpsertTenant(ctx(t), directory.Tenant{ID: tenantID, Domains: []string{"contoso.test", "a.contoso.test"}, DisplayName: "Contoso"}))
	got, err := s.TenantByDomain(ctx(t), "a.contoso.test")
	must(t, err)
	if got.ID != tenantID || got.DisplayName != "Contoso" || !slices.Equal(got.Domains, []string{"a.contoso.test", "contoso.test"}) {
		t.Fatalf("got %+v", got)
	}
	// Upsert replaces the domain list.
	must(t, s.UpsertTenant(ctx(t), directory.Tenant{ID: tenantID, Domains: []string{"contoso.test"}, DisplayName: "Contoso 2"}))
	_, err = s.TenantByDomain(ctx(t), "a.contoso.test")
	wantErr(t, err, store.ErrNotFound)
	got, err = s.TenantByID(ctx(t), tenantID)
	must(t, err)
	if got.DisplayName != "Contoso 2" || len(got.Domains) != 1 {
		t.Fatalf("got %+v after update", got)
	}
	// A domain of another tenant is a conflict, and the failed upsert changes nothing.
	err = s.UpsertTenant(ctx(t), directory.Tenant{ID: "aaaaaaaa-0000-4000-8000-000000000000", Domains: []string{"contoso.test"}, DisplayName: "X"})
	wantErr(t, err, store.ErrConflict)
	_, err = s.TenantByID(ctx(t), "aaaaaaaa-0000-4000-8000-000000000000")
	wantErr(t, err, store.ErrNotFound)
}

func testUsers(t *testing.T, s store.Store) {
	seed(t, s)
	u, err := s.UserByUsername(ctx(t), "alice@contoso.test")
	must(t, err)
	if u.ID != userID || !u.Enabled || u.DisplayName != "Alice" {
		t.Fatalf("got %+v", u)
	}
	u.Enabled, u.Surname, u.Admin = false, "Example", true
	must(t, s.UpsertUser(ctx(t), u))
	u2, err := s.UserByID(ctx(t), userID)
	must(t, err)
	if u2 != u {
		t.Fatalf("got %+v, want %+v", u2, u)
	}
	err = s.UpsertUser(ctx(t), directory.User{ID: "99999999-2222-4333-8444-555555555555", TenantID: tenantID, Username: "alice@contoso.test"})
	wantErr(t, err, store.ErrConflict)
	_, err = s.UserByUsername(ctx(t), "bob@contoso.test")
	wantErr(t, err, store.ErrNotFound)
}

func testApps(t *testing.T, s store.Store) {
	seed(t, s)
	want := directory.App{ClientID: clientID, TenantID: tenantID, DisplayName: "Todo", SignInAudience: directory.AudienceAnyTenant,
		Consent: directory.ConsentPreauthorized, ImplicitIDTokens: true, LogoutURL: "https://app.example.test:3000/out",
		RedirectURIs: []directory.RedirectURI{
			{URI: "https://app.example.test:3000/z", Platform: directory.PlatformSPA},
			{URI: "https://web.example.test/cb", Platform: directory.PlatformWeb},
			{URI: "https://app.example.test:3000/a", Platform: directory.PlatformSPA},
		},
		PostLogoutRedirectURIs: []string{"https://app.example.test:3000/signed-out"},
		SecretHashes:           []string{"h1"},
		Certificates:           [][]byte{{0x30, 0x82, 0x01}, {0x30, 0x00}},
		AppPermissions:         []directory.RoleAssignment{{Resource: "api://todo", Role: "Todo.ReadAll"}},
		AllowPublicClientFlows: true,
		OptionalIDClaims:       []string{"auth_time", "email"},
		Lifetimes:              directory.Lifetimes{AccessToken: 5 * time.Minute, RefreshReuse: 1500 * time.Millisecond},
		IDTokenSigningAlg:      "ES256",
	}
	must(t, s.UpsertApp(ctx(t), want))
	got, err := s.AppByClientID(ctx(t), clientID)
	must(t, err)
	if got.DisplayName != want.DisplayName || got.SignInAudience != want.SignInAudience || got.Consent != want.Consent ||
		!got.ImplicitIDTokens || got.LogoutURL != want.LogoutURL || !slices.Equal(got.RedirectURIs, want.RedirectURIs) ||
		!slices.Equal(got.PostLogoutRedirectURIs, want.PostLogoutRedirectURIs) || !slices.Equal(got.SecretHashes, want.SecretHashes) ||
		!slices.Equal(got.OptionalIDClaims, want.OptionalIDClaims) || got.Lifetimes != want.Lifetimes ||
		!slices.EqualFunc(got.Certificates, want.Certificates, bytes.Equal) || !slices.Equal(got.AppPermissions, want.AppPermissions) ||
		!got.AllowPublicClientFlows || got.IDTokenSigningAlg != "ES256" {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	for origin, want := range map[string]bool{"https://app.example.test:3000": true, "https://web.example.test": false, "https://x.test": false} {
		got, err := s.IsSPAOrigin(ctx(t), origin)
		must(t, err)
		if got != want {
			t.Errorf("IsSPAOrigin(%s) = %v, want %v", origin, got, want)
		}
	}
	must(t, s.UpsertTenant(ctx(t), directory.Tenant{ID: "aaaaaaaa-0000-4000-8000-000000000000", Domains: []string{"other.test"}, DisplayName: "Other"}))
	must(t, s.UpsertApp(ctx(t), directory.App{ClientID: "bbbbbbbb-0000-4000-8000-000000000000", TenantID: "aaaaaaaa-0000-4000-8000-000000000000",
		DisplayName: "Single", SignInAudience: directory.AudienceThisTenant, Consent: directory.ConsentUser,
		RedirectURIs: []directory.RedirectURI{{URI: "https://single.example.test/", Platform: directory.PlatformSPA}}}))
	for _, tc := range []struct {
		tenant, uri string
		want        bool
	}{
		{tenantID, "https://app.example.test:3000/signed-out", true},                  // post-logout URI of the tenant's app
		{tenantID, "https://web.example.test/cb", true},                               // redirect URI of the tenant's app
		{tenantID, "https://evil.test/", false},                                       // nobody's
		{tenantID, "https://single.example.test/", false},                             // a single-tenant app of another tenant
		{"aaaaaaaa-0000-4000-8000-000000000000", "https://web.example.test/cb", true}, // the any-tenant app, from another tenant
		{"", "https://web.example.test/cb", true},                                     // the any-tenant app, from common
		{"", "https://single.example.test/", false},                                   // a single-tenant app, from common
	} {
		got, err := s.AllowsPostLogoutRedirect(ctx(t), tc.tenant, tc.uri)
		must(t, err)
		if got != tc.want {
			t.Errorf("AllowsPostLogoutRedirect(%q, %s) = %v, want %v", tc.tenant, tc.uri, got, tc.want)
		}
	}
	_, err = s.AppByClientID(ctx(t), "00000000-0000-4000-8000-000000000000")
	wantErr(t, err, store.ErrNotFound)
}

func testAPIs(t *testing.T, s store.Store) {
	seed(t, s)
	want := directory.API{TenantID: tenantID, DisplayName: "Todo API", AppIDURI: "api://Todo",
		Scopes:     []directory.APIScope{{Value: "Todo.Write", AdminConsentRequired: true}, {Value: "Todo.Read", Description: "read"}},
		SigningAlg: "ES256"}
	must(t, s.UpsertAPI(ctx(t), want))
	got, err := s.APIByURI(ctx(t), tenantID, "API://todo")
	must(t, err)
	if got.AppIDURI != "api://Todo" || !slices.Equal(got.Scopes, want.Scopes) || got.SigningAlg != "ES256" {
		t.Fatalf("got %+v", got)
	}
	// Without scopes too (the query joins them), and replaced by the next upsert.
	must(t, s.UpsertAPI(ctx(t), directory.API{TenantID: tenantID, DisplayName: "Bare", AppIDURI: "api://bare", SigningAlg: "ES256"}))
	if got, err = s.APIByURI(ctx(t), tenantID, "api://bare"); err != nil || got.SigningAlg != "ES256" {
		t.Fatalf("bare API: %+v, %v", got, err)
	}
	must(t, s.UpsertAPI(ctx(t), directory.API{TenantID: tenantID, DisplayName: "Bare", AppIDURI: "api://bare"}))
	if got, err = s.APIByURI(ctx(t), tenantID, "api://bare"); err != nil || got.SigningAlg != "" {
		t.Fatalf("bare API after switching back: %+v, %v", got, err)
	}
	_, err = s.APIByURI(ctx(t), tenantID, "api://other")
	wantErr(t, err, store.ErrNotFound)
}

func testGrants(t *testing.T, s store.Store) {
	seed(t, s)
	must(t, s.AddGrant(ctx(t), directory.Grant{TenantID: tenantID, ClientID: clientID, UserID: userID, Resource: "api://todo", Scopes: []string{"Todo.Read"}}, base))
	must(t, s.AddGrant(ctx(t), directory.Grant{TenantID: tenantID, ClientID: clientID, UserID: userID, Resource: "api://todo", Scopes: []string{"todo.read", "Todo.Extra"}}, base))
	must(t, s.AddGrant(ctx(t), directory.Grant{TenantID: tenantID, ClientID: clientID, Resource: "api://todo", Scopes: []string{"Todo.Write"}}, base))
	must(t, s.AddGrant(ctx(t), directory.Grant{TenantID: tenantID, ClientID: clientID, UserID: "other", Resource: "api://todo", Scopes: []string{"x"}}, base))
	got, err := s.Grants(ctx(t), tenantID, clientID, userID)
	must(t, err)
	want := []directory.Grant{
		{TenantID: tenantID, ClientID: clientID, UserID: "", Resource: "api://todo", Scopes: []string{"todo.write"}},
		{TenantID: tenantID, ClientID: clientID, UserID: userID, Resource: "api://todo", Scopes: []string{"todo.extra", "todo.read"}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].UserID != want[i].UserID || got[i].Resource != want[i].Resource || !slices.Equal(got[i].Scopes, want[i].Scopes) {
			t.Fatalf("grant %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
