// Package store defines what Sigil keeps: the storage interface, the records of protocol
// state (browser sessions, pending interactions, authorization codes, refresh-token families,
// signing keys, sign-in failures) and the sentinel errors every implementation returns.
//
// A Store decides no policy. Lifetimes, reuse windows and limits arrive as arguments; the
// store only makes each security-relevant change (redeeming a code, rotating a refresh token,
// detecting reuse) one atomic conditional statement, so concurrent requests on any number of
// nodes cannot both win. Package sqlstore is the implementation; package storetest is the
// conformance suite every implementation passes.
//
// # Refresh-token rotation
//
// A family is a chain of refresh tokens; each token has at most one current successor, named
// by its generation (1 for the first, n+1 for the one that superseded the nth), whose secret
// the caller derives from the token and the generation (the store keeps hashes only). A
// token is in one of these states:
//
//	live        never presented successfully (rotated_at = 0)
//	pending     presented; its current successor was never used
//	spent       presented; its current successor was used (or pruned, or, before
//	            migration 0021, never recorded)
//	superseded  a successor that was never used and was replaced by a newer one
//
// A presentation of token T at time now (reuse interval R, ReuseUntil = now+R) does one of:
//
//	T unknown                                   → ErrNotFound
//	family revoked                              → ErrRevoked
//	T superseded                                → family revoked, ErrReused       (c)
//	T spent, now ≥ T's reuse_until              → family revoked, ErrReused       (c)
//	T expired                                   → ErrExpired (nothing changes)
//	T live                                      → successor 1 issued; T pending,
//	                                              reuse_until = now+R
//	T pending or spent, now < T's reuse_until   → the SAME successor again          (a)
//	T pending, now ≥ T's reuse_until            → successor n+1 issued, successor n
//	                                              superseded, reuse_until = now+R  (b)
//
// so a family never has more than one live chain: within the interval every presentation
// (a retry, a second tab, 50 concurrent ones) gets the one successor; after it, a
// presentation whose answer was lost (the successor never used) gets a new successor
// instead of revoking the family, and the unused one dies. With R = 0 no presentation is
// within the interval (the comparison is strict): of concurrent presentations each one
// supersedes the previous answer, and exactly one successor stays usable.
//
// What a thief holding a copy of a token can still do: within its interval, get the same
// successor as the owner (one chain, shared — undetected until one of them rotates past the
// other). After the interval, if the owner has already used the successor, the thief's
// presentation revokes the family (detected). If the owner has not (an idle client), the
// thief supersedes the owner's successor and holds the only live chain; the owner's next
// refresh presents a superseded token and revokes the family, the thief's chain with it —
// detection at the owner's next refresh, not prevention. A thief who copies the newest
// token of an idle client holds it exactly as the owner does until one of them uses it.
//
// Pruning (DeleteExpired) deletes superseded tokens and spent tokens past their interval:
// their presentation only ever revokes the family, which the caller can still do for a
// pruned token it can authenticate (RevokeRefreshFamily). A family thus keeps about two
// token rows (the pending token and the live one) however often it refreshes. A run finds
// spent tokens from their successors presented in the last half hour, so that it costs what
// was refreshed lately rather than what the store holds; a token a longer pause of pruning
// missed stays until its family expires.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/sigil-idp/sigil/internal/directory"
)

// Sentinel errors. Implementations wrap them; callers test with errors.Is.
var (
	ErrNotFound = errors.New("store: not found")
	ErrConflict = errors.New("store: conflict")
	// ErrRedeemed: the authorization code was redeemed before (a replay).
	ErrRedeemed = errors.New("store: authorization code already redeemed")
	// ErrReused: a refresh token whose successor was used, or that was superseded, was
	// presented again after its reuse interval; its whole family is now revoked.
	ErrReused = errors.New("store: refresh token reused")
	// ErrRevoked: the refresh token's family was revoked (sign-out, reuse, code replay).
	ErrRevoked = errors.New("store: refresh token revoked")
	// ErrExpired: the refresh token's idle or absolute lifetime has passed.
	ErrExpired = errors.New("store: refresh token expired")
)

