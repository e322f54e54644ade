package protocol

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Knowing the client's address behind reverse proxies. A request's forwarding header is
// believed only when the socket's peer is a trusted proxy, and then only as far as the chain
// of trusted proxies reaches: walking the header from right to left (each proxy appends the
// address it saw), the first address that is not a trusted proxy is the client. Every other
// request is the socket's peer, whatever its headers say.

// Forwarding headers (Proxies.Header): the one the proxy in front writes. The other header
// is never read: a proxy that appends to one passes the other through as the client sent it.
const (
	HeaderXForwardedFor = "X-Forwarded-For"
	HeaderForwarded     = "Forwarded" // RFC 7239
)

// Proxies are the reverse proxies whose forwarding header is believed.
type Proxies struct {
	Trusted []netip.Prefix
	Header  string // HeaderXForwardedFor (the default when empty) or HeaderForwarded
}

// ParseProxies parses trusted proxy CIDRs ("10.0.0.0/8", "::1/128"; a bare address is its
// own /32 or /128) and the header name.
func ParseProxies(cidrs []string, header string) (Proxies, error) {
	p := Proxies{Header: HeaderXForwardedFor}
	switch {
	case header == "" || strings.EqualFold(header, HeaderXForwardedFor):
	case strings.EqualFold(header, HeaderForwarded):
		p.Header = HeaderForwarded
	default:
		return p, fmt.Errorf("forwarding header %q: want %s or %s", header, HeaderXForwardedFor, HeaderForwarded)
	}
	for _, c := range cidrs {
		pf, err := netip.ParsePrefix(c)
		if err != nil {
			a, aerr := netip.ParseAddr(c)
			if aerr != nil || a.Zone() != "" {
				return p, fmt.Errorf("trusted proxy %q: not a CIDR or an IP address", c)
			}
			a = a.Unmap()
			pf = netip.PrefixFrom(a, a.BitLen())
		}
		if pf.Addr().Zone() != "" {
			return p, fmt.Errorf("trusted proxy %q: zones are not allowed", c)
		}
		if pf.Addr().Is4In6() {
			if pf.Bits() < 96 {
				return p, fmt.Errorf("trusted proxy %q: an IPv4-mapped prefix must be at least /96", c)
			}
			pf = netip.PrefixFrom(pf.Addr().Unmap(), pf.Bits()-96)
		}
		p.Trusted = append(p.Trusted, pf.Masked())
	}
	return p, nil
}

func (p Proxies) trusts(a netip.Addr) bool {
	for _, pf := range p.Trusted {
		if pf.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddress returns the client's IP address for a request from remoteAddr (the socket's
// peer, host:port) with header h. When the peer is not a trusted proxy, or the header is
// absent, it is the peer; otherwise the rightmost address of the header's chain that is not a
// trusted proxy. A hop that names no address (RFC 7239's "unknown" and obfuscated "_…"
// identifiers, anything malformed) ends the walk at the trusted proxy that reported it: the
// client is beyond what can be known, and it is counted as that proxy (failing closed: more
// throttling, never less). A peer address that does not parse is returned as it is.
func (p Proxies) ClientAddress(remoteAddr string, h http.Header) string {
	cur, ok := parseHop(remoteAddr)
	if !ok {
		return remoteAddr
	}
	if len(p.Trusted) == 0 || !p.trusts(cur) {
		return cur.String()
	}
	var hops []string
	if p.Header == HeaderForwarded {
		hops = forwardedFor(h.Values(HeaderForwarded))
	} else {
		for _, line := range h.Values(HeaderXForwardedFor) {
			hops = append(hops, strings.Split(line, ",")...)
		}
	}
	for i := len(hops) - 1; i >= 0 && p.trusts(cur); i-- {
		next, ok := parseHop(strings.TrimSpace(hops[i]))
		if !ok {
			break
		}
		cur = next
	}
	return cur.String()
}

// maxHops bounds how much of a forwarding header is read.
const maxHops = 64

// forwardedFor returns the for= values of Forwarded header lines (RFC 7239 §4), in order,
// unquoted; an element without for= yields "" (which ends the walk). A line that does not
// parse yields "" where it starts, so nothing to its left is believed.
func forwardedFor(lines []string) []string {
	var out []string
	for _, line := range lines {
		for elem := range strings.SplitSeq(line, ",") {
			if len(out) == maxHops {
				return append(out, "")
			}
			v, ok := forValue(elem)
			if !ok {
				v = ""
			}
			out = append(out, v)
		}
	}
	return out
}

// forValue reads the for= parameter of one forwarded-element ("for=…;proto=…;by=…").
// Quoted strings may not contain "," or ";" here (RFC 7239 values never need them), so
// splitting first is exact for every well-formed header.
func forValue(elem string) (string, bool) {
	found, value := false, ""
	for pair := range strings.SplitSeq(elem, ";") {
		name, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || name == "" {
			return "", false
		}
		if !strings.EqualFold(name, "for") {
			continue
		}
		if found {
			return "", false // a parameter may appear once (§4)
		}
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = strings.ReplaceAll(v[1:len(v)-1], `\`, "")
		} else if strings.ContainsAny(v, `"[]:`) {
			return "", false // IPv6 addresses and ports must be quoted (§6)
		}
		found, value = true, v
	}
	return value, found
}

// parseHop parses one node of a chain: an IPv4 or IPv6 address, optionally with a port
// ("192.0.2.1:443", "[2001:db8::1]:443", "[2001:db8::1]"). IPv4-mapped IPv6 addresses
// become IPv4. Zones, names, "unknown" and obfuscated identifiers are not addresses.
func parseHop(s string) (netip.Addr, bool) {
	if s == "" || len(s) > 64 {
		return netip.Addr{}, false
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		s = ap.Addr().String()
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// throttleAddress is the key an address is counted under: an IPv4 address itself, an IPv6
// address's /64 (one subscriber usually holds a whole /64, so its addresses count as one).
// Anything that is not an address is counted as it is.
func throttleAddress(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Is4() {
		return addr
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}
