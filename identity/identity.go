package identity

import (
	"log/slog"
	"slices"

	"github.com/scmkit/scmkit/org"
)

// User is a signed-in user as Backstage's permission framework and plugins
// see her: her catalog entity ref and the refs she owns through (the `ent`
// claim of her token). It is the shape of Backstage's
// BackstageUserIdentity without its "type" field.
type User struct {
	// EntityRef is the user's entity ref, e.g. "user:default/alice".
	EntityRef string `json:"userEntityRef"`
	// OwnershipEntityRefs are the refs she owns through: her own ref
	// and those of her groups (see [OwnershipRefs]).
	OwnershipEntityRefs []string `json:"ownershipEntityRefs"`
}

// Principal is who is calling: a signed-in user, the portal itself or one
// of its plugins (a service), or nobody. The zero Principal is anonymous.
type Principal struct {
	// User is the signed-in user, or nil.
	User *User
	// Service names the calling service when the portal acts as itself,
	// e.g. "plugin:catalog" or "external:ci-bot"; "" when not a service.
	// A service principal with a User acts on her behalf.
	Service string
}

// IsAnonymous reports whether p is nobody: no user and no service.
func (p Principal) IsAnonymous() bool { return p.User == nil && p.Service == "" }

// String names p, e.g. "user:default/alice", "plugin:catalog" or
// "plugin:scaffolder on behalf of user:default/alice", or "anonymous".
func (p Principal) String() string {
	switch {
	case p.Service != "" && p.User != nil:
		return p.Service + " on behalf of " + p.User.EntityRef
	case p.Service != "":
		return p.Service
	case p.User != nil:
		return p.User.EntityRef
	}
	return "anonymous"
}

// Owns reports whether ref is one of u's ownership entity refs, compared as
// Backstage compares refs: case-insensitively, in ASCII only (entity refs
// are ASCII; with Unicode's folding the Kelvin sign U+212A would be "k",
// and group:default/\u212Aates would own what group:default/kates owns).
func (u *User) Owns(ref string) bool {
	if u == nil {
		return false
	}
	return slices.ContainsFunc(u.OwnershipEntityRefs, func(r string) bool { return org.EqualFoldASCII(r, ref) })
}

// LogValue shows p in log/slog output: {user, service}, or
// {anonymous: true}. An audit hook can log "who acted" with it.
func (p Principal) LogValue() slog.Value {
	var attrs []slog.Attr
	if p.User != nil {
		attrs = append(attrs, slog.String("user", p.User.EntityRef))
	}
	if p.Service != "" {
		attrs = append(attrs, slog.String("service", p.Service))
	}
	if len(attrs) == 0 {
		attrs = append(attrs, slog.Bool("anonymous", true))
	}
	return slog.GroupValue(attrs...)
}
