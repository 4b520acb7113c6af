// Package config loads Backstage app-config.yaml files into an
// [integrations.Config] and a validated [integrations.Registry].
//
// [Load] reads one or more files; later files override earlier ones the way
// Backstage's config loader does: objects merge key by key, while arrays and
// scalars are replaced wholesale, and an explicit null removes a value set by
// an earlier file. Only the sections scmkit understands are read:
// integrations.github, integrations.gitlab, integrations.bitbucketCloud,
// integrations.bitbucketServer and backend.reading.allow, decoded into
// [Config.Integrations]; and the sections of the identity half, kept for
// [Config.Decode]: app.baseUrl, backend.baseUrl, backend.auth,
// backend.cache, auth, catalog.providers and permission. Every other key
// (backend.database, catalog.locations, techdocs, ...) is ignored, so a
// whole Backstage app-config.yaml loads as it is; substitutions in those
// other sections are not evaluated, so the variables and files they name
// need not exist. The integration sections scmkit does not serve (azure,
// awsS3, awsCodeCommit, azureBlobStorage, googleGcs, gerrit, gitea,
// harness, and the removed bitbucket) draw one warning each, and their
// hosts are remembered so that a URL on one of them is refused with an
// error naming the section (see [integrations.Config].Unsupported). Keys
// that Backstage configs carry and scmkit does not use (commitSigningKey,
// throttling, the webhookUrl of the file backstage-cli create-github-app
// writes) are accepted silently; GitLab's retry is read into
// [integrations.GitLabRetry].
//
// As in Backstage, one entry with a value that cannot work but that
// Backstage starts with (an apiBaseUrl that is not a URL, say) does not
// refuse the file: the entry is disabled, a warning names it, and calls
// through it fail (see [integrations.Integration].Disabled).
//
// The forms Backstage substitutes are supported, through functions the
// caller injects (the package never reads the process environment itself):
//
//   - "${VAR}" inside a string is replaced by the variable's value, trimmed
//     of surrounding space; "$${VAR}" is a literal "${VAR}". If a variable
//     is not set, the whole value is left unset, as in Backstage, and a
//     warning names the variable. "${VAR:-fallback}" is the variable's
//     value when it is set and not blank, else fallback (trimmed too), as
//     in Backstage's config loader since 1.8.0.
//   - {$env: VAR} is the variable's value; unset if the variable is not set.
//   - {$file: path} is the content of a file, trailing white space removed;
//     a relative path is resolved against the directory of the config file
//     that names it.
//   - {$include: path#a.b} is the YAML or JSON content of a file (.yaml,
//     .yml, .json), optionally only the object at the dotted path after
//     "#"; substitutions inside it resolve relative to the included file.
//     Includes nest at most 16 deep, and a configuration may hold at most
//     1,000 $file and $include directives in all, counting each time an
//     included file is included (so that a file that includes itself
//     several times fails at once instead of reading files exponentially
//     often). Paths may be absolute or lead out of the config
//     directory, and links are followed, as in Backstage: the
//     configuration is trusted, its files are not served to anyone.
//
// After the files, the environment overlay of Backstage applies: each
// variable named APP_CONFIG_<key>_<key>... (from [Options.Environ]) sets the
// value at that key path, parsed as JSON when it is valid JSON and used as a
// plain string otherwise: APP_CONFIG_backend_reading_allow set to
// [{"host":"docs.example.net"}] replaces backend.reading.allow, as the
// package's Example shows.
//
// Keys are split on "_", so array elements and keys that contain "_" cannot
// be addressed; set the enclosing array or object instead.
//
// # Secrets
//
// Tokens, passwords, private keys and client secrets are decoded into
// [integrations.Secret], which never shows its value when formatted,
// marshalled or logged. No error or warning from this package contains a
// secret value.
//
// # Errors
//
// Every error is an *errcode.Error with Op "config.Load":
//
//   - NotFound when a config file does not exist (the message names it);
//     other failures to read a config file keep their cause's code
//     (PermissionDenied, or Unknown).
//   - Canceled or DeadlineExceeded when the context ends before loading
//     completes.
//   - InvalidArgument for everything wrong inside the configuration: YAML
//     syntax errors (with file and line), failed substitutions and includes,
//     malformed APP_CONFIG_ variables, values of the wrong type, and the
//     validation errors of [integrations.NewRegistry]. All of them are
//     reported at once: the wrapped error joins one *[integrations.FieldError]
//     per problem (list them with [integrations.FieldErrors]). Path is the
//     config path, e.g. "integrations.github[1].apps[0].appId" with Msg
//     "must be a number, got a string"; it is prefixed with the file name
//     for problems found while reading a file ("app-config.yaml:12" for a
//     YAML syntax error, with the line of the problem; "app-config.yaml:
//     integrations.github[0].token" for a failed $file), and it is the
//     variable's name for a malformed APP_CONFIG_ variable. A value of the
//     wrong type is reported once: the registry's complaints about the
//     value left unset are omitted. The warnings found on the way (unset
//     variables often explain a failure) are in the message too, and
//     [WarningsOf] returns them.
//
// Messages never quote a configured string that may be a secret: a value
// of the wrong type is described by its type, a URL only when it is
// recognisably one, and a value that came from ${VAR}, $env or $file is
// named by where it came from ("the value of environment variable
// "GITHUB_APP_ID""). Host names may appear.
package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/v2"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/redact"
)

