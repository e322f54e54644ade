package config

import "time"

// Config is the bootstrap file. Decoded slices keep file order.
type Config struct {
	// PublicURL is the scheme, host and port browsers use, such as
	// https://login.example.test:8443; issuers derive from it. Validate
	// lower-cases the host, drops ":443" and any trailing "/".
	PublicURL string `yaml:"publicUrl"`
	// Listen is the host:port to listen on.
	Listen string `yaml:"listen"`
	// TLS says where the server certificate comes from.
	TLS TLS `yaml:"tls"`
	// DataDir holds the SQLite database and the tls.auto certificates.
	DataDir string `yaml:"dataDir"`
	// Storage is "sqlite" (a file in DataDir), "sqlite:<path>", or a
	// postgres:// or postgresql:// URL.
	Storage        string         `yaml:"storage"`
	TokenLifetimes TokenLifetimes `yaml:"tokenLifetimes"`
	RefreshTokens  RefreshTokens  `yaml:"refreshTokens"`
	Sessions       Sessions       `yaml:"sessions"`
	LoginThrottle  LoginThrottle  `yaml:"loginThrottle"`
	// TrustedProxies are the reverse proxies (CIDRs, or single addresses) whose
	// ForwardedHeader is believed to name the client's address; every other peer is
	// the client itself, whatever its headers say.
	TrustedProxies []string `yaml:"trustedProxies"`
	// ForwardedHeader is the header those proxies write: X-Forwarded-For (the
	// default) or Forwarded (RFC 7239). The other one is never read.
	ForwardedHeader string `yaml:"forwardedHeader"`
	// Transport bounds connections and the HTTP server's timeouts and sizes.
	Transport Transport `yaml:"transport"`
	// KeyEncryptionKeyFile names a file of key-encryption keys (base64, one a line, the
	// first seals) that seal the signing keys' private keys in the store. The environment
	// variable SIGIL_KEY_ENCRYPTION_KEY may give them instead.
	KeyEncryptionKeyFile string `yaml:"keyEncryptionKeyFile"`
	// GroupsOverageLimit is the most groups a token lists in its groups claim; a user in
	// more gets Entra's overage form instead (Entra's limit for JWTs is 200).
	GroupsOverageLimit int      `yaml:"groupsOverageLimit"`
	Tenants            []Tenant `yaml:"tenants"`
	// Testing turns on what end-to-end test suites use; never for production.
	Testing Testing `yaml:"testing"`
	// Admin is the admin listener: the Graph-shaped admin API, health and readiness.
	Admin Admin `yaml:"admin"`
	// SigningKeys is the signing keys' rotation schedule.
	SigningKeys SigningKeys `yaml:"signingKeys"`
	// Tracing exports OpenTelemetry traces; off unless OTLPEndpoint is set.
	Tracing Tracing `yaml:"tracing"`
	// BackchannelLogout configures the delivery of back-channel logout tokens.
	BackchannelLogout BackchannelLogout `yaml:"backchannelLogout"`
	// AccessLog logs one line per request (method, path without the query, route, status,
	// AADSTS code, duration, trace id, client address): never a query string, header, body,
	// code or token.
	AccessLog bool `yaml:"accessLog"`
}

// Tracing configures OpenTelemetry: one span per request, with the store's statements and
// the token signatures under it, exported over OTLP/HTTP.
type Tracing struct {
	// OTLPEndpoint is the collector's OTLP/HTTP traces URL, such as
	// http://127.0.0.1:4318/v1/traces.
	OTLPEndpoint string `yaml:"otlpEndpoint"`
	// SampleRatio is the share of traces kept (0 < ratio ≤ 1; 0 means 1). A request that
	// arrives inside a sampled trace is not: Sigil starts its own traces.
	SampleRatio float64 `yaml:"sampleRatio"`
}

// BackchannelLogout configures back-channel logout delivery.
type BackchannelLogout struct {
	// AllowLocalAddresses lets logout tokens go to loopback and link-local addresses (refused
	// otherwise, so an app registration cannot aim Sigil at its own host); sigil dev allows them.
	AllowLocalAddresses bool `yaml:"allowLocalAddresses"`
}

// SigningKeys schedules key rotation: a next key is always published; it starts signing once
// the current key has signed for RotationPeriod (0: only `sigil keys rotate` rotates) and it
// has been published for PublishAhead.
type SigningKeys struct {
	RotationPeriod Duration `yaml:"rotationPeriod"`
	PublishAhead   Duration `yaml:"publishAhead"`
}

