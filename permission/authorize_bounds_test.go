package permission

import (
	"context"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
)

// TestAuthorizeItemIDLimitIsExact: an item id of 256 bytes is taken, one
// of 257 refused.
func TestAuthorizeItemIDLimitIsExact(t *testing.T) {
	a := NewAuthorizer(&ownerPolicy{}, nil)
	create := MustKnown(CatalogEntityCreate)
	for _, tc := range []struct {
		n  int
		ok bool
	}{{256, true}, {257, false}} {
		_, err := a.Authorize(context.Background(), identity.Principal{User: alice}, []Item{{ID: strings.Repeat("i", tc.n), Permission: create}})
		if tc.ok && err != nil || !tc.ok && errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%d-byte id: %v; want accepted %v", tc.n, err, tc.ok)
		}
	}
}

// TestAuthorizeRefusesConditionalDecisionOfAnotherResourceType: a
// CONDITIONAL decision must name the permission's own resource type, even
// when its conditions are about that type.
func TestAuthorizeRefusesConditionalDecisionOfAnotherResourceType(t *testing.T) {
	cond := Rule(ScaffolderActionResourceType, "HAS_ACTION_ID", map[string]any{"actionId": "publish:github"})
	d := Decision{Result: Conditional, PluginID: "scaffolder", ResourceType: CatalogEntityResourceType, Conditions: cond}
	a := NewAuthorizer(Static(d), nil)
	_, err := a.Authorize(context.Background(), identity.Principal{User: alice}, []Item{{ID: "1", Permission: MustKnown(ScaffolderActionExecute)}})
	if errcode.CodeOf(err) != errcode.Unknown {
		t.Errorf("decision for resource type %q on %s: %v; want Unknown", d.ResourceType, ScaffolderActionExecute, err)
	}
	// The same decision with the right resource type is taken.
	d.ResourceType = ScaffolderActionResourceType
	if _, err := NewAuthorizer(Static(d), nil).Authorize(context.Background(), identity.Principal{User: alice},
		[]Item{{ID: "1", Permission: MustKnown(ScaffolderActionExecute)}}); err != nil {
		t.Errorf("decision for the permission's own resource type: %v", err)
	}
}

// TestCriteriaValidateEdges: the node limit is exact (a tree of MaxNodes
// nodes is valid, one more is not), an empty allOf or anyOf built in Go
// (not only in JSON) is refused, and so is a condition without a rule or
// without a resource type.
func TestCriteriaValidateEdges(t *testing.T) {
	lim := Limits{MaxDepth: 12, MaxNodes: 10, MaxItems: 64}
	leaves := func(n int) []*Criteria {
		cs := make([]*Criteria, n)
		for i := range cs {
			cs[i] = leaf()
		}
		return cs
	}
	for _, tc := range []struct {
		name string
		c    *Criteria
		ok   bool
	}{
		{"MaxNodes nodes", AnyOf(leaves(9)...), true},
		{"MaxNodes+1 nodes", AnyOf(leaves(10)...), false},
		{"empty allOf", &Criteria{AllOf: []*Criteria{}}, false},
		{"empty anyOf", &Criteria{AnyOf: []*Criteria{}}, false},
		{"condition without a resource type", Rule("", IsEntityOwner, map[string]any{"claims": []any{"x"}}), false},
		{"condition without a rule", Rule(CatalogEntityResourceType, "", nil), false},
	} {
		err := tc.c.Validate(lim)
		if tc.ok && err != nil || !tc.ok && errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%s: %v; want valid %v", tc.name, err, tc.ok)
		}
	}
}

// TestAuthorizeRefusesNegatedConditionOfAnotherResourceType: a condition
// about another resource type is refused inside a not as well as at the
// top of the tree.
func TestAuthorizeRefusesNegatedConditionOfAnotherResourceType(t *testing.T) {
	own := Rule(ScaffolderActionResourceType, "HAS_ACTION_ID", map[string]any{"actionId": "publish:github"})
	other := Rule(CatalogEntityResourceType, IsEntityOwner, map[string]any{"claims": []any{"x"}})
	for _, c := range []*Criteria{Not(other), AllOf(own, Not(other)), Not(Not(other))} {
		d := Decision{Result: Conditional, PluginID: "scaffolder", ResourceType: ScaffolderActionResourceType, Conditions: c}
		_, err := NewAuthorizer(Static(d), nil).Authorize(context.Background(), identity.Principal{User: alice},
			[]Item{{ID: "1", Permission: MustKnown(ScaffolderActionExecute)}})
		if errcode.CodeOf(err) != errcode.Unknown {
			t.Errorf("conditions %+v: %v; want Unknown", c, err)
		}
	}
}
