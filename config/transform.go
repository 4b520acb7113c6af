package config

import (
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	koanfyaml "github.com/knadh/koanf/parsers/yaml"
	"go.yaml.in/yaml/v3"
)

// scope says which part of the config tree a node is in, so that only the
// sections scmkit reads are transformed and kept.
type scope int

const (
	scopeRoot         scope = iota // the document
	scopeIntegrations              // integrations
	scopeBackend                   // backend
	scopeReading                   // backend.reading
	scopeApp                       // app
	scopeCatalog                   // catalog
	scopeAll                       // inside a section scmkit reads: keep everything
)

// child returns the scope of key inside s, and false if key lies outside
// every section scmkit reads.
func (s scope) child(key string) (scope, bool) {
	switch s {
	case scopeRoot:
		switch key {
		case "integrations":
			return scopeIntegrations, true
		case "backend":
			return scopeBackend, true
		case "app":
			return scopeApp, true
		case "catalog":
			return scopeCatalog, true
		case "auth", "permission":
			return scopeAll, true
		}
	case scopeIntegrations:
		switch key {
		case "github", "gitlab", "bitbucketCloud", "bitbucketServer":
			return scopeAll, true
		}
	case scopeBackend:
		switch key {
		case "reading":
			return scopeReading, true
		case "baseUrl", "cache", "auth":
			return scopeAll, true
		}
	case scopeApp:
		if key == "baseUrl" {
			return scopeAll, true
		}
	case scopeCatalog:
		if key == "providers" {
			return scopeAll, true
		}
	case scopeReading:
		if key == "allow" {
			return scopeAll, true
		}
	case scopeAll:
		return scopeAll, true
	}
	return 0, false
}

// maxIncludeDepth bounds nested $include directives, so that a file that
// includes itself fails instead of recursing forever.
const maxIncludeDepth = 16

// maxIncludes bounds the $file and $include directives one Load resolves,
// so that includes that fan out (each file including the next several
// times) cannot make it read and parse files exponentially often.
const maxIncludes = 1000

// maxConfigFileBytes bounds the size of a file the default reader reads:
// a config file or a file named by $file or $include.
const maxConfigFileBytes = 16 << 20

// substitution matches "${VAR}" (or "${VAR:-fallback}") and its escaped
// form "$${VAR}", exactly as Backstage's config loader does.
var substitution = regexp.MustCompile(`\$?\$\{[^{}]*\}`)

// The keys that make an object an include directive.
const (
	keyEnv     = "$env"
	keyFile    = "$file"
	keyInclude = "$include"
)

