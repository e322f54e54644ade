package protocol

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sigil-idp/sigil/internal/session"
	"github.com/sigil-idp/sigil/internal/store"
	"github.com/sigil-idp/sigil/internal/tokens"
)

// A pending interaction — the authorization request behind a sign-in, account-picker or
// consent page — travels with the page instead of living in the database: the page's hidden
// "ir" field carries it sealed (AES-256-GCM under the server's interaction key), bound to the
// browser's anti-forgery cookie and to an expiry. A cookie-less GET /authorize therefore
// writes nothing; the only row an interaction ever causes is the record that it was
// completed, written once when its answer is issued, so a replayed final form is refused.

// maxSealedInteraction bounds the hidden field (requests are at most 16 KiB of query).
const maxSealedInteraction = 24 << 10

// sealedInteraction is what the "ir" field carries.
type sealedInteraction struct {
	ID      string          `json:"id"`      // random: the key of its completion record
	Browser string          `json:"browser"` // hash of the anti-forgery cookie it is bound to
	Expires int64           `json:"exp"`     // unix seconds
	Request json.RawMessage `json:"req"`     // the validated authRequest
}

// interactionSealer seals and opens interactions with one AES-256-GCM key.
type interactionSealer struct{ aead cipher.AEAD }

func newInteractionSealer(key []byte) (*interactionSealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("protocol: the interaction key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &interactionSealer{aead: aead}, nil
}

// seal encrypts in for the "ir" field.
func (x *interactionSealer) seal(in sealedInteraction) (string, error) {
	plain, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, x.aead.NonceSize())
	rand.Read(nonce)
	out := base64.RawURLEncoding.EncodeToString(x.aead.Seal(nonce, nonce, plain, []byte("sigil interaction v1")))
	if len(out) > maxSealedInteraction {
		return "", errTooLarge.new("the authorization request is too large to carry through the sign-in page")
	}
	return out, nil
}

// errNotSealed is any "ir" value that is not one of ours, intact and unexpired.
var errNotSealed = errors.New("protocol: the interaction is not valid")

// open decrypts and checks an "ir" field value.
func (x *interactionSealer) open(v string, now time.Time) (sealedInteraction, error) {
	var in sealedInteraction
	if v == "" || len(v) > maxSealedInteraction {
		return in, errNotSealed
	}
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(raw) < x.aead.NonceSize() {
		return in, errNotSealed
	}
	plain, err := x.aead.Open(nil, raw[:x.aead.NonceSize()], raw[x.aead.NonceSize():], []byte("sigil interaction v1"))
	if err != nil {
		return in, errNotSealed
	}
	if err := json.Unmarshal(plain, &in); err != nil || in.ID == "" || in.Browser == "" {
		return sealedInteraction{}, errNotSealed
	}
	if !now.Before(time.Unix(in.Expires, 0)) {
		return sealedInteraction{}, errNotSealed
	}
	return in, nil
}

// ensureInteraction seals the request into the flow's pending interaction, bound to this
// browser's anti-forgery cookie (once per flow), and returns the cookie value for the form.
func (s *Server) ensureInteraction(w http.ResponseWriter, r *http.Request, f *flow) (string, error) {
	xsrf := session.XSRF(w, r)
	if f.interaction != "" {
		return xsrf, nil
	}
	body, err := json.Marshal(f.req)
	if err != nil {
		return "", err
	}
	f.interactionID = tokens.RandomID(16)
	f.interactionExpires = s.now().Add(interactionLifetime)
	f.interaction, err = s.sealer.seal(sealedInteraction{ID: f.interactionID, Browser: tokens.Hash(xsrf),
		Expires: f.interactionExpires.Unix(), Request: body})
	return xsrf, err
}

// openInteraction restores the pending interaction a form posted back, for the browser
// whose anti-forgery cookie hashes to browser.
func (s *Server) openInteraction(v, browser string) (authRequest, sealedInteraction, error) {
	in, err := s.sealer.open(v, s.now())
	if err != nil {
		return authRequest{}, in, errFlowExpired.new().because(err)
	}
	if in.Browser != browser {
		return authRequest{}, in, errForgedForm.new()
	}
	var req authRequest
	if err := json.Unmarshal(in.Request, &req); err != nil {
		return authRequest{}, in, err
	}
	return req, in, nil
}

// endInteraction completes the flow's pending interaction, if it has one: in one
// conditional statement, so that of two submissions of the same final form only one gets
// an answer. It returns errFlowExpired for the other.
func (s *Server) endInteraction(ctx context.Context, f *flow) error {
	if f.interactionID == "" {
		return nil
	}
	id := f.interactionID
	f.interaction, f.interactionID = "", ""
	err := s.store.CompleteInteraction(ctx, id, f.interactionExpires)
	if errors.Is(err, store.ErrRedeemed) {
		return errFlowExpired.new().because(err)
	}
	return err
}