// Store is everything Sigil persists.
type Store interface {
	Directory
	Sessions
	Codes
	RefreshTokens
	DeviceCodes
	Keys
	Throttle
	TestControl
	Outbox
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// DeleteExpired removes sessions, interactions, codes, device authorizations and
	// refresh-token families whose lifetime ended before now, and prunes refresh tokens that
	// can no longer be answered with a successor (see the package doc).
	DeleteExpired(ctx context.Context, now time.Time) error
	// Close releases the database.
	Close() error
}

// Directory keeps tenants, users, apps, APIs and grants. Upserts replace the named record
// (and its lists) and leave every other record alone.
type Directory interface {
	UpsertTenant(ctx context.Context, t directory.Tenant) error
	TenantByID(ctx context.Context, id string) (directory.Tenant, error)
	// TenantByDomain finds a tenant by one of its domain names (lower-case).
	TenantByDomain(ctx context.Context, domain string) (directory.Tenant, error)

	UpsertUser(ctx context.Context, u directory.User) error
	UserByID(ctx context.Context, id string) (directory.User, error)
	// UserByUsername finds a user by lower-case username across all tenants.
	UserByUsername(ctx context.Context, username string) (directory.User, error)
	// Users lists a tenant's users by username, at most limit of them after the username
	// after ("" from the start).
	Users(ctx context.Context, tenantID, after string, limit int) ([]directory.User, error)
	// SetUserEnabled enables or disables a user in one statement; ErrNotFound when none.
	SetUserEnabled(ctx context.Context, id string, enabled bool) error
	// SetUserPassword replaces a user's password hash in one statement; ErrNotFound when none.
	SetUserPassword(ctx context.Context, id, hash string) error
	// UpdateUserProfile sets the profile fields of p that are not nil, in one statement (two
	// concurrent changes of different fields both stay); ErrNotFound when there is no user.
	UpdateUserProfile(ctx context.Context, id string, p UserProfile) error

	UpsertApp(ctx context.Context, a directory.App) error
	AppByClientID(ctx context.Context, clientID string) (directory.App, error)
	// AppIDs lists the client ids of the apps registered in a tenant, sorted.
	AppIDs(ctx context.Context, tenantID string) ([]string, error)
	// TenantGrants lists every consent in a tenant, one Grant per (app, user or tenant-wide,
	// resource).
	TenantGrants(ctx context.Context, tenantID string) ([]directory.Grant, error)
	// DeleteGrant withdraws one consent (every scope of it) in one statement; ErrNotFound
	// when there is none.
	DeleteGrant(ctx context.Context, tenantID, clientID, userID, resource string) error
	// IsSPAOrigin reports whether origin is the origin of any spa redirect URI registered by
	// any app (for CORS on bearer-token endpoints, where no client is named).
	IsSPAOrigin(ctx context.Context, origin string) (bool, error)
	// AllowsPostLogoutRedirect reports whether uri is a redirect or post-logout redirect URI
	// of an app that can be used through the tenant: one registered in it, or one registered
	// for any tenant. With tenantID "" (common, organizations) only the latter count.
	AllowsPostLogoutRedirect(ctx context.Context, tenantID, uri string) (bool, error)

	UpsertAPI(ctx context.Context, a directory.API) error
	// APIByURI finds an API of the tenant by Application ID URI, case-insensitively, or, as
	// Entra does, by the client id of the API's own app registration (apis[].clientId).
	APIByURI(ctx context.Context, tenantID, appIDURI string) (directory.API, error)

	// AddGrant adds scopes to a grant (creating it); scopes already granted stay.
	AddGrant(ctx context.Context, g directory.Grant, now time.Time) error
	// Grants returns the user's grants to the app and the tenant-wide grants to it, one
	// Grant per (user-or-tenant, resource).
	Grants(ctx context.Context, tenantID, clientID, userID string) ([]directory.Grant, error)
	RolesAndGroups
}

