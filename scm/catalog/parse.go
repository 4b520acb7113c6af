package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/scmkit/scmkit/errcode"
)

// Entity is one Backstage catalog entity, as written in a
// catalog-info.yaml document.
type Entity struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   Metadata `yaml:"metadata"`
	// Spec is the kind-specific part, as decoded YAML (maps, lists,
	// strings, numbers, booleans).
	Spec map[string]any `yaml:"spec,omitempty"`
	// Relations are usually computed by the catalog; a file may carry
	// them.
	Relations []Relation `yaml:"relations,omitempty"`
}

// Metadata is an entity's metadata.
type Metadata struct {
	Name        string            `yaml:"name"`
	Namespace   string            `yaml:"namespace,omitempty"`
	Title       string            `yaml:"title,omitempty"`
	Description string            `yaml:"description,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
	Tags        []string          `yaml:"tags,omitempty"`
	Links       []Link            `yaml:"links,omitempty"`
}

// Link is an entry of metadata.links.
type Link struct {
	URL   string `yaml:"url"`
	Title string `yaml:"title,omitempty"`
	Icon  string `yaml:"icon,omitempty"`
	Type  string `yaml:"type,omitempty"`
}

// Relation is an entry of relations.
type Relation struct {
	Type      string `yaml:"type"`
	TargetRef string `yaml:"targetRef"`
}

// ParseError lists every problem Parse found. Parse returns it wrapped in
// an InvalidArgument *errcode.Error; reach it with errors.As.
type ParseError struct {
	Problems []Problem
}

// Problem is one problem of one document.
type Problem struct {
	// Document is the document's number in the stream, from 1.
	Document int
	// Line is the line of the problem in the whole input, from 1; 0 if
	// unknown.
	Line int
	// Field is the offending field, e.g. "metadata.name"; "" for the
	// document as a whole.
	Field string
	Msg   string
}

// String formats the problem as "document D (line L): field: message".
func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "document %d", p.Document)
	if p.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", p.Line)
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error lists every problem, separated by "; ".
func (e *ParseError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

// maxProblems bounds the problems reported for one input.
const maxProblems = 100

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// Parse reads every YAML document of data (a catalog-info.yaml holds one
// or more, separated by "---") into entities, in order. Empty documents
// are skipped. Every problem is reported at once, with its document number
// and line: a document that is not a mapping, a field of the wrong type,
// a missing apiVersion, kind or metadata.name. A YAML syntax error ends
// the reading (the rest of the stream cannot be trusted) and is reported
// with the problems found before it, at the line the YAML parser names
// (for some syntax errors, the line before the one at fault).
//
// On error Parse returns the entities of the documents without problems
// and an InvalidArgument *errcode.Error wrapping a *ParseError.
func Parse(data []byte) ([]Entity, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var (
		out      []Entity
		problems []Problem
	)
	for doc := 1; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems = append(problems, yamlProblems(doc, err)...)
			break
		}
		e, ps := decodeDocument(doc, &n)
		problems = append(problems, ps...)
		if len(ps) == 0 && e != nil {
			out = append(out, *e)
		}
		if len(problems) >= maxProblems {
			problems = append(problems[:maxProblems], Problem{Document: doc, Msg: "too many problems; stopped"})
			break
		}
	}
	if len(problems) > 0 {
		pe := &ParseError{Problems: problems}
		return out, &errcode.Error{Code: errcode.InvalidArgument, Op: "catalog.Parse", Msg: "invalid catalog entity YAML", Err: pe}
	}
	return out, nil
}

// yamlProblems turns a yaml error (a syntax error or a *yaml.TypeError)
// into problems with lines.
func yamlProblems(doc int, err error) []Problem {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	out := make([]Problem, 0, len(msgs))
	for _, m := range msgs {
		p := Problem{Document: doc, Msg: strings.TrimPrefix(m, "yaml: ")}
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			p.Line, _ = strconv.Atoi(sm[1])
			p.Msg = sm[2]
		}
		out = append(out, p)
	}
	return out
}

var kindNames = map[yaml.Kind]string{
	yaml.DocumentNode: "document", yaml.SequenceNode: "list", yaml.MappingNode: "mapping",
	yaml.ScalarNode: "scalar", yaml.AliasNode: "alias",
}

// decodeDocument checks and decodes one document. It returns nil and no
// problem for an empty document.
func decodeDocument(doc int, n *yaml.Node) (*Entity, []Problem) {
	root := n
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil
		}
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, []Problem{{Document: doc, Line: root.Line, Msg: "expected a mapping (an entity), got a " + kindNames[root.Kind]}}
	}
	var problems []Problem
	var e Entity
	if err := root.Decode(&e); err != nil {
		problems = append(problems, yamlProblems(doc, err)...)
		var te *yaml.TypeError
		if !errors.As(err, &te) || strings.Contains(err.Error(), "already defined at line") {
			// Not only fields of the wrong type: the document (or the
			// mapping with a duplicate key) was not decoded.
			return nil, problems
		}
	}
	// required reports a missing or empty string field at the line of its
	// key, or of the mapping that lacks it.
	required := func(field string, parent *yaml.Node, parentLine int, val string) {
		if strings.TrimSpace(val) != "" {
			return
		}
		line := parentLine
		if k, _ := child(parent, field[strings.LastIndex(field, ".")+1:]); k != nil {
			line = k.Line
		}
		if !hasTypeProblem(problems, line) {
			problems = append(problems, Problem{Document: doc, Line: line, Field: field, Msg: "required, must be a non-empty string"})
		}
	}
	required("apiVersion", root, root.Line, e.APIVersion)
	required("kind", root, root.Line, e.Kind)
	switch mk, md := child(root, "metadata"); {
	case md == nil || (md.Kind == yaml.ScalarNode && md.Tag == "!!null"):
		problems = append(problems, Problem{Document: doc, Line: root.Line, Field: "metadata", Msg: "required, must be a mapping with a name"})
	case md.Kind != yaml.MappingNode:
		if !hasTypeProblem(problems, md.Line) {
			problems = append(problems, Problem{Document: doc, Line: md.Line, Field: "metadata", Msg: "must be a mapping, got a " + kindNames[md.Kind]})
		}
	default:
		required("metadata.name", md, mk.Line, e.Metadata.Name)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return &e, nil
}

// child returns the key and value nodes of key in mapping m, or nils.
func child(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// hasTypeProblem reports whether a decoding problem was already reported
// at line, so that a field of the wrong type is not also reported missing.
func hasTypeProblem(ps []Problem, line int) bool {
	for _, p := range ps {
		if p.Line == line && line > 0 {
			return true
		}
	}
	return false
}
