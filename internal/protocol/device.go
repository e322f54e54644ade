package protocol

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"time"
)

// The device cookie: Entra's familiar-location behaviour for lockout. After a successful
// sign-in the browser gets a long-lived cookie, signed with an instance secret, that names
// the device (a random id) and the accounts that signed in on it (each by a keyed hash of its
// user id). A sign-in from that browser to one of those accounts counts its failures under
// the device's own key instead of the account's, so an attacker elsewhere who fills the
// account's counter locks out everyone but the devices the owner already used. A cookie that
// does not verify, or names other accounts, changes nothing.

// deviceCookie is the cookie's name; __Host- pins it to this origin (Secure, Path=/).
const deviceCookie = "__Host-sigil-device"

// Limits of the device cookie.
const (
	deviceLifetime    = 180 * 24 * time.Hour
	maxDeviceAccounts = 8 // the most recent ones are kept
	deviceIDSize      = 16
	accountHashSize   = 16
	deviceMACSize     = 32
)

// device is what a verified device cookie says.
type device struct {
	id       []byte
	accounts [][]byte // account hashes, most recent first
}

// accountHash names a user in the cookie without showing its id.
func (s *Server) accountHash(userID string) []byte {
	m := hmac.New(sha256.New, s.deviceKey)
	m.Write([]byte("device-account\x00" + userID))
	return m.Sum(nil)[:accountHashSize]
}

func (s *Server) deviceMAC(payload []byte) []byte {
	m := hmac.New(sha256.New, s.deviceKey)
	m.Write([]byte("device-cookie\x00"))
	m.Write(payload)
	return m.Sum(nil)
}

// readDevice returns the request's device cookie when it verifies, or nil.
func (s *Server) readDevice(r *http.Request) *device {
	c, err := r.Cookie(deviceCookie)
	if err != nil {
		return nil
	}
	return s.parseDevice(c.Value)
}

// parseDevice verifies a device cookie's value: base64url of the device id, then account
// hashes, then the MAC over both.
func (s *Server) parseDevice(v string) *device {
	if len(v) > 512 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	n := len(b) - deviceIDSize - deviceMACSize
	if err != nil || n < accountHashSize || n%accountHashSize != 0 || n/accountHashSize > maxDeviceAccounts {
		return nil
	}
	payload, mac := b[:len(b)-deviceMACSize], b[len(b)-deviceMACSize:]
	if !hmac.Equal(mac, s.deviceMAC(payload)) {
		return nil
	}
	d := &device{id: payload[:deviceIDSize]}
	for rest := payload[deviceIDSize:]; len(rest) > 0; rest = rest[accountHashSize:] {
		d.accounts = append(d.accounts, rest[:accountHashSize])
	}
	return d
}

// knows reports whether the device signed in to the user before.
func (s *Server) knows(d *device, userID string) bool {
	if d == nil || userID == "" {
		return false
	}
	h := s.accountHash(userID)
	for _, a := range d.accounts {
		if hmac.Equal(a, h) {
			return true
		}
	}
	return false
}

// deviceThrottleKey is the throttle key of the user's sign-ins from a device that knows it.
func (s *Server) deviceThrottleKey(d *device, userID string) throttleKey {
	return throttleKey{"device:" + hex.EncodeToString(d.id) + ":" + userID, s.throttle.Account, errAccountLocked.new()}
}

// rememberDevice sets the device cookie after a successful sign-in of userID: the same
// device id when the browser has one, the user first among its accounts.
func (s *Server) rememberDevice(w http.ResponseWriter, d *device, userID string) {
	id := make([]byte, deviceIDSize)
	if d != nil {
		id = d.id
	} else {
		rand.Read(id)
	}
	h := s.accountHash(userID)
	payload := append(append([]byte{}, id...), h...)
	if d != nil {
		for _, a := range d.accounts {
			if len(payload) == deviceIDSize+maxDeviceAccounts*accountHashSize {
				break
			}
			if !hmac.Equal(a, h) {
				payload = append(payload, a...)
			}
		}
	}
	value := base64.RawURLEncoding.EncodeToString(append(payload, s.deviceMAC(payload)...))
	http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: value, Path: "/", MaxAge: int(deviceLifetime / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}