const op = "config.Load"

// Options configures [Load] and [LoadBytes]. A nil *Options means no
// environment and files read with os.ReadFile.
type Options struct {
	// Lookup returns the value of an environment variable for "${VAR}" and
	// {$env: VAR}. If nil, variables are looked up in Environ; if both are
	// nil, no variable is set. Pass os.LookupEnv to use the process
	// environment.
	Lookup func(name string) (value string, ok bool)

	// Environ lists the environment as "KEY=VALUE" pairs, as os.Environ
	// returns it. Variables named APP_CONFIG_... override the files' values
	// (Backstage's environment overlay). Nil means no overlay.
	Environ []string

	// ReadFile reads config files and the files named by $file and
	// $include. If nil, files are read as os.ReadFile does, any kind of
	// file (a pipe too: -config <(envsubst < app-config.yaml) or
	// /dev/stdin), but at most 16 MiB + 1 bytes of each: a file that
	// holds more (or a device that never ends, such as /dev/zero) is
	// refused, naming the file. A function given here is used as it is.
	ReadFile func(name string) ([]byte, error)
}

// String describes the options without the environment's values: Environ
// is usually os.Environ(), every secret of the process.
func (o Options) String() string {
	set := func(f bool) string {
		if f {
			return "set"
		}
		return "nil"
	}
	return "config.Options{Lookup: " + set(o.Lookup != nil) + ", Environ: " + strconv.Itoa(len(o.Environ)) +
		" variables, ReadFile: " + set(o.ReadFile != nil) + "}"
}

// GoString is String: no verb shows the environment.
func (o Options) GoString() string { return o.String() }

// Format prints String for every verb, so that no verb shows Environ.
func (o Options) Format(f fmt.State, verb rune) { redact.Format(f, verb, o.String(), o.GoString()) }

// LogValue describes the options without the environment's values.
func (o Options) LogValue() slog.Value { return slog.StringValue(o.String()) }

// MarshalJSON describes the options without the environment's values.
func (o Options) MarshalJSON() ([]byte, error) { return json.Marshal(o.String()) }

// Config is the loaded configuration.
type Config struct {
	// Integrations holds the integrations and backend.reading.allow exactly
	// as configured, before defaults are applied.
	Integrations integrations.Config

	// Registry is the validated registry built from Integrations with
	// Backstage's defaults and the implicit public hosts.
	Registry *integrations.Registry

	// Warnings lists problems that did not stop loading: variables that are
	// not set, unknown keys inside an integration entry, unsupported
	// integration sections, deprecated settings and disabled entries (the
	// registry's warnings, which Registry.Warnings does not repeat). Each
	// starts with the file (or APP_CONFIG_ variable) and the config path it
	// concerns, e.g. "app-config.yaml: integrations.github[0].token: ...";
	// none appears twice.
	Warnings []string

	// kept holds the sections of the identity half for Decode, behind a
	// pointer so that printing a Config shows an address, not a secret.
	kept *kept
}

