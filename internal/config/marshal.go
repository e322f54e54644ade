package config

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Marshal writes c as a bootstrap file that [Parse] reads back to the same configuration:
// settings equal to [Default] and empty values are left out, so what remains is what the
// file must say. header, when not empty, is written first as comment lines.
func Marshal(c Config, header string) ([]byte, error) {
	var n, def yaml.Node
	if err := n.Encode(c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := def.Encode(Default()); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	prune(&n, &def)
	var b bytes.Buffer
	for line := range bytes.Lines([]byte(header)) {
		b.WriteString("# ")
		b.Write(bytes.TrimRight(line, "\n"))
		b.WriteString("\n")
	}
	if len(n.Content) == 0 {
		return b.Bytes(), nil
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return b.Bytes(), enc.Close()
}

// prune removes from the mapping or sequence n every entry that is empty or equal to the
// entry at the same place in def (nil where the default has nothing there). It reports
// whether n itself is now empty.
func prune(n, def *yaml.Node) bool {
	switch n.Kind {
	case yaml.MappingNode:
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			if !prune(val, lookup(def, key.Value)) {
				kept = append(kept, key, val)
			}
		}
		n.Content = kept
		return len(kept) == 0
	case yaml.SequenceNode:
		for _, item := range n.Content {
			prune(item, nil)
		}
		return len(n.Content) == 0
	case yaml.ScalarNode:
		if def != nil && def.Kind == yaml.ScalarNode {
			return def.Value == n.Value // a zero that differs from the default is a setting
		}
		if n.Tag == "!!null" {
			return true
		}
		switch n.Value {
		case "", "0s": // "0s": a zero Duration (text-marshalled, so tagged !!str)
			return true
		case "false", "0":
			return n.Tag != "!!str"
		}
	}
	return false
}

// lookup returns the value of key in the mapping def, or nil.
func lookup(def *yaml.Node, key string) *yaml.Node {
	if def == nil || def.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(def.Content); i += 2 {
		if def.Content[i].Value == key {
			return def.Content[i+1]
		}
	}
	return nil
}
