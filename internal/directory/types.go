package directory

import "time"

// Tenant is a directory: a set of users, apps and APIs with one issuer. Its ID is a lower-case
// GUID; its domains (lower-case) may stand for it in the tenant path segment.
type Tenant struct {
	ID          string
	Domains     []string
	DisplayName string
}

// User is an account in a tenant. ID is the object id (the oid claim); Username is the
// lower-case user principal name (the preferred_username claim).
type User struct {
	ID           string
	TenantID     string
	Username     string
	DisplayName  string
	GivenName    string
	Surname      string
	Email        string
	PasswordHash string // PHC string; see package password
	Enabled      bool
	Admin        bool // may grant consent for the whole tenant
}

// Platform is the kind of client a redirect URI is registered for. It decides how codes and
// refresh tokens issued to that URI may be redeemed.
type Platform string

// The platforms of Entra's app registrations.
const (
	// PlatformSPA: browser apps; auth code + PKCE, token redemption only cross-origin from
	// the redirect URI's origin, refresh tokens with a fixed absolute lifetime.
	PlatformSPA Platform = "spa"
	// PlatformWeb: confidential server-side apps; a client secret on redemption.
	PlatformWeb Platform = "web"
	// PlatformPublicClient: native and loopback apps; PKCE, no secret, no Origin.
	PlatformPublicClient Platform = "publicClient"
)

// RedirectURI is one registered reply URL and the platform it is registered on.
type RedirectURI struct {
	URI      string
	Platform Platform
}

// Audience says which tenants' users may sign in to an app.
type Audience string

// Sign-in audiences.
const (
	AudienceThisTenant Audience = "thisTenant"
	AudienceAnyTenant  Audience = "anyTenant"
)

// ConsentPolicy says whether users are asked to consent to an app's scopes.
type ConsentPolicy string

// Consent policies.
const (
	ConsentUser          ConsentPolicy = "user"          // ask the user once per scope
	ConsentPreauthorized ConsentPolicy = "preauthorized" // user-consentable scopes need no consent page
)

// Lifetimes are token and refresh-token lifetimes. In an App every field is an override, and
// a zero field means "inherit the server default" (so a per-app reuse interval cannot be set
// to exactly zero; use a tiny duration instead).
type Lifetimes struct {
	AccessToken        time.Duration
	IDToken            time.Duration
	AuthorizationCode  time.Duration
	RefreshReuse       time.Duration // a presented refresh token gets the same successor again this long
	RefreshIdle        time.Duration
	RefreshSPAAbsolute time.Duration
	RefreshAbsolute    time.Duration
}

// Over returns l with every zero field taken from def.
func (l Lifetimes) Over(def Lifetimes) Lifetimes {
	pick := func(v, d time.Duration) time.Duration {
		if v == 0 {
			return d
		}
		return v
	}
	return Lifetimes{
		AccessToken:        pick(l.AccessToken, def.AccessToken),
		IDToken:            pick(l.IDToken, def.IDToken),
		AuthorizationCode:  pick(l.AuthorizationCode, def.AuthorizationCode),
		RefreshReuse:       pick(l.RefreshReuse, def.RefreshReuse),
		RefreshIdle:        pick(l.RefreshIdle, def.RefreshIdle),
		RefreshSPAAbsolute: pick(l.RefreshSPAAbsolute, def.RefreshSPAAbsolute),
		RefreshAbsolute:    pick(l.RefreshAbsolute, def.RefreshAbsolute),
	}
}

// App is an app registration (an OAuth client).
type App struct {
	ClientID               string
	TenantID               string
	DisplayName            string
	SignInAudience         Audience
	RedirectURIs           []RedirectURI
	PostLogoutRedirectURIs []string
	LogoutURL              string
	BackchannelLogoutURL   string
	SecretHashes           []string // SHA-256 of each client secret, base64url
	// Certificates are the DER certificates whose keys may sign client assertions
	// (private_key_jwt), matched by their x5t or x5t#S256 thumbprint.
	Certificates [][]byte
	// AppPermissions are the app roles ("application permissions") an administrator granted
	// the app itself: the roles of its client-credentials tokens.
	AppPermissions []RoleAssignment
	// AllowPublicClientFlows lets the app use the device code and password grants without
	// a credential (Entra's "Allow public client flows").
	AllowPublicClientFlows bool
	ImplicitIDTokens       bool
	ImplicitAccessTokens   bool
	OptionalIDClaims       []string
	OptionalAccessClaims   []string
	Consent                ConsentPolicy
	Lifetimes              Lifetimes   // overrides; zero fields inherit
	GroupClaims            GroupClaims // which groups its tokens carry
	// IDTokenSigningAlg is the JWS algorithm of its ID tokens and back-channel logout tokens
	// (OpenID Connect's id_token_signed_response_alg): "" or RS256, or ES256.
	IDTokenSigningAlg string
}

// HasCredentials reports whether the app has a client secret or a certificate: a
// confidential client, which must authenticate wherever it presents its client id.
func (a App) HasCredentials() bool { return len(a.SecretHashes) > 0 || len(a.Certificates) > 0 }

// API is an API registration: a resource with an Application ID URI, delegated scopes and
// app roles. ClientID, when set, is the API's own app registration.
type API struct {
	TenantID    string
	DisplayName string
	AppIDURI    string
	ClientID    string
	Scopes      []APIScope
	AppRoles    []AppRole
	// SigningAlg is the JWS algorithm of its access tokens: "" or RS256, or ES256.
	SigningAlg string
}

// APIScope is a delegated permission an API exposes.
type APIScope struct {
	Value                string
	AdminConsentRequired bool
	Description          string
}

// Grant is consent: a user (or, with an empty UserID, the whole tenant by an administrator)
// lets an app use scopes of one resource. Grants only grow; asking for more adds to them.
type Grant struct {
	TenantID string
	ClientID string
	UserID   string // "" for a tenant-wide (admin) grant
	Resource string // an API's AppIDURI, or ProfileResource
	Scopes   []string
}

// AppRole is a role an API defines, for users, apps (application permissions) or both.
type AppRole struct {
	Value              string
	AllowedMemberTypes []MemberType
	Description        string
}

// MemberType is the kind of principal an app role may be assigned to.
type MemberType string

// The member types of Entra's app roles.
const (
	MemberUser        MemberType = "User"
	MemberApplication MemberType = "Application"
)

// RoleAssignment gives a user one app role of an API: Resource is the API's Application ID
// URI, Role the role's value.
type RoleAssignment struct {
	Resource string
	Role     string
}

// Group is a security group of a tenant; Members are user object ids.
type Group struct {
	ID          string
	TenantID    string
	DisplayName string
	Members     []string
}

// GroupClaims says which groups an app's tokens carry in the groups claim (Entra's
// groupMembershipClaims). Sigil has only security groups, so SecurityGroup and All agree.
type GroupClaims string

// Values of GroupClaims; "" is GroupClaimsNone.
const (
	GroupClaimsNone          GroupClaims = ""
	GroupClaimsSecurityGroup GroupClaims = "SecurityGroup"
	GroupClaimsAll           GroupClaims = "All"
)