// where formats a location for messages: the document and the config path.
func where(file, path string) string {
	if path == "" {
		return file
	}
	if file == "" {
		return path
	}
	return file + ": " + path
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func joinIndex(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// parse parses one document with koanf's YAML parser. An empty document
// yields an empty map.
func (l *loader) parse(d document) (map[string]any, bool) {
	m, err := koanfyaml.Parser().Unmarshal(d.data)
	if err != nil {
		l.problems = append(l.problems, yamlError(d.name, err, d.data))
		return nil, false
	}
	return m, true
}

// transform applies Backstage's substitutions and includes to v, found at
// path in file, and drops every key outside the sections scmkit reads.
// dir is the base directory of relative $file and $include paths. It
// returns false when the value is undefined (a variable that is not set),
// in which case the caller drops it.
func (l *loader) transform(v any, path, file, dir string, s scope, depth int) (any, bool) {
	switch x := v.(type) {
	case string:
		return l.substitute(x, path, file)
	case map[any]any:
		return l.transform(stringKeys(x), path, file, dir, s, depth)
	case map[string]any:
		if key, ok := includeKey(x); ok {
			return l.include(x, key, path, file, dir, s, depth)
		}
	}
	return l.walk(v, path, file, dir, s, depth)
}

// walk transforms the members of an object or array.
func (l *loader) walk(v any, path, file, dir string, s scope, depth int) (any, bool) {
	switch x := v.(type) {
	case map[any]any:
		return l.walk(stringKeys(x), path, file, dir, s, depth)
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			cs, ok := s.child(k)
			if !ok {
				if s == scopeIntegrations {
					l.seeIntegrationKey(k, x[k], file, path)
				}
				continue
			}
			p := joinKey(path, k)
			l.origin[p] = file
			if cv, defined := l.transform(x[k], p, file, dir, cs, depth); defined {
				out[k] = cv
			}
		}
		return out, true
	case []any:
		if s != scopeAll {
			return x, true // the decoder reports the type error
		}
		out := make([]any, 0, len(x))
		for i, e := range x {
			// As in Backstage, an undefined element is dropped from the array.
			if cv, defined := l.transform(e, joinIndex(path, i), file, dir, s, depth); defined {
				l.origin[joinIndex(path, len(out))] = file
				out = append(out, cv)
			}
		}
		return out, true
	}
	return v, true
}

// substitute replaces "${VAR}" with the variable's value and "$${VAR}" with
// "${VAR}". If a variable is not set, the value is undefined.
func (l *loader) substitute(s, path, file string) (any, bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	var (
		b       strings.Builder
		last    int
		missing []string
		found   []string
	)
	for _, m := range substitution.FindAllStringIndex(s, -1) {
		b.WriteString(s[last:m[0]])
		last = m[1]
		ref := s[m[0]:m[1]]
		if strings.HasPrefix(ref, "$$") {
			b.WriteString(ref[1:])
			continue
		}
		// "${VAR:-fallback}" (Backstage's parameter substitution): the
		// variable's value when it is set and not blank, else the
		// fallback, both trimmed; with neither, the value is unset.
		name, fallback, hasFallback := strings.Cut(ref[2:len(ref)-1], ":-")
		name = strings.TrimSpace(name)
		val, ok := l.lookup(name)
		val = strings.TrimSpace(val)
		if hasFallback && (!ok || val == "") {
			val = strings.TrimSpace(fallback)
			ok = val != ""
		}
		if !ok {
			missing = append(missing, name)
			continue
		}
		found = append(found, name)
		b.WriteString(val)
	}
	b.WriteString(s[last:])
	if len(missing) > 0 {
		l.unsetWarn(file, path, missing)
		return nil, false
	}
	if len(found) > 0 {
		from := strings.TrimSuffix(strings.TrimSuffix(describeVars(found), " is"), " are")
		l.substituted[path] = substValue{from: from, value: b.String()}
	}
	return b.String(), true
}

func describeVars(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return "environment variable " + q[0] + " is"
	}
	return "environment variables " + strings.Join(q, ", ") + " are"
}

// includeKey reports whether m is an include directive and which.
func includeKey(m map[string]any) (string, bool) {
	for _, k := range []string{keyEnv, keyFile, keyInclude} {
		if _, ok := m[k]; ok {
			return k, true
		}
	}
	return "", false
}