// RolesAndGroups keeps users' app role assignments and security groups.
type RolesAndGroups interface {
	// SetUserAppRoles replaces the user's app role assignments (roles of APIs of tenantID).
	SetUserAppRoles(ctx context.Context, tenantID, userID string, roles []directory.RoleAssignment) error
	// UserRoles returns, sorted, the values of the app roles assigned to the user that their
	// API still defines: apiRoles of the tenant's API named by appIDURI (case-insensitively;
	// the roles an access token for it carries), clientRoles of the tenant's API whose own app
	// registration (API.ClientID) is clientID (the roles an ID token for that app carries). An
	// empty appIDURI or clientID asks for none of that kind.
	UserRoles(ctx context.Context, tenantID, userID, appIDURI, clientID string) (apiRoles, clientRoles []string, err error)

	// UpsertGroup creates or replaces a group and its member list (user ids of its tenant).
	UpsertGroup(ctx context.Context, g directory.Group) error
	// GroupByID returns a group with its members, sorted.
	GroupByID(ctx context.Context, id string) (directory.Group, error)
	// UserGroups returns the groups the user is a member of, by id, without their members.
	UserGroups(ctx context.Context, userID string) ([]directory.Group, error)
	// TenantGroups lists a tenant's groups by display name, without their members.
	TenantGroups(ctx context.Context, tenantID string) ([]directory.Group, error)
	// AddGroupMember adds a user of the group's tenant to it in one statement; ErrConflict
	// when it is a member already or either is unknown.
	AddGroupMember(ctx context.Context, groupID, userID string) error
	// RemoveGroupMember removes a member in one statement; ErrNotFound when it was none.
	RemoveGroupMember(ctx context.Context, groupID, userID string) error
}

// UserProfile is a partial change of a user's profile: nil fields are left as they are.
type UserProfile struct {
	DisplayName, GivenName, Surname, Email *string
	Admin                                  *bool
}

