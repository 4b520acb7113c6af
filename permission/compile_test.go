package permission

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/scm/catalog"
)

func TestFoldKeyIsEqualFold(t *testing.T) {
	words := []string{
		"", "a", "A", "group:default/team-a", "Group:Default/Team-A", "group:default/team-b",
		"k", "K", "\u212a", // the Kelvin sign folds with k
		"s", "S", "\u017f", // the long s folds with s
		"i", "I", "\u0130", "\u0131", // dotted and dotless i fold with nothing
		"\u03a3", "\u03c3", "\u03c2", // sigma
		"\u00e9quipe", "\u00c9QUIPE", "\xff", "\xfe", "\ufffd", "ab\xffc",
	}
	for _, a := range words {
		for _, b := range words {
			if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
				t.Errorf("foldKey(%q) == foldKey(%q) is %v, EqualFold %v", a, b, got, want)
			}
		}
	}
	// A lower-case ASCII ref, as the catalog writes them, is its own key.
	if n := testing.AllocsPerRun(100, func() { _ = foldKey("group:default/team-a") }); n != 0 {
		t.Errorf("foldKey of a lower-case ref allocates %v times", n)
	}
}

func FuzzFoldKey(f *testing.F) {
	f.Add("group:default/Team-A", "GROUP:default/team-a")
	f.Add("\u212a", "k")
	f.Add("\u0130", "i")
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
			t.Fatalf("foldKey(%q) == foldKey(%q) is %v, EqualFold %v", a, b, got, want)
		}
	})
}

// The compiled catalog rules answer as the rules applied one resource
// at a time (their RuleDef.Apply, which other Rules holding a copy of
// the def use).
func TestCompiledRulesMatchApply(t *testing.T) {
	rules := CatalogRules()
	copied := NewRules(rules.List()...) // the defs alone, without their compilers
	withRel := entity()
	withRel.Relations = []catalog.Relation{{Type: "ownedBy", TargetRef: "group:default/Team-B"}, {Type: "partOf", TargetRef: "system:default/x"}}
	other := entity()
	other.Metadata.Namespace, other.Metadata.Title = "Other", "The title"
	other.Kind = "\u212aind" // Kelvin sign
	entities := []*catalog.Entity{entity(), withRel, other, {}, nil}
	params := []struct {
		rule   string
		params map[string]any
	}{
		{IsEntityOwner, map[string]any{"claims": []any{"group:default/team-a"}}},
		{IsEntityOwner, map[string]any{"claims": []any{"GROUP:DEFAULT/TEAM-B", "user:default/x"}}},
		{IsEntityOwner, map[string]any{"claims": []any{"group:other/team-a"}}},
		{IsEntityOwner, map[string]any{"claims": []string{}}},
		{IsEntityKind, map[string]any{"kinds": []any{"kind", "component"}}},
		{HasAnnotation, map[string]any{"annotation": "github.com/project-slug", "value": "acme/payments"}},
		{HasAnnotation, map[string]any{"annotation": "github.com/project-slug", "value": nil}},
		{HasLabel, map[string]any{"label": "tier"}},
		{HasMetadata, map[string]any{"key": "name", "value": "payments"}},
		{HasMetadata, map[string]any{"key": "name"}},
		{HasMetadata, map[string]any{"key": "name.x"}},
		{HasMetadata, map[string]any{"key": "namespace", "value": "Other"}},
		{HasMetadata, map[string]any{"key": "namespace"}},
		{HasMetadata, map[string]any{"key": "title"}},
		{HasMetadata, map[string]any{"key": "description"}},
		{HasMetadata, map[string]any{"key": "labels"}},
		{HasMetadata, map[string]any{"key": "labels.tier", "value": "1"}},
		{HasMetadata, map[string]any{"key": "labels.tier.x"}},
		{HasMetadata, map[string]any{"key": "annotations.github.com/project-slug"}},
		{HasMetadata, map[string]any{"key": "annotations"}},
		{HasMetadata, map[string]any{"key": "tags", "value": "go"}},
		{HasMetadata, map[string]any{"key": ""}},
		{HasSpec, map[string]any{"key": "system.name", "value": "billing"}},
		{HasSpec, map[string]any{"key": "replicas", "value": 3}},
		{HasSpec, map[string]any{"key": "providesApis"}},
		{HasSpec, map[string]any{"key": "owner"}},
	}
	for _, p := range params {
		c := Rule(CatalogEntityResourceType, p.rule, p.params)
		for i, e := range entities {
			got, err := rules.Evaluate(c, e)
			want, wantErr := copied.Evaluate(c, e)
			if got != want || (err == nil) != (wantErr == nil) {
				t.Errorf("%s %v on entity %d: compiled %v, %v; applied %v, %v", p.rule, p.params, i, got, err, want, wantErr)
			}
		}
	}
	// A resource that is not an entity is an error either way.
	c := Rule(CatalogEntityResourceType, HasLabel, map[string]any{"label": "x"})
	for _, r := range []*Rules{rules, copied} {
		if _, err := r.Evaluate(c, "not an entity"); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("a string as an entity: %v", err)
		}
	}
	// A def that replaces a catalog rule is applied, not the catalog's
	// compiled rule.
	replaced := rules.With(RuleDef{Name: HasLabel, ResourceType: CatalogEntityResourceType, Params: []string{"label"},
		Apply: func(any, map[string]any) (bool, error) { return true, nil }})
	if ok, err := replaced.Evaluate(Rule(CatalogEntityResourceType, HasLabel, map[string]any{"label": "absent"}), entity()); !ok || err != nil {
		t.Errorf("replaced rule: %v, %v", ok, err)
	}
}

