package storetest

import (
	"testing"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// otherInstanceStaleness bounds how long another instance (node, process) may keep
// answering a tenant, app or API as it was before a change: a few seconds on SQLite (a
// cache's lifetime), milliseconds on PostgreSQL (a notification).
const otherInstanceStaleness = 5 * time.Second

// testDirectoryChanges: a change to a tenant, an app or an API is read back at once by the
// instance that made it, and by another instance on the same database within
// otherInstanceStaleness — however often each had read it before (a cache must not keep it).
// What the callers get is theirs: appending to a returned list changes nothing stored.
func testDirectoryChanges(t *testing.T, a, b store.Store) {
	seed(t, a)
	api := directory.API{TenantID: tenantID, AppIDURI: "api://todo", DisplayName: "Todo",
		Scopes: []directory.APIScope{{Value: "Todo.Read"}}}
	must(t, a.UpsertAPI(ctx(t), api))
	read := func(s store.Store) (directory.Tenant, directory.App, directory.API) {
		t.Helper()
		tn, err := s.TenantByDomain(ctx(t), "contoso.test")
		must(t, err)
		tid, err := s.TenantByID(ctx(t), tenantID)
		must(t, err)
		if tid.DisplayName != tn.DisplayName {
			t.Fatalf("tenant by id %q, by domain %q", tid.DisplayName, tn.DisplayName)
		}
		app, err := s.AppByClientID(ctx(t), clientID)
		must(t, err)
		got, err := s.APIByURI(ctx(t), tenantID, "api://todo")
		must(t, err)
		return tn, app, got
	}
	for range 3 { // read often enough for any cache to hold them
		read(a)
		read(b)
	}
	// The caller's copy is its own.
	_, app, got := read(a)
	app.RedirectURIs = append(app.RedirectURIs[:0], directory.RedirectURI{URI: "https://evil.test/"})
	got.Scopes = append(got.Scopes[:0], directory.APIScope{Value: "Evil"})
	if _, app, got := read(a); app.RedirectURIs[0].URI != "https://app.example.test:3000/" || got.Scopes[0].Value != "Todo.Read" {
		t.Fatalf("a caller's change to what it read reached the store: %v, %v", app.RedirectURIs, got.Scopes)
	}

	must(t, a.UpsertTenant(ctx(t), directory.Tenant{ID: tenantID, Domains: []string{"contoso.test"}, DisplayName: "Contoso 2"}))
	must(t, a.UpsertApp(ctx(t), directory.App{ClientID: clientID, TenantID: tenantID, DisplayName: "SPA 2",
		SignInAudience: directory.AudienceThisTenant, Consent: directory.ConsentUser,
		RedirectURIs: []directory.RedirectURI{{URI: "https://app.example.test:3000/two", Platform: directory.PlatformSPA}}}))
	api.Scopes = append(api.Scopes, directory.APIScope{Value: "Todo.Write"})
	must(t, a.UpsertAPI(ctx(t), api))
	changed := func(s store.Store) bool {
		tn, app, got := read(s)
		return tn.DisplayName == "Contoso 2" && app.DisplayName == "SPA 2" &&
			app.RedirectURIs[0].URI == "https://app.example.test:3000/two" && len(got.Scopes) == 2
	}
	if !changed(a) {
		t.Fatal("the instance that made the changes reads them as they were")
	}
	start := time.Now()
	for !changed(b) {
		if time.Since(start) > otherInstanceStaleness {
			t.Fatalf("another instance still reads the old tenant, app or API after %v", otherInstanceStaleness)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("another instance read the changes after %v", time.Since(start).Round(time.Millisecond))
}
