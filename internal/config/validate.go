package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Validate checks c and normalizes it in place; it reports every problem at
// once as an [*Error]. Problems have no line numbers here: [Parse] runs the
// same checks with the positions it recorded.
//
// Normalizing means: publicUrl loses ":443" and a trailing "/" and its host
// is lower-cased; tenant ids, user ids, client ids, domains and usernames
// are lower-cased; a nil User.Enabled becomes true; an empty
// signInAudience becomes "thisTenant" and an empty consent "user".
//
// Validate does not check that files (tls.certFile, tls.keyFile) exist or
// that storage can be reached.
func (c *Config) Validate() error {
	return newError(c.validate(nil))
}

// validator collects problems, and the values that must be unique across
// the whole file with the path that first used each.
type validator struct {
	src      *sources
	problems []Problem

	tenantIDs, domains, usernames, userIDs, clientIDs, groupIDs map[string]string
}

// validate runs every check on c and returns the problems, located through
// src (nil when c did not come from a file).
func (c *Config) validate(src *sources) []Problem {
	v := &validator{
		src:       src,
		tenantIDs: make(map[string]string),
		domains:   make(map[string]string),
		usernames: make(map[string]string),
		userIDs:   make(map[string]string),
		clientIDs: make(map[string]string),
		groupIDs:  make(map[string]string),
	}
	v.server(c)
	v.lifetimes(c)
	v.groupsOverage(c)
	for i := range c.Tenants {
		v.tenant(&c.Tenants[i], "tenants["+strconv.Itoa(i)+"]")
	}
	return v.problems
}

// addf records a problem about path, unless decoding path already failed.
func (v *validator) addf(path, format string, args ...any) {
	if v.src.suppressed(path) {
		return
	}
	v.problems = append(v.problems, v.src.problem(path, fmt.Sprintf(format, args...)))
}

// check records `"value" msg` about path when msg is not empty, and reports
// whether the value passed.
func (v *validator) check(path, value, msg string) bool {
	if msg != "" {
		v.addf(path, "%q %s", value, msg)
	}
	return msg == ""
}

// unique records key as used by path, or reports the path that used it first.
func (v *validator) unique(seen map[string]string, key, path string) {
	if first, ok := seen[key]; ok {
		v.addf(path, "%q is already used by %s", key, first)
		return
	}
	seen[key] = path
}

// guid checks that *id is a GUID and lower-cases it.
func (v *validator) guid(id *string, path string) bool {
	if *id == "" {
		v.addf(path, "required: a GUID such as 6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10")
		return false
	}
	if !isGUID(*id) {
		v.addf(path, "%q is not a GUID", *id)
		return false
	}
	*id = lower(*id)
	return true
}

// server checks where and how Sigil listens and stores.
func (v *validator) server(c *Config) {
	if c.PublicURL == "" {
		v.addf("publicUrl", "required: the https URL browsers use, such as https://login.example.test:8443")
	} else if u, msg := normalizePublicURL(c.PublicURL); v.check("publicUrl", c.PublicURL, msg) {
		c.PublicURL = u
	}
	v.check("listen", c.Listen, checkListen(c.Listen))
	if c.TLS.Auto && (c.TLS.CertFile != "" || c.TLS.KeyFile != "") {
		v.addf("tls.auto", "cannot be combined with certFile and keyFile: choose one")
	}
	if c.TLS.CertFile != "" && c.TLS.KeyFile == "" {
		v.addf("tls.keyFile", "required with tls.certFile")
	}
	if c.TLS.KeyFile != "" && c.TLS.CertFile == "" {
		v.addf("tls.certFile", "required with tls.keyFile")
	}
	if c.DataDir == "" {
		v.addf("dataDir", "required")
	}
	if msg := checkStorage(c.Storage); msg != "" {
		v.addf("storage", "%s", msg) // never quoted: it may hold a password
	}
	v.testing(c)
	if c.SigningKeys.RotationPeriod < 0 || c.SigningKeys.PublishAhead < 0 {
		v.addf("signingKeys", "durations must not be negative")
	} else if p := c.SigningKeys.RotationPeriod; p != 0 && p <= c.SigningKeys.PublishAhead {
		v.addf("signingKeys.rotationPeriod", "must be longer than publishAhead (%s), or 0 for no schedule", c.SigningKeys.PublishAhead)
	}
	if r := c.Tracing.SampleRatio; r < 0 || r > 1 {
		v.addf("tracing.sampleRatio", "must be between 0 and 1")
	}
	if e := c.Tracing.OTLPEndpoint; e != "" {
		v.check("tracing.otlpEndpoint", e, checkHTTPURL(e))
	}
	if c.Admin.Listen != "" {
		v.check("admin.listen", c.Admin.Listen, checkListen(c.Admin.Listen))
	}
}

