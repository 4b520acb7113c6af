package org

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

func (p Profile) isZero() bool { return p == Profile{} }

// User is a Backstage User entity.
type User struct {
	Metadata Metadata
	Spec     UserSpec
}

// UserSpec is the spec of a [User]. MemberOf holds refs to the user's direct
// groups, written as Backstage writes them (kind group and the user's
// namespace may be omitted).
type UserSpec struct {
	Profile  Profile  `json:"profile,omitzero" yaml:"profile,omitempty"`
	MemberOf []string `json:"memberOf" yaml:"memberOf"`
}

// Group is a Backstage Group entity.
type Group struct {
	Metadata Metadata
	Spec     GroupSpec
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
