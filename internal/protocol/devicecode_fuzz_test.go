package protocol

import (
	"strings"
	"testing"
)

// FuzzNormalizeUserCode feeds the user-code parser what a person (or an attacker) may type
// on the verification page. Whatever it accepts is exactly userCodeLength characters of the
// alphabet, stable when parsed again, and reachable from the input by upper-casing and
// dropping separators only.
func FuzzNormalizeUserCode(f *testing.F) {
	for _, seed := range []string{"BCDFGHJKL", "bcd-fgh-jkl", " BCD FGH JKL ", "BCDFGHJK", "BCDFGHJKLM", "AEIOU0125",
		"bcdfghjkl\t", "ＢCDFGHJKL", "BCDFGHJK\u0130", strings.Repeat("-", 100), "ß" + "CDFGHJKL"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := normalizeUserCode(raw)
		if !ok {
			if got != "" {
				t.Fatalf("rejected %q but returned %q", raw, got)
			}
			return
		}
		if len(got) != userCodeLength || strings.Trim(got, userCodeAlphabet) != "" {
			t.Fatalf("accepted %q as %q: not a user code", raw, got)
		}
		if again, ok := normalizeUserCode(got); !ok || again != got {
			t.Fatalf("%q normalizes to %q, which normalizes to %q, %v", raw, got, again, ok)
		}
		stripped := strings.NewReplacer("-", "", " ", "", "\t", "").Replace(strings.ToUpper(raw))
		if stripped != got {
			t.Fatalf("accepted %q as %q, want %q", raw, got, stripped)
		}
	})
}

// TestUserCodes: drawn codes parse, and over many draws every character of the alphabet
// appears (a broken draw that favours a few characters would not pass unnoticed).
func TestUserCodes(t *testing.T) {
	seen := map[rune]bool{}
	for range 200 {
		c := newUserCode()
		if got, ok := normalizeUserCode(c); !ok || got != c {
			t.Fatalf("drawn code %q does not parse back (%q, %v)", c, got, ok)
		}
		for _, r := range c {
			seen[r] = true
		}
	}
	if len(seen) != len(userCodeAlphabet) {
		t.Fatalf("200 codes used %d of the %d characters", len(seen), len(userCodeAlphabet))
	}
}