// testing checks the test-control API settings: anyone who reaches it can create users and
// sign them in, so beyond a loopback listener it needs a token no one can guess.
func (v *validator) testing(c *Config) {
	t := c.Testing
	if t.ControlToken != "" && len(t.ControlToken) < 16 {
		v.addf("testing.controlToken", "must be at least 16 characters")
	}
	if !t.ControlAPI || t.ControlToken != "" {
		return
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if ip := net.ParseIP(host); err == nil && (host == "localhost" || ip != nil && ip.IsLoopback()) {
		return
	}
	v.addf("testing.controlApi", "needs testing.controlToken when listen (%s) is not a loopback address", c.Listen)
}

// namedDuration is one duration setting and whether zero is allowed.
type namedDuration struct {
	name   string
	value  Duration
	zeroOK bool
}

// tokenDurations lists the fields of t; zero means "inherit" when inherit.
func tokenDurations(t TokenLifetimes, inherit bool) []namedDuration {
	return []namedDuration{
		{"accessToken", t.AccessToken, inherit},
		{"idToken", t.IDToken, inherit},
		{"authorizationCode", t.AuthorizationCode, inherit},
	}
}

// refreshDurations lists the fields of r; zero means "inherit" when inherit.
func refreshDurations(r RefreshTokens, inherit bool) []namedDuration {
	return []namedDuration{
		{"reuseInterval", r.ReuseInterval, true},
		{"idleLifetime", r.IdleLifetime, inherit},
		{"spaAbsoluteLifetime", r.SPAAbsoluteLifetime, inherit},
		{"absoluteLifetime", r.AbsoluteLifetime, inherit},
	}
}

// durations checks that each duration below path is positive, or zero where
// that is allowed.
func (v *validator) durations(path string, ds []namedDuration) {
	for _, d := range ds {
		switch {
		case d.value < 0:
			v.addf(field(path, d.name), "%s must not be negative", d.value)
		case d.value == 0 && !d.zeroOK:
			v.addf(field(path, d.name), "must be greater than zero")
		}
	}
}

// lifetimes checks the top-level lifetimes and throttling limits.
func (v *validator) lifetimes(c *Config) {
	v.durations("tokenLifetimes", tokenDurations(c.TokenLifetimes, false))
	v.durations("refreshTokens", refreshDurations(c.RefreshTokens, false))
	v.durations("sessions", []namedDuration{
		{"lifetime", c.Sessions.Lifetime, false},
		{"rememberLifetime", c.Sessions.RememberLifetime, false},
	})
	v.durations("loginThrottle", []namedDuration{{"window", c.LoginThrottle.Window, false}})
	if c.LoginThrottle.AccountFailures < 1 {
		v.addf("loginThrottle.accountFailures", "must be at least 1, got %d", c.LoginThrottle.AccountFailures)
	}
	if c.LoginThrottle.IPFailures < 1 {
		v.addf("loginThrottle.ipFailures", "must be at least 1, got %d", c.LoginThrottle.IPFailures)
	}
	v.durations("loginThrottle", []namedDuration{{"addressRefill", c.LoginThrottle.AddressRefill, false}})
	if c.LoginThrottle.AddressConcurrency < 1 {
		v.addf("loginThrottle.addressConcurrency", "must be at least 1, got %d", c.LoginThrottle.AddressConcurrency)
	}
	if c.LoginThrottle.AddressBurst < 1 {
		v.addf("loginThrottle.addressBurst", "must be at least 1, got %d", c.LoginThrottle.AddressBurst)
	}
	for i, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if a, err := netip.ParseAddr(p); err != nil || a.Zone() != "" {
				v.addf(fmt.Sprintf("trustedProxies[%d]", i), "%q is not a CIDR (10.0.0.0/8, fd00::/8) or an IP address", p)
			}
		}
	}
	if h := c.ForwardedHeader; h != "" && !strings.EqualFold(h, "X-Forwarded-For") && !strings.EqualFold(h, "Forwarded") {
		v.addf("forwardedHeader", "must be X-Forwarded-For or Forwarded, got %q", h)
	}
	v.transport(c.Transport)
}

// transport checks the connection caps, timeouts and sizes: every timeout is needed (a zero
// one would let a client hold a connection for ever), the caps may be 0 (no cap).
func (v *validator) transport(t Transport) {
	v.durations("transport", []namedDuration{
		{"readHeaderTimeout", t.ReadHeaderTimeout, false}, {"readTimeout", t.ReadTimeout, false},
		{"writeTimeout", t.WriteTimeout, false}, {"idleTimeout", t.IdleTimeout, false},
		{"shutdownTimeout", t.ShutdownTimeout, false},
	})
	for _, n := range []struct {
		name       string
		value, min int
	}{
		{"maxConnections", t.MaxConnections, 0}, {"maxConnectionsPerAddress", t.MaxConnectionsPerAddress, 0},
		{"maxHeaderBytes", t.MaxHeaderBytes, 4 << 10}, {"maxConcurrentStreams", t.MaxConcurrentStreams, 1},
	} {
		if n.value < n.min {
			v.addf(field("transport", n.name), "must be at least %d, got %d", n.min, n.value)
		}
	}
}
