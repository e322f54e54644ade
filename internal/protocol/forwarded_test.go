package protocol

import (
	"net/http"
	"strings"
	"testing"
)

func TestClientAddress(t *testing.T) {
	proxies, err := ParseProxies([]string{"10.0.0.0/8", "2001:db8:ffff::/48", "192.0.2.7"}, "")
	if err != nil {
		t.Fatal(err)
	}
	fwd := proxies
	fwd.Header = HeaderForwarded
	tests := []struct {
		name    string
		p       Proxies
		peer    string
		headers map[string][]string
		want    string
	}{
		{"no proxies: the peer", Proxies{}, "203.0.113.5:4000", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.5"},
		{"untrusted peer's XFF ignored", proxies, "203.0.113.5:4000", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.5"},
		{"untrusted peer's Forwarded ignored", fwd, "203.0.113.5:4000", map[string][]string{"Forwarded": {"for=198.51.100.1"}}, "203.0.113.5"},
		{"trusted peer, no header", proxies, "10.1.2.3:4000", nil, "10.1.2.3"},
		{"trusted peer, one hop", proxies, "10.1.2.3:4000", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"spoofed left part ignored", proxies, "10.1.2.3:4000", map[string][]string{"X-Forwarded-For": {"1.1.1.1, 198.51.100.1"}}, "198.51.100.1"},
		{"two trusted hops", proxies, "10.1.2.3:4000", map[string][]string{"X-Forwarded-For": {"6.6.6.6, 198.51.100.1, 10.9.9.9"}}, "198.51.100.1"},
		{"several header lines", proxies, "10.1.2.3:4000", map[string][]string{"X-Forwarded-For": {"6.6.6.6", "198.51.100.1", "10.9.9.9"}}, "198.51.100.1"},
		{"a bare trusted address", proxies, "192.0.2.7:1", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"only trusted hops: the leftmost", proxies, "10.1.2.3:4000", map[string][]string{"X-Forwarded-For": {"10.4.4.4, 10.9.9.9"}}, "10.4.4.4"},
		{"XFF with a port", proxies, "10.1.2.3:4000", map[string][]string{"X-Forwarded-For": {"198.51.100.1:5555"}}, "198.51.100.1"},
		{"XFF IPv6", proxies, "10.1.2.3:4000", map[string][]string{"X-Forwarded-For": {"2001:db8:1::5"}}, "2001:db8:1::5"},
		{"XFF bracketed IPv6 with port", proxies, "10.1.2.3:4000", map[string][]string{"X-Forwarded-For": {"[2001:db8:1::5]:443"}}, "2001:db8:1::5"},
		{"IPv6 trusted peer", proxies, "[2001:db8:ffff::1]:443", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"IPv4-mapped peer", proxies, "[::ffff:10.1.2.3]:443", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"malformed hop: the proxy", proxies, "10.1.2.3:4000", map[string][]string{"X-Forwarded-For": {"198.51.100.1, not-an-ip"}}, "10.1.2.3"},
		{"empty hop: the proxy", proxies, "10.1.2.3:4000", map[string][]string{"X-Forwarded-For": {"198.51.100.1,"}}, "10.1.2.3"},
		{"zone: the proxy", proxies, "10.1.2.3:4000", map[string][]string{"X-Forwarded-For": {"fe80::1%eth0"}}, "10.1.2.3"},
		{"XFF header ignored when Forwarded is configured", fwd, "10.1.2.3:4000", map[string][]string{"X-Forwarded-For": {"6.6.6.6"}}, "10.1.2.3"},
		{"Forwarded header ignored when XFF is configured", proxies, "10.1.2.3:4000", map[string][]string{"Forwarded": {"for=6.6.6.6"}}, "10.1.2.3"},
		{"Forwarded one hop", fwd, "10.1.2.3:4000", map[string][]string{"Forwarded": {"for=198.51.100.1;proto=https;by=10.1.2.3"}}, "198.51.100.1"},
		{"Forwarded case and spaces", fwd, "10.1.2.3:4000", map[string][]string{"Forwarded": {"For=6.6.6.6, FOR=198.51.100.1 ; Proto=https"}}, "198.51.100.1"},
		{"Forwarded quoted IPv6 with port", fwd, "10.1.2.3:4000", map[string][]string{"Forwarded": {`for="[2001:db8:cafe::17]:4711"`}}, "2001:db8:cafe::17"},
		{"Forwarded quoted IPv4 with port", fwd, "10.1.2.3:4000", map[string][]string{"Forwarded": {`for="198.51.100.1:80"`}}, "198.51.100.1"},
		{"Forwarded unquoted IPv6 is malformed", fwd, "10.1.2.3:4000", map[string][]string{"Forwarded": {"for=2001:db8::1"}}, "10.1.2.3"},
		{"Forwarded obfuscated identifier", fwd, "10.1.2.3:4000", map[string][]string{"Forwarded": {"for=198.51.100.1, for=_hidden"}}, "10.1.2.3"},
		{"Forwarded unknown", fwd, "10.1.2.3:4000", map[string][]string{"Forwarded": {"for=unknown"}}, "10.1.2.3"},
		{"Forwarded element without for", fwd, "10.1.2.3:4000", map[string][]string{"Forwarded": {"for=6.6.6.6, proto=https"}}, "10.1.2.3"},
		{"Forwarded two for parameters", fwd, "10.1.2.3:4000", map[string][]string{"Forwarded": {"for=6.6.6.6;for=7.7.7.7"}}, "10.1.2.3"},
		{"Forwarded garbage", fwd, "10.1.2.3:4000", map[string][]string{"Forwarded": {`;;==,"`}}, "10.1.2.3"},
		{"Forwarded two trusted hops over lines", fwd, "10.1.2.3:4000", map[string][]string{"Forwarded": {"for=6.6.6.6, for=198.51.100.1", `for="10.2.2.2"`}}, "198.51.100.1"},
		{"peer without a port", proxies, "203.0.113.5", nil, "203.0.113.5"},
		{"peer that is not an address", proxies, "@pipe", nil, "@pipe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.headers {
				h[http.CanonicalHeaderKey(k)] = v
			}
			if got := tc.p.ClientAddress(tc.peer, h); got != tc.want {
				t.Errorf("ClientAddress(%q, %v) = %q, want %q", tc.peer, tc.headers, got, tc.want)
			}
		})
	}
}

