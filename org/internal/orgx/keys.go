package orgx

import (
	"encoding"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// KeyWarnings returns the warnings about the keys of raw, a provider's
// config block at path, that a T does not read: each names its path and
// says whether it is a Backstage key scmkit does not support (unsupported
// maps such keys, by their dotted path inside the block, to what to say
// of them: "queryLimits" → "…"), a key spelt in another case than
// Backstage's (JSON decoding reads it, Backstage would not), or a key
// nobody reads (a typo, with the known key it is closest to). Keys in
// skip (dotted paths inside the block, such as "schedule") are read
// elsewhere and not reported. Objects decoded by their own method (a
// secret, a value of several shapes) are not looked into, except a list
// that also takes one object, whose object is checked as an element.
func KeyWarnings[T any](raw json.RawMessage, path string, unsupported map[string]string, skip ...string) []string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	w := &keyWalk{unsupported: unsupported, skip: skip}
	w.walk(v, reflect.TypeFor[T](), path, "")
	return w.out
}

type keyWalk struct {
	unsupported map[string]string
	skip        []string
	out         []string
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decodesItself reports whether values of t are decoded by their own
// method.
func decodesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshaler) || p.Implements(jsonUnmarshaler) || t.Implements(textUnmarshaler) || p.Implements(textUnmarshaler)
}

// walk checks v, decoded into a t, at path (rel inside the block).
func (w *keyWalk) walk(v any, t reflect.Type, path, rel string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		switch v := v.(type) {
		case []any:
			for i, e := range v {
				w.walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), rel)
			}
		case map[string]any:
			if decodesItself(t) { // one object for a list of one
				w.walk(v, t.Elem(), path, rel)
			}
		}
		return
	case reflect.Map:
		if m, ok := v.(map[string]any); ok && t.Key().Kind() == reflect.String {
			for _, k := range slices.Sorted(maps.Keys(m)) {
				w.walk(m[k], t.Elem(), path+"."+k, rel+"."+k)
			}
		}
		return
	case reflect.Struct:
	default:
		return
	}
	m, ok := v.(map[string]any)
	if !ok || decodesItself(t) {
		return
	}
	fields := jsonFields(t)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		kp, kr := path+"."+k, strings.TrimPrefix(rel+"."+k, ".")
		if slices.Contains(w.skip, kr) {
			continue
		}
		if ft, ok := fields[k]; ok {
			w.walk(m[k], ft, kp, kr)
			continue
		}
		if msg, ok := w.unsupported[kr]; ok {
			w.out = append(w.out, kp+": "+msg)
			continue
		}
		if known, ft := fold(fields, k); ft != nil {
			if _, both := m[known]; both {
				w.out = append(w.out, kp+": "+known+" is set too; scmkit reads whichever of the two comes last, Backstage only "+known+": remove "+k)
			} else {
				w.out = append(w.out, kp+": read as "+known+", which is how Backstage spells it (its keys are case-sensitive, so it would ignore this one)")
				w.walk(m[k], ft, kp, strings.TrimPrefix(rel+"."+known, "."))
			}
			continue
		}
		msg := kp + ": not a key scmkit reads here; ignored"
		if near := nearest(fields, k); near != "" {
			msg += " (a typo for " + near + "?)"
		} else {
			msg += " (a typo?)"
		}
		w.out = append(w.out, msg)
	}
}

// jsonFields are the JSON keys of struct t's fields and their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case f.Anonymous && name == "":
			maps.Copy(out, jsonFields(f.Type))
		case name == "":
			out[f.Name] = f.Type
		default:
			out[name] = f.Type
		}
	}
	return out
}

// fold returns the key of fields that k spells in another case.
func fold(fields map[string]reflect.Type, k string) (string, reflect.Type) {
	for _, known := range slices.Sorted(maps.Keys(fields)) {
		if strings.EqualFold(known, k) {
			return known, fields[known]
		}
	}
	return "", nil
}

// nearest returns the key of fields closest to k within two edits ("orgs"
// for "org"), or "" (for keys of one or two letters, within one edit).
func nearest(fields map[string]reflect.Type, k string) string {
	best, bestD := "", 3
	for _, known := range slices.Sorted(maps.Keys(fields)) {
		a, b := strings.ToLower(known), strings.ToLower(k)
		d := distance(a, b)
		if d < bestD {
			best, bestD = known, d
		}
	}
	if len(k) < 3 && bestD > 1 {
		return ""
	}
	return best
}

// distance is the Levenshtein distance of a and b (short keys).
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Raw returns the config block at path as JSON, nil when there is none.
func Raw(d Decoder, path string) (json.RawMessage, error) {
	if d == nil || !d.Has(path) {
		return nil, nil
	}
	var raw json.RawMessage
	if err := d.Decode(path, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// Entries splits raw, a list of blocks or one block, into its blocks and
// their paths (path[i], or path for one block).
func Entries(raw json.RawMessage, path string) ([]json.RawMessage, []string) {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		paths := make([]string, len(list))
		for i := range list {
			paths[i] = fmt.Sprintf("%s[%d]", path, i)
		}
		return list, paths
	}
	return []json.RawMessage{raw}, []string{path}
}
