package protocol

import (
	"errors"
	"fmt"

	"github.com/sigil-idp/sigil/internal/store"
)

// Error is every protocol error: an OAuth error code, the Entra AADSTS number for the same
// condition where Entra has one, a description safe to show the client, the HTTP status for
// JSON delivery, and an optional suberror. Cause is for the log only, never shown.
//
// The endpoint decides delivery: JSON (token endpoint), a redirect with state (authorize,
// once the redirect URI is trusted), or an error page with data-error-code.
type Error struct {
	Code        string
	AADSTS      int
	Description string
	Status      int
	Suberror    string
	// Claims is a claims challenge for the client to send with its next authorization
	// request (the JSON error's claims member), "" when none.
	Claims string
	// RetryAfter, when above 0, is sent as the Retry-After header (seconds): the request
	// was refused for now, not for good.
	RetryAfter int
	Cause      error
	// DevNotes help the developer fix the request (the registered redirect URIs, the config
	// key to edit); error pages show them only in dev mode, JSON and redirects never.
	DevNotes []string
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s (AADSTS%d): %s: %v", e.Code, e.AADSTS, e.Description, e.Cause)
	}
	return fmt.Sprintf("%s (AADSTS%d): %s", e.Code, e.AADSTS, e.Description)
}

func (e *Error) Unwrap() error { return e.Cause }

// because returns a copy of e with the internal cause attached.
func (e *Error) because(cause error) *Error {
	c := *e
	c.Cause = cause
	return &c
}

// withDevNotes returns a copy of e with notes for the developer attached.
func (e *Error) withDevNotes(notes ...string) *Error {
	c := *e
	c.DevNotes = append(c.DevNotes[:len(c.DevNotes):len(c.DevNotes)], notes...)
	return &c
}

// asError turns any error into an *Error: protocol errors stay as they are, a database that
// cannot be reached for the moment ([store.Unavailable]) is temporarily_unavailable (503,
// with Retry-After: the client may send the same request again), anything
// else is server_error (the cause is logged, never shown).
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if store.Unavailable(err) {
		return errUnavailable.new().because(err)
	}
	return errServer.new().because(err)
}

// retryAfterSeconds is the Retry-After of a temporarily_unavailable answer: about the time a
// PostgreSQL failover or restart takes, and what MSAL waits before it tries again.
const retryAfterSeconds = "5"

// kind is one entry of the error table.
type kind struct {
	aadsts int
	code   string
	status int
	text   string // fmt format; arguments come from new
}

func (k kind) new(args ...any) *Error {
	return &Error{Code: k.code, AADSTS: k.aadsts, Status: k.status, Description: fmt.Sprintf(k.text, args...)}
}

