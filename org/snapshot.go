package org

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/scmkit/scmkit/errcode"
)

// Snapshot is an organisation at one moment: its users and groups.
// [Snapshot.Sort] puts it in a deterministic order; readers return sorted
// snapshots.
type Snapshot struct {
	Users  []User  // the User entities, sorted by name after Sort
	Groups []Group // the Group entities, sorted by name after Sort

	// Warnings lists what a reader skipped and why, e.g. a user with no
	// usable name. They are not written to YAML.
	Warnings []string

	// Source names the provider the snapshot was read from, as the
	// reader's progress reports do ([Progress.Source]:
	// "githubOrg:production", "ldapOrg:corp"): every reader sets it, and
	// [Merge] names snapshots by it in its warnings. It is not written to
	// YAML; ParseYAML and ReadFS leave it empty, and Merge leaves the
	// merged snapshot's empty.
	Source string
}

// Sort orders groups and users by ref and sorts every ref list inside them
// (memberOf, children, members), so that two reads of the same organisation
// produce byte-identical YAML.
func (s *Snapshot) Sort() {
	slices.SortFunc(s.Groups, func(a, b Group) int { return Compare(a.Ref(), b.Ref()) })
	slices.SortFunc(s.Users, func(a, b User) int { return Compare(a.Ref(), b.Ref()) })
	for i := range s.Users {
		slices.Sort(s.Users[i].Spec.MemberOf)
	}
	for i := range s.Groups {
		slices.Sort(s.Groups[i].Spec.Children)
		slices.Sort(s.Groups[i].Spec.Members)
	}
}

// User returns the user with ref r, or nil. It scans the snapshot; build
// an [Index] for many membership questions.
func (s *Snapshot) User(r Ref) *User {
	for i := range s.Users {
		if s.Users[i].Ref().Equal(r) {
			return &s.Users[i]
		}
	}
	return nil
}

// Group returns the group with ref r, or nil. It scans the snapshot.
func (s *Snapshot) Group(r Ref) *Group {
	for i := range s.Groups {
		if s.Groups[i].Ref().Equal(r) {
			return &s.Groups[i]
		}
	}
	return nil
}

// Validate reports every problem that would make Backstage reject the
// snapshot or make membership ambiguous: invalid names and namespaces,
// unparsable refs, duplicate entities, and cycles in group parents. It
// returns nil or an *errcode.Error with code InvalidArgument listing them
// all. References to entities outside the snapshot are allowed, as in
// Backstage.
func (s *Snapshot) Validate() error {
	var probs []string
	seen := make(map[string]bool, len(s.Users)+len(s.Groups))
	check := func(kind string, m *Metadata) {
		r := Ref{kind, nsOrDefault(m.Namespace), m.Name}
		if !ValidName(m.Name) {
			probs = append(probs, fmt.Sprintf("%s: invalid name %q", kind, m.Name))
		}
		if m.Namespace != "" && !ValidNamespace(m.Namespace) {
			probs = append(probs, fmt.Sprintf("%s: invalid namespace %q", r, m.Namespace))
		}
		if seen[r.Key()] {
			probs = append(probs, fmt.Sprintf("%s: duplicate entity", r))
		}
		seen[r.Key()] = true
	}
	for i := range s.Users {
		u := &s.Users[i]
		check(KindUser, &u.Metadata)
		if _, err := u.MemberOfRefs(); err != nil {
			probs = append(probs, fmt.Sprintf("%s: spec.memberOf: %v", u.Ref(), err))
		}
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		check(KindGroup, &g.Metadata)
		if g.Spec.Type == "" {
			probs = append(probs, fmt.Sprintf("%s: spec.type is empty", g.Ref()))
		}
		if _, _, err := g.ParentRef(); err != nil {
			probs = append(probs, fmt.Sprintf("%s: spec.parent: %v", g.Ref(), err))
		}
		if _, err := g.ChildRefs(); err != nil {
			probs = append(probs, fmt.Sprintf("%s: spec.children: %v", g.Ref(), err))
		}
		if _, err := g.MemberRefs(); err != nil {
			probs = append(probs, fmt.Sprintf("%s: spec.members: %v", g.Ref(), err))
		}
	}
	if len(probs) == 0 {
		for _, c := range NewIndex(s).Cycles() {
			probs = append(probs, "group parent cycle: "+formatCycle(c))
		}
	}
	if len(probs) == 0 {
		return nil
	}
	return errcode.New(errcode.InvalidArgument, "org.Validate", strings.Join(probs, "; "))
}

func formatCycle(c []Ref) string {
	var b strings.Builder
	for _, r := range c {
		b.WriteString(r.String())
		b.WriteString(" -> ")
	}
	if len(c) > 0 {
		b.WriteString(c[0].String())
	}
	return b.String()
}

