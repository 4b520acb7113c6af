package rbac

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/permission"
)

// Line is one line of a policy CSV file.
type Line struct {
	// Kind is "p" (a permission policy) or "g" (a role binding).
	Kind string
	// For "p": Role, Object (a permission name or a resource type),
	// Action and Effect ("allow" or "deny"). For "g": Subject (a user or
	// group ref) and Role.
	Role    string
	Object  string
	Action  permission.Action
	Effect  string
	Subject string
	// Text is the line as written (trimmed) and Number its line number.
	Text   string
	Number int
}

// File is a parsed policy CSV file.
type File struct {
	Name  string
	Lines []Line
}

// SyntaxError lists every problem of a policy file, each with its line
// number. [ParseCSV] returns it wrapped in an InvalidArgument
// *errcode.Error; reach it with errors.As.
type SyntaxError struct {
	File     string
	Problems []LineProblem
}

// LineProblem is one problem of a policy file.
type LineProblem struct {
	Line int
	Msg  string
}

// Error lists the problems, one per line: "policy.csv:3: …".
func (e *SyntaxError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s:%d: %s", e.File, p.Line, p.Msg)
	}
	return b.String()
}

// maxProblems bounds the problems a SyntaxError lists.
const maxProblems = 20

// MaxFileSize caps a policy file: 1 MiB.
const MaxFileSize = 1 << 20

var (
	refName   = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,61}[a-zA-Z0-9])?$`)
	objectRe  = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,254})$`)
	actionSet = map[string]permission.Action{"create": permission.Create, "read": permission.Read,
		"update": permission.Update, "delete": permission.Delete, "use": permission.Use}
)

// ParseCSV parses the community RBAC plugin's policy CSV: lines
// "p, <role>, <permission name or resource type>, <action>, <allow|deny>"
// and "g, <user or group ref>, <role>", with '#' comments and blank lines.
// Roles are refs of kind role ("role:default/admins"). Refs are
// normalised as Backstage does: kind and namespace lower case, the
// namespace "default" when left out; names compare case-insensitively.
//
// A file with any problem is refused whole: ParseCSV returns an
// InvalidArgument *errcode.Error wrapping a *SyntaxError that lists every
// problem (up to 20) with its line number, and no lines.
func ParseCSV(name string, r io.Reader) (*File, error) {
	const op = "rbac.ParseCSV"
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "reading " + name, Err: err}
	}
	if len(data) > MaxFileSize {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "%s is larger than %d bytes", name, MaxFileSize)
	}
	// A UTF-8 byte order mark, as editors on Windows write, is not part
	// of the first line.
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	se := &SyntaxError{File: name}
	add := func(line int, format string, args ...any) {
		if len(se.Problems) < maxProblems {
			se.Problems = append(se.Problems, LineProblem{line, fmt.Sprintf(format, args...)})
		}
	}
	f := &File{Name: name}
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				add(pe.Line, "%v", pe.Err)
				// encoding/csv cannot resume after a quoting error.
				break
			}
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: name, Err: err}
		}
		n, _ := cr.FieldPos(0)
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		if strings.HasPrefix(rec[0], "#") || (len(rec) == 1 && rec[0] == "") {
			continue // an indented comment, or a line of blanks
		}
		l := Line{Kind: rec[0], Number: n, Text: strings.Join(rec, ", ")}
		switch rec[0] {
		case "p":
			if len(rec) != 5 {
				add(n, "a p line has 5 fields (p, role, permission or resource type, action, effect), got %d", len(rec))
				continue
			}
			role, err := normRef(rec[1], "")
			if err != nil || !strings.HasPrefix(role, "role:") {
				add(n, "%q is not a role ref (role:<namespace>/<name>)", rec[1])
				continue
			}
			act, ok := actionSet[rec[3]]
			if !objectRe.MatchString(rec[2]) {
				add(n, "%q is not a permission name or resource type", rec[2])
				continue
			}
			if !ok {
				add(n, "action must be create, read, update, delete or use, got %q", rec[3])
				continue
			}
			if rec[4] != "allow" && rec[4] != "deny" {
				add(n, "effect must be allow or deny, got %q", rec[4])
				continue
			}
			l.Role, l.Object, l.Action, l.Effect = role, rec[2], act, rec[4]
		case "g":
			if len(rec) != 3 {
				add(n, "a g line has 3 fields (g, user or group ref, role), got %d", len(rec))
				continue
			}
			sub, err := normRef(rec[1], "")
			if err != nil || !(strings.HasPrefix(sub, "user:") || strings.HasPrefix(sub, "group:")) {
				add(n, "%q is not a user or group ref (user:<namespace>/<name>, group:<namespace>/<name>)", rec[1])
				continue
			}
			role, err := normRef(rec[2], "")
			if err != nil || !strings.HasPrefix(role, "role:") {
				add(n, "%q is not a role ref (role:<namespace>/<name>)", rec[2])
				continue
			}
			l.Subject, l.Role = sub, role
		default:
			add(n, "a line starts with p or g, got %q", rec[0])
			continue
		}
		key := l.Kind + "|" + l.Role + "|" + l.Object + "|" + string(l.Action) + "|" + l.Effect + "|" + l.Subject
		if first, dup := seen[key]; dup {
			add(n, "repeats line %d", first)
			continue
		}
		seen[key] = n
		f.Lines = append(f.Lines, l)
	}
	if len(se.Problems) > 0 {
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: fmt.Sprintf("policy file %s refused", name), Err: se}
	}
	return f, nil
}

// normRef returns ref as a full, normalised entity ref
// ("kind:namespace/name", kind and namespace lower case); defKind
// completes a ref without kind ("" requires one).
func normRef(ref, defKind string) (string, error) {
	kind, ns, name := defKind, "default", ref
	if i := strings.IndexByte(name, ':'); i >= 0 {
		kind, name = name[:i], name[i+1:]
	}
	if i := strings.IndexByte(name, '/'); i >= 0 {
		ns, name = name[:i], name[i+1:]
	}
	if kind == "" || !refName.MatchString(kind) || !refName.MatchString(ns) || !refName.MatchString(name) {
		return "", errcode.Newf(errcode.InvalidArgument, "rbac", "%q is not an entity ref", ref)
	}
	return strings.ToLower(kind + ":" + ns + "/" + name), nil
}

// key returns the form of a ref used for lookups, as Backstage compares
// refs: the kind defKind and the namespace "default" when left out, ASCII
// letters in lower case ("User:alice" is "user:default/alice"). Only ASCII
// case folds, as org.Ref.Key folds it: with Unicode's rules the Kelvin sign
// U+212A would be "k", and a token for user:default/\u212Aate would hold
// kate's roles. Entity names are ASCII; a ref with other bytes keeps them
// and matches no binding of an ASCII ref. It does not allocate for a ref
// that already is in that form.
func key(ref, defKind string) string {
	kind, rest, hasKind := strings.Cut(ref, ":")
	if !hasKind {
		kind, rest = defKind, ref
	}
	if hasKind && strings.Contains(rest, "/") && !hasUpper(ref) {
		return ref
	}
	if !strings.Contains(rest, "/") {
		rest = "default/" + rest
	}
	return asciiLower(kind + ":" + rest)
}

// hasUpper reports whether s has an ASCII upper-case letter.
func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

// asciiLower returns s with its ASCII letters in lower case and every
// other byte as it is.
func asciiLower(s string) string {
	if !hasUpper(s) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