// The error table: every error Sigil's protocol endpoints answer. AADSTS numbers are Entra's
// for the same condition (developers search for them); a 0 means Entra has none.
var (
	// Requests that cannot be read.
	errMissingParam    = kind{900144, "invalid_request", 400, "The request body must contain the following parameter: '%s'."}
	errDuplicateParam  = kind{9000411, "invalid_request", 400, "The request is not properly formatted. The parameter '%s' is duplicated."}
	errInvalidParam    = kind{90100, "invalid_request", 400, "The '%s' parameter is empty or not valid: %s"}
	errMalformed       = kind{9002313, "invalid_request", 400, "Invalid request. Request is malformed or invalid: %s"}
	errTooLarge        = kind{90015, "invalid_request", 413, "The request is too large (%s)."}
	errMethod          = kind{900561, "invalid_request", 405, "The endpoint only accepts %s requests. Received a %s request."}
	errRedirectInvalid = kind{90102, "invalid_request", 400, "redirect_uri value must be a valid absolute URI: '%s'."}

	// Tenants and apps.
	errTenantNotFound     = kind{90002, "invalid_request", 400, "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."}
	errTenantUnsupported  = kind{900023, "invalid_request", 400, "Specified tenant identifier '%s' is neither a valid DirectoryName nor a valid ExternalId."}
	errAppNotFound        = kind{700016, "unauthorized_client", 400, "Application with identifier '%s' was not found in the directory '%s'. Register it in Sigil's configuration (tenants[].apps[].clientId in sigil.yaml), or check the client id and the tenant in the authority."}
	errAppNotMultiTenant  = kind{50194, "invalid_request", 400, "Application '%s' is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant."}
	errUserNotInAppTenant = kind{50020, "access_denied", 400, "User account '%s' from another tenant does not exist in tenant '%s' and cannot access the application '%s' in that tenant."}
	errRedirectMismatch   = kind{50011, "invalid_request", 400, "The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Add it, exactly as sent, to the app's spa, web or publicClient redirectUris in Sigil's configuration (sigil.yaml)."}
	errPostLogoutMismatch = kind{50011, "invalid_request", 400, "The post-logout redirect URI '%s' specified in the request is not registered for the application: it must be one of its redirect URIs or post-logout redirect URIs."}
	errNoRedirectURI      = kind{900971, "invalid_request", 400, "No reply address provided: the request has no redirect_uri and the application '%s' registers more than one."}

	// Authorization requests.
	errResponseType    = kind{70005, "unsupported_response_type", 400, "response_type '%s' is not supported for the application. Use code, or for the implicit grant id_token, token or id_token token."}
	errImplicitIDToken = kind{700054, "unsupported_response_type", 400, "response_type 'id_token' is not enabled for the application. Turn on implicitGrant.idTokens in the app's registration to use the implicit grant."}
	errImplicitToken   = kind{700051, "unsupported_response_type", 400, "response_type 'token' is not enabled for the application. Turn on implicitGrant.accessTokens in the app's registration to use the implicit grant."}
	errEARNotSPA       = kind{70005, "unsupported_response_type", 400, "An encrypted authorize response (response_type 'id_token token refresh_token' with ear_jwk) is only sent to redirect URIs registered as spa."}
	errQueryWithTokens = kind{70007, "invalid_request", 400, "'query' is not a supported value of 'response_mode' when requesting a token: use fragment or form_post."}
	errPKCERequired    = kind{9002325, "invalid_request", 400, "Proof Key for Code Exchange is required for cross-origin authorization code redemption."}
	errInvalidScope    = kind{70011, "invalid_scope", 400, "The provided value for the input parameter 'scope' is not valid. %s"}
	errUnknownAPI      = kind{500011, "invalid_resource", 400, "The resource principal named %s was not found in the tenant named %s. Register the API (tenants[].apis[].appIdUri in sigil.yaml) or check the scope's prefix."}
	errManyResources   = kind{28000, "invalid_scope", 400, "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid."}
	errLoginRequired   = kind{50058, "login_required", 400, "A silent sign-in request was sent but no user is signed in%s."}
	errNoSuchSession   = kind{160021, "login_required", 400, "Application requested a user session which does not exist: %s."}
	errPickAccount     = kind{16000, "interaction_required", 400, "Multiple user accounts are signed in, and the request does not say which one to use; the user must choose an account."}
	errConsentNeeded   = kind{65001, "consent_required", 400, "The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource."}
	errAdminConsent    = kind{90094, "access_denied", 400, "The grant requires admin permission: an administrator must grant %s to the application '%s' before a user can sign in to it."}
	errNotAdmin        = kind{90094, "access_denied", 400, "Only an administrator of the tenant may grant consent for the whole tenant, and %s is not one."}
	errDeclined        = kind{65004, "access_denied", 400, "User declined to consent to access the app."}
	errUserDisabled    = kind{50057, "access_denied", 400, "The user account is disabled."}
	errFlowExpired     = kind{50089, "invalid_request", 400, "Authentication failed due to flow token expired: the sign-in page was open too long. Go back to the application and sign in again."}
	errForgedForm      = kind{90014, "invalid_request", 400, "The sign-in form is not valid for this browser session (the anti-forgery check failed). Go back to the application and sign in again."}
	errIDTokenHint     = kind{90100, "invalid_request", 400, "The 'id_token_hint' parameter is empty or not valid: %s"}
	errBadCredentials  = kind{50126, "invalid_grant", 400, "Error validating credentials due to invalid username or password."}
	errAccountLocked   = kind{50053, "invalid_grant", 400, "Your account is locked because you tried to sign in too many times with an incorrect user ID or password. Try again later."}
	errAddressLocked   = kind{50053, "invalid_grant", 400, "Sign-in was blocked because there were too many failed attempts from your address. Try again later."}
	errAddressBusy     = kind{50053, "temporarily_unavailable", 429, "Sign-in was refused because too many attempts came from your address in a short time. Wait %d seconds and try again."}
	errSignInBusy      = kind{90033, "temporarily_unavailable", 503, "Sign-in is busy: too many password checks are waiting. Try again in a few seconds."}

	// Token requests.
	errGrantType            = kind{70003, "unsupported_grant_type", 400, "The app requested an unsupported grant type '%s'."}
	errCrossOriginNotSPA    = kind{9002326, "invalid_request", 400, "Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type. Request origin: '%s'."}
	errSPANeedsOrigin       = kind{9002327, "invalid_request", 400, "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests."}
	errSecretMissing        = kind{7000218, "invalid_client", 401, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."}
	errPublicWithSecret     = kind{700025, "invalid_client", 401, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented."}
	errSecretInvalid        = kind{7000215, "invalid_client", 401, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'."}
	errBadCode              = kind{70000, "invalid_grant", 400, "The provided value for the 'code' parameter is not valid%s."}
	errCodeExpired          = kind{70008, "invalid_grant", 400, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."}
	errCodeRedeemed         = kind{54005, "invalid_grant", 400, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."}
	errPKCEMismatch         = kind{501481, "invalid_grant", 400, "The Code_Verifier does not match the code_challenge supplied in the authorization request."}
	errBadRefresh           = kind{70000, "invalid_grant", 400, "The provided value for the 'refresh_token' parameter is not valid%s."}
	errRefreshSPAExpired    = kind{700084, "invalid_grant", 400, "The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of %s, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page. The token was issued on %s."}
	errRefreshIdle          = kind{700082, "invalid_grant", 400, "The refresh token has expired due to inactivity. The token was issued on %s and was inactive for %s."}
	errRefreshRevoked       = kind{50173, "invalid_grant", 400, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user signed out, or the token was used after it had been replaced."}
	errRefreshConsent       = kind{65001, "invalid_grant", 400, "The user or administrator has not consented to use the application with ID '%s' named '%s' for the requested scopes. Send an interactive authorization request for this user and resource."}
	errCredentialInQuery    = kind{900144, "invalid_request", 400, "The parameter '%s' must be sent in the request body, never in the URL's query string: URLs are logged and kept by proxies and browsers."}
	errClientThrottled      = kind{7000222, "invalid_client", 401, "Client authentication for application '%s' failed too many times: further attempts are refused until the throttling window passes."}
	errAssertionMalformed   = kind{50027, "invalid_client", 401, "The client assertion is not a valid JWT signed with RS256 or PS256."}
	errAssertionCertificate = kind{700027, "invalid_client", 401, "The certificate named by the client assertion's x5t or x5t#S256 header is not registered for application '%s' (tenants[].apps[].certificates in sigil.yaml)."}
	errAssertionSignature   = kind{700027, "invalid_client", 401, "Client assertion failed signature validation."}
	errAssertionSubject     = kind{700021, "invalid_client", 401, "Client assertion application identifier doesn't match 'client_id' parameter: iss and sub must both be the client id."}
	errAssertionTime        = kind{700024, "invalid_client", 401, "Client assertion is not within its valid time range: %s."}
	errAssertionAudience    = kind{700023, "invalid_client", 401, "Client assertion audience claim does not match the token endpoint: aud must be %s."}
	errAppOnlyNeedsTenant   = kind{0, "invalid_request", 400, "App-only tokens are issued in one tenant: use a tenant-specific authority (its id or domain) instead of '%s'."}
	errScopeNotDefault      = kind{1002012, "invalid_scope", 400, "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."}
	errOBOAssertion         = kind{50013, "invalid_grant", 400, "Assertion failed signature validation. [Reason - %s]"}
	errOBONotUserToken      = kind{50013, "invalid_grant", 400, "Assertion is invalid: %s. On-behalf-of exchanges the access token a user's client obtained for the calling API."}
	errOBOAudience          = kind{500131, "invalid_grant", 400, "Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '%s' and the expected audience is '%s' or one of the Application Uris of this application with App ID '%s'(%s). The downstream client must request a token for the expected audience (the application that made the OBO request) and this application should use that token as the assertion."}
	errOBOExpired           = kind{500133, "invalid_grant", 400, "Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token. Current time: %s, expiry time of assertion %s."}
	errGrantConsent         = kind{65001, "invalid_grant", 400, "The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource."}
	errPasswordUserDisabled = kind{50057, "invalid_grant", 400, "The user account is disabled."}
	errGrantUserGone        = kind{50034, "invalid_grant", 400, "The user account does not exist in the directory or is disabled. To sign into this application, the account must be added to the directory."}

	// The device code grant (RFC 8628 §3.5) and its verification page.
	errDevicePending  = kind{70016, "authorization_pending", 400, "OAuth 2.0 device flow error. Authorization is pending. Continue polling."}
	errDeviceSlowDown = kind{0, "slow_down", 400, "The device polled the token endpoint faster than the interval of %d seconds: wait at least that long between requests."}
	errDeviceDeclined = kind{70000, "authorization_declined", 400, "The end user denied the authorization request. Stop polling and revert to an unauthenticated state."}
	errDeviceExpired  = kind{70019, "expired_token", 400, "Verification code expired. Have the user retry the sign-in."}
	errBadDeviceCode  = kind{70000, "invalid_grant", 400, "The provided value for the 'device_code' parameter is not valid%s."}
	errDeviceRedeemed = kind{70000, "invalid_grant", 400, "The device code was already redeemed for tokens. Start a new device code request."}
	errBadUserCode    = kind{70018, "invalid_request", 400, "Invalid verification code: check the code your device shows and try again. A code works once and only until it expires."}
	errDeviceCodeGone = kind{70019, "expired_token", 400, "The code expired, or the sign-in on your device ended, while you were signing in. Start the sign-in on your device again."}

	// The test-control API (testcontrol.go), and the errors it makes the authorization
	// endpoint answer (forcedErrors).
	errControlToken    = kind{0, "unauthorized", 401, "The test-control API needs the header Authorization: Bearer <testing.controlToken>."}
	errControlOrigin   = kind{0, "forbidden", 403, "The test-control API does not answer requests from web pages (Origin %s)."}
	errControlBody     = kind{0, "invalid_request", 400, "%s"}
	errControlNotFound = kind{0, "not_found", 404, "%s"}
	errControlConflict = kind{0, "conflict", 409, "%s"}
	errForcedLogin     = kind{50058, "login_required", 400, "Sigil's test-control API forced this error: the user must sign in%s."}
	errForcedConsent   = kind{65001, "consent_required", 400, "Sigil's test-control API forced this error: the user or administrator must consent%s."}
	errForcedMFA       = kind{50076, "interaction_required", 400, "Sigil's test-control API forced this error: the user must interact%s."}
	errForcedDenied    = kind{65004, "access_denied", 400, "Sigil's test-control API forced this error: access was denied%s."}

	// Everything else.
	errNotFound = kind{0, "not_found", 404, "No endpoint answers %s."}
	errServer   = kind{50000, "server_error", 500, "There was an error issuing a token or an issue with our sign-in service."}
	// The database could not be reached (restart, failover, network): the same request may be
	// sent again after Retry-After. Entra's number for its directory
	// service being unavailable.
	errUnavailable = kind{90033, "temporarily_unavailable", 503, "The sign-in service cannot reach its database for the moment. Send the same request again after the number of seconds in the Retry-After header."}
)
