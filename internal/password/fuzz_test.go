package password

import (
	"errors"
	"strings"
	"testing"
)

// fuzzSeeds are valid and broken hashes to start the fuzzers from.
func fuzzSeeds(tb testing.TB) []string {
	bc := mustBcrypt(tb, "pw", "$2b$")
	return []string{
		valid,
		bc,
		"$2y$" + bc[4:],
		"",
		"$",
		"$argon2id",
		"$argon2id$v=19$m=64,t=1,p=1$$",
		strings.Replace(valid, "m=64", "m=4294967295", 1),
		strings.Replace(valid, "p=1", "p=255", 1),
		strings.Replace(valid, "v=19", "v=019", 1),
		bc[:4] + "99" + bc[6:],
		"$2b$04$" + strings.Repeat("/", 53),
	}
}

// FuzzVerify checks that Verify never panics and that an error never comes
// with a match.
func FuzzVerify(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, "pw")
	}
	f.Fuzz(func(t *testing.T, encoded, pw string) {
		// Valid hashes with costly parameters would make the fuzzer crawl;
		// their shape is what is being fuzzed, so keep them cheap.
		if h, err := parsePHC(encoded); err == nil && h.params.Memory*h.params.Time > 4096 {
			t.Skip()
		}
		if cost, err := parseBcrypt(encoded); isBcrypt(encoded) && err == nil && cost > 5 {
			t.Skip()
		}
		ok, err := Verify(encoded, pw)
		if err != nil && ok {
			t.Errorf("Verify(%q, %q) = true, %v; want false with an error", encoded, pw, err)
		}
		if checkErr := Check(encoded); (checkErr == nil) != (err == nil) {
			t.Errorf("Check(%q) = %v but Verify returned %v", encoded, checkErr, err)
		}
	})
}

// FuzzCheck checks that Check never panics, classifies every error, and
// accepts only what re-encodes to the same string.
func FuzzCheck(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, encoded string) {
		err := Check(encoded)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrParams) {
				t.Errorf("Check(%q) = %v, want one of the package's errors", encoded, err)
			}
			return
		}
		if isBcrypt(encoded) {
			return
		}
		h, err := parsePHC(encoded)
		if err != nil {
			t.Fatalf("Check accepted %q but parsePHC says %v", encoded, err)
		}
		if got := h.String(); got != encoded {
			t.Errorf("accepted %q re-encodes as %q; want the same string", encoded, got)
		}
	})
}