// Admin configures the admin listener, which is off unless Listen is set. It speaks plain
// HTTP: keep it on a loopback or private address.
type Admin struct {
	// Listen is the admin listener's host:port, such as 127.0.0.1:9464.
	Listen string `yaml:"listen"`
	// Pprof serves Go's profiler at /debug/pprof/ on the admin listener.
	Pprof bool `yaml:"pprof"`
}

// Testing configures the test-control API (README: "The test-control API"). sigil dev turns
// it on by itself.
type Testing struct {
	// ControlAPI serves the test-control API under /-/test/ on the main listener.
	ControlAPI bool `yaml:"controlApi"`
	// ControlToken, when set, must come as "Authorization: Bearer <token>" with every
	// control request. It is required unless Sigil listens on a loopback address only.
	ControlToken string `yaml:"controlToken"`
}

// TLS selects the server certificate: Auto for a local CA kept in DataDir,
// or CertFile and KeyFile. With neither, the server speaks plain HTTP (for
// running behind a TLS-terminating proxy).
type TLS struct {
	Auto     bool   `yaml:"auto"`
	CertFile string `yaml:"certFile"`
	KeyFile  string `yaml:"keyFile"`
}

// TokenLifetimes are the lifetimes of issued tokens. In an [App], a zero
// field inherits the top-level value (directory.Lifetimes.Over applies it).
type TokenLifetimes struct {
	AccessToken       Duration `yaml:"accessToken"`
	IDToken           Duration `yaml:"idToken"`
	AuthorizationCode Duration `yaml:"authorizationCode"`
}

// RefreshTokens bound refresh-token families. ReuseInterval is how long a
// presented refresh token gets the same successor again (retries, two tabs);
// after it, an unused successor is superseded and a used one makes the
// presentation reuse, which revokes the family (package store's doc). SPAAbsoluteLifetime applies to tokens issued
// to spa redirect URIs, AbsoluteLifetime to the rest. In an [App], a zero
// field inherits the top-level value (directory.Lifetimes.Over applies it),
// so an app cannot lower ReuseInterval to zero on its own.
type RefreshTokens struct {
	ReuseInterval       Duration `yaml:"reuseInterval"`
	IdleLifetime        Duration `yaml:"idleLifetime"`
	SPAAbsoluteLifetime Duration `yaml:"spaAbsoluteLifetime"`
	AbsoluteLifetime    Duration `yaml:"absoluteLifetime"`
}

// Sessions are browser sign-in sessions: Lifetime without "stay signed in",
// RememberLifetime with it.
type Sessions struct {
	Lifetime         Duration `yaml:"lifetime"`
	RememberLifetime Duration `yaml:"rememberLifetime"`
}

// LoginThrottle limits failed sign-ins: after AccountFailures failures for
// one account, or IPFailures from one IP address, within Window, further
// attempts are refused until the window passes. In front of the password
// hashing, each node also admits at most AddressConcurrency checks at once
// per client address, and AddressBurst checks in a row, then one more every
// AddressRefill.
type LoginThrottle struct {
	AccountFailures    int      `yaml:"accountFailures"`
	IPFailures         int      `yaml:"ipFailures"`
	Window             Duration `yaml:"window"`
	AddressConcurrency int      `yaml:"addressConcurrency"`
	AddressBurst       int      `yaml:"addressBurst"`
	AddressRefill      Duration `yaml:"addressRefill"`
}

// Transport bounds what one client can hold of the server: connections in all and per
// client address (0: no cap), the HTTP server's timeouts, the largest request header, and the
// streams one HTTP/2 connection may run at once.
type Transport struct {
	MaxConnections           int      `yaml:"maxConnections"`
	MaxConnectionsPerAddress int      `yaml:"maxConnectionsPerAddress"`
	ReadHeaderTimeout        Duration `yaml:"readHeaderTimeout"`
	ReadTimeout              Duration `yaml:"readTimeout"`
	WriteTimeout             Duration `yaml:"writeTimeout"`
	IdleTimeout              Duration `yaml:"idleTimeout"`
	ShutdownTimeout          Duration `yaml:"shutdownTimeout"`
	MaxHeaderBytes           int      `yaml:"maxHeaderBytes"`
	MaxConcurrentStreams     int      `yaml:"maxConcurrentStreams"`
}

