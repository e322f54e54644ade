package storetest

import (
	"maps"
	"testing"
	"time"

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

// testKeyRotation: one next key at a time; promotion retires the current key and makes the
// next current, once — a second node promoting the same pair changes nothing; retired keys
// are deleted after the cutoff only.
func testKeyRotation(t *testing.T, s store.Store) {
	key := func(id string, state store.KeyState, at time.Time) store.SigningKey {
		return store.SigningKey{ID: id, Algorithm: "RS256", PrivateKey: []byte(id), Certificate: []byte{1}, State: state, CreatedAt: at}
	}
	must(t, s.AddSigningKey(ctx(t), key("k1", store.KeyCurrent, base)))
	must(t, s.AddSigningKey(ctx(t), key("k2", store.KeyNext, base.Add(time.Hour))))
	wantErr(t, s.AddSigningKey(ctx(t), key("k3", store.KeyNext, base.Add(time.Hour))), store.ErrConflict)
	at := base.Add(30 * 24 * time.Hour)
	must(t, s.PromoteSigningKey(ctx(t), "k1", "k2", at))
	wantErr(t, s.PromoteSigningKey(ctx(t), "k1", "k2", at.Add(time.Second)), store.ErrConflict)
	wantErr(t, s.PromoteSigningKey(ctx(t), "k2", "nosuch", at.Add(time.Second)), store.ErrConflict)
	keys, err := s.SigningKeys(ctx(t))
	must(t, err)
	states := map[string]store.SigningKey{}
	for _, k := range keys {
		states[k.ID] = k
	}
	if states["k1"].State != store.KeyRetired || states["k2"].State != store.KeyCurrent || len(keys) != 2 {
		t.Fatalf("after promotion: %+v", keys)
	}
	sameTime(t, "k1 retired at", states["k1"].StateSince, at)
	sameTime(t, "k2 created", states["k2"].CreatedAt, base.Add(time.Hour))
	must(t, s.DeleteRetiredKeys(ctx(t), at))
	if keys, _ = s.SigningKeys(ctx(t)); len(keys) != 2 {
		t.Fatalf("a key retired at the cutoff was deleted: %+v", keys)
	}
	must(t, s.DeleteRetiredKeys(ctx(t), at.Add(time.Millisecond)))
	if keys, _ = s.SigningKeys(ctx(t)); len(keys) != 1 || keys[0].ID != "k2" {
		t.Fatalf("after deleting retired keys: %+v", keys)
	}
}

// testKeyLineages: every algorithm has a lineage of its own — one current and one next key
// each — and promoting one lineage leaves the other as it was.
func testKeyLineages(t *testing.T, s store.Store) {
	key := func(id, alg string, state store.KeyState, at time.Time) store.SigningKey {
		return store.SigningKey{ID: id, Algorithm: alg, PrivateKey: []byte(id), Certificate: []byte{1}, State: state, CreatedAt: at}
	}
	must(t, s.AddSigningKey(ctx(t), key("rs1", "RS256", store.KeyCurrent, base)))
	must(t, s.AddSigningKey(ctx(t), key("es1", "ES256", store.KeyCurrent, base)))
	must(t, s.AddSigningKey(ctx(t), key("rs2", "RS256", store.KeyNext, base.Add(time.Second))))
	must(t, s.AddSigningKey(ctx(t), key("es2", "ES256", store.KeyNext, base.Add(time.Second))))
	wantErr(t, s.AddSigningKey(ctx(t), key("es3", "ES256", store.KeyCurrent, base)), store.ErrConflict)
	wantErr(t, s.AddSigningKey(ctx(t), key("es4", "ES256", store.KeyNext, base)), store.ErrConflict)
	at := base.Add(time.Hour)
	must(t, s.PromoteSigningKey(ctx(t), "es1", "es2", at))
	wantErr(t, s.PromoteSigningKey(ctx(t), "es1", "es2", at), store.ErrConflict)
	keys, err := s.SigningKeys(ctx(t))
	must(t, err)
	got := map[string]store.KeyState{}
	for _, k := range keys {
		got[k.ID] = k.State
	}
	want := map[string]store.KeyState{"rs1": store.KeyCurrent, "rs2": store.KeyNext, "es1": store.KeyRetired, "es2": store.KeyCurrent}
	if !maps.Equal(got, want) {
		t.Fatalf("after promoting the ES256 lineage: %v, want %v", got, want)
	}
	// The ES256 lineage may publish a next key again; RS256's still has one.
	must(t, s.AddSigningKey(ctx(t), key("es5", "ES256", store.KeyNext, at)))
	wantErr(t, s.AddSigningKey(ctx(t), key("rs3", "RS256", store.KeyNext, at)), store.ErrConflict)
}

// testGroupAndGrantAdmin: groups are listed and members added and removed one statement
// each; consents are listed per (app, user, resource) and withdrawn whole.
func testGroupAndGrantAdmin(t *testing.T, s store.Store) {
	seed(t, s)
	must(t, s.UpsertGroup(ctx(t), directory.Group{ID: "g1", TenantID: tenantID, DisplayName: "Writers"}))
	groups, err := s.TenantGroups(ctx(t), tenantID)
	must(t, err)
	if len(groups) != 1 || groups[0].DisplayName != "Writers" {
		t.Fatalf("groups: %+v", groups)
	}
	must(t, s.AddGroupMember(ctx(t), "g1", userID))
	wantErr(t, s.AddGroupMember(ctx(t), "g1", userID), store.ErrConflict)
	wantErr(t, s.AddGroupMember(ctx(t), "g1", "nobody"), store.ErrConflict)
	g, err := s.GroupByID(ctx(t), "g1")
	must(t, err)
	if len(g.Members) != 1 || g.Members[0] != userID {
		t.Fatalf("members: %+v", g)
	}
	must(t, s.RemoveGroupMember(ctx(t), "g1", userID))
	wantErr(t, s.RemoveGroupMember(ctx(t), "g1", userID), store.ErrNotFound)

	must(t, s.AddGrant(ctx(t), directory.Grant{TenantID: tenantID, ClientID: clientID, UserID: userID, Resource: "api://todo",
		Scopes: []string{"Todo.Read", "Todo.Write"}}, base))
	must(t, s.AddGrant(ctx(t), directory.Grant{TenantID: tenantID, ClientID: clientID, Resource: "api://todo",
		Scopes: []string{"Todo.Read"}}, base))
	grants, err := s.TenantGrants(ctx(t), tenantID)
	must(t, err)
	if len(grants) != 2 || grants[0].UserID != "" || len(grants[1].Scopes) != 2 {
		t.Fatalf("grants: %+v", grants)
	}
	must(t, s.DeleteGrant(ctx(t), tenantID, clientID, userID, "api://todo"))
	wantErr(t, s.DeleteGrant(ctx(t), tenantID, clientID, userID, "api://todo"), store.ErrNotFound)
	if grants, _ = s.TenantGrants(ctx(t), tenantID); len(grants) != 1 {
		t.Fatalf("grants after the delete: %+v", grants)
	}
}

// testSessionClients: the apps of a session, each once; pruned once the session is gone.
func testSessionClients(t *testing.T, s store.Store) {
	seed(t, s)
	_, err := s.UpsertSession(ctx(t), newSession("sid-1", "b1", base.Add(time.Hour)), base)
	must(t, err)
	for _, c := range []string{"b-app", "a-app", "b-app"} {
		must(t, s.RecordSessionClient(ctx(t), "sid-1", c, base))
	}
	got, err := s.SessionClients(ctx(t), "sid-1")
	must(t, err)
	if len(got) != 2 || got[0] != "a-app" || got[1] != "b-app" {
		t.Fatalf("session clients: %v", got)
	}
	must(t, s.EndSession(ctx(t), "sid-1", base))
	must(t, s.DeleteExpired(ctx(t), base.Add(time.Minute)))
	if got, _ = s.SessionClients(ctx(t), "sid-1"); len(got) != 0 {
		t.Fatalf("after the session ended and expired records were deleted: %v", got)
	}
}

// testOutbox: a due logout is claimed once while leased, retried later, delivered once;
// undelivered logouts are given up after a day.
func testOutbox(t *testing.T, s store.Store) {
	must(t, s.EnqueueLogouts(ctx(t), []store.BackchannelLogout{
		{ID: "l1", ClientID: clientID, URL: "https://app.example.test/bcl", LogoutToken: "t1", DueAt: base, CreatedAt: base},
		{ID: "l2", ClientID: clientID, URL: "https://app.example.test/bcl", LogoutToken: "t2", DueAt: base.Add(time.Hour), CreatedAt: base}}))
	l, err := s.ClaimLogout(ctx(t), base, time.Minute)
	must(t, err)
	if l.ID != "l1" || l.LogoutToken != "t1" || l.Attempts != 0 {
		t.Fatalf("claimed %+v", l)
	}
	_, err = s.ClaimLogout(ctx(t), base.Add(time.Second), time.Minute)
	wantErr(t, err, store.ErrNotFound) // l1 is leased, l2 not due
	must(t, s.RetryLogout(ctx(t), "l1", base.Add(10*time.Second)))
	l, err = s.ClaimLogout(ctx(t), base.Add(10*time.Second), time.Minute)
	must(t, err)
	if l.ID != "l1" || l.Attempts != 1 {
		t.Fatalf("claimed again %+v", l)
	}
	must(t, s.FinishLogout(ctx(t), "l1"))
	wantErr(t, s.FinishLogout(ctx(t), "l1"), store.ErrNotFound)
	must(t, s.DeleteExpired(ctx(t), base.Add(25*time.Hour)))
	_, err = s.ClaimLogout(ctx(t), base.Add(26*time.Hour), time.Minute)
	wantErr(t, err, store.ErrNotFound) // l2 given up after a day
}
