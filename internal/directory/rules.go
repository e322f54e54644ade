package directory

import (
	"crypto/sha256"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Tenant path segments that name no single tenant (Entra's reserved tenant names). Only
// common and organizations address multi-tenant apps here; consumers has no meaning in a
// self-hosted directory.
const (
	TenantCommon        = "common"
	TenantOrganizations = "organizations"
	TenantConsumers     = "consumers"
)

// IsMultiTenantSegment reports whether a (lower-cased) tenant path segment addresses apps
// registered for any tenant rather than one tenant.
func IsMultiTenantSegment(segment string) bool {
	return segment == TenantCommon || segment == TenantOrganizations
}

// IsGUID reports whether s has the 8-4-4-4-12 hexadecimal shape of a GUID.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Origin returns the browser origin (scheme://host[:port], lower-case, default port dropped)
// of an absolute URL, or "" when rawURL is not an absolute http(s) URL.
func Origin(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" || scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		return scheme + "://" + host
	}
	return scheme + "://" + host + ":" + port
}

// RedirectPlatform returns the platform on which uri is registered for the app. The match is
// exact, as Entra's: no prefix, case or trailing-slash leniency. The one exception is
// Entra's (and RFC 8252 §7.3's) for native apps: an http loopback URI registered on the
// publicClient platform matches the same URI on any port, because a native app's loopback
// listener gets whatever port is free (msal-node sends http://localhost:<port>). Web
// redirect URIs on localhost match exactly, port included.
func (a App) RedirectPlatform(uri string) (Platform, bool) {
	for _, r := range a.RedirectURIs {
		if r.URI == uri {
			return r.Platform, true
		}
	}
	if key, ok := loopbackKey(uri); ok {
		for _, r := range a.RedirectURIs {
			if k, ok := loopbackKey(r.URI); ok && r.Platform == PlatformPublicClient && k == key {
				return r.Platform, true
			}
		}
	}
	return "", false
}

// loopbackKey returns an http loopback URL (localhost, 127.0.0.1, [::1]) without its port,
// for RedirectPlatform's port-agnostic match; ok is false for any other URL.
func loopbackKey(uri string) (string, bool) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" {
		return "", false
	}
	host := u.Hostname()
	switch host {
	case "localhost", "127.0.0.1":
	case "::1":
		host = "[::1]"
	default:
		return "", false
	}
	if port := u.Port(); port != "" && strings.Trim(port, "0123456789") != "" {
		return "", false
	}
	key := "http://" + host + u.EscapedPath()
	if u.RawQuery != "" || u.ForceQuery {
		key += "?" + u.RawQuery
	}
	return key, true
}

// HasPlatform reports whether the app has any redirect URI on platform p.
func (a App) HasPlatform(p Platform) bool {
	return slices.ContainsFunc(a.RedirectURIs, func(r RedirectURI) bool { return r.Platform == p })
}

// IsSPAOrigin reports whether origin is the origin of one of the app's spa redirect URIs:
// the only origins from which its tokens may be redeemed cross-origin.
func (a App) IsSPAOrigin(origin string) bool {
	if origin == "" {
		return false
	}
	return slices.ContainsFunc(a.RedirectURIs, func(r RedirectURI) bool {
		return r.Platform == PlatformSPA && Origin(r.URI) == origin
	})
}

// AllowsPostLogoutRedirect reports whether uri may receive the browser after sign-out: one of
// the app's redirect URIs or one of its post-logout redirect URIs, matched exactly.
func (a App) AllowsPostLogoutRedirect(uri string) bool {
	if slices.Contains(a.PostLogoutRedirectURIs, uri) {
		return true
	}
	_, ok := a.RedirectPlatform(uri)
	return ok
}

// AllowsTenant reports whether users of tenantID may sign in to the app.
func (a App) AllowsTenant(tenantID string) bool {
	return a.TenantID == tenantID || a.SignInAudience == AudienceAnyTenant
}

// ServicePrincipalID is the object id of an app's service principal in a tenant: the oid
// and sub of the app's own (app-only) tokens. Entra keeps it apart from the client id; Sigil
// derives it, stable and distinct per tenant, from both.
func ServicePrincipalID(tenantID, clientID string) string {
	sum := sha256.Sum256([]byte("sigil service principal\x00" + strings.ToLower(tenantID) + "\x00" + strings.ToLower(clientID)))
	sum[6] = sum[6]&0x0f | 0x80 // version 8: custom (RFC 9562)
	sum[8] = sum[8]&0x3f | 0x80 // the RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}
