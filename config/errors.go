package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
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
// problem, without the excerpts of values go-yaml quotes. data, when not
// nil, is the document: the line of a syntax error is then the line of the
// problem, not the start of the enclosing block that go-yaml names.
func yamlError(file string, err error, data []byte) error {
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
			line := m[1]
			if te == nil && data != nil {
				if n, err := strconv.Atoi(line); err == nil {
					line = strconv.Itoa(problemLine(data, m[2], n))
				}
			}
			errs = append(errs, &integrations.FieldError{Path: file + ":" + line, Msg: m[2]})
			continue
		}
		errs = append(errs, &integrations.FieldError{Path: file, Msg: strings.TrimPrefix(s, "yaml: ")})
	}
	return errors.Join(errs...)
}

// Bounds of the search for a syntax error's line: larger documents keep
// go-yaml's line.
const (
	maxLineSearchBytes = 1 << 20
	maxLineSearchLines = 5000
)

// problemLine finds the line of a YAML syntax error that go-yaml reported
// at line reported (often the start of the enclosing block) with message
// msg: a line at or after it such that the document up to that line fails
// with the same message and the document up to the line before does not
// (the first such line when, as usual, every longer prefix fails too). It
// bisects, so a document of n lines is parsed about log2(n) times. If the
// whole document does not fail with msg, it returns reported.
func problemLine(data []byte, msg string, reported int) int {
	if len(data) > maxLineSearchBytes || reported < 1 {
		return reported
	}
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) > maxLineSearchLines || reported > len(lines) {
		return reported
	}
	fails := func(n int) bool {
		var v any
		err := yaml.Unmarshal([]byte(strings.Join(lines[:n], "")), &v)
		if err == nil {
			return false
		}
		m := yamlLine.FindStringSubmatch(yamlQuoted.ReplaceAllString(strings.TrimSpace(err.Error()), ""))
		return m != nil && m[2] == msg
	}
	lo, hi := reported-1, len(lines) // fails(lo) is taken as false
	if !fails(hi) {
		return reported
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
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
// integrations.NewRegistry, leaving out the follow-on complaints about
// values the decoder already reported (a value of the wrong type is left
// unset, and the registry would complain about it again: at its path, or
// at a sibling key whose rule names it), and never quoting a substituted
// value.
func (l *loader) registryProblems(err error) []error {
	var out []error
	for _, e := range flatten(err) {
		var fe *integrations.FieldError
		if errors.As(e, &fe) {
			if l.followOn(fe.Path, fe.Msg) {
				continue
			}
			e = &integrations.FieldError{Path: fe.Path, Msg: l.scrub(fe.Path, fe.Msg)}
		}
		out = append(out, e)
	}
	return out
}

// followOn reports whether the registry's problem msg at path follows
// from a value the decoder refused: at path, inside it or around it, or a
// sibling key that the message names ("username is set but neither token
// nor appPassword is", after token was refused).
func (l *loader) followOn(path, msg string) bool {
	if l.reported(path) {
		return true
	}
	parent := parentPath(path)
	for p := range l.failed {
		if parentPath(p) != parent || parent == "" {
			continue
		}
		key := p[len(parent)+1:]
		if mentions(msg, key) {
			return true
		}
	}
	return false
}

// mentions reports whether msg names key as a whole word.
func mentions(msg, key string) bool {
	for i := 0; ; {
		j := strings.Index(msg[i:], key)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(key)
		if (start == 0 || !isWordByte(msg[start-1])) && (end == len(msg) || !isWordByte(msg[end])) {
			return true
		}
		i = end
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
