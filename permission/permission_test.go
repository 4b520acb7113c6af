package permission

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/catalog"
)

func TestKnownPermissions(t *testing.T) {
	tests := []struct {
		name string
		typ  Type
		act  Action
		rt   string
	}{
		{CatalogEntityRead, Resource, Read, CatalogEntityResourceType},
		{CatalogEntityCreate, Basic, Create, ""},
		{CatalogEntityDelete, Resource, Delete, CatalogEntityResourceType},
		{CatalogEntityRefresh, Resource, Update, CatalogEntityResourceType},
		{CatalogLocationCreate, Basic, Create, ""},
		{CatalogLocationRead, Basic, Read, ""},
		{ScaffolderActionExecute, Resource, Use, ScaffolderActionResourceType},
		{ScaffolderTemplateParameterRead, Resource, Read, ScaffolderTemplateResourceType},
		{ScaffolderTaskCancel, Basic, Use, ""},
	}
	for _, tt := range tests {
		p, ok := Known(tt.name)
		if !ok {
			t.Fatalf("Known(%q) not found", tt.name)
		}
		if p.Type != tt.typ || p.Action() != tt.act || p.ResourceType != tt.rt {
			t.Errorf("Known(%q) = %+v", tt.name, p)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("Known(%q).Validate: %v", tt.name, err)
		}
	}
	if _, ok := Known("catalog.entity.nope"); ok {
		t.Error("unknown permission found")
	}
}

func TestPermissionWireShape(t *testing.T) {
	b, err := json.Marshal(MustKnown(CatalogEntityRead))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"resource","name":"catalog.entity.read","attributes":{"action":"read"},"resourceType":"catalog-entity"}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
}

func TestPermissionValidateBad(t *testing.T) {
	for _, p := range []Permission{
		{},
		{Type: "other", Name: "x"},
		{Type: Basic, Name: "x", Attributes: Attributes{Action: "use"}},
		{Type: Basic, Name: "x", Attributes: Attributes{Action: "destroy"}},
		{Type: Resource, Name: "x"},
		{Type: Basic, Name: "x", ResourceType: "catalog-entity"},
		{Type: Basic, Name: strings.Repeat("x", 300)},
	} {
		if err := p.Validate(); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("Validate(%+v) = %v, want InvalidArgument", p, err)
		}
	}
}

func TestCriteriaJSONRoundTrip(t *testing.T) {
	tests := []string{
		`{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["user:default/alice"]}}`,
		`{"allOf":[{"rule":"HAS_LABEL","resourceType":"catalog-entity","params":{"label":"tier"}},{"not":{"rule":"IS_ENTITY_KIND","resourceType":"catalog-entity","params":{"kinds":["group"]}}}]}`,
		`{"anyOf":[{"rule":"HAS_SPEC","resourceType":"catalog-entity","params":{"key":"lifecycle","value":"production"}}]}`,
	}
	for _, in := range tests {
		var c Criteria
		if err := json.Unmarshal([]byte(in), &c); err != nil {
			t.Fatalf("Unmarshal(%s): %v", in, err)
		}
		if err := c.Validate(Limits{}); err != nil {
			t.Fatalf("Validate(%s): %v", in, err)
		}
		out, err := json.Marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != in {
			t.Errorf("round trip:\n got %s\nwant %s", out, in)
		}
	}
}

func TestCriteriaJSONBad(t *testing.T) {
	for _, in := range []string{
		`[]`,
		`null`,
		`{}`,
		`{"allOf":[]}`,
		`{"anyOf":[null]}`,
		`{"allOf":[{"rule":"A","resourceType":"x"}],"anyOf":[{"rule":"A","resourceType":"x"}]}`,
		`{"not":{"rule":"A","resourceType":"x"},"extra":1}`,
		`{"rule":"A"}`,
		`{"rule":"A","resourceType":"x","params":{},"unknown":true}`,
		`{"rule":"A","resourceType":"x","allOf":[]}`,
	} {
		var c Criteria
		if err := json.Unmarshal([]byte(in), &c); err == nil {
			if err := c.Validate(Limits{}); err == nil {
				t.Errorf("%s accepted", in)
			}
		}
	}
}

func leaf() *Criteria { return Rule(CatalogEntityResourceType, HasLabel, map[string]any{"label": "x"}) }

func nest(depth int) *Criteria {
	c := leaf()
	for i := 1; i < depth; i++ {
		c = Not(c)
	}
	return c
}

