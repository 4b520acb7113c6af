package config

import (
	"encoding/json"
	"io"
	"maps"
	"slices"
	"strings"
)

// envPrefix starts the name of every variable of the environment overlay.
const envPrefix = "APP_CONFIG_"

// validKeyPart reports whether s may be one "_"-separated part of an
// APP_CONFIG_ name: a letter, then letters and digits, in "-"-separated
// groups (Backstage's CONFIG_KEY_PART_PATTERN).
func validKeyPart(s string) bool {
	for group := range strings.SplitSeq(s, "-") {
		if group == "" || !isLetter(group[0]) {
			return false
		}
		for i := 1; i < len(group); i++ {
			if !isLetter(group[i]) && (group[i] < '0' || group[i] > '9') {
				return false
			}
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// envOverlay builds the configuration of the APP_CONFIG_ variables in
// Environ, as Backstage's EnvConfigSource does, keeping only the sections
// scmkit reads. Problems are reported under the variable's name. It returns
// nil when no variable applies.
func (l *loader) envOverlay() map[string]any {
	vars := make(map[string]string)
	for _, kv := range l.environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, envPrefix) {
			continue
		}
		vars[name] = value // the last definition wins, as in os.Environ
	}
	var data map[string]any
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		value := vars[name]
		if value == "" {
			continue // Backstage ignores empty variables
		}
		parts := strings.Split(strings.TrimPrefix(name, envPrefix), "_")
		s, relevant := scopeRoot, true
		for _, p := range parts {
			if s, relevant = s.child(p); !relevant {
				break
			}
		}
		if !relevant {
			continue // a key outside the sections scmkit reads
		}
		if bad := slices.IndexFunc(parts, func(p string) bool { return !validKeyPart(p) }); bad >= 0 {
			if s == scopeAll && strings.Trim(parts[bad], "0123456789") == "" && parts[bad] != "" {
				l.problem(name, "invalid key part %q: array elements cannot be set from the environment; set the whole array as JSON instead", parts[bad])
			} else {
				l.problem(name, "invalid key part %q", parts[bad])
			}
			continue
		}
		if data == nil {
			data = make(map[string]any)
		}
		obj := data
		ok := true
		for i, p := range parts[:len(parts)-1] {
			next, exists := obj[p]
			if !exists {
				m := make(map[string]any)
				obj[p] = m
				obj = m
				continue
			}
			m, isMap := next.(map[string]any)
			if !isMap {
				l.problem(name, "could not nest config under existing value %s%s", envPrefix, strings.Join(parts[:i+1], "_"))
				ok = false
				break
			}
			obj = m
		}
		if !ok {
			continue
		}
		last := parts[len(parts)-1]
		if _, exists := obj[last]; exists {
			l.problem(name, "refusing to override existing config set by another variable")
			continue
		}
		v := parseEnvValue(value)
		if v == nil {
			l.problem(name, "value may not be null")
			continue
		}
		obj[last] = prune(v, s)
		l.recordOrigin(strings.Join(parts, "."), obj[last], name)
	}
	return data
}

// recordOrigin notes name as the origin of the value v at path and of
// everything inside it.
func (l *loader) recordOrigin(path string, v any, name string) {
	l.origin[path] = name
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			l.recordOrigin(joinKey(path, k), e, name)
		}
	case []any:
		for i, e := range x {
			l.recordOrigin(joinIndex(path, i), e, name)
		}
	}
}

// parseEnvValue parses a variable's value as JSON, or returns it as a
// string if it is not valid JSON.
func parseEnvValue(value string) any {
	dec := json.NewDecoder(strings.NewReader(value))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return value
	}
	if _, err := dec.Token(); err != io.EOF {
		return value // trailing data: not one JSON value
	}
	return v // nil only for the JSON literal null
}

// prune drops the keys of v that lie outside the sections scmkit reads.
func prune(v any, s scope) any {
	m, ok := v.(map[string]any)
	if !ok || s == scopeAll {
		return v
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		if cs, ok := s.child(k); ok {
			out[k] = prune(x, cs)
		}
	}
	return out
}
