package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is every problem found in a configuration, returned as one error by
// [Parse], [Load] and [Config.Validate].
type Error struct {
	Problems []Problem
}

// Error lists the problems one per line, in file order.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Problem is one thing wrong with a configuration, and where.
type Problem struct {
	// File is the name given to Parse (the path given to Load); empty for a
	// Config built in code.
	File string
	// Line and Column locate the YAML node at fault (1-based); zero when the
	// value did not come from the file. For a missing key they locate the
	// mapping that lacks it.
	Line, Column int
	// Override names the environment variable and flag that supplied the
	// value, such as "SIGIL_PUBLIC_URL / --public-url", when one did.
	Override string
	// Path names the value: "tenants[0].apps[1].clientId"; empty for the
	// whole document.
	Path    string
	Message string
}

// String formats p as "sigil.yaml:14:9: tenants[0].apps[0].clientId: "abc"
// is not a GUID", or "SIGIL_PUBLIC_URL / --public-url: publicUrl: …" for a
// value from an override.
func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.Override != "":
		b.WriteString(p.Override + ": ")
	case p.File != "" && p.Line > 0 && p.Column > 0:
		fmt.Fprintf(&b, "%s:%d:%d: ", p.File, p.Line, p.Column)
	case p.File != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", p.File, p.Line)
	case p.File != "":
		b.WriteString(p.File + ": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// newError returns nil for no problems, else an *Error with the problems in
// file order: those without a line (overrides, missing top-level values)
// first, then by line and column, ties in the order found.
func newError(problems []Problem) error {
	if len(problems) == 0 {
		return nil
	}
	slices.SortStableFunc(problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return &Error{Problems: problems}
}