// ownedEntities returns a loader of n entities, each owned by team-a.
func ownedEntities(n int) (LoaderFunc, []string) {
	ents := make(map[string]any, n)
	refs := make([]string, n)
	for i := range refs {
		refs[i] = fmt.Sprintf("component:default/c%d", i)
		ents[refs[i]] = &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "x"}, Spec: map[string]any{"owner": "team-a"}}
	}
	return func(_ context.Context, want []string) (map[string]any, error) {
		out := make(map[string]any, len(want))
		for _, r := range want {
			out[r] = ents[r]
		}
		return out, nil
	}, refs
}

// An apply-conditions body under 1 MiB whose conditions are costly per
// ref: 1,000 refs and anyOf 64 IS_ENTITY_OWNER leaves of 3,000 claims
// each. The claims are read once per leaf (not once per ref and leaf,
// which took seconds), and the answer is right.
func TestApplyConditionsReadsParamsOncePerRequest(t *testing.T) {
	const refs, leaves, claims = 1000, 64, 3000
	loader, rs := ownedEntities(refs)
	a := NewAuthorizer(applyOnly, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: loader}})
	cl := make([]string, claims)
	for i := range cl {
		cl[i] = `"z"`
	}
	cl[claims-1] = `"Group:Default/Team-A"` // the last claim of the last leaf matches
	leaf := `{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":[` + strings.Join(cl[:claims-1], ",") + `,"z"]}}`
	last := `{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":[` + strings.Join(cl, ",") + `]}}`
	body := `{"items":[{"id":"1","resourceType":"catalog-entity","resourceRef":` + mustJSON(t, rs) +
		`,"conditions":{"anyOf":[` + strings.Repeat(leaf+",", leaves-1) + last + `]}}]}`
	if len(body) >= maxBody {
		t.Fatalf("body of %d bytes", len(body))
	}
	// Count the claims read: each leaf's params are compiled once.
	reads := 0
	rules := CatalogRules()
	comp := rules.compilers[[2]string{CatalogEntityResourceType, IsEntityOwner}]
	rules.compilers[[2]string{CatalogEntityResourceType, IsEntityOwner}] = func(p map[string]any) (func(any) (bool, error), int, error) {
		reads++
		return comp(p)
	}
	a.opts.Rules = rules
	h := ApplyConditionsHandler(a, func(*http.Request) error { return nil })
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var resp struct {
		Items []struct {
			Result []Result `json:"result"`
		} `json:"items"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); rec.Code != 200 || err != nil || len(resp.Items) != 1 || len(resp.Items[0].Result) != refs {
		t.Fatalf("status %d: %.200s", rec.Code, rec.Body)
	}
	for i, r := range resp.Items[0].Result {
		if r != Allow {
			t.Fatalf("ref %d: %s", i, r)
		}
	}
	if reads != leaves {
		t.Errorf("the leaves' params were read %d times for %d leaves and %d refs", reads, leaves, refs)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Conditions whose per-ref work is beyond the limit (a long dotted key,
// compared at every ref) are refused with 400 before anything is
// loaded; the same conditions on fewer refs are applied.
func TestApplyConditionsBoundsTheWork(t *testing.T) {
	key := strings.Repeat("a", 250_000)
	cond := `{"anyOf":[` + strings.Repeat(`{"rule":"HAS_SPEC","resourceType":"catalog-entity","params":{"key":"`+key+`"}},`, 3) +
		`{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["group:default/team-a"]}}]}`
	for _, tt := range []struct {
		refs   int
		status int
	}{
		{1000, 400},
		{100, 400},
		{50, 200},
		{1, 200},
	} {
		t.Run(fmt.Sprint(tt.refs, " refs"), func(t *testing.T) {
			loader, rs := ownedEntities(tt.refs)
			loads := 0
			counted := LoaderFunc(func(ctx context.Context, refs []string) (map[string]any, error) {
				loads++
				return loader(ctx, refs)
			})
			a := NewAuthorizer(applyOnly, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: counted}})
			h := ApplyConditionsHandler(a, func(*http.Request) error { return nil })
			body := `{"items":[{"id":"1","resourceType":"catalog-entity","resourceRef":` + mustJSON(t, rs) + `,"conditions":` + cond + `}]}`
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %.300s", rec.Code, tt.status, rec.Body)
			}
			if tt.status == 400 && (loads != 0 || !strings.Contains(rec.Body.String(), "too costly") || !strings.Contains(rec.Body.String(), `"name":"InputError"`)) {
				t.Errorf("loads %d: %.300s", loads, rec.Body)
			}
			if tt.status == 200 && !strings.Contains(rec.Body.String(), `"ALLOW"`) {
				t.Errorf("%.300s", rec.Body)
			}
		})
	}
}

// /authorize compiles each CONDITIONAL decision's tree once per request,
// however many refs it is applied to.
func TestAuthorizeCompilesConditionsOncePerRequest(t *testing.T) {
	rules := CatalogRules()
	k := [2]string{CatalogEntityResourceType, IsEntityOwner}
	comp, reads := rules.compilers[k], 0
	rules.compilers[k] = func(p map[string]any) (func(any) (bool, error), int, error) {
		reads++
		return comp(p)
	}
	loader := newLoader(20)
	a := NewAuthorizer(&ownerPolicy{}, &AuthorizerOptions{Rules: rules, Loaders: map[string]ResourceLoader{CatalogEntityResourceType: loader}})
	items := make([]Item, 100)
	for i := range items {
		items[i] = Item{ID: fmt.Sprint(i), Permission: MustKnown(CatalogEntityRead), ResourceRef: fmt.Sprintf("component:default/svc-%d", i%20)}
	}
	out, err := a.Authorize(context.Background(), identity.Principal{User: alice}, items)
	if err != nil {
		t.Fatal(err)
	}
	if reads != 1 {
		t.Errorf("the conditions were compiled %d times for one decision", reads)
	}
	if out[0].Result != Allow || out[1].Result != Deny {
		t.Errorf("answers %v, %v", out[0].Result, out[1].Result)
	}
	// apply-conditions: a subtree shared by several items' trees (owner
	// in owner and Not(owner)) is compiled once per request.
	reads = 0
	owner := Rule(CatalogEntityResourceType, IsEntityOwner, map[string]any{"claims": []any{"group:default/team-a"}})
	res, err := a.ApplyConditions(context.Background(), []ApplyItem{
		{ID: "1", ResourceRefs: []string{"component:default/svc-0", "component:default/svc-1"}, ResourceType: CatalogEntityResourceType, Conditions: owner},
		{ID: "2", ResourceRef: "component:default/svc-0", ResourceType: CatalogEntityResourceType, Conditions: Not(owner)},
		{ID: "3", ResourceRef: "component:default/svc-1", ResourceType: CatalogEntityResourceType, Conditions: Not(owner)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if reads != 1 {
		t.Errorf("a shared subtree was compiled %d times", reads)
	}
	if got := fmt.Sprintf("%v %v %v", res[0].Results, res[1].Result, res[2].Result); got != "[ALLOW DENY] DENY ALLOW" {
		t.Errorf("answers %s", got)
	}
}

// Metadata shares nothing with the Rules, however deep: changing a
// result, down to an array param's items schema or a []string enum,
// changes neither the rule's ParamSchemas nor the next result.
func TestRulesMetadataSharesNothing(t *testing.T) {
	r := CatalogRules().With(RuleDef{Name: "IS_TIER", ResourceType: CatalogEntityResourceType, Params: []string{"tier"},
		ParamSchemas: map[string]map[string]any{"tier": {"type": "string", "enum": []string{"1", "2"},
			"x": map[string]map[string]any{"y": {"z": "w"}}}}})
	before := mustJSON(t, r.Metadata())
	md := r.Metadata()
	for _, rm := range md.Rules {
		props := rm.ParamsSchema.(map[string]any)["properties"].(map[string]any)
		switch rm.Name {
		case IsEntityOwner:
			props["claims"].(map[string]any)["items"].(map[string]any)["type"] = "number"
		case "IS_TIER":
			tier := props["tier"].(map[string]any)
			tier["enum"].([]string)[0] = "changed"
			tier["x"].(map[string]map[string]any)["y"]["z"] = "changed"
		}
	}
	if changed := mustJSON(t, md); changed == before {
		t.Fatal("the test changed nothing")
	}
	if diff := cmp.Diff(before, mustJSON(t, r.Metadata())); diff != "" {
		t.Errorf("changing a Metadata result changed the Rules (-before +after):\n%s", diff)
	}
	def, _ := r.Lookup(CatalogEntityResourceType, "IS_TIER")
	if def.ParamSchemas["tier"]["enum"].([]string)[0] != "1" {
		t.Errorf("the def's schema changed: %v", def.ParamSchemas)
	}
	// A schema that contains itself (which JSON cannot encode) is
	// copied once (the copy contains itself), not forever.
	cyclic := map[string]any{"type": "object"}
	cyclic["self"] = cyclic
	md = NewRules(RuleDef{Name: "C", ResourceType: "t", Params: []string{"p"}, ParamSchemas: map[string]map[string]any{"p": cyclic}}).Metadata()
	if len(md.Rules) != 1 {
		t.Errorf("rules %v", md.Rules)
	}
}
