package testidp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls a Sigil's test-control API (/-/test/ under its public URL), which is on in
// `sigil dev` and where the configuration says testing.controlApi.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// Connect returns a Client for the Sigil at publicURL. token is its testing.controlToken ("" when
// none is set); hc must trust Sigil's certificate (nil: http.DefaultClient).
func Connect(publicURL, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimSuffix(publicURL, "/") + "/-/test", token: token, http: hc}
}

// Error is an answer of the test-control API other than success.
type Error struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("testidp: %d %s: %s", e.Status, e.Code, e.Description)
}

// User is a user to create. Tenant is its tenant's domain or id; Username must be in one of the
// tenant's domains. The names, email, admin and app roles are what its tokens carry.
type User struct {
	Tenant      string   `json:"tenant"`
	Username    string   `json:"username"`
	Password    string   `json:"password"`
	DisplayName string   `json:"displayName,omitempty"`
	GivenName   string   `json:"givenName,omitempty"`
	Surname     string   `json:"surname,omitempty"`
	Email       string   `json:"email,omitempty"`
	Admin       bool     `json:"admin,omitempty"`
	AppRoles    []string `json:"appRoles,omitempty"` // "<appIdUri>/<role value>"
}

// CreateUser creates a user and returns its object id (the oid claim).
func (c *Client) CreateUser(ctx context.Context, u User) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := c.do(ctx, http.MethodPost, "/users", u, &out)
	return out.ID, err
}

// DeleteUser deletes a user with its sessions, consents and tokens.
func (c *Client) DeleteUser(ctx context.Context, username string) error {
	return c.do(ctx, http.MethodDelete, "/users/"+url.PathEscape(username), nil, nil)
}

// RevokeUser signs a user out everywhere: sessions ended, refresh tokens revoked, consents
// withdrawn.
func (c *Client) RevokeUser(ctx context.Context, username string) error {
	return c.do(ctx, http.MethodPost, "/users/"+url.PathEscape(username)+"/revoke", nil, nil)
}

// Failure makes authorization requests fail: those of the app ClientID, of the user Username, of
// both, or (neither set) of anyone, for the next Count requests (0 means 1). Error is
// login_required, consent_required, interaction_required or access_denied.
type Failure struct {
	ClientID    string `json:"clientId,omitempty"`
	Username    string `json:"username,omitempty"`
	Error       string `json:"error"`
	Description string `json:"description,omitempty"`
	Count       int    `json:"count,omitempty"`
}

// FailNext makes the next matching authorization requests answer f.Error, delivered to the app
// as a real error would be (redirect, popup, hidden iframe).
func (c *Client) FailNext(ctx context.Context, f Failure) error {
	return c.do(ctx, http.MethodPost, "/failures", f, nil)
}

// ClearFailures forgets the failures FailNext asked for that have not happened yet.
func (c *Client) ClearFailures(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/failures", nil, nil)
}

// SetClockOffset runs Sigil's clock d ahead of real time (d ≥ 0; 0 sets it back): tokens,
// codes, sessions, refresh tokens and lockouts expire by that clock.
func (c *Client) SetClockOffset(ctx context.Context, d time.Duration) error {
	return c.do(ctx, http.MethodPut, "/clock", map[string]string{"offset": d.String()}, nil)
}

// Now returns Sigil's clock.
func (c *Client) Now(ctx context.Context) (time.Time, error) {
	var out struct {
		Now time.Time `json:"now"`
	}
	err := c.do(ctx, http.MethodGet, "/clock", nil, &out)
	return out.Now, err
}

// ClearThrottles forgets every failed sign-in, so locked accounts and addresses sign in again.
func (c *Client) ClearThrottles(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/throttles", nil, nil)
}

// Reset returns Sigil to the state its bootstrap file describes: users created through the API
// gone, every session, consent, token, throttle count and failure gone, the clock offset zero.
func (c *Client) Reset(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/reset", nil, nil)
}

// do sends one control request and decodes the answer into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("testidp: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("testidp: %w", err)
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Code == "" {
			e.Code, e.Description = http.StatusText(resp.StatusCode), strings.TrimSpace(string(data))
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("testidp: %s %s: %w", method, path, err)
		}
	}
	return nil
}
