package tokens

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestParseKeyRing(t *testing.T) {
	k1, k2 := NewKeyEncryptionKey(), NewKeyEncryptionKey()
	raw2, _ := base64.StdEncoding.DecodeString(k2)
	for _, tt := range []struct {
		name, text string
		keys       int
		err        string
	}{
		{"one", k1 + "\n", 1, ""},
		{"comment and two lines", "# new first\n" + k1 + "\n" + k2 + "\n", 2, ""},
		{"comma separated (the environment)", k1 + "," + k2, 2, ""},
		{"url alphabet, unpadded", base64.RawURLEncoding.EncodeToString(raw2), 1, ""},
		{"twice the same", k1 + "\n" + k1, 1, ""},
		{"empty", "\n# nothing\n", 0, "no key-encryption key"},
		{"not base64", "not*base64", 0, "key-encryption key 1: not base64"},
		{"too short", base64.StdEncoding.EncodeToString([]byte("sixteen bytes!!!")), 0, "16 bytes, want 32"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseKeyRing(tt.text)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want %q", err, tt.err)
				}
				if strings.Contains(err.Error(), tt.text) && tt.text != "" {
					t.Fatal("the error quotes the key text")
				}
				return
			}
			if err != nil || len(r.keys) != tt.keys {
				t.Fatalf("got %v, %d keys; want %d", err, len(r.keys), tt.keys)
			}
		})
	}
}

// TestSealOpen: a key sealed by the first KEK opens with any ring holding that KEK, is bound
// to its key id, and does not open with another KEK or none.
func TestSealOpen(t *testing.T) {
	k1, k2 := NewKeyEncryptionKey(), NewKeyEncryptionKey()
	r1, _ := ParseKeyRing(k1)
	r21, _ := ParseKeyRing(k2 + "\n" + k1)
	r2, _ := ParseKeyRing(k2)
	der := []byte("0\x82 pkcs8 stand-in")
	blob := r1.seal("kid", der)
	if bytes.Contains(blob, der) || !IsSealed(blob) {
		t.Fatal("the sealed key holds the plain key")
	}
	if got, current, err := r1.open("kid", blob); err != nil || !current || !bytes.Equal(got, der) {
		t.Fatalf("open with r1: %q %v %v", got, current, err)
	}
	if got, current, err := r21.open("kid", blob); err != nil || current || !bytes.Equal(got, der) {
		t.Fatalf("open with the rotated ring: %q %v %v (want not current)", got, current, err)
	}
	for name, f := range map[string]func() error{
		"other KEK":    func() error { _, _, err := r2.open("kid", blob); return err },
		"no KEK":       func() error { _, _, err := (*KeyRing)(nil).open("kid", blob); return err },
		"other key id": func() error { _, _, err := r1.open("kid2", blob); return err },
		"truncated":    func() error { _, _, err := r1.open("kid", blob[:20]); return err },
	} {
		if f() == nil {
			t.Errorf("%s: opened", name)
		}
	}
	if got, current, err := r1.open("kid", der); err != nil || current || !bytes.Equal(got, der) {
		t.Fatalf("an unsealed key comes back as it is, not current: %v %v", current, err)
	}
}

// FuzzParseKeyRing: any text parses or fails without panicking, and a ring has a key.
func FuzzParseKeyRing(f *testing.F) {
	f.Add(NewKeyEncryptionKey() + "\n# c\n" + NewKeyEncryptionKey())
	f.Add("a,b c\td")
	f.Fuzz(func(t *testing.T, text string) {
		if r, err := ParseKeyRing(text); err == nil && len(r.keys) == 0 {
			t.Fatal("a ring without keys")
		}
	})
}
