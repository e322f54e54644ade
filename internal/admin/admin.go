// Package admin is the administration of the directory: the operations an operator runs on
// users and apps — from the command line today (`sigil users …`, `sigil apps list`), each one
// store call or transaction, each logged as an audit event. It decides what an operation means
// (disabling a user also signs it out); the store makes the change.
//
// Entities the bootstrap file names are re-applied from the file on every start: a password
// set here for a file's user lasts until the next start. Users created here are left alone by
// the file.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sigil-idp/sigil/internal/config"
	"github.com/sigil-idp/sigil/internal/directory"
	"github.com/sigil-idp/sigil/internal/password"
	"github.com/sigil-idp/sigil/internal/store"
)

// Admin runs administrative operations on a store.
type Admin struct {
	Store store.Store
	Hash  password.Params // argon2id parameters for new passwords
	Log   *slog.Logger    // audit events; nil discards them
	Now   func() time.Time
	Actor string // who acts, for the audit events (e.g. "cli:root")
}

// ErrNotFound is an unknown tenant, user or app.
var ErrNotFound = errors.New("not found")

// ErrExists is a username that is taken.
var ErrExists = errors.New("already exists")

// Audit logs an administrative change made through the store directly (the admin API's
// group and consent endpoints).
func (a *Admin) Audit(ctx context.Context, event string, attrs ...any) { a.audit(ctx, event, attrs...) }

func (a *Admin) audit(ctx context.Context, event string, attrs ...any) {
	if a.Log == nil {
		return
	}
	a.Log.InfoContext(ctx, "audit", append([]any{"event", event, "actor", a.Actor}, attrs...)...)
}

func (a *Admin) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

// Tenant resolves a tenant by domain or id.
func (a *Admin) Tenant(ctx context.Context, name string) (directory.Tenant, error) {
	t, err := a.Store.TenantByDomain(ctx, strings.ToLower(name))
	if errors.Is(err, store.ErrNotFound) {
		t, err = a.Store.TenantByID(ctx, strings.ToLower(name))
	}
	if errors.Is(err, store.ErrNotFound) {
		return t, fmt.Errorf("tenant %q: %w (a domain or id of the configuration's tenants)", name, ErrNotFound)
	}
	return t, err
}

// User finds a user by username or by object id.
func (a *Admin) User(ctx context.Context, ref string) (directory.User, error) {
	var u directory.User
	var err error
	if strings.Contains(ref, "@") {
		u, err = a.Store.UserByUsername(ctx, strings.ToLower(ref))
	} else {
		u, err = a.Store.UserByID(ctx, strings.ToLower(ref))
	}
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("user %q: %w", ref, ErrNotFound)
	}
	return u, err
}

func (a *Admin) user(ctx context.Context, ref string) (directory.User, error) {
	return a.User(ctx, ref)
}

// Profile is a change to a user's profile: the fields that are not nil are set.
type Profile = store.UserProfile

// UpdateProfile changes the set fields of a user's profile in one statement.
func (a *Admin) UpdateProfile(ctx context.Context, ref string, p Profile) error {
	u, err := a.user(ctx, ref)
	if err != nil {
		return err
	}
	if err := a.Store.UpdateUserProfile(ctx, u.ID, p); err != nil {
		return err
	}
	a.audit(ctx, "user.update", "tenant_id", u.TenantID, "user_id", u.ID)
	return nil
}

// RevokeSessions signs a user out everywhere: sessions ended, refresh tokens revoked, its own
// consents withdrawn (Graph's revokeSignInSessions).
func (a *Admin) RevokeSessions(ctx context.Context, ref string) error {
	u, err := a.user(ctx, ref)
	if err != nil {
		return err
	}
	if err := a.Store.RevokeUser(ctx, u.ID, a.now()); err != nil {
		return err
	}
	a.audit(ctx, "user.revoke_sessions", "tenant_id", u.TenantID, "user_id", u.ID)
	return nil
}