// Load reads the Backstage app-config.yaml files in order, later files
// overriding earlier ones, applies the APP_CONFIG_ environment overlay and
// the substitutions described in the package documentation, decodes the
// integrations and backend.reading.allow sections and validates them with
// [integrations.NewRegistry].
//
// See the package documentation for the errors it returns.
func Load(ctx context.Context, opts *Options, files ...string) (*Config, error) {
	l := newLoader(ctx, opts)
	docs := make([]document, 0, len(files))
	for _, name := range files {
		if err := l.ctxErr(); err != nil {
			return nil, err
		}
		b, err := l.readFile(name)
		if err != nil {
			return nil, readError(name, err)
		}
		docs = append(docs, document{name: name, dir: filepath.Dir(name), data: b})
	}
	return l.load(docs)
}

// LoadBytes is [Load] for configuration documents already in memory, e.g.
// embedded in a binary or written by a test. Relative $file and $include
// paths are resolved against the current directory; errors name the
// documents "document 1", "document 2", and so on.
func LoadBytes(ctx context.Context, opts *Options, docs ...[]byte) (*Config, error) {
	l := newLoader(ctx, opts)
	ds := make([]document, 0, len(docs))
	for i, b := range docs {
		ds = append(ds, document{name: fmt.Sprintf("document %d", i+1), data: b})
	}
	return l.load(ds)
}

// document is one config file's bytes with where it came from.
type document struct {
	name string // for messages
	dir  string // base directory for relative $file and $include paths
	data []byte
}

// loader carries the state of one Load call.
type loader struct {
	ctx      context.Context
	lookup   func(string) (string, bool)
	environ  []string
	readFile func(string) ([]byte, error)

	// includes counts the $file and $include directives resolved (see
	// maxIncludes).
	includes int

	problems []error
	warnings []string
	// deferred holds the problems and warnings found in the sections of
	// the identity half (see Sections), reported by Config.Decode.
	deferred []deferred
	// failed holds the config paths of the problems found so far, so that
	// the registry's complaints about the same (now unset) values can be
	// left out.
	failed map[string]bool
	// origin maps each config path read to the document (or APP_CONFIG_
	// variable) that set it last, for messages about the merged tree.
	origin map[string]string
	// substituted maps the config paths whose values came from ${VAR},
	// $env or $file to where they came from and the value, so that no
	// message quotes such a value.
	substituted map[string]substValue
	// unsupported holds the sections of integrations scmkit does not
	// serve, by key, as the last document that set them wrote them.
	unsupported map[string]seenSection
	// doc is the index of the document being transformed, for the
	// deferred warnings it records.
	doc int
}

// substValue says where a substituted value came from.
type substValue struct {
	from  string // "environment variable \"X\"", "file \"secrets/t.txt\""
	value string
}

func newLoader(ctx context.Context, opts *Options) *loader {
	l := &loader{ctx: ctx, readFile: readFileCapped, lookup: func(string) (string, bool) { return "", false },
		origin: map[string]string{}, substituted: map[string]substValue{}, unsupported: map[string]seenSection{}}
	if opts == nil {
		return l
	}
	l.environ = opts.Environ
	if opts.ReadFile != nil {
		l.readFile = opts.ReadFile
	}
	switch {
	case opts.Lookup != nil:
		l.lookup = opts.Lookup
	case opts.Environ != nil:
		l.lookup = environLookup(opts.Environ)
	}
	return l
}

