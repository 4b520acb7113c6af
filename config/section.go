package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// Sections returns the config paths, besides integrations and
// backend.reading.allow, that [Load] keeps (with their substitutions
// evaluated) for [Config.Decode]. Packages of the identity half decode their
// own blocks from them: auth (sign-in providers, session), catalog.providers
// (organisational data), permission (policies), backend.cache (shared
// state), backend.auth (service keys), app.baseUrl and backend.baseUrl.
func Sections() []string { return slices.Clone(sections) }

var sections = []string{"app.baseUrl", "backend.baseUrl", "backend.auth", "backend.cache", "auth", "catalog.providers", "permission"}

// kept is the merged, substituted configuration of the [Sections], with
// the problems and warnings found in them.
type kept struct {
	tree     map[string]any
	deferred []deferred
}

// deferred is a problem (err) or a warning found at a path inside a
// section.
type deferred struct {
	path    string
	err     error
	warning string
	vars    []string // the unset environment variables the warning is about
	doc     int      // the index of the document it was found in
}

// setLater drops the warnings that a value was left unset by unset
// variables where a later document, or the APP_CONFIG_ overlay (the last
// of layers), sets that value after all: Backstage's usual layering,
// ${VAR} in app-config.yaml and a literal in app-config.production.yaml.
// Arrays are replaced whole when merged, so a later value of the
// outermost array holding the path sets it too. Paths are compared as
// the loader writes them (joinKey), so keys holding a dot match.
func setLater(ds []deferred, layers []map[string]any) []deferred {
	var set []map[string]bool // per layer, the paths it sets (an array: its own path)
	out := ds[:0:0]
	for _, d := range ds {
		if d.err == nil && len(d.vars) > 0 {
			if set == nil {
				for _, tree := range layers {
					set = append(set, layerPaths(tree))
				}
			}
			p, _, _ := strings.Cut(d.path, "[")
			overridden := false
			for _, paths := range set[min(d.doc+1, len(set)):] {
				if paths[p] {
					overridden = true
					break
				}
			}
			if overridden {
				continue
			}
		}
		out = append(out, d)
	}
	return out
}

// layerPaths returns the paths of the values tree sets: every map key's
// (but of a null value), not looking into arrays, which merge whole.
func layerPaths(tree map[string]any) map[string]bool {
	paths := map[string]bool{}
	var walk func(m map[string]any, at string)
	walk = func(m map[string]any, at string) {
		for k, v := range m {
			if v == nil {
				continue
			}
			p := joinKey(at, k)
			paths[p] = true
			if sub, ok := v.(map[string]any); ok {
				walk(sub, p)
			}
		}
	}
	walk(tree, "")
	return paths
}

// keep copies the Sections out of the merged tree.
func keep(raw map[string]any, ds []deferred) *kept {
	k := &kept{tree: map[string]any{}, deferred: ds}
	for _, sec := range sections {
		parts := strings.Split(sec, ".")
		v, ok := get(raw, parts)
		if !ok {
			continue
		}
		m := k.tree
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = v
	}
	return k
}

// sectionOf returns the entry of Sections that contains the config path
// (which may carry array indexes: "auth.providers.x[0].y"), or "".
func sectionOf(path string) string {
	for _, sec := range sections {
		if path == sec || within(path, sec) {
			return sec
		}
	}
	return ""
}

// SectionWarnings returns the warnings (unset variables, missing include
// paths) found at path, inside it, or at a value containing it, e.g. for
// "auth.providers.github" those of auth.providers.github.development. They are not in [Config.Warnings], so a deployment that does
// not use a section is not told about it.
func (c *Config) SectionWarnings(path string) []string {
	if c == nil || c.kept == nil {
		return nil
	}
	var ws []string
	for _, d := range c.kept.deferred {
		if d.warning != "" && related(d.path, path) {
			ws = append(ws, d.warning)
		}
	}
	return dedupe(ws)
}

// UnsetVariables returns the names of the environment variables, sorted and
// once each, that the configuration at path, inside it, or at a value
// containing it refers to (${VAR}, ${VAR:-fallback} with a blank fallback,
// $env: VAR) and that were not set, so that the values using them were
// left unset; nil if there are none. path is a dotted config path inside
// one of [Sections], such as "auth.session.secret" or "backend.cache".
//
// It names variables, never values: a consumer that finds a required key
// empty (auth.session.secret, backend.cache.connection) adds them to its
// error, so that the error says which variable to set. The packages of
// the identity half cannot import this one; they ask their Decoder for
// this method when it has it, and [Config.Decode] hands it to a value
// that has a SetUnsetVariables(func(path string) []string) method (as
// auth.Config has) after decoding into it.
func (c *Config) UnsetVariables(path string) []string {
	if c == nil || c.kept == nil {
		return nil
	}
	return unsetIn(c.kept.deferred, path)
}

