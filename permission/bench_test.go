package permission

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/scmkit/scmkit/identity"
)

// BenchmarkAuthorizeBatch is a batch of 100 checks over 20 distinct
// resources: each resource is loaded once per batch (resource-loads/op
// 20, loader-calls/op 1).
func BenchmarkAuthorizeBatch(b *testing.B) {
	loader := newLoader(20)
	a := NewAuthorizer(&ownerPolicy{}, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: loader}})
	perms := []Permission{MustKnown(CatalogEntityRead), MustKnown(CatalogEntityDelete), MustKnown(CatalogEntityRefresh)}
	items := make([]Item, 100)
	for i := range items {
		items[i] = Item{ID: fmt.Sprint(i), Permission: perms[i%len(perms)], ResourceRef: fmt.Sprintf("component:default/svc-%d", i%20)}
	}
	who := identity.Principal{User: alice}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authorize(context.Background(), who, items); err != nil {
			b.Fatal(err)
		}
	}
	loads := 0
	for _, n := range loader.loads {
		loads += n
	}
	for ref, n := range loader.loads {
		if n != loader.calls {
			b.Fatalf("%s loaded %d times in %d batches", ref, n, loader.calls)
		}
	}
	b.ReportMetric(float64(loads)/float64(loader.calls), "resource-loads/op")
	b.ReportMetric(float64(loader.calls)/float64(b.N), "loader-calls/op")
}

// BenchmarkApplyConditionsBatch is an apply-conditions batch as a
// permission backend sends it for a batched /authorize: 10 items with
// resourceRef arrays of 10 refs and 10 items with one ref, 110 checks over
// 20 distinct resources. Each resource is loaded once per batch
// (resource-loads/op 20, loader-calls/op 1).
func BenchmarkApplyConditionsBatch(b *testing.B) {
	loader := newLoader(20)
	a := NewAuthorizer(applyOnly, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: loader}})
	owner := Rule(CatalogEntityResourceType, IsEntityOwner, map[string]any{"claims": []any{"group:default/team-a"}})
	var items []ApplyItem
	for i := range 10 {
		refs := make([]string, 10)
		for j := range refs {
			refs[j] = fmt.Sprintf("component:default/svc-%d", (i+j)%20)
		}
		items = append(items, ApplyItem{ID: fmt.Sprint("a", i), ResourceRefs: refs, ResourceType: CatalogEntityResourceType, Conditions: owner},
			ApplyItem{ID: fmt.Sprint("s", i), ResourceRef: fmt.Sprintf("component:default/svc-%d", 19-i), ResourceType: CatalogEntityResourceType, Conditions: Not(owner)})
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.ApplyConditions(context.Background(), items); err != nil {
			b.Fatal(err)
		}
	}
	loads := 0
	for ref, n := range loader.loads {
		if n != loader.calls {
			b.Fatalf("%s loaded %d times in %d batches", ref, n, loader.calls)
		}
		loads += n
	}
	b.ReportMetric(float64(loads)/float64(loader.calls), "resource-loads/op")
	b.ReportMetric(float64(loader.calls)/float64(b.N), "loader-calls/op")
}

func FuzzCriteriaJSON(f *testing.F) {
	f.Add(`{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["user:default/a"]}}`)
	f.Add(`{"allOf":[{"not":{"rule":"HAS_LABEL","resourceType":"catalog-entity","params":{"label":"x"}}}]}`)
	f.Add(`{"anyOf":[{"rule":"HAS_SPEC","resourceType":"catalog-entity","params":{"key":"a.b","value":1}}]}`)
	rules := CatalogRules()
	f.Fuzz(func(t *testing.T, s string) {
		var c Criteria
		if err := json.Unmarshal([]byte(s), &c); err != nil {
			return
		}
		if err := c.Validate(Limits{}); err != nil {
			return
		}
		// A valid tree marshals and reads back to the same JSON, and
		// evaluating it never panics.
		b, err := json.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		var again Criteria
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("re-read %s: %v", b, err)
		}
		b2, _ := json.Marshal(&again)
		if string(b) != string(b2) {
			t.Fatalf("not stable: %s vs %s", b, b2)
		}
		_, _ = rules.Evaluate(&c, entity())
	})
}