func TestCriteriaLimits(t *testing.T) {
	wide := func(n int) *Criteria {
		cs := make([]*Criteria, n)
		for i := range cs {
			cs[i] = leaf()
		}
		return AnyOf(cs...)
	}
	// 5 anyOf of 60 leaves: 306 nodes, each list within 64 items.
	many := AllOf(wide(60), wide(60), wide(60), wide(60), wide(60))
	tests := []struct {
		name string
		c    *Criteria
		ok   bool
	}{
		{"depth 12", nest(12), true},
		{"depth 13", nest(13), false},
		{"64 items", wide(64), true},
		{"65 items", wide(65), false},
		{"more than 256 nodes", many, false},
		{"two shapes", &Criteria{Not: leaf(), Condition: leaf().Condition}, false},
		{"empty", &Criteria{}, false},
	}
	for _, tt := range tests {
		err := tt.c.Validate(Limits{})
		if (err == nil) != tt.ok {
			t.Errorf("%s: Validate = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%s: code %v", tt.name, errcode.CodeOf(err))
		}
	}
	// A tree decoded from JSON is checked the same way.
	b, _ := json.Marshal(nest(13))
	var c Criteria
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(Limits{}); err == nil {
		t.Error("decoded depth-13 tree accepted")
	}
}

func entity() *catalog.Entity {
	return &catalog.Entity{
		APIVersion: "backstage.io/v1alpha1",
		Kind:       "Component",
		Metadata: catalog.Metadata{
			Name:        "payments",
			Annotations: map[string]string{"github.com/project-slug": "acme/payments"},
			Labels:      map[string]string{"tier": "1"},
			Tags:        []string{"go", "money"},
		},
		Spec: map[string]any{"owner": "team-a", "lifecycle": "production", "type": "service",
			"replicas": 3, "deprecated": false, "system": map[string]any{"name": "billing"}, "providesApis": []any{}},
	}
}