// unsetIn returns the sorted unset variables of ds related to path.
func unsetIn(ds []deferred, path string) []string {
	var names []string
	for _, d := range ds {
		if len(d.vars) > 0 && related(d.path, path) {
			names = append(names, d.vars...)
		}
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// unsetFunc returns UnsetVariables over the entries related to the
// section at path only: what Decode hands to the value it decoded, which
// keeps neither the configuration nor any value.
func (c *Config) unsetFunc(path string) func(string) []string {
	var ds []deferred
	if c != nil && c.kept != nil {
		for _, d := range c.kept.deferred {
			if len(d.vars) > 0 && related(d.path, path) {
				ds = append(ds, deferred{path: d.path, vars: d.vars})
			}
		}
	}
	return func(p string) []string { return unsetIn(ds, p) }
}

// unsetReceiver is a value that Decode tells where variables were unset.
type unsetReceiver interface {
	SetUnsetVariables(func(path string) []string)
}

// related reports whether two config paths overlap.
func related(a, b string) bool {
	return a == b || within(a, b) || within(b, a)
}

// Has reports whether a value is configured at path, a dotted config path
// inside one of [Sections] such as "auth.providers.github".
func (c *Config) Has(path string) bool {
	_, ok := c.lookup(path)
	return ok
}

// Decode decodes the configuration at path (a dotted config path inside one
// of [Sections], such as "auth" or "catalog.providers.githubOrg") into out,
// a pointer to a struct, map or slice, using encoding/json's rules and field
// tags: keys match the `json` tag names. Secrets should be decoded into
// [integrations.Secret], which fills itself from a string and never shows
// its value. Keys out does not name are ignored, as Backstage ignores keys
// a plugin does not read.
//
// A path with no value leaves out unchanged and returns nil; use [Config.Has]
// to tell. A value of the wrong type is an InvalidArgument *errcode.Error
// (Op "config.Decode") whose wrapped [integrations.FieldError] names the
// full config path ("auth.providers.github.development.clientId") and the
// expected type, never the value.
func (c *Config) Decode(path string, out any) error {
	const op = "config.Decode"
	var problems []error
	if c != nil && c.kept != nil {
		for _, d := range c.kept.deferred {
			if d.err != nil && related(d.path, path) {
				problems = append(problems, d.err)
			}
		}
	}
	if len(problems) > 0 {
		return &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: fmt.Sprintf("%d %s in configuration at %s", len(problems), plural(len(problems), "problem", "problems"), path), Err: errors.Join(problems...)}
	}
	v, ok := c.lookup(path)
	if !ok {
		// A block whose every value used an unset variable is absent:
		// its receiver is still told which.
		if r, ok := out.(unsetReceiver); ok {
			r.SetUnsetVariables(c.unsetFunc(path))
		}
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: fmt.Sprintf("%s: cannot be represented", path)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(out); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			fe := &integrations.FieldError{Path: locate(path, v, te), Msg: fmt.Sprintf("must be %s, got %s", jsonKind(te.Type.Kind().String()), te.Value)}
			return &errcode.Error{Code: errcode.InvalidArgument, Op: op, Err: fe}
		}
		// Other decoding errors come from out's own UnmarshalJSON or
		// UnmarshalText methods; their text is theirs, never a value of
		// ours, as we marshalled the tree ourselves.
		return &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: path, Err: err}
	}
	if r, ok := out.(unsetReceiver); ok {
		r.SetUnsetVariables(c.unsetFunc(path))
	}
	return nil
}

// lookup returns the value at a dotted path of the kept tree.
func (c *Config) lookup(path string) (any, bool) {
	if c == nil || c.kept == nil {
		return nil, false
	}
	return get(c.kept.tree, strings.Split(path, "."))
}

// get returns the value at a key path of a tree.
func get(tree map[string]any, path []string) (any, bool) {
	var v any = tree
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok || v == nil {
			return nil, false
		}
	}
	return v, true
}

// locate returns the config path of the value a type error is about.
// encoding/json names the struct fields on the way (te.Field) but not the
// map keys or array indexes, so the tree is searched for a value of the
// reported JSON type at a path whose struct fields match, map keys and
// array indexes taken in sorted order; path alone if none is found.
func locate(path string, v any, te *json.UnmarshalTypeError) string {
	var fields []string
	if te.Field != "" {
		fields = strings.Split(te.Field, ".")
	}
	var find func(v any, at string, fields []string) (string, bool)
	find = func(v any, at string, fields []string) (string, bool) {
		if len(fields) == 0 {
			return at, jsonType(v) == te.Value
		}
		switch x := v.(type) {
		case map[string]any:
			if next, ok := x[fields[0]]; ok {
				if p, ok := find(next, at+"."+fields[0], fields[1:]); ok {
					return p, true
				}
			}
			for _, k := range slices.Sorted(maps.Keys(x)) {
				if p, ok := find(x[k], at+"."+k, fields); ok {
					return p, true
				}
			}
		case []any:
			for i, e := range x {
				if p, ok := find(e, fmt.Sprintf("%s[%d]", at, i), fields); ok {
					return p, true
				}
			}
		}
		return "", false
	}
	if p, ok := find(v, path, fields); ok {
		return p
	}
	return path
}

// jsonType names a tree value's type as encoding/json's errors do.
func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case nil:
		return "null"
	}
	return "number"
}

// jsonKind names a Go kind as a config value type.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	}
	return "a " + kind
}
