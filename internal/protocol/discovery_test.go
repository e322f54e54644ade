package protocol_test

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"testing"
)

// TestDiscovery covers the OpenID configuration at both paths, for tenants named by id or
// domain in any case, and for common and organizations.
func TestDiscovery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tests := []struct {
		segment string
		issuer  string
		base    string // endpoints start with it
	}{
		{tenantID, e.url + "/" + tenantID + "/v2.0", e.url + "/" + tenantID},
		{strings.ToUpper(tenantID), e.url + "/" + tenantID + "/v2.0", e.url + "/" + tenantID},
		{"contoso.test", e.url + "/" + tenantID + "/v2.0", e.url + "/" + tenantID},
		{"Contoso.TEST", e.url + "/" + tenantID + "/v2.0", e.url + "/" + tenantID},
		{"fabrikam.test", e.url + "/" + otherTenant + "/v2.0", e.url + "/" + otherTenant},
		{"common", e.url + "/{tenantid}/v2.0", e.url + "/common"},
		{"organizations", e.url + "/{tenantid}/v2.0", e.url + "/organizations"},
	}
	for _, tt := range tests {
		for _, path := range []string{"/v2.0/.well-known/openid-configuration", "/.well-known/openid-configuration"} {
			t.Run(tt.segment+path, func(t *testing.T) {
				resp, body := e.get(e.api(), e.url+"/"+tt.segment+path)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
					t.Errorf("Access-Control-Allow-Origin %q, want *", got)
				}
				m := decodeJSON(t, body)
				if got := str(m, "issuer"); got != tt.issuer {
					t.Errorf("issuer %q, want %q", got, tt.issuer)
				}
				for k, suffix := range map[string]string{"authorization_endpoint": "/oauth2/v2.0/authorize",
					"token_endpoint": "/oauth2/v2.0/token", "end_session_endpoint": "/oauth2/v2.0/logout",
					"jwks_uri": "/discovery/v2.0/keys"} {
					if got := str(m, k); got != tt.base+suffix {
						t.Errorf("%s %q, want %q", k, got, tt.base+suffix)
					}
				}
				if got, _ := m["code_challenge_methods_supported"].([]any); len(got) != 1 || got[0] != "S256" {
					t.Errorf("code_challenge_methods_supported %v, want [S256]", got)
				}
			})
		}
	}

	errs := []struct {
		segment string
		want    wantErr
	}{
		{"nosuch.test", wantErr{"invalid_request", 90002}},
		{"consumers", wantErr{"invalid_request", 900023}},
	}
	for _, tt := range errs {
		t.Run(tt.segment, func(t *testing.T) {
			resp, body := e.get(e.api(), e.url+"/"+tt.segment+"/v2.0/.well-known/openid-configuration")
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("status %d, CORS %q; want 400 readable from any origin", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
			}
			checkErrorParams(t, jsonErrorValues(decodeJSON(t, body)), tt.want)
		})
	}
}

// TestJWKS: every key has kid, x5t, x5c, use and alg, its certificate is for the key, x5t is
// the certificate's SHA-1 thumbprint, and tokens name a published kid.
func TestJWKS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.spaTokens(e.newBrowser(), "contoso.test", alice, todoScopes)
	header := func(jwt string) map[string]any {
		b, _ := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
		var h map[string]any
		json.Unmarshal(b, &h)
		return h
	}
	for _, segment := range []string{"contoso.test", tenantID, "common", "organizations"} {
		t.Run(segment, func(t *testing.T) {
			resp, body := e.get(e.api(), e.url+"/"+segment+"/discovery/v2.0/keys")
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("status %d, CORS %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
			}
			var set struct {
				Keys []struct {
					Kty, Kid, Use, Alg, N, E, X5t, Crv, X, Y string
					X5c                                      []string
				}
			}
			if err := json.Unmarshal([]byte(body), &set); err != nil || len(set.Keys) == 0 {
				t.Fatalf("JWKS %s: %v", body, err)
			}
			kids := map[string]bool{}
			algs := map[string]int{}
			for i, k := range set.Keys {
				kids[k.Kid] = true
				algs[k.Alg]++
				if k.Kty == "EC" {
					// The ES256 lineage's key (RFC 7518 §6.2), after the RSA keys.
					x, _ := base64.RawURLEncoding.DecodeString(k.X)
					y, _ := base64.RawURLEncoding.DecodeString(k.Y)
					if k.Crv != "P-256" || len(x) != 32 || len(y) != 32 || k.Kid == "" || k.Use != "sig" || k.Alg != "ES256" ||
						k.X5t == "" || len(k.X5c) == 0 || i == 0 {
						t.Errorf("EC key %+v lacks crv P-256, x, y, kid, use sig, alg ES256, x5t or x5c, or comes first", k)
					}
					continue
				}
				if k.Kty != "RSA" || k.Kid == "" || k.Use != "sig" || k.Alg != "RS256" || k.X5t == "" || len(k.X5c) == 0 {
					t.Errorf("key %+v lacks kty RSA, kid, use sig, alg RS256, x5t or x5c", k)
					continue
				}
				der, err := base64.StdEncoding.DecodeString(k.X5c[0])
				if err != nil {
					t.Fatalf("x5c: %v", err)
				}
				cert, err := x509.ParseCertificate(der)
				if err != nil {
					t.Fatalf("x5c: %v", err)
				}
				n, _ := base64.RawURLEncoding.DecodeString(k.N)
				ex, _ := base64.RawURLEncoding.DecodeString(k.E)
				pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(ex).Int64())}
				if !pub.Equal(cert.PublicKey) {
					t.Errorf("key %s: x5c certificate is for another key", k.Kid)
				}
				if sum := sha1.Sum(der); base64.RawURLEncoding.EncodeToString(sum[:]) != k.X5t {
					t.Errorf("key %s: x5t %s is not the certificate's thumbprint", k.Kid, k.X5t)
				}
			}
			if algs["RS256"] != 1 || algs["ES256"] != 1 {
				t.Errorf("JWKS algorithms %v, want one current key of each", algs)
			}
			for _, jwt := range []string{str(tok, "id_token"), str(tok, "access_token")} {
				if h := header(jwt); !kids[h["kid"].(string)] || h["alg"] != "RS256" {
					t.Errorf("token header %v names no published key", h)
				}
			}
		})
	}
	t.Run("unknown tenant", func(t *testing.T) {
		resp, body := e.get(e.api(), e.url+"/nosuch.test/discovery/v2.0/keys")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
		checkErrorParams(t, jsonErrorValues(decodeJSON(t, body)), wantErr{"invalid_request", 90002})
	})
}
