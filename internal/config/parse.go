package config

import (
	"fmt"
	"os"
	"reflect"
)

// Overrides are values from the environment or flags (read by cmd/sigil);
// each non-empty field wins over the file.
type Overrides struct {
	Listen    string // SIGIL_LISTEN / --listen
	PublicURL string // SIGIL_PUBLIC_URL / --public-url
	Storage   string // SIGIL_STORAGE / --storage
	DataDir   string // SIGIL_DATA_DIR / --data-dir
}

// apply sets the non-empty overrides on c and records them in src, so that
// problems with those values name the override instead of a line.
func (o Overrides) apply(c *Config, src *sources) {
	for _, f := range []struct {
		value, name, path string
		dst               *string
	}{
		{o.Listen, "SIGIL_LISTEN / --listen", "listen", &c.Listen},
		{o.PublicURL, "SIGIL_PUBLIC_URL / --public-url", "publicUrl", &c.PublicURL},
		{o.Storage, "SIGIL_STORAGE / --storage", "storage", &c.Storage},
		{o.DataDir, "SIGIL_DATA_DIR / --data-dir", "dataDir", &c.DataDir},
	} {
		if f.value != "" {
			*f.dst = f.value
			src.overrides[f.path] = f.name
		}
	}
}

// Load reads the file at path and returns [Parse] of it; problems name the
// file as path was given.
func Load(path string, o Overrides) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, o)
}

// Parse decodes data, named name in problems, over [Default], applies the
// overrides, and validates the result with [Config.Validate]. Decoding is
// strict: unknown keys, repeated keys, values of the wrong type and
// documents after the first are problems. A null value (`listen:` with
// nothing after it) keeps the default. All problems come back at once as
// an [*Error]; the Config is then the zero value.
func Parse(name string, data []byte, o Overrides) (Config, error) {
	return ParseWith(name, data, Default(), o, nil)
}

// ParseWith is [Parse] over base instead of [Default], with fill (when not
// nil) run after the overrides and before validation, to complete what the
// file left out (`sigil dev` derives publicUrl from listen and adds its demo
// tenant). Empty data decodes to base.
func ParseWith(name string, data []byte, base Config, o Overrides, fill func(*Config)) (Config, error) {
	src := newSources(name)
	root, err := readYAML(data)
	if err != nil {
		return Config{}, newError([]Problem{syntaxProblem(name, err)})
	}
	c := base
	var problems []Problem
	if root != nil {
		d := decoder{src: src, budget: aliasFactor * countNodes(root)}
		d.value(root, "", reflect.ValueOf(&c).Elem())
		if d.budget < 0 { // a half-decoded alias bomb: validating it would only add noise
			return Config{}, newError(d.problems)
		}
		problems = d.problems
	}
	o.apply(&c, src)
	if fill != nil {
		fill(&c)
	}
	problems = append(problems, c.validate(src)...)
	if err := newError(problems); err != nil {
		return Config{}, err
	}
	return c, nil
}
