package protocol

import (
	"testing"
	"time"
)

// FuzzOpenInteraction feeds arbitrary "ir" values to the opener: it never panics, and it
// accepts only what the key sealed, unchanged. (Fuzzing workers seal their own seeds with
// fresh nonces, so an accepted value is checked by its content: only the valid seed's.)
func FuzzOpenInteraction(f *testing.F) {
	x, err := newInteractionSealer(make([]byte, 32))
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	valid, err := x.seal(sealedInteraction{ID: "id", Browser: "b", Expires: now.Add(time.Minute).Unix(), Request: []byte(`{"tenant":"contoso.test"}`)})
	if err != nil {
		f.Fatal(err)
	}
	expired, _ := x.seal(sealedInteraction{ID: "id", Browser: "b", Expires: now.Unix(), Request: []byte(`{}`)})
	f.Add(valid)
	f.Add(expired)
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, v string) {
		in, err := x.open(v, now)
		if err == nil && (in.ID != "id" || in.Browser != "b" || in.Expires != now.Add(time.Minute).Unix() ||
			string(in.Request) != `{"tenant":"contoso.test"}`) {
			t.Fatalf("opened a value the key did not seal: %q -> %+v", v, in)
		}
	})
}