// environLookup looks names up in a list of KEY=VALUE pairs; the last
// definition of a name wins, as with os.Environ.
func environLookup(environ []string) func(string) (string, bool) {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func (l *loader) ctxErr() error {
	if err := l.ctx.Err(); err != nil {
		return &errcode.Error{Code: errcode.CodeOf(err), Op: op, Err: err}
	}
	return nil
}

// problem records an InvalidArgument problem at a config path.
func (l *loader) problem(path, format string, args ...any) {
	l.problems = append(l.problems, &integrations.FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// warnAt records a warning about the value at a path of the merged tree,
// naming the document it came from.
func (l *loader) warnAt(path, msg string) {
	l.warnings = append(l.warnings, where(l.originOf(path), path)+": "+l.scrub(path, msg))
}

// originOf returns the document that set the value at path, or at the
// nearest enclosing path that has one; "" if none.
func (l *loader) originOf(path string) string {
	for p := path; p != ""; p = parentPath(p) {
		if f, ok := l.origin[p]; ok {
			return f
		}
	}
	return ""
}

// parentPath strips the last ".key" or "[i]" of a config path.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// note says where the value at path came from, if it was substituted:
// " (the value of environment variable "X")"; "" otherwise.
func (l *loader) note(path string) string {
	if s, ok := l.substituted[path]; ok {
		return " (the value of " + s.from + ")"
	}
	return ""
}

// scrub replaces in msg, about the value at path, any substituted value
// at, inside or around path by where it came from, so that a secret put
// in the wrong key is never quoted.
func (l *loader) scrub(path, msg string) string {
	for _, p := range slices.Sorted(maps.Keys(l.substituted)) {
		s := l.substituted[p]
		if s.value == "" || !(p == path || within(p, path) || within(path, p)) {
			continue
		}
		repl := "(the value of " + s.from + ")"
		msg = strings.ReplaceAll(msg, strconv.Quote(s.value), repl)
		if len(s.value) >= 3 {
			msg = strings.ReplaceAll(msg, s.value, repl)
		}
	}
	return msg
}

// pathProblem records a problem at a config path in a file, and remembers
// the path as failed.
func (l *loader) pathProblem(file, path, format string, args ...any) {
	if sectionOf(path) != "" {
		// A problem in a section of the identity half does not stop
		// loading: it is reported by Config.Decode of that section, so a
		// deployment that does not use the section is not refused.
		l.deferred = append(l.deferred, deferred{path: path, err: &integrations.FieldError{Path: where(file, path), Msg: fmt.Sprintf(format, args...)}})
		return
	}
	l.problem(where(file, path), format, args...)
	l.markFailed(path)
}

// pathWarn records a warning at a config path in a file; warnings in a
// section of the identity half are kept for Config.SectionWarnings.
func (l *loader) pathWarn(file, path, format string, args ...any) {
	if sectionOf(path) != "" {
		l.deferred = append(l.deferred, deferred{path: path, warning: where(file, path) + ": " + fmt.Sprintf(format, args...)})
		return
	}
	l.warn(where(file, path), format, args...)
}

// unsetWarn records that the value at a config path was left unset
// because the environment variables names are not set; in a section of
// the identity half the names are kept for Config.UnsetVariables.
func (l *loader) unsetWarn(file, path string, names []string) {
	msg := describeVars(names) + " not set; the value is left unset"
	if sectionOf(path) != "" {
		l.deferred = append(l.deferred, deferred{path: path, warning: where(file, path) + ": " + msg, vars: slices.Clone(names), doc: l.doc})
		return
	}
	l.warn(where(file, path), "%s", msg)
}

func (l *loader) markFailed(path string) {
	if l.failed == nil {
		l.failed = make(map[string]bool)
	}
	l.failed[path] = true
}

// reported reports whether a problem was already found at path, inside it,
// or in a value that contains it.
func (l *loader) reported(path string) bool {
	for p := range l.failed {
		if p == path || within(path, p) || within(p, path) {
			return true
		}
	}
	return false
}

// within reports whether path lies strictly inside the value at parent.
func within(path, parent string) bool {
	return len(path) > len(parent) && strings.HasPrefix(path, parent) && (path[len(parent)] == '.' || path[len(parent)] == '[')
}

// warn records a warning at a config path.
func (l *loader) warn(path, format string, args ...any) {
	l.warnings = append(l.warnings, path+": "+fmt.Sprintf(format, args...))
}

func (l *loader) load(docs []document) (*Config, error) {
	// koanf's default delimiter "." would split keys such as host names
	// and URL paths in its flattened key map; "::" appears in no key we read.
	k := koanf.New("::")
	var layers []map[string]any // each document's tree, then the overlay, by index
	for i, d := range docs {
		if err := l.ctxErr(); err != nil {
			return nil, err
		}
		l.doc = i
		layers = append(layers, nil)
		m, ok := l.parse(d)
		if !ok {
			continue
		}
		tree, defined := l.transform(m, "", d.name, d.dir, scopeRoot, 0)
		if err := l.ctxErr(); err != nil {
			return nil, err
		}
		if tm, isMap := tree.(map[string]any); defined && isMap {
			layers[i] = tm
			if err := k.Load(confmap.Provider(tm, ""), nil); err != nil {
				l.problem(d.name, "merging: %v", err)
			}
		}
	}
	if env := l.envOverlay(); env != nil {
		layers = append(layers, env)
		if err := k.Load(confmap.Provider(env, ""), nil); err != nil {
			l.problem("environment", "merging: %v", err)
		}
	}
	l.deferred = setLater(l.deferred, layers)

	dec := &decoder{l: l}
	cfg := dec.root(k.Raw())
	cfg.Unsupported = l.unsupportedEntries()

	// The registry's warnings are reported here, once, with their file.
	reg, err := integrations.NewRegistryWith(cfg, &integrations.RegistryOptions{Warn: l.warnAt})
	if err != nil {
		l.problems = append(l.problems, l.registryProblems(err)...)
	}
	warnings := dedupe(l.warnings)
	if len(l.problems) > 0 {
		return nil, &errcode.Error{
			Code: errcode.InvalidArgument,
			Op:   op,
			Msg:  fmt.Sprintf("%d %s in configuration", len(l.problems), plural(len(l.problems), "problem", "problems")),
			Err:  &loadError{problems: l.problems, warnings: warnings, sections: l.sectionWarnings()},
		}
	}
	return &Config{Integrations: cfg, Registry: reg, Warnings: warnings, kept: keep(k.Raw(), l.deferred)}, nil
}

// dedupe drops repeated warnings, keeping the first of each.
func dedupe(ws []string) []string {
	seen := make(map[string]bool, len(ws))
	out := ws[:0:0]
	for _, w := range ws {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// loadError holds the problems that failed Load, and the warnings found
// on the way, which often explain them (an unset variable leaves a value
// unset that a rule then requires).
type loadError struct {
	problems []error
	warnings []string
	sections []string // warnings in the sections kept for Config.Decode
}

func (e *loadError) Error() string {
	s := errors.Join(e.problems...).Error()
	if len(e.warnings) > 0 {
		s += "\nwarnings:\n" + strings.Join(e.warnings, "\n")
	}
	return s
}

// Unwrap returns the problems, each an *integrations.FieldError.
func (e *loadError) Unwrap() []error { return e.problems }

// WarningsOf returns the warnings found by a [Load] or [LoadBytes] that
// failed with err, such as variables that were not set (and may explain
// the failure); nil for any other error. They are those Config.Warnings
// would have held (also shown in err's message), then those
// Config.SectionWarnings would have returned.
func WarningsOf(err error) []string {
	var le *loadError
	if errors.As(err, &le) {
		return append(append([]string(nil), le.warnings...), le.sections...)
	}
	return nil
}

// sectionWarnings returns the warnings found in the sections kept for
// Config.Decode.
func (l *loader) sectionWarnings() []string {
	var ws []string
	for _, d := range l.deferred {
		if d.warning != "" {
			ws = append(ws, d.warning)
		}
	}
	return dedupe(ws)
}

// readError classifies a failure to read a config file.
func readError(name string, err error) error {
	var code errcode.Code
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &errcode.Error{Code: errcode.NotFound, Op: op, Msg: fmt.Sprintf("config file %q does not exist", name), Err: err}
	case errors.Is(err, fs.ErrPermission):
		code = errcode.PermissionDenied
	default:
		code = errcode.CodeOf(err)
	}
	return &errcode.Error{Code: code, Op: op, Msg: fmt.Sprintf("reading config file %q", name), Err: err}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