func TestParseProxies(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "nonsense", "fe80::1%eth0", "10.0.0.1/8/2", "::ffff:10.0.0.0/90"} {
		if _, err := ParseProxies([]string{bad}, ""); err == nil {
			t.Errorf("ParseProxies(%q) accepted it", bad)
		}
	}
	if _, err := ParseProxies(nil, "X-Real-IP"); err == nil {
		t.Error("ParseProxies accepted the header X-Real-IP")
	}
	p, err := ParseProxies([]string{"10.1.2.3/8", "::ffff:192.0.2.0/120", "2001:db8::1"}, "forwarded")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.0/24", "2001:db8::1/128"}
	for i, pf := range p.Trusted {
		if pf.String() != want[i] {
			t.Errorf("prefix %d = %s, want %s", i, pf, want[i])
		}
	}
	if p.Header != HeaderForwarded {
		t.Errorf("header %q, want %q", p.Header, HeaderForwarded)
	}
}

func TestThrottleAddress(t *testing.T) {
	for in, want := range map[string]string{
		"198.51.100.1":              "198.51.100.1",
		"2001:db8:1:2:3:4:5:6":      "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":      "2001:db8:1:2::/64",
		"not an address (as it is)": "not an address (as it is)",
	} {
		if got := throttleAddress(in); got != want {
			t.Errorf("throttleAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzClientAddress: whatever the headers, the answer is the peer or an address, and from an
// untrusted peer it is the peer. Run: go test ./internal/protocol -run '^$' -fuzz FuzzClientAddress -fuzztime 1m
func FuzzClientAddress(f *testing.F) {
	f.Add("10.1.2.3:4000", "198.51.100.1, 10.9.9.9", `for="[2001:db8:cafe::17]:4711";proto=https, for=_x`)
	f.Add("203.0.113.5:1", "1.1.1.1", "for=1.1.1.1")
	f.Add("[2001:db8:ffff::1]:443", "[::1]:80,,", `for="\"]`)
	proxies, _ := ParseProxies([]string{"10.0.0.0/8", "2001:db8:ffff::/48"}, "")
	fwd := proxies
	fwd.Header = HeaderForwarded
	f.Fuzz(func(t *testing.T, peer, xff, forwarded string) {
		h := http.Header{"X-Forwarded-For": {xff}, "Forwarded": {forwarded}}
		for _, p := range []Proxies{proxies, fwd} {
			got := p.ClientAddress(peer, h)
			a, ok := parseHop(peer)
			switch {
			case !ok && got != peer:
				t.Fatalf("unparsable peer %q gave %q", peer, got)
			case ok && !p.trusts(a) && got != a.String():
				t.Fatalf("untrusted peer %q gave %q", peer, got)
			case ok:
				if _, ok := parseHop(got); !ok || strings.ContainsAny(got, " ,;\"") {
					t.Fatalf("peer %q, headers %q %q gave %q, not an address", peer, xff, forwarded, got)
				}
			}
		}
	})
}
