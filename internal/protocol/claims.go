package protocol

import (
	"encoding/json"
	"sort"
)

// claimsRequest is the claims parameter (OpenID Connect Core §5.5): for each of id_token,
// userinfo and access_token, the claims asked for by name. What each claim's request says
// (essential, value, values) is checked for shape only; Sigil adds the claims it knows.
type claimsRequest struct {
	idToken []string // claim names under "id_token", sorted
}

// maxRequestedClaims bounds the claims one request may name per member.
const maxRequestedClaims = 64

// parseClaimsRequest reads a claims parameter: a JSON object whose members id_token,
// userinfo and access_token are objects mapping claim names to null or to an object with
// essential, value or values. Other members are ignored, as Entra does (MSAL sends
// xms_cc under access_token, and nothing else). An empty parameter asks for nothing.
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
		names, err := requestedClaims(body)
		if err != nil {
			return c, errInvalidParam.new("claims", "the member '"+member+"' "+err.Error())
		}
		if member == "id_token" {
			c.idToken = names
		}
	}
	return c, nil
}

// claimShapeError says what is wrong with one member of a claims request.
type claimShapeError string

func (e claimShapeError) Error() string { return string(e) }

// requestedClaims returns the claim names of one member of a claims request, sorted.
func requestedClaims(body json.RawMessage) ([]string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, claimShapeError("must be a JSON object.")
	}
	if len(m) > maxRequestedClaims {
		return nil, claimShapeError("names too many claims.")
	}
	names := make([]string, 0, len(m))
	for name, spec := range m {
		if string(spec) != "null" {
			var s struct {
				Essential *bool `json:"essential"`
				Value     any   `json:"value"`
				Values    []any `json:"values"`
			}
			if err := json.Unmarshal(spec, &s); err != nil {
				return nil, claimShapeError("asks for '" + truncate(name, 64) + "' with neither null nor an object of essential, value or values.")
			}
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}
