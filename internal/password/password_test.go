package password

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// cheap keeps tests fast where the cost parameters are not what is tested.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

// mustHash hashes pw with p or fails the test.
func mustHash(tb testing.TB, pw string, p Params) string {
	tb.Helper()
	h, err := Hash(pw, p)
	if err != nil {
		tb.Fatalf("Hash(%q, %+v): %v", pw, p, err)
	}
	return h
}

// mustBcrypt returns a bcrypt hash of pw at the minimum cost with the given
// version prefix ("$2a$", "$2b$", "$2y$").
func mustBcrypt(tb testing.TB, pw, prefix string) string {
	tb.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		tb.Fatalf("bcrypt: %v", err)
	}
	return prefix + string(h[4:])
}

func TestDefaultParams(t *testing.T) {
	got := DefaultParams()
	want := Params{Memory: 19456, Time: 2, Threads: 1}
	if got != want {
		t.Errorf("DefaultParams() = %+v, want %+v", got, want)
	}
}

func TestHashVerifyRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		password string
		params   Params
	}{
		{"default params", "Passw0rd!alice", DefaultParams()},
		{"cheap params", "Passw0rd!alice", cheap},
		{"empty password", "", cheap},
		{"unicode", "pässwörd ✓ 密码", cheap},
		{"long password", strings.Repeat("x", 1000), cheap},
		{"several threads", "pw", Params{Memory: 256, Time: 1, Threads: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHash(t, tt.password, tt.params)
			wantPrefix := "$argon2id$v=19$" + tt.params.String() + "$"
			if !strings.HasPrefix(h, wantPrefix) {
				t.Errorf("Hash = %q, want prefix %q", h, wantPrefix)
			}
			ok, err := Verify(h, tt.password)
			if err != nil || !ok {
				t.Errorf("Verify(hash, right password) = %v, %v; want true, nil", ok, err)
			}
			ok, err = Verify(h, tt.password+"x")
			if err != nil || ok {
				t.Errorf("Verify(hash, wrong password) = %v, %v; want false, nil", ok, err)
			}
			if err := Check(h); err != nil {
				t.Errorf("Check(hash) = %v, want nil", err)
			}
		})
	}
}

func TestHashShape(t *testing.T) {
	a, b := mustHash(t, "same", cheap), mustHash(t, "same", cheap)
	if a == b {
		t.Errorf("two hashes of one password are equal (%q); want different salts", a)
	}
	h, err := parsePHC(a)
	if err != nil {
		t.Fatalf("parsePHC(%q): %v", a, err)
	}
	if len(h.salt) != 16 || len(h.key) != 32 {
		t.Errorf("got salt %d bytes, key %d bytes; want 16, 32", len(h.salt), len(h.key))
	}
	if strings.HasSuffix(a, "=") {
		t.Errorf("hash %q has base64 padding; want unpadded", a)
	}
}

func TestHashRejectsParams(t *testing.T) {
	tests := []struct {
		name   string
		params Params
	}{
		{"zero", Params{}},
		{"no time", Params{Memory: 64, Time: 0, Threads: 1}},
		{"no threads", Params{Memory: 64, Time: 1, Threads: 0}},
		{"memory below 8 per thread", Params{Memory: 15, Time: 1, Threads: 2}},
		{"memory above 1 GiB", Params{Memory: 1<<20 + 1, Time: 1, Threads: 1}},
		{"time above 100", Params{Memory: 64, Time: 101, Threads: 1}},
		{"threads above 64", Params{Memory: 1024, Time: 1, Threads: 65}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Hash("pw", tt.params)
			if !errors.Is(err, ErrParams) {
				t.Errorf("Hash(%+v) = %q, %v; want ErrParams", tt.params, h, err)
			}
		})
	}
}

// TestVerifyInterop checks a hash written by another implementation:
// libsodium's crypto_pwhash_str of "password", from the PHP manual's
// sodium_crypto_pwhash_str example.
func TestVerifyInterop(t *testing.T) {
	const h = "$argon2id$v=19$m=65536,t=2,p=1$oWIfdaXwWwhVmovOBc2NAQ$EbsZ+JnZyyavkafS0hoc4HdaOB0ILWZESAZ7kVGa+Iw"
	ok, err := Verify(h, "password")
	if err != nil || !ok {
		t.Errorf("Verify(libsodium hash, %q) = %v, %v; want true, nil", "password", ok, err)
	}
}

func TestVerifyBcrypt(t *testing.T) {
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		t.Run(prefix, func(t *testing.T) {
			h := mustBcrypt(t, "imported secret", prefix)
			if err := Check(h); err != nil {
				t.Errorf("Check(%q) = %v, want nil", h, err)
			}
			ok, err := Verify(h, "imported secret")
			if err != nil || !ok {
				t.Errorf("Verify(right password) = %v, %v; want true, nil", ok, err)
			}
			ok, err = Verify(h, "imported secreT")
			if err != nil || ok {
				t.Errorf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
			}
		})
	}
}

// valid is a well-formed cheap hash of "pw" used to build malformed variants.
const valid = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$7M2vTguNHCwieXVOG1+uykExCai1Y53o0JkCs978saw"