func TestCatalogRules(t *testing.T) {
	rules := CatalogRules()
	withRel := entity()
	withRel.Relations = []catalog.Relation{{Type: "ownedBy", TargetRef: "group:default/Team-B"}}
	tests := []struct {
		rule   string
		params map[string]any
		e      *catalog.Entity
		want   bool
	}{
		{IsEntityOwner, map[string]any{"claims": []any{"user:default/alice", "group:default/team-a"}}, entity(), true},
		{IsEntityOwner, map[string]any{"claims": []any{"group:default/TEAM-A"}}, entity(), true},
		{IsEntityOwner, map[string]any{"claims": []any{"group:other/team-a"}}, entity(), false},
		{IsEntityOwner, map[string]any{"claims": []any{"group:default/team-a"}}, withRel, false},
		{IsEntityOwner, map[string]any{"claims": []any{"group:default/team-b"}}, withRel, true},
		{HasAnnotation, map[string]any{"annotation": "github.com/project-slug"}, entity(), true},
		{HasAnnotation, map[string]any{"annotation": "github.com/project-slug", "value": "acme/payments"}, entity(), true},
		{HasAnnotation, map[string]any{"annotation": "github.com/project-slug", "value": "acme/other"}, entity(), false},
		{HasAnnotation, map[string]any{"annotation": "backstage.io/techdocs-ref"}, entity(), false},
		{IsEntityKind, map[string]any{"kinds": []any{"component"}}, entity(), true},
		{IsEntityKind, map[string]any{"kinds": []any{"API", "Group"}}, entity(), false},
		{HasLabel, map[string]any{"label": "tier"}, entity(), true},
		{HasLabel, map[string]any{"label": "team"}, entity(), false},
		{HasMetadata, map[string]any{"key": "tags", "value": "go"}, entity(), true},
		{HasMetadata, map[string]any{"key": "tags", "value": "java"}, entity(), false},
		{HasMetadata, map[string]any{"key": "tags"}, entity(), true},
		{HasMetadata, map[string]any{"key": "labels.tier", "value": "1"}, entity(), true},
		{HasMetadata, map[string]any{"key": "title"}, entity(), false},
		{HasSpec, map[string]any{"key": "lifecycle", "value": "production"}, entity(), true},
		{HasSpec, map[string]any{"key": "lifecycle", "value": "experimental"}, entity(), false},
		{HasSpec, map[string]any{"key": "system.name", "value": "billing"}, entity(), true},
		{HasSpec, map[string]any{"key": "replicas", "value": float64(3)}, entity(), true},
		{HasSpec, map[string]any{"key": "replicas", "value": "3"}, entity(), false},
		{HasSpec, map[string]any{"key": "deprecated"}, entity(), false},
		{HasSpec, map[string]any{"key": "providesApis"}, entity(), false},
		{HasSpec, map[string]any{"key": "missing.deeper"}, entity(), false},
	}
	for _, tt := range tests {
		got, err := rules.Evaluate(Rule(CatalogEntityResourceType, tt.rule, tt.params), tt.e)
		if err != nil {
			t.Errorf("%s %v: %v", tt.rule, tt.params, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s %v = %v, want %v", tt.rule, tt.params, got, tt.want)
		}
	}
}

func TestEvaluateTrees(t *testing.T) {
	rules := CatalogRules()
	owner := Rule(CatalogEntityResourceType, IsEntityOwner, map[string]any{"claims": []any{"group:default/team-a"}})
	kindAPI := Rule(CatalogEntityResourceType, IsEntityKind, map[string]any{"kinds": []any{"API"}})
	tests := []struct {
		c    *Criteria
		want bool
	}{
		{AllOf(owner, Not(kindAPI)), true},
		{AllOf(owner, kindAPI), false},
		{AnyOf(kindAPI, owner), true},
		{Not(AnyOf(kindAPI, owner)), false},
	}
	for i, tt := range tests {
		got, err := rules.Evaluate(tt.c, entity())
		if err != nil || got != tt.want {
			t.Errorf("%d: got %v, %v; want %v", i, got, err, tt.want)
		}
	}
	// A missing resource is never matched, even under not.
	for _, missing := range []any{nil, (*catalog.Entity)(nil)} {
		if got, err := rules.Evaluate(Not(kindAPI), missing); err != nil || got {
			t.Errorf("missing resource %T: got %v, %v", missing, got, err)
		}
	}
}

func TestEvaluateBadParams(t *testing.T) {
	rules := CatalogRules()
	for _, c := range []*Criteria{
		Rule(CatalogEntityResourceType, "NO_SUCH_RULE", nil),
		Rule("other-type", IsEntityOwner, map[string]any{"claims": []any{}}),
		Rule(CatalogEntityResourceType, IsEntityOwner, nil),
		Rule(CatalogEntityResourceType, IsEntityOwner, map[string]any{"claims": "group:default/a"}),
		Rule(CatalogEntityResourceType, IsEntityOwner, map[string]any{"claims": []any{1}}),
		Rule(CatalogEntityResourceType, HasLabel, map[string]any{"label": "x", "extra": 1}),
		Rule(CatalogEntityResourceType, HasSpec, map[string]any{"key": "a", "value": []any{1}}),
		// value null matched every entity without the key
		Rule(CatalogEntityResourceType, HasSpec, map[string]any{"key": "owner-approved", "value": nil}),
		Rule(CatalogEntityResourceType, HasMetadata, map[string]any{"key": "annotations.x", "value": nil}),
		nest(13),
	} {
		if _, err := rules.Evaluate(c, entity()); errcode.CodeOf(err) != errcode.InvalidArgument {
			b, _ := json.Marshal(c)
			t.Errorf("%s: err = %v, want InvalidArgument", b, err)
		}
	}
	if _, err := rules.Evaluate(leaf(), "not an entity"); err == nil {
		t.Error("catalog rule applied to a string")
	}
}

func TestRulesList(t *testing.T) {
	var names []string
	for _, r := range CatalogRules().List() {
		names = append(names, r.Name)
	}
	want := []string{HasAnnotation, HasLabel, HasMetadata, HasSpec, IsEntityKind, IsEntityOwner}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Error(diff)
	}
}

// TestCriteriaJSONDeepIsLinear: a deep tree is decoded in time linear in
// its size (it is refused by Validate afterwards). Decoding node by node
// took about 2 s for 1,000 nested "not"s (8 KB) and 30 s for 5,000.
func TestCriteriaJSONDeepIsLinear(t *testing.T) {
	const depth = 5000
	b := strings.Repeat(`{"not":`, depth) + `{"rule":"X","resourceType":"y"}` + strings.Repeat("}", depth)
	done := make(chan error, 1)
	go func() {
		var c Criteria
		err := json.Unmarshal([]byte(b), &c)
		if err == nil {
			err = c.Validate(Limits{})
		}
		done <- err
	}()
	select {
	case err := <-done:
		if errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("depth %d: %v, want InvalidArgument", depth, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("decoding a %d-byte tree of depth %d took more than 5 s", len(b), depth)
	}
}

func TestCriteriaJSONWrongTypes(t *testing.T) {
	for _, in := range []string{
		`{"rule":1,"resourceType":"x"}`,
		`{"rule":"A","resourceType":"x","params":[1]}`,
		`{"allOf":{"rule":"A","resourceType":"x"}}`,
		`{"not":null}`,
	} {
		var c Criteria
		if err := json.Unmarshal([]byte(in), &c); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", in, err)
		}
	}
	var c Criteria
	if err := json.Unmarshal([]byte(`{"rule":"A","resourceType":"x","params":null}`), &c); err != nil || c.Condition.Params != nil {
		t.Errorf("null params: %v %+v", err, c.Condition)
	}
}