// include resolves {$env: VAR}, {$file: path} and {$include: path#a.b}.
func (l *loader) include(m map[string]any, key, path, file, dir string, s scope, depth int) (any, bool) {
	if len(m) != 1 {
		l.pathProblem(file, path, "include key %s should not have adjacent keys", key)
		return nil, false
	}
	raw, ok := m[key].(string)
	if !ok {
		l.pathProblem(file, path, "%s: value must be a string, got %s", key, typeName(m[key]))
		return nil, false
	}
	v, defined := l.substitute(raw, path, file)
	if !defined {
		l.pathProblem(file, path, "%s: the value names a variable that is not set", key)
		return nil, false
	}
	arg := v.(string)

	switch key {
	case keyEnv:
		val, ok := l.lookup(arg)
		if !ok {
			l.unsetWarn(file, path, []string{arg})
			return nil, false
		}
		l.substituted[path] = substValue{from: "environment variable " + strconv.Quote(arg), value: strings.TrimSpace(val)}
		return strings.TrimSpace(val), true

	case keyFile:
		if l.ctx.Err() != nil {
			return nil, false // Load reports the context's error
		}
		if !l.countInclude(file, path, key) {
			return nil, false
		}
		b, err := l.readFile(resolve(dir, arg))
		if err != nil {
			l.pathProblem(file, path, "%s: %v", key, err)
			return nil, false
		}
		v := strings.TrimRight(string(b), " \t\r\n")
		l.substituted[path] = substValue{from: "file " + strconv.Quote(arg), value: v}
		return v, true

	default: // keyInclude
		if depth >= maxIncludeDepth {
			l.pathProblem(file, path, "%s: more than %d nested includes", key, maxIncludeDepth)
			return nil, false
		}
		if l.ctx.Err() != nil {
			return nil, false
		}
		if !l.countInclude(file, path, key) {
			return nil, false
		}
		name, dataPath, _ := strings.Cut(arg, "#")
		switch filepath.Ext(name) {
		case ".yaml", ".yml", ".json":
		default:
			l.pathProblem(file, path, "%s: no configuration parser available for included file %q (want .yaml, .yml or .json)", key, name)
			return nil, false
		}
		full := resolve(dir, name)
		b, err := l.readFile(full)
		if err != nil {
			l.pathProblem(file, path, "%s: %v", key, err)
			return nil, false
		}
		var val any
		if err := yaml.Unmarshal(b, &val); err != nil {
			l.pathProblem(file, path, "%s: %v", key, yamlError(name, err, b))
			return nil, false
		}
		if dataPath != "" {
			parts := strings.Split(dataPath, ".")
			for i, part := range parts {
				obj, ok := asObject(val)
				if !ok {
					l.pathProblem(file, path, "%s: value at %q in included file %q is not an object", key, strings.Join(parts[:i], "."), name)
					return nil, false
				}
				val = obj[part]
			}
		}
		if val == nil {
			l.pathWarn(file, path, "%s: included file %q has no value at %q; the value is left unset", key, name, dataPath)
			return nil, false
		}
		newDir := filepath.Dir(full)
		if str, ok := val.(string); ok {
			// A string taken out of a file, as secrets are
			// ("secrets.yaml#github.token"): never quoted in a
			// problem, as with $file.
			v, ok := l.substitute(str, path, name)
			if s, isString := v.(string); ok && isString {
				from := "file " + strconv.Quote(name)
				if dataPath != "" {
					from += " at " + strconv.Quote(dataPath)
				}
				l.substituted[path] = substValue{from: from, value: s}
			}
			return v, ok
		}
		return l.walk(val, path, name, newDir, s, depth+1)
	}
}

// countInclude counts one $file or $include directive, and reports false
// (after recording the problem once) when there are more than maxIncludes.
// The problem is never deferred to a section's Decode: loading stops.
func (l *loader) countInclude(file, path, key string) bool {
	l.includes++
	if l.includes <= maxIncludes {
		return true
	}
	if l.includes == maxIncludes+1 {
		l.problem(where(file, path), "%s: more than %d $file and $include directives in the configuration; check for includes that multiply", key, maxIncludes)
	}
	return false
}

// readFileCapped is the default Options.ReadFile: it reads any file (a
// regular file, a symbolic link as mounted secrets are, a pipe such as
// -config <(envsubst < app-config.yaml) or /dev/stdin) but at most
// maxConfigFileBytes+1 bytes of it, and refuses one that holds more,
// naming the file. A device that never ends (/dev/zero) is thus refused
// after 16 MiB; a FIFO with no writer blocks until one comes, as
// os.ReadFile does.
func readFileCapped(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tooLarge := &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("larger than %d bytes", maxConfigFileBytes)}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > maxConfigFileBytes {
		return nil, tooLarge // refused without reading it
	}
	b, err := io.ReadAll(io.LimitReader(f, maxConfigFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxConfigFileBytes {
		return nil, tooLarge
	}
	return b, nil
}

// resolve makes a relative path relative to dir.
func resolve(dir, name string) string {
	if dir == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(dir, name)
}

func asObject(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return x, true
	case map[any]any:
		return stringKeys(x), true
	}
	return nil, false
}

// stringKeys converts a YAML mapping with non-string keys.
func stringKeys(m map[any]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[fmt.Sprint(k)] = v
	}
	return out
}
