package protocol

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzDeviceCookie: a device cookie value from the browser is untrusted input; parsing never
// panics, and only values this instance signed verify. Run:
// go test ./internal/protocol -run '^$' -fuzz FuzzDeviceCookie -fuzztime 1m
func FuzzDeviceCookie(f *testing.F) {
	s := &Server{deviceKey: []byte("0123456789abcdef0123456789abcdef")}
	w := httptest.NewRecorder()
	s.rememberDevice(w, nil, "user-1")
	signed := w.Result().Cookies()[0].Value
	f.Add(signed)
	f.Add(signed[:len(signed)-1])
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, v string) {
		d := s.parseDevice(v)
		if d == nil {
			return
		}
		if len(d.id) != deviceIDSize || len(d.accounts) < 1 || len(d.accounts) > maxDeviceAccounts {
			t.Fatalf("parsed %q into %d-byte id and %d accounts", v, len(d.id), len(d.accounts))
		}
	})
}

// TestDeviceCookieAccounts: signing in to more accounts on one device keeps the most recent
// eight, the newest first, under one device id.
func TestDeviceCookieAccounts(t *testing.T) {
	s := &Server{deviceKey: []byte("0123456789abcdef0123456789abcdef")}
	var d *device
	for i := range 10 {
		w := httptest.NewRecorder()
		s.rememberDevice(w, d, string(rune('a'+i)))
		r := &http.Request{Header: http.Header{"Cookie": {w.Result().Cookies()[0].String()}}}
		next := s.readDevice(r)
		if next == nil {
			t.Fatalf("sign-in %d: the cookie set does not verify", i)
		}
		if d != nil && string(next.id) != string(d.id) {
			t.Fatalf("sign-in %d: the device id changed", i)
		}
		d = next
	}
	if len(d.accounts) != maxDeviceAccounts || !s.knows(d, "j") || !s.knows(d, "c") || s.knows(d, "b") {
		t.Errorf("after 10 accounts the device knows %d; want the last %d", len(d.accounts), maxDeviceAccounts)
	}
	other := &Server{deviceKey: []byte("another instance's key, 32 bytes")}
	w := httptest.NewRecorder()
	s.rememberDevice(w, d, "j")
	if other.parseDevice(w.Result().Cookies()[0].Value) != nil {
		t.Error("another instance's key verified the cookie")
	}
}
