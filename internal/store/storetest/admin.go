package storetest

import (
	"testing"

	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/store"
)

// testUserAdmin: users are listed by username in pages; enabling and passwords change in one
// statement each; an unknown id is ErrNotFound; apps are listed by client id.
func testUserAdmin(t *testing.T, s store.Store) {
	seed(t, s)
	for _, name := range []string{"carol", "bob", "dave"} {
		must(t, s.UpsertUser(ctx(t), directory.User{ID: name + "-2222-4333-8444-555555555555", TenantID: tenantID,
			Username: name + "@contoso.test", Enabled: true}))
	}
	page, err := s.Users(ctx(t), tenantID, "", 2)
	must(t, err)
	if len(page) != 2 || page[0].Username != "alice@contoso.test" || page[1].Username != "bob@contoso.test" {
		t.Fatalf("first page: %+v", page)
	}
	page, err = s.Users(ctx(t), tenantID, page[1].Username, 10)
	must(t, err)
	if len(page) != 2 || page[0].Username != "carol@contoso.test" || page[1].Username != "dave@contoso.test" {
		t.Fatalf("second page: %+v", page)
	}
	must(t, s.SetUserEnabled(ctx(t), userID, false))
	must(t, s.SetUserPassword(ctx(t), userID, "$argon2id$new"))
	u, err := s.UserByID(ctx(t), userID)
	must(t, err)
	if u.Enabled || u.PasswordHash != "$argon2id$new" || u.DisplayName != "Alice" {
		t.Fatalf("after the updates: %+v", u)
	}
	name := "Alice B."
	must(t, s.UpdateUserProfile(ctx(t), userID, store.UserProfile{DisplayName: &name}))
	if u, err = s.UserByID(ctx(t), userID); err != nil || u.DisplayName != name || u.PasswordHash != "$argon2id$new" || u.Username != "alice@contoso.test" {
		t.Fatalf("after the profile update: %+v, %v", u, err)
	}
	wantErr(t, s.UpdateUserProfile(ctx(t), "nobody", store.UserProfile{DisplayName: &name}), store.ErrNotFound)
	wantErr(t, s.SetUserEnabled(ctx(t), "nobody", true), store.ErrNotFound)
	wantErr(t, s.SetUserPassword(ctx(t), "nobody", "x"), store.ErrNotFound)
	ids, err := s.AppIDs(ctx(t), tenantID)
	must(t, err)
	if len(ids) != 1 || ids[0] != clientID {
		t.Fatalf("apps: %v", ids)
	}
}
