package gql

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"
)

// GitHub and GitLab both serve GraphQL with graphql-ruby: the executor
// words the errors of a request's syntax, validation and variables as it
// does, and gives the validation errors its extensions.code.

// rubyErrors rewrite gqlparser's syntax and validation messages in
// graphql-ruby's words: rule, gqlparser's message, graphql-ruby's.
var rubyErrors = []struct {
	rule string
	re   *regexp.Regexp
	to   string
}{
	{"FieldsOnCorrectType", regexp.MustCompile(`^Cannot query field "(\w+)" on type "(\w+)".*`), "Field '$1' doesn't exist on type '$2'"},
	{"KnownArgumentNames", regexp.MustCompile(`^Unknown argument "(\w+)" on field "\w+\.(\w+)".*`), "Field '$2' doesn't accept argument '$1'"},
	{"ProvidedRequiredArguments", regexp.MustCompile(`^Field "(\w+)" argument "(\w+)" of type .* is required.*`), "Field '$1' is missing required arguments: $2"},
	{"ScalarLeafs", regexp.MustCompile(`^Field "(\w+)" of type "\[*(\w+)[!\]]*" must have a selection of subfields.*`),
		"Field must have selections (field '$1' returns $2 but has no selections. Did you mean '$1 { ... }'?)"},
	{"ScalarLeafs", regexp.MustCompile(`^Field "(\w+)" must not have a selection since type "\[*(\w+)[!\]]*" has no subfields.*`),
		"Selections can't be made on scalars (field '$1' returns $2 but has selections)"},
	{"NoUndefinedVariables", regexp.MustCompile(`^Variable "\$(\w+)" is not defined.*`), "Variable $$$1 is used by anonymous query but not declared"},
	{"VariablesInAllowedPosition", regexp.MustCompile(`^Variable "\$(\w+)" of type "([^"]+)" used in position expecting type "([^"]+)".*`),
		"Type mismatch on variable $$$1 ($2 / $3)"},
	{"KnownFragmentNames", regexp.MustCompile(`^Unknown fragment "(\w+)".*`), "Fragment $1 was used, but not defined"},
	{"KnownRootType", regexp.MustCompile(`^Schema does not support operation type "(\w+)".*`), "$1 operations are not supported"},
	{"", regexp.MustCompile(`^(?:Expected [^,]+, found|Unexpected) <EOF>$`), "Unexpected end of document"},
	{"", regexp.MustCompile(`^(?:Expected [^,]+, found|Unexpected) <Invalid>$`), "Parse error on bad input"},
	{"", regexp.MustCompile(`^(?:Expected [^,]+, found|Unexpected) (\S+)$`), "Parse error on \"$1\""},
}

// rubyCodes are graphql-ruby's extensions.code of the validation errors.
var rubyCodes = map[string]string{"FieldsOnCorrectType": "undefinedField", "KnownArgumentNames": "argumentNotAccepted",
	"ProvidedRequiredArguments": "missingRequiredArguments", "ScalarLeafs": "selectionMismatch",
	"NoUndefinedVariables": "variableNotDefined", "VariablesInAllowedPosition": "variableMismatch",
	"KnownFragmentNames": "useAndDefineFragment"}

// punctuators names the tokens of graphql-ruby's parse errors.
var punctuators = map[string]string{"(": "LPAREN", ")": "RPAREN", "{": "LCURLY", "}": "RCURLY", "[": "LBRACKET",
	"]": "RBRACKET", ":": "COLON", "=": "EQUALS", "!": "BANG", "$": "VAR_SIGN", "...": "ELLIPSIS"}

// rubyError rewrites e, an error of query's syntax or validation, as
// graphql-ruby words it.
func rubyError(e *Error, query string) *Error {
	for _, t := range rubyErrors {
		if m := t.re.FindStringSubmatch(e.Message); m != nil && t.rule == e.Rule {
			e.Message = t.re.ReplaceAllString(e.Message, t.to)
			if code := rubyCodes[t.rule]; code != "" {
				e.Extra = map[string]any{"extensions": map[string]any{"code": code}}
			}
			switch {
			case strings.HasSuffix(e.Message, "bad input") && strings.Count(query, `"`)%2 == 1:
				e.Message = "Unterminated string"
			case len(m) > 1 && t.rule == "" && len(e.Locations) > 0:
				e.Message += fmt.Sprintf(" (%s) at [%d, %d]", cmp.Or(punctuators[m[1]], "IDENTIFIER"), e.Locations[0].Line, e.Locations[0].Column)
			}
			return e
		}
	}
	return e
}
