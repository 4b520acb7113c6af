// Package rbac is the community Backstage RBAC plugin's permission policy
// in Go: the policy CSV ("p, role, permission-or-resource-type, action,
// allow|deny" and "g, user-or-group, role"), roles held through catalog
// group membership with inheritance up to maxDepth, super users, and
// conditional policies with $currentUser and $ownerRefs.
//
// Semantics, as the plugin's: deny wins over allow among the user's
// roles; for a resource permission, p lines naming the permission are
// used when any of the user's roles has one, and those naming its
// resource type only otherwise; an action-less permission is matched as
// "use"; no line means DENY; an anonymous caller is denied; a super user
// is allowed everything; with permission.rbac.defaultPermissions, every
// signed-in user holds its default role. Entity refs compare as Backstage's catalog
// compares them, the kind and namespace completed and case folded, but
// ASCII case only: a ref with a non-ASCII look-alike of a letter (the
// Kelvin sign U+212A for K) names another entity and holds none of the
// ASCII one's roles.
//
// The evaluator is written here rather than on a policy engine such as
// casbin: the plugin's semantics (the permission-over-resource-type rule,
// roles from an external group hierarchy with a depth bound, super users
// and conditional decisions) sit outside casbin's model and would have to
// be written around it anyway, and a precomputed index makes a decision a
// few map lookups and bit operations with no allocation.
//
// [New] indexes the organisation ([Membership]) once; rebuild the Policy
// to reload. A Membership [FromSnapshot] made of a snapshot with
// duplicate entities (several providers' snapshots appended rather than
// combined with org.Merge) is refused. [ParseCSV] and [ParseConditional] refuse a file with any
// problem whole, naming every bad line. A cycle in the group hierarchy is
// reported by [Policy.Cycles], and users whose groups reach it are denied
// (their roles are undefined) until it is fixed.
package rbac
