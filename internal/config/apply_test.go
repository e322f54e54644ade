package config_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/password"
	"github.com/sigil-idp/sigil/internal/store/sqlstore"
)

var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

// TestApplyIsIdempotent applies the design's example twice: the second time changes
// nothing (same object ids, the password hash kept rather than re-hashed), a changed
// password is re-hashed, and entities the file does not name are left alone.
func TestApplyIsIdempotent(t *testing.T) {
	ctx := context.Background()
	c, err := config.Load("testdata/design-example.yaml", config.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "sigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Before the file is applied its tenant does not exist, and the store refuses its apps.
	if err := st.UpsertApp(ctx, directory.App{ClientID: "99999999-0000-4000-8000-000000000000", TenantID: c.Tenants[0].ID,
		DisplayName: "not in the file", SignInAudience: directory.AudienceThisTenant, Consent: directory.ConsentUser}); err == nil {
		t.Fatal("an app of an unknown tenant was stored")
	}
	if err := config.Apply(ctx, c, st, cheap); err != nil {
		t.Fatal(err)
	}
	// An app created elsewhere (the admin API, later) must survive applying the file again.
	other := directory.App{ClientID: "99999999-0000-4000-8000-000000000000", TenantID: c.Tenants[0].ID,
		DisplayName: "not in the file", SignInAudience: directory.AudienceThisTenant, Consent: directory.ConsentUser}
	if err := st.UpsertApp(ctx, other); err != nil {
		t.Fatal(err)
	}
	first, err := st.UserByUsername(ctx, "alice@contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	if first.ID != config.UserID(c.Tenants[0].ID, "alice@contoso.test") || !first.Enabled {
		t.Fatalf("user %+v", first)
	}
	if ok, _ := password.Verify(first.PasswordHash, "Passw0rd!alice"); !ok {
		t.Fatal("stored hash does not verify the configured password")
	}

	if err := config.Apply(ctx, c, st, cheap); err != nil {
		t.Fatal(err)
	}
	second, _ := st.UserByUsername(ctx, "alice@contoso.test")
	if second != first {
		t.Fatalf("applying again changed the user:\n%+v\n%+v", first, second)
	}
	if _, err := st.AppByClientID(ctx, other.ClientID); err != nil {
		t.Fatalf("an app the file does not name was removed: %v", err)
	}
	grants, err := st.Grants(ctx, c.Tenants[0].ID, c.Tenants[0].Apps[0].ClientID, first.ID)
	if err != nil || len(grants) != 1 || grants[0].UserID != "" || grants[0].Resource != "api://todo" || grants[0].Scopes[0] != "todo.write" {
		t.Fatalf("adminConsent grant: %+v, %v", grants, err)
	}
	app, err := st.AppByClientID(ctx, c.Tenants[0].Apps[0].ClientID)
	if err != nil || len(app.RedirectURIs) != 2 || app.RedirectURIs[0].Platform != directory.PlatformSPA || !app.ImplicitIDTokens {
		t.Fatalf("app %+v, %v", app, err)
	}

	c.Tenants[0].Users[0].Password = "N3w-password!"
	if err := config.Apply(ctx, c, st, cheap); err != nil {
		t.Fatal(err)
	}
	third, _ := st.UserByUsername(ctx, "alice@contoso.test")
	if ok, _ := password.Verify(third.PasswordHash, "N3w-password!"); !ok || third.ID != first.ID {
		t.Fatalf("a changed password was not applied: %+v", third)
	}
}
