package protocol

import (
	"encoding/json"
	"slices"
	"sort"
	"strconv"
)

// claimsRequest is the claims parameter (OpenID Connect Core §5.5) as Sigil applies it: the
// ID-token claims asked for by name (Sigil adds those it knows, configured as optional claims
// or not), the client capabilities of access_token.xms_cc (MSAL's clientCapabilities, echoed
// as the access token's xms_cc claim), and a continuous-access-evaluation challenge's
// access_token.nbf value (the new access token is issued no earlier than it). What else a
// request names is checked for shape and ignored, as Entra ignores claims it cannot supply.
type claimsRequest struct {
	idToken []string // claim names under "id_token", sorted
	xmsCC   []string // access_token.xms_cc values, e.g. ["CP1"]
	nbf     int64    // access_token.nbf value (Unix time), 0 when absent
}

// maxRequestedClaims bounds the claims one request may name per member.
const maxRequestedClaims = 64

// claimSpec is one claim's request: null, or an object with essential, value or values.
type claimSpec struct {
	Essential *bool `json:"essential"`
	Value     any   `json:"value"`
	Values    []any `json:"values"`
}

// parseClaimsRequest reads a claims parameter: a JSON object whose members id_token,
// userinfo and access_token are objects mapping claim names to null or to a claimSpec.
// Other members are ignored, as Entra does. An empty parameter asks for nothing.
func parseClaimsRequest(raw string) (claimsRequest, error) {
	var c claimsRequest
	if raw == "" {
		return c, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &top); err != nil || top == nil {
		return c, errInvalidParam.new("claims", "it must be a JSON object.")
	}
	for _, member := range []string{"id_token", "userinfo", "access_token"} {
		body, ok := top[member]
		if !ok || string(body) == "null" {
			continue
		}
		specs, err := requestedClaims(body)
		if err != nil {
			return c, errInvalidParam.new("claims", "the member '"+member+"' "+err.Error())
		}
		switch member {
		case "id_token":
			for name := range specs {
				c.idToken = append(c.idToken, name)
			}
			sort.Strings(c.idToken)
		case "access_token":
			c.xmsCC = stringValues(specs["xms_cc"])
			c.nbf = unixValue(specs["nbf"])
		}
	}
	return c, nil
}

// claimShapeError says what is wrong with one member of a claims request.
type claimShapeError string

func (e claimShapeError) Error() string { return string(e) }

// requestedClaims reads one member of a claims request.
func requestedClaims(body json.RawMessage) (map[string]*claimSpec, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, claimShapeError("must be a JSON object.")
	}
	if len(m) > maxRequestedClaims {
		return nil, claimShapeError("names too many claims.")
	}
	specs := make(map[string]*claimSpec, len(m))
	for name, raw := range m {
		var spec *claimSpec
		if string(raw) != "null" {
			spec = &claimSpec{}
			if err := json.Unmarshal(raw, spec); err != nil {
				return nil, claimShapeError("asks for '" + truncate(name, 64) + "' with neither null nor an object of essential, value or values.")
			}
		}
		specs[name] = spec
	}
	return specs, nil
}

// stringValues returns a claim request's string values (value and values), in order,
// without repeats.
func stringValues(spec *claimSpec) []string {
	if spec == nil {
		return nil
	}
	var out []string
	for _, v := range append([]any{spec.Value}, spec.Values...) {
		if s, ok := v.(string); ok && s != "" && len(s) <= 64 && !slices.Contains(out, s) && len(out) < 16 {
			out = append(out, s)
		}
	}
	return out
}

// unixValue returns a claim request's value as a Unix time, given as a number or as a string
// of digits (CAE challenges carry it as a string); 0 when it is neither.
func unixValue(spec *claimSpec) int64 {
	if spec == nil {
		return 0
	}
	switch v := spec.Value.(type) {
	case float64:
		if v > 0 && v < 1e11 {
			return int64(v)
		}
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 && n < 1e11 {
			return n
		}
	}
	return 0
}

// merge adds what another claims request asks for: the token endpoint's claims parameter over
// the authorization request's.
func (c claimsRequest) merge(o claimsRequest) claimsRequest {
	out := claimsRequest{idToken: slices.Clone(c.idToken), xmsCC: slices.Clone(c.xmsCC), nbf: max(c.nbf, o.nbf)}
	for _, n := range o.idToken {
		if !slices.Contains(out.idToken, n) {
			out.idToken = append(out.idToken, n)
		}
	}
	sort.Strings(out.idToken)
	for _, v := range o.xmsCC {
		if !slices.Contains(out.xmsCC, v) {
			out.xmsCC = append(out.xmsCC, v)
		}
	}
	return out
}
