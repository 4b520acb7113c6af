package permission

import (
	"testing"

	"github.com/scmkit/scmkit/scm/catalog"
)

// TestIsEntityOwnerFoldsASCIIOnly (review 28, finding 7, in the rule the
// RBAC policy's $currentUser and $ownerRefs conditions reach): a claim
// folds ASCII case only, as entity refs do. Unicode folding made the claim
// user:default/\u212Aate (KELVIN SIGN) an owner of what kate owns.
func TestIsEntityOwnerFoldsASCIIOnly(t *testing.T) {
	rules := CatalogRules()
	bySpec := entity()
	bySpec.Spec["owner"] = "user:kate"
	byRel := entity()
	byRel.Relations = []catalog.Relation{{Type: "ownedBy", TargetRef: "user:default/kate"}}
	for _, tt := range []struct {
		claim string
		e     *catalog.Entity
		want  bool
	}{
		{"user:default/\u212Aate", bySpec, false},
		{"user:default/\u212Aate", byRel, false},
		{"user:default/\u212aATE", byRel, false},
		{"USER:Default/KATE", bySpec, true},
		{"user:default/Kate", byRel, true},
	} {
		got, err := rules.Evaluate(Rule(CatalogEntityResourceType, IsEntityOwner, map[string]any{"claims": []any{tt.claim}}), tt.e)
		if err != nil || got != tt.want {
			t.Errorf("claim %+q, owner %v %v: %v, %v; want %v", tt.claim, tt.e.Spec["owner"], tt.e.Relations, got, err, tt.want)
		}
	}
}