func TestVerifyMalformed(t *testing.T) {
	bc := mustBcrypt(t, "pw", "$2b$")
	tests := []struct {
		name    string
		encoded string
		want    error
	}{
		{"empty", "", ErrMalformed},
		{"plain text", "pw", ErrMalformed},
		{"no leading dollar", valid[1:], ErrMalformed},
		{"missing key", strings.TrimSuffix(valid, valid[strings.LastIndex(valid, "$"):]), ErrMalformed},
		{"extra field", valid + "$AAAA", ErrMalformed},
		{"argon2i", strings.Replace(valid, "argon2id", "argon2i", 1), ErrUnsupported},
		{"argon2d", strings.Replace(valid, "argon2id", "argon2d", 1), ErrUnsupported},
		{"scrypt", "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", ErrUnsupported},
		{"unknown algorithm", "$md5$a$b$c$d", ErrUnsupported},
		{"version 16", strings.Replace(valid, "v=19", "v=16", 1), ErrUnsupported},
		{"version missing", strings.Replace(valid, "v=19$", "", 1), ErrMalformed},
		{"version not a number", strings.Replace(valid, "v=19", "v=x", 1), ErrMalformed},
		{"params out of order", strings.Replace(valid, "m=64,t=1,p=1", "t=1,m=64,p=1", 1), ErrMalformed},
		{"params missing one", strings.Replace(valid, "m=64,t=1,p=1", "m=64,t=1", 1), ErrMalformed},
		{"params extra keyid", strings.Replace(valid, "m=64,t=1,p=1", "m=64,t=1,p=1,keyid=a", 1), ErrMalformed},
		{"params negative", strings.Replace(valid, "t=1", "t=-1", 1), ErrMalformed},
		{"params leading zero", strings.Replace(valid, "m=64", "m=064", 1), ErrMalformed},
		{"params plus sign", strings.Replace(valid, "m=64", "m=+64", 1), ErrMalformed},
		{"params huge number", strings.Replace(valid, "m=64", "m=99999999999999999999", 1), ErrMalformed},
		{"memory over 1 GiB", strings.Replace(valid, "m=64", "m=1048577", 1), ErrParams},
		{"time over 100", strings.Replace(valid, "t=1", "t=101", 1), ErrParams},
		{"threads over 64", strings.Replace(valid, "p=1", "p=65", 1), ErrParams},
		{"time zero", strings.Replace(valid, "t=1", "t=0", 1), ErrParams},
		{"threads zero", strings.Replace(valid, "p=1", "p=0", 1), ErrParams},
		{"memory below 8 per thread", strings.Replace(valid, "m=64", "m=7", 1), ErrParams},
		{"salt padded", strings.Replace(valid, "c2FsdHNhbHRzYWx0c2FsdA$", "c2FsdHNhbHRzYWx0c2FsdA==$", 1), ErrMalformed},
		{"salt url alphabet", strings.Replace(valid, "c2FsdHNhbHRzYWx0c2FsdA", "c2FsdHNhbHRzYWx0c2Fsd_", 1), ErrMalformed},
		{"salt non-canonical", strings.Replace(valid, "c2FsdHNhbHRzYWx0c2FsdA", "c2FsdHNhbHRzYWx0c2FsdB", 1), ErrMalformed},
		{"salt too short", strings.Replace(valid, "c2FsdHNhbHRzYWx0c2FsdA", "c2FsdA", 1), ErrMalformed},
		{"salt empty", strings.Replace(valid, "c2FsdHNhbHRzYWx0c2FsdA", "", 1), ErrMalformed},
		{"key too short", valid[:strings.LastIndex(valid, "$")+1] + "AAAA", ErrMalformed},
		{"key too long", valid[:strings.LastIndex(valid, "$")+1] + strings.Repeat("A", 100), ErrMalformed},
		{"bcrypt truncated", bc[:59], ErrMalformed},
		{"bcrypt too long", bc + "A", ErrMalformed},
		{"bcrypt cost letters", bc[:4] + "xx" + bc[6:], ErrMalformed},
		{"bcrypt cost too low", bc[:4] + "03" + bc[6:], ErrParams},
		{"bcrypt cost absurd", bc[:4] + "31" + bc[6:], ErrParams},
		{"bcrypt bad alphabet", bc[:20] + "+" + bc[21:], ErrMalformed},
		{"bcrypt no minor", "$2$" + bc[4:], ErrUnsupported},
		{"bcrypt 2x", "$2x$" + bc[4:], ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := Verify(tt.encoded, "pw")
			if ok || !errors.Is(err, tt.want) {
				t.Errorf("Verify(%q) = %v, %v; want false, %v", tt.encoded, ok, err, tt.want)
			}
			if err := Check(tt.encoded); !errors.Is(err, tt.want) {
				t.Errorf("Check(%q) = %v, want %v", tt.encoded, err, tt.want)
			}
		})
	}
}

func TestValidConstant(t *testing.T) {
	ok, err := Verify(valid, "pw")
	if err != nil || !ok {
		t.Fatalf("Verify(valid, %q) = %v, %v; want true, nil", "pw", ok, err)
	}
}

func TestNeedsRehash(t *testing.T) {
	def := DefaultParams()
	tests := []struct {
		name    string
		encoded string
		params  Params
		want    bool
	}{
		{"same params", valid, cheap, false},
		{"more memory wanted", valid, Params{Memory: 128, Time: 1, Threads: 1}, true},
		{"more time wanted", valid, Params{Memory: 64, Time: 2, Threads: 1}, true},
		{"more threads wanted", valid, Params{Memory: 64, Time: 1, Threads: 2}, true},
		{"fewer params wanted", strings.Replace(valid, "m=64,t=1", "m=19456,t=2", 1), cheap, true},
		{"default params", strings.Replace(valid, "m=64,t=1", "m=19456,t=2", 1), def, false},
		{"short salt", strings.Replace(valid, "c2FsdHNhbHRzYWx0c2FsdA", "c2FsdHNhbHQ", 1), cheap, true},
		{"bcrypt", mustBcrypt(t, "pw", "$2b$"), def, true},
		{"malformed", "garbage", def, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NeedsRehash(tt.encoded, tt.params); got != tt.want {
				t.Errorf("NeedsRehash(%q, %+v) = %v, want %v", tt.encoded, tt.params, got, tt.want)
			}
		})
	}
}
