package identity

import (
	"context"
	"fmt"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org"
)

// OwnershipOptions configure [OwnershipRefs]. Nil means Backstage's
// behaviour: direct memberships only, at most DefaultMaxOwnershipRefs refs.
type OwnershipOptions struct {
	// Transitive adds every group above the user's groups (through
	// spec.parent), which Backstage cannot do without a custom resolver:
	// ownership by a parent team is then recognised by IS_ENTITY_OWNER.
	Transitive bool
	// MaxRefs caps the refs; 0 means DefaultMaxOwnershipRefs. Above it,
	// OwnershipRefs fails rather than issue a token that would exceed
	// Backstage's size limit or silently drop groups.
	MaxRefs int
}

// DefaultMaxOwnershipRefs is the default cap on ownership refs: about what
// fits in Backstage's 32,768-character token.
const DefaultMaxOwnershipRefs = 400

// OwnershipRefs returns the user's ownership entity refs (the `ent` claim):
// her own ref, then the refs of her groups (direct, or also their
// ancestors with Transitive), sorted and de-duplicated, as Backstage
// writes them. Refs of groups that are absent from the catalog but named
// by her memberOf are kept, as in Backstage.
//
// It returns InvalidArgument when there are more than MaxRefs refs, and
// Conflict when Transitive and her groups reach a cycle.
func OwnershipRefs(ctx context.Context, c Catalog, user org.Ref, opts *OwnershipOptions) ([]string, error) {
	var o OwnershipOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxRefs <= 0 {
		o.MaxRefs = DefaultMaxOwnershipRefs
	}
	groups, err := c.GroupsOf(ctx, user, o.Transitive)
	if err != nil {
		return nil, err
	}
	refs := []string{user.String()}
	seen := map[string]bool{user.Key(): true}
	for _, g := range groups {
		if !seen[g.Key()] {
			seen[g.Key()] = true
			refs = append(refs, g.String())
		}
	}
	if len(refs) > o.MaxRefs {
		how := "direct"
		if o.Transitive {
			how = "direct and inherited"
		}
		return nil, errcode.New(errcode.InvalidArgument, "identity.OwnershipRefs",
			fmt.Sprintf("%s has %d ownership refs (own ref and %s groups), more than the cap of %d", user, len(refs), how, o.MaxRefs))
	}
	return refs, nil
}
