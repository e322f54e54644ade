package protocol

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// Size limits on what a request may carry.
const (
	maxQuery = 16 << 10 // a query string
	maxBody  = 64 << 10 // a form body
	maxValue = 8 << 10  // any one parameter value
)

// params are a request's parameters, each present once (RFC 6749 §3.1, §3.2: parameters
// must not be included more than once). Empty values count as absent.
type params map[string]string

func (p params) get(name string) string { return p[name] }

// has reports whether the parameter was sent with a non-empty value.
func (p params) has(name string) bool { return p[name] != "" }

// readParams reads the query and, for POST, the urlencoded form body into params. A name
// given twice in one part is an invalid_request (RFC 6749 §3.1); in the query and in the body
// it is not a duplicate (MSAL's form posts and msal-node repeat client-request-id in the
// query): the body's value, the request proper, wins.
func readParams(w http.ResponseWriter, r *http.Request) (params, error) {
	if len(r.URL.RawQuery) > maxQuery {
		return nil, errTooLarge.new("query string over 16 KiB")
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errMalformed.new("the query string is not valid URL encoding").because(err)
	}
	p := params{}
	if err := p.addAll(query); err != nil {
		return nil, err
	}
	if r.Method != http.MethodPost {
		return p, nil
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return nil, errMalformed.new("the body must be application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, errTooLarge.new("body over 64 KiB")
	}
	if err != nil {
		return nil, errMalformed.new("the body could not be read").because(err)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errMalformed.new("the body is not valid URL encoding").because(err)
	}
	inBody := params{}
	if err := inBody.addAll(form); err != nil {
		return nil, err
	}
	for name, v := range inBody {
		p[name] = v
	}
	return p, nil
}

func (p params) addAll(v url.Values) error {
	for name, values := range v {
		if _, seen := p[name]; seen || len(values) > 1 {
			return errDuplicateParam.new(truncate(name, 64))
		}
		if len(values[0]) > maxValue {
			return errTooLarge.new("parameter " + truncate(name, 64) + " over 8 KiB")
		}
		p[name] = values[0]
	}
	return nil
}

// truncate shortens s for messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