// Tenant is a directory: its id and domains both work as the {tenant} path
// segment.
type Tenant struct {
	ID          string   `yaml:"id"`
	Domains     []string `yaml:"domains"`
	DisplayName string   `yaml:"displayName"`
	Users       []User   `yaml:"users"`
	APIs        []API    `yaml:"apis"`
	Apps        []App    `yaml:"apps"`
	Groups      []Group  `yaml:"groups"`
}

// Group is a security group of a tenant; Members are usernames of the tenant's users.
type Group struct {
	ID          string   `yaml:"id"`
	DisplayName string   `yaml:"displayName"`
	Members     []string `yaml:"members"`
}

// User is a user account. Exactly one of Password (plain text, hashed by the
// applier) and PasswordHash (a hash [password.Verify] accepts) is set.
type User struct {
	// ID is the object id (oid); empty means the applier generates one.
	ID           string `yaml:"id"`
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	PasswordHash string `yaml:"passwordHash"`
	DisplayName  string `yaml:"displayName"`
	GivenName    string `yaml:"givenName"`
	Surname      string `yaml:"surname"`
	Email        string `yaml:"email"`
	// Enabled defaults to true; Validate sets nil to true.
	Enabled *bool `yaml:"enabled"`
	// Admin lets the user grant consent for the whole tenant (the
	// /adminconsent endpoint, and prompt=consent for admin-only scopes).
	Admin bool `yaml:"admin"`
	// AppRoles lists "<appIdUri>/<value>" app roles of the tenant's APIs (allowed for
	// User) assigned to the user; tokens for that API carry them in roles.
	AppRoles []string `yaml:"appRoles"`
}

// API is a resource that exposes delegated scopes and app roles, named by
// its Application ID URI.
type API struct {
	DisplayName string `yaml:"displayName"`
	AppIDURI    string `yaml:"appIdUri"`
	// ClientID optionally names the API's own app registration (an app of
	// the same tenant); access tokens for the API may carry it as audience.
	ClientID string    `yaml:"clientId"`
	Scopes   []Scope   `yaml:"scopes"`
	AppRoles []AppRole `yaml:"appRoles"`
	// SigningAlg is the JWS algorithm of the API's access tokens: SigningAlgRS256 (the
	// default: Entra's, which Entra-style validators expect) or SigningAlgES256 (ECDSA
	// P-256, much cheaper to sign; the API's validator must accept it).
	SigningAlg string `yaml:"signingAlg"`
}

// The JWS algorithms of apis[].signingAlg and apps[].idTokenSigningAlg.
const (
	SigningAlgRS256 = "RS256"
	SigningAlgES256 = "ES256"
)

// AppRole is a role an [API] defines: for users (roles in their tokens),
// for applications (application permissions), or both.
type AppRole struct {
	Value string `yaml:"value"`
	// AllowedMemberTypes holds MemberUser, MemberApplication or both.
	AllowedMemberTypes []string `yaml:"allowedMemberTypes"`
	Description        string   `yaml:"description"`
}

// Scope is a delegated permission of an [API]; apps request it as
// AppIDURI + "/" + Value.
type Scope struct {
	Value                string `yaml:"value"`
	AdminConsentRequired bool   `yaml:"adminConsentRequired"`
	Description          string `yaml:"description"`
}

