package permission

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// within fails the test if f does not return within d: the cases below
// used to run for ever or overflow the stack.
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("did not return within %v", d)
	}
}

// dag is a schema nested depth levels deep whose every level holds the
// next one twice: 2^depth paths through depth+1 maps.
func dag(depth int) map[string]any {
	m := map[string]any{"type": "string"}
	for range depth {
		m = map[string]any{"type": "object", "a": m, "b": m}
	}
	return m
}

// TestRulesMetadataSharedSchemas: a param schema that holds a sub-schema
// in two places, or itself twice, is copied in time linear in its maps,
// and the copy still shares nothing with the def.
func TestRulesMetadataSharedSchemas(t *testing.T) {
	self := map[string]any{"type": "object"}
	self["a"], self["b"] = self, self
	for name, schema := range map[string]map[string]any{"self twice": self, "dag of depth 60": dag(60)} {
		t.Run(name, func(t *testing.T) {
			r := NewRules(RuleDef{Name: "R", ResourceType: "t", Params: []string{"p"}, ParamSchemas: map[string]map[string]any{"p": schema}})
			var md RulesMetadata
			within(t, 10*time.Second, func() { md = r.Metadata() })
			p := md.Rules[0].ParamsSchema.(map[string]any)["properties"].(map[string]any)["p"].(map[string]any)
			// Down the copy's "a" branch, 50 levels: every map is a copy.
			in, out := schema, p
			for i := range 50 {
				out["type"] = "changed"
				if in["type"] == "changed" {
					t.Fatalf("level %d of the copy is the def's schema", i)
				}
				in, out = in["a"].(map[string]any), out["a"].(map[string]any)
			}
		})
	}
}

// TestValueSizeBounded: params are sized exactly when small, and up to
// the limit of a batch, in bounded time and stack, when they contain
// themselves or are too big to walk.
func TestValueSizeBounded(t *testing.T) {
	self := map[string]any{}
	self["x"] = self
	twice := map[string]any{}
	twice["a"], twice["b"] = twice, twice
	list := []any{nil}
	list[0] = list
	deep := any("leaf")
	for range 20000 {
		deep = []any{deep}
	}
	over := maxApplyWork + 1
	for _, tc := range []struct {
		name string
		v    any
		want int
	}{
		{"string", "ab", 3},
		{"number", 1.0, 1},
		{"list", []any{"a", 1.0}, 4},
		{"strings", []string{"a", "bc"}, 6},
		{"map", map[string]any{"k": "v", "n": nil}, 1 + 1 + 2 + 1 + 1},
		{"contains itself", self, over},
		{"contains itself twice", twice, over},
		{"list containing itself", list, over},
		{"dag of depth 40", dag(40), over},
		{"nested 20000 deep", deep, over},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got int
			within(t, 10*time.Second, func() { got = valueSize(tc.v) })
			if got != tc.want {
				t.Errorf("valueSize = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestEvaluateCyclicParams: a plugin rule without a compiler, given
// params that contain themselves (a Go policy can build them), is
// checked and applied, not sized for ever.
func TestEvaluateCyclicParams(t *testing.T) {
	p := map[string]any{}
	p["x"] = p
	r := NewRules(RuleDef{Name: "R", ResourceType: "t", Params: []string{"x"},
		Apply: func(_ any, params map[string]any) (bool, error) { return params["x"] != nil, nil }})
	var ok bool
	var err error
	within(t, 10*time.Second, func() { ok, err = r.Evaluate(Rule("t", "R", p), struct{}{}) })
	if !ok || err != nil {
		t.Fatalf("Evaluate = %v, %v; want true, nil", ok, err)
	}
}

// TestMetadataHandlerSelfSchema: JSON cannot hold a schema that contains
// itself: the handler answers 500, at once.
func TestMetadataHandlerSelfSchema(t *testing.T) {
	self := map[string]any{"type": "object"}
	self["a"], self["b"] = self, self
	r := NewRules(RuleDef{Name: "R", ResourceType: "t", Params: []string{"p"}, ParamSchemas: map[string]map[string]any{"p": self}})
	rec := httptest.NewRecorder()
	within(t, 10*time.Second, func() {
		MetadataHandler(r.Metadata(), func(*http.Request) error { return nil }).
			ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	})
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", rec.Code)
	}
}