// AddUser creates a user in the tenant, validated as the bootstrap file's users are.
func (a *Admin) AddUser(ctx context.Context, tenant string, u config.User) (directory.User, error) {
	t, err := a.Tenant(ctx, tenant)
	if err != nil {
		return directory.User{}, err
	}
	if err := config.CheckUser(&u, t.Domains); err != nil {
		return directory.User{}, err
	}
	if _, err := a.Store.UserByUsername(ctx, u.Username); err == nil {
		return directory.User{}, fmt.Errorf("user %q: %w", u.Username, ErrExists)
	} else if !errors.Is(err, store.ErrNotFound) {
		return directory.User{}, err
	}
	id, err := config.ApplyUser(ctx, a.Store, t.ID, u, a.Hash)
	if err != nil {
		return directory.User{}, err
	}
	a.audit(ctx, "user.add", "tenant_id", t.ID, "user_id", id, "username", u.Username)
	return a.Store.UserByID(ctx, id)
}

// Users lists a tenant's users by username.
func (a *Admin) Users(ctx context.Context, tenant string) ([]directory.User, error) {
	t, err := a.Tenant(ctx, tenant)
	if err != nil {
		return nil, err
	}
	var all []directory.User
	for after := ""; ; {
		page, err := a.Store.Users(ctx, t.ID, after, 500)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < 500 {
			return all, nil
		}
		after = page[len(page)-1].Username
	}
}

// SetEnabled enables or disables a user. Disabling also signs the user out everywhere: its
// sessions end and its refresh tokens are revoked, so no token is issued to it any more.
func (a *Admin) SetEnabled(ctx context.Context, username string, enabled bool) error {
	u, err := a.user(ctx, username)
	if err != nil {
		return err
	}
	if err := a.Store.SetUserEnabled(ctx, u.ID, enabled); err != nil {
		return err
	}
	event := "user.enable"
	if !enabled {
		event = "user.disable"
		if err := a.Store.RevokeUser(ctx, u.ID, a.now()); err != nil {
			return err
		}
	}
	a.audit(ctx, event, "tenant_id", u.TenantID, "user_id", u.ID)
	return nil
}

// SetPassword gives a user a new password (hashed here) and signs it out everywhere, as a
// password reset does.
func (a *Admin) SetPassword(ctx context.Context, username, pw string) error {
	if pw == "" {
		return errors.New("the password is empty")
	}
	u, err := a.user(ctx, username)
	if err != nil {
		return err
	}
	hash, err := password.Hash(pw, a.Hash)
	if err != nil {
		return err
	}
	if err := a.Store.SetUserPassword(ctx, u.ID, hash); err != nil {
		return err
	}
	if err := a.Store.RevokeUser(ctx, u.ID, a.now()); err != nil {
		return err
	}
	a.audit(ctx, "user.set_password", "tenant_id", u.TenantID, "user_id", u.ID)
	return nil
}

// DeleteUser deletes a user with its sessions, consents and tokens.
func (a *Admin) DeleteUser(ctx context.Context, username string) error {
	u, err := a.user(ctx, username)
	if err != nil {
		return err
	}
	if err := a.Store.DeleteUser(ctx, u.ID); err != nil {
		return err
	}
	a.audit(ctx, "user.delete", "tenant_id", u.TenantID, "user_id", u.ID)
	return nil
}

// Apps lists a tenant's app registrations by client id.
func (a *Admin) Apps(ctx context.Context, tenant string) ([]directory.App, error) {
	t, err := a.Tenant(ctx, tenant)
	if err != nil {
		return nil, err
	}
	ids, err := a.Store.AppIDs(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	apps := make([]directory.App, 0, len(ids))
	for _, id := range ids {
		app, err := a.Store.AppByClientID(ctx, id)
		if err != nil {
			return nil, err
		}
		apps = append(apps, app)
	}
	return apps, nil
}