// WriteYAML writes the snapshot as a Backstage catalog file: one YAML
// document per entity, groups first, then users, in the snapshot's order
// (call [Snapshot.Sort] first for a deterministic file).
func (s *Snapshot) WriteYAML(w io.Writer) error {
	const op = "org.WriteYAML"
	if len(s.Groups) == 0 && len(s.Users) == 0 {
		return nil // an empty catalog file
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for i := range s.Groups {
		g := &s.Groups[i]
		if err := enc.Encode(doc[GroupSpec]{APIVersion, "Group", g.Metadata, g.Spec}); err != nil {
			return errcode.Wrap(errcode.InvalidArgument, op, err)
		}
	}
	for i := range s.Users {
		u := &s.Users[i]
		if err := enc.Encode(doc[UserSpec]{APIVersion, "User", u.Metadata, u.Spec}); err != nil {
			return errcode.Wrap(errcode.InvalidArgument, op, err)
		}
	}
	if err := enc.Close(); err != nil {
		return errcode.Wrap(errcode.Unknown, op, err)
	}
	out := buf.Bytes()
	if len(out) > 0 {
		// yaml.v3 separates documents with "---"; start the first with one
		// too, as catalog files conventionally do.
		out = append([]byte("---\n"), out...)
	}
	if _, err := w.Write(out); err != nil {
		return errcode.Wrap(errcode.Unknown, op, err)
	}
	return nil
}

// ParseYAML reads User and Group entities from a catalog file (one or more
// YAML documents). Entities of other kinds are ignored; a User or Group with
// an apiVersion other than backstage.io/v1alpha1 or v1beta1, or with a
// malformed body, is an InvalidArgument error naming the document.
func ParseYAML(data []byte) (*Snapshot, error) {
	const op = "org.ParseYAML"
	dec := yaml.NewDecoder(bytes.NewReader(data))
	s := &Snapshot{}
	for n := 1; ; n++ {
		var d doc[yaml.Node]
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errcode.Wrap(errcode.InvalidArgument, op, fmt.Errorf("document %d: %w", n, err))
		}
		if d.Kind != "User" && d.Kind != "Group" {
			continue
		}
		if !supported(d.APIVersion) {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "document %d: %s %q: unsupported apiVersion %q", n, d.Kind, d.Metadata.Name, d.APIVersion)
		}
		switch d.Kind {
		case "User":
			u := User{Metadata: d.Metadata}
			if err := d.Spec.Decode(&u.Spec); err != nil {
				return nil, errcode.Wrap(errcode.InvalidArgument, op, fmt.Errorf("document %d: User %q: spec: %w", n, d.Metadata.Name, err))
			}
			s.Users = append(s.Users, u)
		case "Group":
			g := Group{Metadata: d.Metadata}
			if err := d.Spec.Decode(&g.Spec); err != nil {
				return nil, errcode.Wrap(errcode.InvalidArgument, op, fmt.Errorf("document %d: Group %q: spec: %w", n, d.Metadata.Name, err))
			}
			s.Groups = append(s.Groups, g)
		}
	}
	return s, nil
}

// MaxFileSize caps what [ReadFS] reads from one file: 256 MiB, far above the
// few megabytes of a 10,000-user organisation.
const MaxFileSize = 256 << 20

// ReadFS reads the catalog files in fsys matching the glob pattern (see
// [fs.Glob]) and returns their users and groups as one sorted snapshot.
func ReadFS(fsys fs.FS, pattern string) (*Snapshot, error) {
	const op = "org.ReadFS"
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, errcode.Wrap(errcode.InvalidArgument, op, err)
	}
	all := &Snapshot{}
	for _, name := range names {
		f, err := fsys.Open(name)
		if err != nil {
			code := errcode.Unknown
			if errors.Is(err, fs.ErrNotExist) {
				code = errcode.NotFound
			}
			return nil, errcode.Wrap(code, op, err)
		}
		data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
		f.Close()
		if err != nil {
			return nil, errcode.Wrap(errcode.Unknown, op, err)
		}
		if len(data) > MaxFileSize {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "%s: larger than %d bytes", name, MaxFileSize)
		}
		s, err := ParseYAML(data)
		if err != nil {
			// err is ParseYAML's *errcode.Error: wrapped as it is, so that
			// its code is said once.
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: name, Err: err}
		}
		all.Users = append(all.Users, s.Users...)
		all.Groups = append(all.Groups, s.Groups...)
	}
	all.Sort()
	return all, nil
}

// BreakCycles makes the group hierarchy acyclic: for each cycle in group
// parents it removes the link that closes the loop (the spec.parent of the
// cycle's first group, and that group from its parent's spec.children) and
// returns a warning naming the cycle. Readers call it so that a directory
// with a cycle still syncs, the cycle reported rather than looped on.
func (s *Snapshot) BreakCycles() []string {
	var warnings []string
	for range len(s.Groups) + 1 {
		cycles := NewIndex(s).Cycles()
		if len(cycles) == 0 {
			break
		}
		for _, c := range cycles {
			first, parent := c[0], c[len(c)-1]
			if len(c) > 1 {
				parent = c[1]
			}
			warnings = append(warnings, fmt.Sprintf("group parent cycle %s: dropped %s's parent %s", formatCycle(c), first, parent))
			if g := s.Group(first); g != nil {
				if p, ok, _ := g.ParentRef(); ok && p.Equal(parent) {
					g.Spec.Parent = ""
				}
			}
			if pg := s.Group(parent); pg != nil {
				pg.Spec.Children = slices.DeleteFunc(pg.Spec.Children, func(ch string) bool {
					r, err := ParseRef(ch, KindGroup, pg.Metadata.Namespace)
					return err == nil && r.Equal(first)
				})
			}
		}
	}
	return warnings
}
