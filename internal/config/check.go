package config

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// Checks of single values. Each returns "" for a good value, or what is
// wrong with it, phrased to follow the quoted value: `"abc" is not a GUID`.

// isGUID reports whether s is a GUID in 8-4-4-4-12 hex form.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range []byte(s) {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// isDNSName reports whether s is a lower-case DNS name: dot-separated labels
// of letters, digits and inner hyphens, each up to 63 bytes, at most 253 in
// all, no trailing dot.
func isDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' ||
			strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return false
		}
	}
	return true
}

// checkPort accepts a decimal port from min to 65535.
func checkPort(port string, min int) string {
	n, err := strconv.Atoi(port)
	if err != nil || n < min || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
		return "has port " + strconv.Quote(port) + ", want " + strconv.Itoa(min) + "..65535"
	}
	return ""
}

// normalizePublicURL checks an https://host[:port] URL and returns it with
// the host in lower case, without ":443" and without a trailing "/".
func normalizePublicURL(s string) (string, string) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "", "is not a URL"
	case u.Scheme != "https":
		return "", "must use https (MSAL requires it)"
	case u.Opaque != "" || u.Host == "":
		return "", "must be https://host[:port]"
	case u.User != nil:
		return "", "must not contain user info"
	case strings.ContainsAny(s, "?#"):
		return "", "must not have a query or fragment"
	case u.Path != "" && u.Path != "/":
		return "", "must not have a path: issuers are {publicUrl}/{tenantId}/v2.0"
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if !isDNSName(host) && net.ParseIP(host) == nil {
		return "", "has host " + strconv.Quote(host) + ", which is not a DNS name or IP address"
	}
	if port != "" {
		if msg := checkPort(port, 1); msg != "" {
			return "", msg
		}
	}
	if port == "443" {
		port = ""
	}
	if port == "" {
		return "https://" + hostForURL(host), ""
	}
	return "https://" + net.JoinHostPort(host, port), ""
}

// hostForURL brackets IPv6 literals.
func hostForURL(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}

// checkListen accepts host:port with a numeric port (0 picks a free one) and
// a host that is empty (all interfaces), an IP address or a DNS name.
func checkListen(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "must be host:port, such as 127.0.0.1:8443"
	}
	if host != "" && net.ParseIP(host) == nil && !isDNSName(strings.ToLower(host)) {
		return "has host " + strconv.Quote(host) + ", which is not a DNS name or IP address"
	}
	return checkPort(port, 0)
}

// checkStorage accepts "sqlite", "sqlite:<path>" and postgres:// or
// postgresql:// URLs. Its messages never repeat the value, which may hold a
// database password.
func checkStorage(s string) string {
	switch {
	case s == "sqlite":
		return ""
	case strings.HasPrefix(s, "sqlite:"):
		if s == "sqlite:" {
			return "sqlite: needs a path, such as sqlite:/var/lib/sigil/sigil.db"
		}
		return ""
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		if _, err := url.Parse(s); err != nil {
			return "is not a valid postgres:// URL"
		}
		return ""
	}
	return `must be "sqlite", "sqlite:<path>" or a postgres:// URL`
}

// checkAbsolute parses s as an absolute URL with a host, without fragment,
// user info or white space.
func checkAbsolute(s string) (*url.URL, string) {
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return nil, "must not contain white space"
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, "is not a URL"
	case !u.IsAbs() || u.Opaque != "" || u.Host == "":
		return nil, "must be an absolute URL"
	case u.Fragment != "" || strings.Contains(s, "#"):
		return nil, "must not have a fragment"
	case u.User != nil:
		return nil, "must not contain user info"
	}
	return u, ""
}

// checkRedirectURI accepts absolute https URLs, and http URLs on the
// loopback names localhost, 127.0.0.1 and [::1] (any port), without fragment.
func checkRedirectURI(s string) string {
	u, msg := checkAbsolute(s)
	if msg != "" {
		return msg
	}
	if u.Scheme == "https" {
		return ""
	}
	switch strings.ToLower(u.Hostname()) {
	case "localhost", "127.0.0.1", "::1":
		if u.Scheme == "http" {
			return ""
		}
	}
	return "must use https (http only on localhost, 127.0.0.1 or [::1])"
}

// checkHTTPURL accepts absolute http and https URLs without fragment.
func checkHTTPURL(s string) string {
	u, msg := checkAbsolute(s)
	if msg != "" {
		return msg
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "must be an http or https URL"
	}
	return ""
}

// checkAppIDURI accepts an absolute URI ("api://todo",
// "https://api.contoso.test", "urn:todo") without trailing "/", query,
// fragment or white space.
func checkAppIDURI(s string) string {
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return "must not contain white space"
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "is not a URI"
	case !u.IsAbs() || (u.Host == "" && u.Opaque == ""):
		return "must be an absolute URI, such as api://todo"
	case strings.ContainsAny(s, "?#"):
		return "must not have a query or fragment"
	case strings.HasSuffix(s, "/"):
		return `must not end in "/"`
	}
	return ""
}

// checkScope accepts a scope value: not empty, no white space or "/", and
// not the reserved ".default".
func checkScope(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case strings.IndexFunc(s, unicode.IsSpace) >= 0 || strings.Contains(s, "/"):
		return `must not contain white space or "/"`
	case strings.EqualFold(s, ".default"):
		return "is reserved: apps request .default to mean every scope granted"
	}
	return ""
}

// optionalClaims are the optional claims Sigil can add, to ID and access
// tokens alike.
func optionalClaims() []string {
	return []string{"auth_time", "email", "given_name", "family_name", "upn", "ipaddr",
		"login_hint", "sid", "acct", "ctry", "tenant_ctry", "verified_primary_email", "groups"}
}

// isReservedSegment reports whether s is a {tenant} path segment with a
// meaning of its own, which no tenant domain may take.
func isReservedSegment(s string) bool {
	switch s {
	case "common", "organizations", "consumers", "adfs":
		return true
	}
	return false
}

// CheckRedirectURI says what is wrong with a redirect URI ("" when nothing), as the file's are
// checked: absolute, no fragment, https (http only on a loopback host).
func CheckRedirectURI(s string) string { return checkRedirectURI(s) }
