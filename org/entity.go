package org

import (
	"encoding/json"

	"github.com/scmkit/scmkit/errcode"
)

// APIVersion is the apiVersion of every entity this package writes.
const APIVersion = "backstage.io/v1alpha1"

// Metadata is the part of an entity's metadata this package reads and
// writes.
type Metadata struct {
	Name        string            `json:"name" yaml:"name"`
	Namespace   string            `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Title       string            `json:"title,omitempty" yaml:"title,omitempty"`
	Description string            `json:"description,omitempty" yaml:"description,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty" yaml:"annotations,omitempty"`
}

// Profile is the optional display information of a user or group.
type Profile struct {
	DisplayName string `json:"displayName,omitempty" yaml:"displayName,omitempty"`
	Email       string `json:"email,omitempty" yaml:"email,omitempty"`
	Picture     string `json:"picture,omitempty" yaml:"picture,omitempty"`
}

// User is a Backstage User entity. Its JSON form is the whole entity, with
// apiVersion and kind, as Backstage's catalog API serves it.
type User struct {
	Metadata Metadata `json:"metadata" yaml:"metadata"`
	Spec     UserSpec `json:"spec" yaml:"spec"`
}

// UserSpec is the spec of a [User]. MemberOf holds refs to the user's direct
// groups, written as Backstage writes them (kind group and the user's
// namespace may be omitted).
type UserSpec struct {
	Profile  Profile  `json:"profile,omitzero" yaml:"profile,omitempty"`
	MemberOf []string `json:"memberOf" yaml:"memberOf"`
}

// Group is a Backstage Group entity. Its JSON form is the whole entity,
// with apiVersion and kind.
type Group struct {
	Metadata Metadata  `json:"metadata" yaml:"metadata"`
	Spec     GroupSpec `json:"spec" yaml:"spec"`
}

// GroupSpec is the spec of a [Group]. Parent, Children and Members hold refs
// (kind group, group and user respectively, and the group's namespace, may
// be omitted). Type is free-form: "team", "root", "business-unit", ...
type GroupSpec struct {
	Type     string   `json:"type" yaml:"type"`
	Profile  Profile  `json:"profile,omitzero" yaml:"profile,omitempty"`
	Parent   string   `json:"parent,omitempty" yaml:"parent,omitempty"`
	Children []string `json:"children" yaml:"children"`
	Members  []string `json:"members,omitempty" yaml:"members,omitempty"`
}

// Ref returns the user's ref, user:<namespace>/<name>.
func (u *User) Ref() Ref { return UserRef(u.Metadata.Namespace, u.Metadata.Name) }

// Ref returns the group's ref, group:<namespace>/<name>.
func (g *Group) Ref() Ref { return GroupRef(g.Metadata.Namespace, g.Metadata.Name) }

// MemberOfRefs parses the user's spec.memberOf with Backstage's defaults
// (kind group, the user's namespace).
func (u *User) MemberOfRefs() ([]Ref, error) {
	return parseRefs(u.Spec.MemberOf, KindGroup, u.Metadata.Namespace)
}

// ParentRef parses the group's spec.parent; ok is false when it has none.
func (g *Group) ParentRef() (r Ref, ok bool, err error) {
	if g.Spec.Parent == "" {
		return Ref{}, false, nil
	}
	r, err = ParseRef(g.Spec.Parent, KindGroup, g.Metadata.Namespace)
	return r, err == nil, err
}

// ChildRefs parses the group's spec.children (kind group by default).
func (g *Group) ChildRefs() ([]Ref, error) {
	return parseRefs(g.Spec.Children, KindGroup, g.Metadata.Namespace)
}

// MemberRefs parses the group's spec.members (kind user by default).
func (g *Group) MemberRefs() ([]Ref, error) {
	return parseRefs(g.Spec.Members, KindUser, g.Metadata.Namespace)
}

func parseRefs(ss []string, kind, ns string) ([]Ref, error) {
	if len(ss) == 0 {
		return nil, nil
	}
	out := make([]Ref, 0, len(ss))
	for _, s := range ss {
		r, err := ParseRef(s, kind, ns)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// MarshalJSON writes the entity with apiVersion and kind.
func (u User) MarshalJSON() ([]byte, error) {
	if u.Spec.MemberOf == nil {
		u.Spec.MemberOf = []string{} // required by Backstage's schema
	}
	return json.Marshal(doc[UserSpec]{APIVersion, "User", u.Metadata, u.Spec})
}

// UnmarshalJSON reads a User entity; another kind or apiVersion is an
// error.
func (u *User) UnmarshalJSON(b []byte) error { return unmarshalDoc(b, "User", &u.Metadata, &u.Spec) }

// MarshalJSON writes the entity with apiVersion and kind.
func (g Group) MarshalJSON() ([]byte, error) {
	if g.Spec.Children == nil {
		g.Spec.Children = []string{} // required by Backstage's schema
	}
	return json.Marshal(doc[GroupSpec]{APIVersion, "Group", g.Metadata, g.Spec})
}

// UnmarshalJSON reads a Group entity; another kind or apiVersion is an
// error.
func (g *Group) UnmarshalJSON(b []byte) error { return unmarshalDoc(b, "Group", &g.Metadata, &g.Spec) }

// doc is an entity as a catalog file or JSON holds it: a User's or
// Group's (Spec a UserSpec or GroupSpec), or any kind's as ParseYAML
// first reads it (Spec a yaml.Node).
type doc[S any] struct {
	APIVersion string   `json:"apiVersion" yaml:"apiVersion"`
	Kind       string   `json:"kind" yaml:"kind"`
	Metadata   Metadata `json:"metadata" yaml:"metadata"`
	Spec       S        `json:"spec" yaml:"spec"`
}

// unmarshalDoc reads an entity of kind from JSON into m and s; another
// kind or apiVersion is an error, and leaves m and s as they were.
func unmarshalDoc[S any](b []byte, kind string, m *Metadata, s *S) error {
	var d doc[S]
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	if err := checkKind(kind, d.APIVersion, d.Kind); err != nil {
		return err
	}
	*m, *s = d.Metadata, d.Spec
	return nil
}

func checkKind(want, apiVersion, kind string) error {
	if kind != want {
		return errcode.Newf(errcode.InvalidArgument, "org.UnmarshalJSON", "kind %q is not %s", kind, want)
	}
	if !supported(apiVersion) {
		return errcode.Newf(errcode.InvalidArgument, "org.UnmarshalJSON", "%s: unsupported apiVersion %q", want, apiVersion)
	}
	return nil
}

// supported reports whether an entity of apiVersion can be read:
// backstage.io/v1alpha1 or v1beta1.
func supported(apiVersion string) bool {
	return apiVersion == APIVersion || apiVersion == "backstage.io/v1beta1"
}