// Session is one account signed in in one browser. A browser (identified by the hash of its
// session cookie) may hold several. ID is the sid claim: stable for the account in that
// browser, kept when the user re-authenticates.
type Session struct {
	ID          string
	BrowserHash string
	TenantID    string
	UserID      string
	AuthTime    time.Time
	AMR         []string
	Remember    bool
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// Sessions keeps browser sessions and pending interactions.
type Sessions interface {
	// UpsertSession signs an account in: it creates the session for (BrowserHash, UserID) or,
	// when one exists, moves its AuthTime, AMR, Remember and ExpiresAt — keeping its ID unless
	// it had expired. It returns the stored session.
	UpsertSession(ctx context.Context, s Session, now time.Time) (Session, error)
	// RebindBrowser moves a browser's sessions to a new browser hash (the session cookie is
	// renewed at every sign-in).
	RebindBrowser(ctx context.Context, oldHash, newHash string) error
	// BrowserSessions returns the unexpired sessions of a browser, oldest first.
	BrowserSessions(ctx context.Context, browserHash string, now time.Time) ([]Session, error)
	// EndSession deletes the session and revokes every refresh-token family issued in it.
	EndSession(ctx context.Context, id string, now time.Time) error

	// RecordSessionClient notes that the session signed in to the app (for front-channel
	// logout); noting it again changes nothing.
	RecordSessionClient(ctx context.Context, sessionID, clientID string, now time.Time) error
	// SessionClients returns the client ids of the apps the session signed in to, sorted.
	SessionClients(ctx context.Context, sessionID string) ([]string, error)

	// CompleteInteraction records that a pending interaction (which travels sealed in the
	// sign-in pages, not in the store) got its answer; a second completion of the same id
	// gets ErrRedeemed. The record may be pruned after expires.
	CompleteInteraction(ctx context.Context, id string, expires time.Time) error
}

// Grant is what an authorization code or a refresh-token family carries: who signed in to
// which app, when, and with what consented scopes.
type Grant struct {
	TenantID  string
	ClientID  string
	UserID    string
	SessionID string
	Platform  directory.Platform // of the redirect URI the code was issued to
	Resource  string             // primary resource of Scopes
	Scopes    []string           // granted scopes, spelled as requested
	AuthTime  time.Time
	AMR       []string
	Remember  bool
	Claims    string // the authorization request's claims parameter (JSON), "" when none
}

// AuthCode is an authorization code. Only the hash of the code is kept.
type AuthCode struct {
	Hash           string
	Grant          Grant
	RedirectURI    string
	RedirectGiven  bool // the authorize request named redirect_uri, so redemption must too
	Nonce          string
	CodeChallenge  string // S256 challenge; "" when none was sent
	CreatedAt      time.Time
	ExpiresAt      time.Time
	RedeemedAt     time.Time // zero until redeemed
	ReplayDetected bool
	// ParentHash is the code whose redemption issued this one (a hybrid spa_code), "" for a
	// code issued at the authorization endpoint.
	ParentHash string
}

// Codes keeps authorization codes.
type Codes interface {
	// CreateAuthCode stores a code. A code with a ParentHash is refused with ErrRevoked
	// once that parent is marked replayed (checked under the parent row's lock, so a replay
	// racing with it either sees the new code or stops it).
	CreateAuthCode(ctx context.Context, c AuthCode) error
	// RedeemAuthCode marks the code redeemed in one conditional statement and returns it.
	// A code redeemed before yields ErrRedeemed (with the code) and is marked replayed, so
	// that no refresh-token family can be created from it any more, and so are the codes
	// issued from it (ParentHash), their families revoked; an unknown one yields
	// ErrNotFound. Expiry is the caller's policy.
	RedeemAuthCode(ctx context.Context, hash string, now time.Time) (AuthCode, error)
}

// RefreshFamily is the chain of refresh tokens that descends from one code redemption.
type RefreshFamily struct {
	ID                string
	Grant             Grant
	CodeHash          string // the code it was issued from
	CreatedAt         time.Time
	AbsoluteExpiresAt time.Time
	RevokedAt         time.Time // zero while valid
}

// RefreshToken is one refresh token of a family. Only its hash is kept.
type RefreshToken struct {
	Hash      string
	FamilyID  string
	CreatedAt time.Time
	ExpiresAt time.Time // min(idle deadline, family absolute deadline)
	RotatedAt time.Time // zero until presented; then when its current successor was issued
	// ReuseUntil ends the interval in which a presentation gets the current successor again.
	ReuseUntil time.Time
	// SuccessorHash is the current successor ("" before the first presentation) and
	// Successors how many the token has issued (its current successor's generation).
	SuccessorHash string
	Successors    int
	// SupersededAt is when this token, never used, was replaced by a newer successor of its
	// parent; zero otherwise.
	SupersededAt time.Time
	// Generation is set on the token RotateRefreshToken returns: which successor of the
	// presented token it is (1, 2, …), from which the caller derives its secret.
	Generation int
}

// Rotation asks RotateRefreshToken to exchange one refresh token for its successor.
type Rotation struct {
	Hash string // the presented token
	// Successor returns the hash of the presented token's successor of a generation (1 for
	// the first): the caller derives successors' secrets from the presented token, so a
	// retry gets the same secret and the store keeps no secret.
	Successor func(generation int) string
	Now       time.Time // also a new successor's creation time
	// ReuseUntil ends the reuse interval of a successor issued now: presentations before it
	// get that same successor.
	ReuseUntil time.Time
	Expires    time.Time // a new successor's expiry: its idle deadline, capped by the family's absolute one
	// Issue, when set, is called once with the successor when the presentation is answered
	// with one (not when it is refused), before RotateRefreshToken returns. It is for work
	// that needs the outcome but has no effect outside the process, such as signing the
	// response's tokens: the store may run it while the commit that makes the rotation
	// durable is still pending (SQLite keeps its batch open for it, so that it overlaps the
	// fsync and the requests arriving meanwhile share that commit). RotateRefreshToken still
	// returns only once the rotation is durable, with Issue's error when the rotation
	// succeeded and Issue failed (the token is used either way). Issue must not write
	// through the store.
	Issue func(successor RefreshToken) error
}

// RefreshTokens keeps refresh-token families. Rotation follows the state machine in the
// package doc; every change of state is a transaction gated by one conditional statement.
type RefreshTokens interface {
	// CreateRefreshFamily stores a family with its first token, unless the code it comes
	// from was replayed in the meantime (then ErrRevoked). A family with no CodeHash (issued
	// at the authorization endpoint) comes from no code.
	CreateRefreshFamily(ctx context.Context, f RefreshFamily, first RefreshToken) error
	// RefreshToken returns a token and its family, whatever their state.
	RefreshToken(ctx context.Context, hash string) (RefreshToken, RefreshFamily, error)
	// RefreshTokenAndUser is RefreshToken with the family's user, read together: what a
	// refresh checks before it presents the token. The user is nil when it no longer exists.
	RefreshTokenAndUser(ctx context.Context, hash string) (RefreshToken, RefreshFamily, *directory.User, error)
	// RotateRefreshToken presents a token and returns the successor to answer with (its
	// Generation set): the first one, the same one again within the reuse interval, or a new
	// one superseding an unused one after it. Otherwise it returns ErrNotFound, ErrExpired,
	// ErrRevoked, or ErrReused (having revoked the family), with the family when known.
	RotateRefreshToken(ctx context.Context, r Rotation) (RefreshToken, RefreshFamily, error)
	// RevokeRefreshFamily revokes the family of a client (a pruned token of it was presented
	// again) and returns it; a family already revoked stays as it is. No such family of that
	// client: ErrNotFound.
	RevokeRefreshFamily(ctx context.Context, id, clientID string, now time.Time) (RefreshFamily, error)
}

// DeviceStatus is where a device authorization (RFC 8628) stands.
type DeviceStatus string

// Device authorization states: waiting for the user, approved with a grant, declined by the
// user, and redeemed for tokens (once).
const (
	DevicePending  DeviceStatus = "pending"
	DeviceApproved DeviceStatus = "approved"
	DeviceDeclined DeviceStatus = "declined"
	DeviceRedeemed DeviceStatus = "redeemed"
)

// DeviceCode is a device authorization (RFC 8628): what a device asked for, and what the
// user decided on the verification page. Only hashes of the device code and of the user code
// are kept. Grant.ClientID and Grant.Claims are the request's from the start; the rest of
// Grant is set when the user approves.
type DeviceCode struct {
	Hash         string // of the device_code
	UserCodeHash string // of the normalized user_code
	Tenant       string // the tenant path segment the device asked through
	Scope        string // the scope parameter as the device sent it
	Status       DeviceStatus
	Grant        Grant
	CreatedAt    time.Time
	ExpiresAt    time.Time
	EnteredAt    time.Time // when the user code was entered on the verification page; zero before
	LastPolledAt time.Time // zero before the first poll
}

// DeviceCodes keeps device authorizations. Every change of state is one conditional
// statement, so that of concurrent requests only one wins; lifetimes and the polling
// interval are the caller's policy.
type DeviceCodes interface {
	// CreateDeviceCode stores a pending device authorization. A user code hash that is in
	// use (by any stored authorization) yields ErrConflict.
	CreateDeviceCode(ctx context.Context, d DeviceCode) error
	// EnterUserCode claims the pending, unexpired, never-entered authorization with this
	// user code hash, once, setting EnteredAt; anything else yields ErrNotFound.
	EnterUserCode(ctx context.Context, userCodeHash string, now time.Time) (DeviceCode, error)
	// ApproveDeviceCode moves a pending, unexpired authorization to approved with the grant
	// (all but its ClientID); anything else yields ErrNotFound.
	ApproveDeviceCode(ctx context.Context, hash string, g Grant, now time.Time) error
	// DeclineDeviceCode moves a pending, unexpired authorization to declined; anything else
	// yields ErrNotFound.
	DeclineDeviceCode(ctx context.Context, hash string, now time.Time) error
	// PollDeviceCode records a poll: it sets LastPolledAt to now unless the previous poll
	// was less than interval before now, and returns the authorization with whether this
	// poll was recorded (false: too fast, RFC 8628 slow_down). Unknown: ErrNotFound.
	PollDeviceCode(ctx context.Context, hash string, now time.Time, interval time.Duration) (DeviceCode, bool, error)
	// RedeemDeviceCode moves an approved, unexpired authorization to redeemed and returns
	// it. One redeemed before yields ErrRedeemed; anything else ErrNotFound.
	RedeemDeviceCode(ctx context.Context, hash string, now time.Time) (DeviceCode, error)
}

// KeyState is a signing key's place in rotation.
type KeyState string

// Signing key states: published before use, used for signing, published after use.
const (
	KeyNext    KeyState = "next"
	KeyCurrent KeyState = "current"
	KeyRetired KeyState = "retired"
)

// SigningKey is a token-signing key.
type SigningKey struct {
	ID          string // kid
	Algorithm   string // JOSE alg, RS256 or ES256: the key's lineage
	PrivateKey  []byte // PKCS #8 DER, sealed by a key-encryption key (tokens.KeyRing)
	Certificate []byte // DER of a self-signed certificate for the public key (x5c)
	State       KeyState
	CreatedAt   time.Time
	StateSince  time.Time // when it entered State (CreatedAt for a key added in it)
}

// Keys keeps signing keys and instance-wide secrets.
type Keys interface {
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// AddSigningKey stores a key. Every algorithm is a lineage of its own: adding a second
	// current or a second next key of the same algorithm yields ErrConflict.
	AddSigningKey(ctx context.Context, k SigningKey) error
	// PromoteSigningKey rotates in one transaction: the current key currentID is retired and
	// the next key nextID becomes current, at now. The retirement is conditional on currentID
	// still being current, so of several nodes rotating at once one wins; the others (and a
	// next key that is gone) get ErrConflict and nothing changes.
	PromoteSigningKey(ctx context.Context, currentID, nextID string, now time.Time) error
	// DeleteRetiredKeys deletes the retired keys retired before the cutoff (no token they
	// signed is still valid).
	DeleteRetiredKeys(ctx context.Context, retiredBefore time.Time) error
	// ResealSigningKey replaces key id's stored private key old with sealed, only while it
	// is still old (one conditional statement: of several nodes sealing at once, one wins);
	// otherwise ErrConflict.
	ResealSigningKey(ctx context.Context, id string, old, sealed []byte) error
	// Secret returns the named instance secret, storing value first if none exists yet
	// (the first of several racing nodes wins; all get the same bytes back).
	Secret(ctx context.Context, name string, value []byte) ([]byte, error)
	// ResealSecret replaces the named secret's stored value old with sealed, only while it
	// is still old (one conditional statement); otherwise ErrConflict.
	ResealSecret(ctx context.Context, name string, old, sealed []byte) error
}

// Attempt asks ReserveAttempt for one credential check (a password, a client secret or
// assertion, a device user code) under each of its throttle keys.
type Attempt struct {
	ID    string       // names the reservation; chosen by the caller, unique
	Keys  []AttemptKey // what the check counts against: an account, an address, a client…
	Since time.Time    // failures recorded at or after Since count (the throttling window)
	Now   time.Time    // reservations that expire after Now are in flight and count
	Until time.Time    // when this reservation lapses if never released or failed (a crash)
}

// AttemptKey is one count of an Attempt and its limit: the reservation is made only while
// the key's failures plus its reservations in flight are fewer than Limit.
type AttemptKey struct {
	Key   string
	Limit int
}

// Throttle counts failed credential checks per key and reserves each check before it runs,
// so that concurrent checks on any number of nodes cannot all pass a limit that each of them
// read before the others had failed. A caller reserves the check, checks the credential only
// when the reservation was made, then releases it (the credential was right) or fails it (it
// was wrong).
type Throttle interface {
	// ReserveAttempt reserves a check under every key of a, or under none: for each key one
	// conditional statement adds the reservation only if the failures recorded for the key at
	// or after a.Since plus its reservations unexpired at a.Now are fewer than its limit, all
	// in one transaction. It returns -1 when the check is reserved, otherwise the index of
	// the first key at its limit (nothing is reserved then). Of any number of concurrent
	// callers on any number of stores sharing the database, at most a key's remaining
	// capacity get a reservation.
	ReserveAttempt(ctx context.Context, a Attempt) (refused int, err error)
	// ReleaseAttempt forgets a reservation under all its keys (the credential was right, or
	// was never checked), in one statement.
	ReleaseAttempt(ctx context.Context, id string) error
	// FailAttempt turns a reservation into failures recorded at `at` under keys (those it
	// was made under), in one statement; under a key where it is gone (pruned), the failure
	// is recorded anew.
	FailAttempt(ctx context.Context, id string, keys []string, at time.Time) error
	// RecordLoginFailure records one failure for key without a reservation.
	RecordLoginFailure(ctx context.Context, key string, at time.Time) error
	// LoginFailures counts failures (not reservations) for key at or after since.
	LoginFailures(ctx context.Context, key string, since time.Time) (int, error)
	// PruneLoginFailures forgets failures, and reservations made, before the cutoff.
	PruneLoginFailures(ctx context.Context, before time.Time) error
}

// ForcedFailure is an error the test-control API asked the authorization endpoint to answer,
// for the next Remaining requests of an app (ClientID), of a user (UserID), of both, or of any
// ("" matches every one).
type ForcedFailure struct {
	ID          string
	ClientID    string
	UserID      string
	Error       string // login_required, consent_required, interaction_required, access_denied
	Description string
	Remaining   int
	CreatedAt   time.Time
}

// TestControl is what the test-control API changes beyond the directory. None of it is used
// unless that API is enabled.
type TestControl interface {
	// AddForcedFailure stores a forced failure.
	AddForcedFailure(ctx context.Context, f ForcedFailure) error
	// TakeForcedFailure uses up one request of the oldest forced failure that matches the app
	// and the user, in one conditional statement (two concurrent requests cannot both use the
	// last one), and returns it with Remaining after the use; ErrNotFound when none matches.
	TakeForcedFailure(ctx context.Context, clientID, userID string) (ForcedFailure, error)
	// ClearForcedFailures forgets every forced failure.
	ClearForcedFailures(ctx context.Context) error
	// DeleteUser deletes a user with everything issued to it (sessions, codes, device
	// authorizations, consents, refresh-token families, role assignments, group memberships)
	// in one transaction; ErrNotFound when there is no such user.
	DeleteUser(ctx context.Context, userID string) error
	// RevokeUser signs the user out everywhere: its sessions, unredeemed codes and the device
	// authorizations approved for it deleted, its refresh-token families revoked, its own
	// consents withdrawn (tenant-wide grants stay).
	RevokeUser(ctx context.Context, userID string, now time.Time) error
	// ClearLoginFailures forgets every recorded sign-in failure (every throttle count).
	ClearLoginFailures(ctx context.Context) error
	// ResetState deletes every user and all protocol state — sessions, codes, device codes,
	// consents, refresh tokens, throttle counts, forced failures — keeping tenants, apps, APIs,
	// groups and signing keys, so that applying the bootstrap file again restores its users.
	ResetState(ctx context.Context) error
}

// BackchannelLogout is a logout token to POST to an app's backchannelLogoutUrl.
type BackchannelLogout struct {
	ID          string
	ClientID    string
	URL         string
	LogoutToken string // signed; names the session (sid) and the user, no secret
	Attempts    int
	DueAt       time.Time
	CreatedAt   time.Time
}

// Outbox keeps back-channel logout tokens until they are delivered, across restarts and nodes.
type Outbox interface {
	// EnqueueLogouts stores logout tokens to deliver, in one transaction.
	EnqueueLogouts(ctx context.Context, ls []BackchannelLogout) error
	// ClaimLogout takes the oldest due logout for lease in one conditional statement (of
	// several nodes claiming at once, one gets each); ErrNotFound when none is due.
	ClaimLogout(ctx context.Context, now time.Time, lease time.Duration) (BackchannelLogout, error)
	// FinishLogout deletes a delivered logout.
	FinishLogout(ctx context.Context, id string) error
	// RetryLogout counts a failed attempt and makes the logout due again at dueAt.
	RetryLogout(ctx context.Context, id string, dueAt time.Time) error
}
