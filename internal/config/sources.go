package config

import "strings"

// position is a 1-based line and column in the file.
type position struct{ line, column int }

// sources remembers where each decoded value came from, by path
// ("tenants[0].apps[1].clientId"), so that Validate can point at it.
type sources struct {
	file      string
	nodes     map[string]position // the YAML node of each decoded path
	overrides map[string]string   // path → the override that set it
	failed    map[string]bool     // paths that did not decode; Validate stays quiet about them
}

// newSources returns empty sources for the named file.
func newSources(file string) *sources {
	return &sources{
		file:      file,
		nodes:     make(map[string]position),
		overrides: make(map[string]string),
		failed:    make(map[string]bool),
	}
}

// problem returns a Problem about path, located at the override that set
// path, or at the YAML node of path or of its nearest decoded ancestor (the
// mapping that lacks a missing key). s may be nil: a Config built in code.
func (s *sources) problem(path, msg string) Problem {
	p := Problem{Path: path, Message: msg}
	if s == nil {
		return p
	}
	if o, ok := s.overrides[path]; ok {
		p.Override = o
		return p
	}
	p.File = s.file
	for at := path; ; at = parent(at) {
		if pos, ok := s.nodes[at]; ok {
			p.Line, p.Column = pos.line, pos.column
			return p
		}
		if at == "" {
			return p
		}
	}
}

// suppressed reports whether path or an ancestor failed to decode, so that
// a problem about its (default) value would only repeat the decoding one.
func (s *sources) suppressed(path string) bool {
	if s == nil {
		return false
	}
	for at := path; ; at = parent(at) {
		if s.failed[at] {
			return true
		}
		if at == "" {
			return false
		}
	}
}

// parent returns the path one step up: "a[0].b" → "a[0]" → "a" → "".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// field returns the path of a mapping key below path.
func field(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
