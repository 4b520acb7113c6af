package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/errcode"
)

var (
	// yamlLine matches the "line N: " that go-yaml puts in its messages.
	yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	// yamlQuoted matches the excerpt of a value go-yaml quotes in
	// backticks; it may be a secret, so it is dropped.
	yamlQuoted = regexp.MustCompile("\\s*`[^`]*`")
	// yamlNotObject matches go-yaml's complaint about a document that is
	// not a mapping.
	yamlNotObject = regexp.MustCompile(`cannot unmarshal !!(\w+) into map\[string\]interface \{\}`)
)

// yamlError turns a go-yaml error into one "file:line: message" error per
// problem, without the excerpts of values go-yaml quotes.
func yamlError(file string, err error) error {
	var lines []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		lines = te.Errors
	} else {
		lines = []string{err.Error()}
	}
	errs := make([]error, 0, len(lines))
	for _, s := range lines {
		s = yamlQuoted.ReplaceAllString(strings.TrimSpace(s), "")
		s = yamlNotObject.ReplaceAllString(s, "the document must be an object (a mapping of keys to values), got !!$1")
		if m := yamlLine.FindStringSubmatch(s); m != nil {
			errs = append(errs, &integrations.FieldError{Path: file + ":" + m[1], Msg: m[2]})
			continue
		}
		errs = append(errs, &integrations.FieldError{Path: file, Msg: strings.TrimPrefix(s, "yaml: ")})
	}
	return errors.Join(errs...)
}

// typeName names the YAML or JSON type of a decoded value, for messages.
func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if x == "" {
			return "an empty string"
		}
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, uint64, float64, json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any, map[any]any:
		return "an object"
	case time.Time:
		return "a timestamp"
	}
	return fmt.Sprintf("%T", v)
}

// flatten splits an error made with errors.Join (possibly wrapped in an
// *errcode.Error) into its parts.
func flatten(err error) []error {
	switch x := err.(type) {
	case *errcode.Error:
		if x.Err != nil {
			return flatten(x.Err)
		}
	case interface{ Unwrap() []error }:
		var out []error
		for _, e := range x.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// registryProblems returns the problems in the error of
// integrations.NewRegistry, leaving out those at paths the decoder already
// reported (a value of the wrong type is left empty, and the registry would
// complain about it again).
func registryProblems(err error, reported func(path string) bool) []error {
	var out []error
	for _, e := range flatten(err) {
		if p, ok := registryPath(e); ok && reported(p) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// registryPath returns the config path of one of the registry's errors.
func registryPath(err error) (string, bool) {
	var fe *integrations.FieldError
	if errors.As(err, &fe) {
		return fe.Path, true
	}
	return "", false
}