// App is an app registration (an OAuth client).
type App struct {
	DisplayName string `yaml:"displayName"`
	ClientID    string `yaml:"clientId"`
	// SignInAudience is SignInAudienceThisTenant (the default) or
	// SignInAudienceAnyTenant.
	SignInAudience string   `yaml:"signInAudience"`
	SPA            Platform `yaml:"spa"`
	Web            Platform `yaml:"web"`
	PublicClient   Platform `yaml:"publicClient"`
	// ClientSecrets are plain secrets: the app is a confidential client (a web app, a
	// daemon, an API calling another API) and authenticates with one of them.
	ClientSecrets []string `yaml:"clientSecrets"`
	// Certificates are PEM certificates (RSA keys) whose private keys sign the app's
	// client assertions (private_key_jwt), matched by x5t or x5t#S256.
	Certificates []string `yaml:"certificates"`
	// ApplicationPermissions lists "<appIdUri>/<role>" app roles (allowedMemberTypes
	// Application) an administrator granted the app: its client-credentials tokens' roles.
	ApplicationPermissions []string `yaml:"applicationPermissions"`
	// AllowPublicClientFlows lets the app use the device code and password grants without
	// a credential (Entra's "Allow public client flows").
	AllowPublicClientFlows bool           `yaml:"allowPublicClientFlows"`
	ImplicitGrant          ImplicitGrant  `yaml:"implicitGrant"`
	PostLogoutRedirectURIs []string       `yaml:"postLogoutRedirectUris"`
	LogoutURL              string         `yaml:"logoutUrl"`
	BackchannelLogoutURL   string         `yaml:"backchannelLogoutUrl"`
	OptionalClaims         OptionalClaims `yaml:"optionalClaims"`
	// Consent is ConsentUser (the default) or ConsentPreauthorized.
	Consent string `yaml:"consent"`
	// AdminConsent lists "<appIdUri>/<scope>" granted tenant-wide.
	AdminConsent   []string       `yaml:"adminConsent"`
	TokenLifetimes TokenLifetimes `yaml:"tokenLifetimes"`
	RefreshTokens  RefreshTokens  `yaml:"refreshTokens"`
	// GroupMembershipClaims is GroupClaimsNone (the default), GroupClaimsSecurityGroup
	// or GroupClaimsAll: which groups the app's ID and access tokens list.
	GroupMembershipClaims string `yaml:"groupMembershipClaims"`
	// IDTokenSigningAlg is the JWS algorithm of the app's ID tokens and back-channel logout
	// tokens (OpenID Connect's id_token_signed_response_alg): SigningAlgRS256 (the default,
	// which ID-token validators with a fixed list such as go-oidc's expect) or
	// SigningAlgES256. MSAL does not check the ID token's signature.
	IDTokenSigningAlg string `yaml:"idTokenSigningAlg"`
}

// Platform holds the redirect URIs of one platform of an [App].
type Platform struct {
	RedirectURIs []string `yaml:"redirectUris"`
}

// ImplicitGrant switches the implicit flow on for ID and access tokens
// (MSAL.js 1.x).
type ImplicitGrant struct {
	IDTokens     bool `yaml:"idTokens"`
	AccessTokens bool `yaml:"accessTokens"`
}

// OptionalClaims name the optional claims added to ID and access tokens.
type OptionalClaims struct {
	IDToken     []string `yaml:"idToken"`
	AccessToken []string `yaml:"accessToken"`
}

// Values of [App.SignInAudience] and [App.Consent].
const (
	SignInAudienceThisTenant = "thisTenant"
	SignInAudienceAnyTenant  = "anyTenant"
	ConsentUser              = "user"
	ConsentPreauthorized     = "preauthorized"
)

// Values of [AppRole.AllowedMemberTypes] and [App.GroupMembershipClaims].
const (
	MemberUser               = "User"
	MemberApplication        = "Application"
	GroupClaimsNone          = "None"
	GroupClaimsSecurityGroup = "SecurityGroup"
	GroupClaimsAll           = "All"
)

// Default returns the configuration used where the file is silent.
func Default() Config {
	return Config{
		Listen:  "127.0.0.1:8443",
		DataDir: "./sigil-data",
		Storage: "sqlite",
		TokenLifetimes: TokenLifetimes{
			AccessToken:       Duration(time.Hour),
			IDToken:           Duration(time.Hour),
			AuthorizationCode: Duration(10 * time.Minute),
		},
		RefreshTokens: RefreshTokens{
			ReuseInterval:       Duration(30 * time.Second),
			IdleLifetime:        Duration(24 * time.Hour),
			SPAAbsoluteLifetime: Duration(24 * time.Hour),
			AbsoluteLifetime:    Duration(90 * day),
		},
		Sessions: Sessions{Lifetime: Duration(24 * time.Hour), RememberLifetime: Duration(90 * day)},
		LoginThrottle: LoginThrottle{AccountFailures: 10, IPFailures: 100, Window: Duration(15 * time.Minute),
			AddressConcurrency: 2, AddressBurst: 5, AddressRefill: Duration(10 * time.Second)},
		GroupsOverageLimit: 200,
		SigningKeys:        SigningKeys{RotationPeriod: Duration(30 * day), PublishAhead: Duration(24 * time.Hour)},
		Transport: Transport{MaxConnections: 4096, MaxConnectionsPerAddress: 256,
			ReadHeaderTimeout: Duration(10 * time.Second), ReadTimeout: Duration(30 * time.Second),
			WriteTimeout: Duration(30 * time.Second), IdleTimeout: Duration(2 * time.Minute),
			ShutdownTimeout: Duration(10 * time.Second), MaxHeaderBytes: 64 << 10, MaxConcurrentStreams: 100},
	}
}
