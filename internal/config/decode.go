package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// aliasFactor bounds how far aliases may multiply the document: decoding
// visits at most this many values per node in the file. Configurations
// reuse an anchored list now and then; a "billion laughs" file reuses
// anchors that reuse anchors.
const aliasFactor = 10

// decoder decodes a yaml.Node tree into a Config by walking both, strictly:
// unknown and repeated keys and wrong types are problems, all of them
// collected, each with the line and column of its node.
type decoder struct {
	src      *sources
	problems []Problem
	budget   int // values left to decode before aliasing counts as abuse; < 0 once spent
}

// readYAML parses data as a single YAML document and returns its root node,
// or nil for an empty document.
func readYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("yaml: line %d: the file holds more than one YAML document", next.Line)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return nil, nil
}

// syntaxProblem turns a yaml error ("yaml: line 3: did not find expected
// key") into a Problem on that line.
func syntaxProblem(file string, err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	p := Problem{File: file, Message: msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, text, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(num); err == nil {
				p.Line, p.Message = line, text
			}
		}
	}
	return p
}

// countNodes counts the nodes of the tree without following aliases.
func countNodes(n *yaml.Node) int {
	total := 1
	for _, c := range n.Content {
		total += countNodes(c)
	}
	return total
}

// spend takes cost from the budget and reports whether it lasted; the
// first time it does not, it records the problem.
func (d *decoder) spend(n *yaml.Node, path string, cost int) bool {
	if d.budget < 0 {
		return false
	}
	d.budget -= cost
	if d.budget < 0 {
		d.fail(n, path, "aliases expand the document more than %d-fold", aliasFactor)
		return false
	}
	return true
}

// fail records a problem at node n and marks path as not decoded.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.src.failed[path] = true
	d.problems = append(d.problems, Problem{
		File: d.src.file, Line: n.Line, Column: n.Column, Path: path, Message: fmt.Sprintf(format, args...),
	})
}

// value decodes n into v, which holds the default, and records n's position
// under path. A null leaves the default in place.
func (d *decoder) value(n *yaml.Node, path string, v reflect.Value) {
	if !d.spend(n, path, 1) {
		return
	}
	d.src.nodes[path] = position{n.Line, n.Column}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	d.into(n, path, v)
}

// into decodes n by the kind of v.
func (d *decoder) into(n *yaml.Node, path string, v reflect.Value) {
	switch {
	case v.Type() == reflect.TypeFor[Duration]():
		d.duration(n, path, v)
	case v.Kind() == reflect.Struct:
		d.mapping(n, path, v)
	case v.Kind() == reflect.Slice:
		d.sequence(n, path, v)
	case v.Kind() == reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		d.into(n, path, elem.Elem())
		if !d.src.failed[path] {
			v.Set(elem)
		}
	default:
		d.scalar(n, path, v)
	}
}

// mapping decodes a YAML mapping into the struct v, field by yaml tag.
func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "got %s, want a mapping", describe(n))
		return
	}
	fields := fieldsOf(v.Type())
	seen := make(map[string]*yaml.Node)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if key.Kind != yaml.ScalarNode || key.ShortTag() == "!!merge" {
			d.keyProblem(key, path, "merge keys and complex keys are not supported")
			continue
		}
		if first, ok := seen[key.Value]; ok {
			d.keyProblem(key, path, fmt.Sprintf("key %q is repeated (first at line %d)", key.Value, first.Line))
			continue
		}
		seen[key.Value] = key
		idx, ok := fields[key.Value]
		if !ok {
			d.keyProblem(key, path, unknownKey(key.Value, fields))
			continue
		}
		d.value(val, field(path, key.Value), v.Field(idx))
	}
}

// keyProblem records a problem about the mapping at path, located at key.
func (d *decoder) keyProblem(key *yaml.Node, path, msg string) {
	d.problems = append(d.problems, Problem{File: d.src.file, Line: key.Line, Column: key.Column, Path: path, Message: msg})
}

// unknownKey says that name is not a key here, suggesting the known key nearest to it: one
// that differs only in case, or else the closest within a few typing mistakes (an edit
// distance of at most a third of the name, at least 1, at most 3), or else one the name
// begins (cert for certFile). Ties go to the key that sorts first, so the message is stable.
func unknownKey(name string, fields map[string]int) string {
	best, bestDist := "", 0
	lname := strings.ToLower(name)
	for f := range fields {
		d := editDistance(lname, strings.ToLower(f))
		if d > 0 && len(name) >= 3 && strings.HasPrefix(strings.ToLower(f), lname) {
			d = 1 // a key cut short
		}
		if best == "" || d < bestDist || d == bestDist && f < best {
			best, bestDist = f, d
		}
	}
	limit := min(max(len(name)/3, 1), 3)
	if best != "" && (bestDist == 0 || bestDist <= limit) {
		return fmt.Sprintf("unknown key %q (did you mean %q?)", name, best)
	}
	return fmt.Sprintf("unknown key %q", name)
}

// editDistance is the Levenshtein distance between a and b, counted in bytes (keys are ASCII).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 { // no key is this long; do not spend time on garbage
		return max(len(a), len(b))
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// fieldsOf maps the yaml tag names of struct type t to field indexes.
func fieldsOf(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("yaml"); name != "" {
			m[name] = i
		}
	}
	return m
}

// sequence decodes a YAML sequence into the slice v, keeping order. An
// empty list leaves v nil, as an absent one does.
func (d *decoder) sequence(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "got %s, want a list", describe(n))
		return
	}
	if len(n.Content) == 0 {
		return
	}
	if !d.spend(n, path, len(n.Content)) { // before allocating
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.value(item, fmt.Sprintf("%s[%d]", path, i), s.Index(i))
	}
	v.Set(s)
}

// scalar decodes a string, bool or int. Strings take the text as written,
// so that `password: 0123` stays "0123"; bools must be true or false, not
// YAML 1.1's yes/no/on/off.
func (d *decoder) scalar(n *yaml.Node, path string, v reflect.Value) {
	want := "a string"
	switch v.Kind() {
	case reflect.Bool:
		want = "true or false"
	case reflect.Int:
		want = "a whole number"
	case reflect.Float64:
		want = "a number"
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "got %s, want %s", describe(n), want)
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.fail(n, path, "got %s, want %s", describe(n), want)
			return
		}
		v.SetBool(b)
	case reflect.Int:
		var i int
		if n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			d.fail(n, path, "got %s, want %s", describe(n), want)
			return
		}
		v.SetInt(int64(i))
	case reflect.Float64:
		var f float64
		if t := n.ShortTag(); t != "!!float" && t != "!!int" || n.Decode(&f) != nil {
			d.fail(n, path, "got %s, want %s", describe(n), want)
			return
		}
		v.SetFloat(f)
	default: // a field type added to Config without a case here
		d.fail(n, path, "cannot decode into %s", v.Type())
	}
}

// duration decodes a Duration such as "90d" or "15m".
func (d *decoder) duration(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "got %s, want a duration such as 30s, 15m, 24h or 90d", describe(n))
		return
	}
	dur, err := ParseDuration(n.Value)
	if err != nil {
		d.fail(n, path, "%v", err)
		return
	}
	v.SetInt(int64(dur))
}

// describe names what n is without quoting its value, which may be a secret.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!bool":
		return "true/false"
	case "!!int", "!!float":
		return "a number"
	case "!!str":
		return "a string"
	}
	return "a " + strings.TrimLeft(n.ShortTag(), "!") + " value"
}
