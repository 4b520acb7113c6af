package permission

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
)

// The request and response bodies of these tests are those of Backstage's
// own tests, retyped: plugins/permission-node/src/integration/
// createPermissionIntegrationRouter.test.ts (apply-conditions, metadata),
// plugins/permission-backend/src/service/router.test.ts (/authorize, and
// the apply-conditions items the permission backend sends) and
// PermissionIntegrationClient.ts (the response schema it parses). Where
// this package deliberately answers otherwise, the test says so.

// testResource is the resource Backstage's tests load: {id: ref}.
type testResource struct{ ID string }

// refLoader loads a testResource for every ref except those in missing,
// recording each call's refs.
type refLoader struct {
	mu      sync.Mutex
	missing map[string]bool
	calls   [][]string
}

func (l *refLoader) LoadResources(_ context.Context, refs []string) (map[string]any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, slices.Clone(refs))
	out := map[string]any{}
	for _, r := range refs {
		if !l.missing[r] {
			out[r] = &testResource{ID: r}
		}
	}
	return out, nil
}

// backstageRules are the rules of Backstage's router tests: test-rule-1
// on test-resource ({foo: string, bar: number}, always true), test-rule-2
// on test-resource (no params, always false), and a second test-rule-1 on
// test-resource-2 (always false). Backstage applies the last one without
// checking params (it has no schema), and its tests pass it {foo, bar}:
// here a rule names its params, so it takes them, optional.
func backstageRules() *Rules {
	typed := func(p map[string]any) error {
		if _, ok := p["foo"].(string); !ok {
			return errors.New("foo must be a string")
		}
		if _, ok := p["bar"].(float64); !ok {
			return errors.New("bar must be a number")
		}
		return nil
	}
	is := func(v bool) RuleFunc { return func(any, map[string]any) (bool, error) { return v, nil } }
	return NewRules(
		RuleDef{Name: "test-rule-1", ResourceType: "test-resource", Description: "Test rule 1",
			Params: []string{"foo", "bar"}, Required: []string{"foo", "bar"}, CheckParams: typed, Apply: is(true),
			ParamSchemas: map[string]map[string]any{"foo": {"type": "string"}, "bar": {"type": "number", "description": "bar"}}},
		RuleDef{Name: "test-rule-2", ResourceType: "test-resource", Description: "Test rule 2", Apply: is(false)},
		RuleDef{Name: "test-rule-1", ResourceType: "test-resource-2", Description: "Test rule 3",
			Params: []string{"foo", "bar"}, Apply: is(false)},
	)
}

type applyEnv struct {
	l1, l2 *refLoader
	h      http.Handler
}

func newApplyEnv(maxItems int) *applyEnv {
	e := &applyEnv{l1: &refLoader{missing: map[string]bool{"default:test/missing-resource": true, "resource:2": true}}, l2: &refLoader{}}
	a := NewAuthorizer(applyOnly, &AuthorizerOptions{Rules: backstageRules(), MaxItems: maxItems,
		Loaders: map[string]ResourceLoader{"test-resource": e.l1, "test-resource-2": e.l2}})
	e.h = ApplyConditionsHandler(a, func(*http.Request) error { return nil })
	return e
}

func (e *applyEnv) post(t *testing.T, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/.well-known/backstage/permissions/apply-conditions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec.Code, strings.TrimSpace(rec.Body.String())
}

// sameJSON reports whether two JSON documents are equal as values.
func sameJSON(t *testing.T, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		return false
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	return reflect.DeepEqual(g, w)
}

// item is one apply-conditions item on test-resource for ref.
func item(id, ref, conditions string) string {
	return `{"id":"` + id + `","resourceRef":` + ref + `,"resourceType":"test-resource","conditions":` + conditions + `}`
}

const (
	rule1   = `{"rule":"test-rule-1","resourceType":"test-resource","params":{"foo":"a","bar":1}}`
	rule2   = `{"rule":"test-rule-2","resourceType":"test-resource"}`
	rule1rt = `{"rule":"test-rule-1","resourceType":"test-resource-2","params":{"foo":"a","bar":1}}`
)

func TestApplyConditionsBackstageBodies(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       string   // the whole response body, as JSON
		match      string   // or a regexp the error body matches
		loads      []string // the refs of test-resource's one loader call
		loads2     []string // and of test-resource-2's
	}{
		{name: "a rule that matches", body: `{"items":[` + item("123", `"default:test/resource"`, `{"rule":"test-rule-1","resourceType":"test-resource","params":{"foo":"abc","bar":123}}`) + `]}`,
			status: 200, want: `{"items":[{"id":"123","result":"ALLOW"}]}`, loads: []string{"default:test/resource"}},
		{name: "anyOf", body: `{"items":[` + item("123", `"default:test/resource"`, `{"anyOf":[`+rule1+`,`+rule2+`]}`) + `]}`,
			status: 200, want: `{"items":[{"id":"123","result":"ALLOW"}]}`, loads: []string{"default:test/resource"}},
		{name: "not", body: `{"items":[` + item("123", `"default:test/resource"`, `{"not":`+rule2+`}`) + `]}`,
			status: 200, want: `{"items":[{"id":"123","result":"ALLOW"}]}`, loads: []string{"default:test/resource"}},
		{name: "nested", body: `{"items":[` + item("123", `"default:test/resource"`,
			`{"allOf":[{"anyOf":[`+rule1+`,`+rule2+`]},{"not":{"allOf":[{"rule":"test-rule-1","resourceType":"test-resource","params":{"foo":"b","bar":2}},`+rule2+`]}}]}`) + `]}`,
			status: 200, want: `{"items":[{"id":"123","result":"ALLOW"}]}`, loads: []string{"default:test/resource"}},
		{name: "a rule that does not match", body: `{"items":[` + item("123", `"default:test/resource"`, rule2) + `]}`,
			status: 200, want: `{"items":[{"id":"123","result":"DENY"}]}`, loads: []string{"default:test/resource"}},
		{name: "allOf that does not match", body: `{"items":[` + item("123", `"default:test/resource"`, `{"allOf":[`+rule1+`,`+rule2+`]}`) + `]}`,
			status: 200, want: `{"items":[{"id":"123","result":"DENY"}]}`, loads: []string{"default:test/resource"}},
		{name: "nested that does not match", body: `{"items":[` + item("123", `"default:test/resource"`,
			`{"allOf":[{"anyOf":[`+rule1+`,`+rule2+`]},{"not":{"allOf":[{"rule":"test-rule-1","resourceType":"test-resource","params":{"foo":"c","bar":3}},{"not":`+rule2+`}]}}]}`) + `]}`,
			status: 200, want: `{"items":[{"id":"123","result":"DENY"}]}`, loads: []string{"default:test/resource"}},
		{name: "batched requests: all refs in one load", body: `{"items":[` +
			item("123", `"default:test/resource-1"`, rule1) + `,` +
			item("234", `"default:test/resource-1"`, rule2) + `,` +
			item("345", `"default:test/resource-2"`, `{"not":`+rule1+`}`) + `,` +
			item("456", `"default:test/resource-3"`, `{"not":`+rule2+`}`) + `,` +
			item("567", `"default:test/resource-4"`, `{"anyOf":[`+rule1+`,`+rule2+`]}`) + `]}`,
			status: 200, want: `{"items":[{"id":"123","result":"ALLOW"},{"id":"234","result":"DENY"},{"id":"345","result":"DENY"},{"id":"456","result":"ALLOW"},{"id":"567","result":"ALLOW"}]}`,
			loads: []string{"default:test/resource-1", "default:test/resource-2", "default:test/resource-3", "default:test/resource-4"}},
		{name: "batched requests of two resource types: one load per type", body: `{"items":[` +
			item("123", `"default:test/resource-1"`, rule1) + `,` +
			item("234", `"default:test/resource-1"`, rule2) + `,` +
			`{"id":"345","resourceRef":"default:test/resource-2","resourceType":"test-resource-2","conditions":{"not":` + rule1rt + `}},` +
			item("456", `"default:test/resource-3"`, `{"not":`+rule2+`}`) + `,` +
			`{"id":"567","resourceRef":"default:test/resource-4","resourceType":"test-resource-2","conditions":{"anyOf":[` + rule1rt + `,{"rule":"test-rule-1","resourceType":"test-resource-2"}]}}]}`,
			status: 200, want: `{"items":[{"id":"123","result":"ALLOW"},{"id":"234","result":"DENY"},{"id":"345","result":"ALLOW"},{"id":"456","result":"ALLOW"},{"id":"567","result":"DENY"}]}`,
			loads: []string{"default:test/resource-1", "default:test/resource-3"}, loads2: []string{"default:test/resource-2", "default:test/resource-4"}},
		{name: "unexpected resource types, all named, nothing loaded", body: `{"items":[
			{"id":"123","resourceRef":"default:test/resource-1","resourceType":"test-incorrect-resource-1","conditions":{"rule":"test-rule-1","resourceType":"test-incorrect-resource-1","params":{"foo":{}}}},
			{"id":"234","resourceRef":"default:test/resource-2","resourceType":"test-resource","conditions":{"rule":"test-rule-1","resourceType":"test-resource","params":{"foo":{}}}},
			{"id":"345","resourceRef":"default:test/resource-3","resourceType":"test-incorrect-resource-2","conditions":{"rule":"test-rule-1","resourceType":"test-incorrect-resource-2","params":{"foo":{}}}}]}`,
			status: 400, match: `(?i)unexpected resource types: test-incorrect-resource-1, test-incorrect-resource-2`},
		{name: "a resource that is not found", body: `{"items":[` + item("123", `"default:test/missing-resource"`, rule1) + `]}`,
			status: 200, want: `{"items":[{"id":"123","result":"DENY"}]}`, loads: []string{"default:test/missing-resource"}},
		// Backstage's test sends params {} here and gets DENY, because it
		// checks params only against a resource that exists, and answers
		// 400 for the same body on one that does: that tells which refs
		// exist. Here bad params are refused before anything is loaded,
		// whatever the ref.
		{name: "bad params on a missing resource (Backstage: DENY)", body: `{"items":[` + item("123", `"default:test/missing-resource"`, `{"rule":"test-rule-1","resourceType":"test-resource","params":{}}`) + `]}`,
			status: 400, match: `needs the parameter`},
		{name: "bad params on an existing resource", body: `{"items":[` + item("123", `"default:test/resource"`, `{"rule":"test-rule-1","resourceType":"test-resource","params":{}}`) + `]}`,
			status: 400, match: `needs the parameter`},
		{name: "present and missing resources interleaved", body: `{"items":[` +
			item("123", `"default:test/resource-1"`, rule1) + `,` + item("234", `"default:test/missing-resource"`, rule1) + `,` + item("345", `"default:test/resource-2"`, rule1) + `]}`,
			status: 200, want: `{"items":[{"id":"123","result":"ALLOW"},{"id":"234","result":"DENY"},{"id":"345","result":"ALLOW"}]}`,
			loads: []string{"default:test/resource-1", "default:test/missing-resource", "default:test/resource-2"}},

		// The permission backend answering a batched /authorize sends the
		// item with the decision spread in (result, pluginId) and the refs
		// as an array, and reads back one result per ref in order.
		{name: "the permission backend's batched item", body: `{"items":[{"conditions":` + rule1 + `,"id":"123","pluginId":"test-plugin","resourceRef":["resource:1","resource:2"],"resourceType":"test-resource","result":"CONDITIONAL"}]}`,
			status: 200, want: `{"items":[{"id":"123","result":["ALLOW","DENY"]}]}`, loads: []string{"resource:1", "resource:2"}},
		{name: "arrays and single refs: every distinct ref in one load, results in ref order", body: `{"items":[` +
			item("a", `["resource:3","resource:2","resource:1","resource:3"]`, rule1) + `,` +
			item("b", `"resource:1"`, `{"not":`+rule1+`}`) + `,` +
			item("c", `["resource:4"]`, rule2) + `]}`,
			status: 200, want: `{"items":[{"id":"a","result":["ALLOW","DENY","ALLOW","ALLOW"]},{"id":"b","result":"DENY"},{"id":"c","result":["DENY"]}]}`,
			loads: []string{"resource:3", "resource:2", "resource:1", "resource:4"}},
		{name: "an empty ref array", body: `{"items":[` + item("a", `[]`, rule1) + `]}`, status: 400, match: `(?i)invalid.*empty array`},
		{name: "an empty ref in an array", body: `{"items":[` + item("a", `["resource:1",""]`, rule1) + `]}`, status: 400, match: `(?i)invalid.*empty ref`},
		{name: "a ref array of numbers", body: `{"items":[` + item("a", `[1]`, rule1) + `]}`, status: 400, match: `(?i)invalid`},
		{name: "an object ref", body: `{"items":[` + item("a", `{}`, rule1) + `]}`, status: 400, match: `(?i)invalid`},
		{name: "an empty batch", body: `{"items":[]}`, status: 200, want: `{"items":[]}`},
	}
	// Backstage's "returns 400 for invalid input" bodies.
	for i, body := range []string{
		``, `""`, `{}`, `{"resourceType":"test-resource-type"}`, `[{"resourceType":"test-resource-type"}]`,
		`{"items":[{"resourceType":"test-resource-type"}]}`, `{"items":[{"resourceRef":"test/resource-ref"}]}`,
		`{"items":[{"resourceType":"test-resource-type","resourceRef":"test/resource-ref"}]}`,
		`{"items":[{"conditions":{"anyOf":[]}}]}`, `{"items":[{"conditions":{"rule":"TEST_RULE","resourceType":"test-resource"}}]}`,
		`{"items":[{"conditions":{"rule":"TEST_RULE","params":["foo"]}}]}`, `{"items":[{"conditions":{"resourceType":"test-resource","params":["foo"]}}]}`,
	} {
		tests = append(tests, struct {
			name, body    string
			status        int
			want, match   string
			loads, loads2 []string
		}{name: "invalid input " + string(rune('a'+i)), body: body, status: 400, match: `(?i)invalid`})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newApplyEnv(0)
			status, got := e.post(t, tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, got)
			}
			if tt.want != "" && !sameJSON(t, got, tt.want) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if tt.match != "" {
				if !regexp.MustCompile(tt.match).MatchString(got) {
					t.Errorf("body %s does not match %s", got, tt.match)
				}
				var eb struct {
					Error    struct{ Name, Message string }
					Response struct{ StatusCode int }
				}
				if json.Unmarshal([]byte(got), &eb) != nil || eb.Error.Name != "InputError" || eb.Response.StatusCode != 400 {
					t.Errorf("error body %s is not Backstage's", got)
				}
			}
			for _, c := range []struct {
				l    *refLoader
				want []string
			}{{e.l1, tt.loads}, {e.l2, tt.loads2}} {
				switch {
				case c.want == nil && len(c.l.calls) != 0:
					t.Errorf("loader called: %v", c.l.calls)
				case c.want != nil && (len(c.l.calls) != 1 || !slices.Equal(c.l.calls[0], c.want)):
					t.Errorf("loader calls %v, want one with %v", c.l.calls, c.want)
				}
			}
			if status == 200 {
				checkClientSchema(t, tt.body, got)
			}
		})
	}
}

// checkClientSchema checks an apply-conditions answer as the permission
// backend's PermissionIntegrationClient parses it: items of {id, result},
// result ALLOW, DENY or an array of them; and, as its caller uses it, one
// result per ref of an array, for the same ids in the same order.
func checkClientSchema(t *testing.T, reqBody, respBody string) {
	t.Helper()
	var req struct {
		Items []struct {
			ID          string          `json:"id"`
			ResourceRef json.RawMessage `json:"resourceRef"`
		} `json:"items"`
	}
	var resp struct {
		Items []map[string]json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal([]byte(reqBody), &req); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(respBody), &resp); err != nil || len(resp.Items) != len(req.Items) {
		t.Fatalf("answer %s for %d items", respBody, len(req.Items))
	}
	for i, it := range resp.Items {
		var id string
		if len(it) != 2 || json.Unmarshal(it["id"], &id) != nil || id != req.Items[i].ID {
			t.Fatalf("item %d: %v, want {id: %q, result}", i, it, req.Items[i].ID)
		}
		var refs []string
		if json.Unmarshal(req.Items[i].ResourceRef, &refs) == nil {
			var res []Result
			if json.Unmarshal(it["result"], &res) != nil || len(res) != len(refs) {
				t.Fatalf("item %d: result %s for %d refs", i, it["result"], len(refs))
			}
			for _, r := range res {
				if r != Allow && r != Deny {
					t.Fatalf("item %d: %s", i, r)
				}
			}
			continue
		}
		var r Result
		if json.Unmarshal(it["result"], &r) != nil || (r != Allow && r != Deny) {
			t.Fatalf("item %d: result %s", i, it["result"])
		}
	}
}

// The refs of arrays count against MaxItems, as /authorize counts them;
// beyond it the batch is refused before anything is loaded.
func TestApplyConditionsRefsCountAgainstMaxItems(t *testing.T) {
	refs := func(n int) string {
		var b strings.Builder
		b.WriteString("[")
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`"default:test/r-` + string(rune('a'+i)) + `"`)
		}
		return b.String() + "]"
	}
	for _, tt := range []struct {
		name, items string
		status      int
	}{
		{"5 refs in one array", item("a", refs(5), rule1), 200},
		{"6 refs in one array", item("a", refs(6), rule1), 400},
		{"3 and 3", item("a", refs(3), rule1) + "," + item("b", refs(3), rule1), 400},
		{"4 refs and a single one", item("a", refs(4), rule1) + "," + item("b", `"default:test/r-z"`, rule1), 200},
		{"5 refs and a single one", item("a", refs(5), rule1) + "," + item("b", `"default:test/r-z"`, rule1), 400},
	} {
		e := newApplyEnv(5)
		status, got := e.post(t, `{"items":[`+tt.items+`]}`)
		if status != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, status, tt.status, got)
		}
		if status == 400 && (len(e.l1.calls) != 0 || !strings.Contains(got, "more than 5 checks")) {
			t.Errorf("%s: %s after %d loader calls", tt.name, got, len(e.l1.calls))
		}
	}
}

// A tree the Authorizer cannot evaluate is refused whatever the refs of
// an array (existing, missing or both), before anything is loaded, with
// the same answer: the refusal tells nothing about which refs exist. A
// tree it can evaluate is evaluated in full for each ref (no
// short-circuit), so a rule without CheckParams that fails on its params
// fails the batch whether or not an earlier branch decided.
func TestApplyConditionsArraysLeakNoExistence(t *testing.T) {
	unknown := `{"allOf":[` + rule1 + `,{"rule":"NOPE","resourceType":"test-resource"}]}`
	badParam := `{"anyOf":[` + rule1 + `,{"rule":"test-rule-1","resourceType":"test-resource","params":{"foo":1,"bar":1}}]}`
	var first string
	for _, refs := range []string{`["resource:1"]`, `["resource:2"]`, `["resource:1","resource:2"]`, `["default:test/missing-resource","resource:1"]`} {
		for _, c := range []string{unknown, badParam} {
			e := newApplyEnv(0)
			status, got := e.post(t, `{"items":[`+item("a", refs, c)+`]}`)
			if status != 400 || len(e.l1.calls) != 0 {
				t.Errorf("%s %s: %d %s after %d loads", refs, c, status, got, len(e.l1.calls))
			}
			if c == unknown {
				if first == "" {
					first = got
				} else if got != first {
					t.Errorf("the answer depends on the refs: %s vs %s", got, first)
				}
			}
		}
	}
	// A rule without CheckParams that errors when applied: every branch is
	// evaluated, so the batch fails even though test-rule-1 decided anyOf.
	rules := backstageRules().With(RuleDef{Name: "late", ResourceType: "test-resource", Params: []string{"x"},
		Apply: func(any, map[string]any) (bool, error) { return false, errors.New("x must be a string") }})
	l := &refLoader{missing: map[string]bool{"resource:2": true}}
	a := NewAuthorizer(applyOnly, &AuthorizerOptions{Rules: rules, Loaders: map[string]ResourceLoader{"test-resource": l}})
	c := &Criteria{}
	if err := json.Unmarshal([]byte(`{"anyOf":[`+rule1+`,{"rule":"late","resourceType":"test-resource","params":{"x":1}}]}`), c); err != nil {
		t.Fatal(err)
	}
	_, err := a.ApplyConditions(context.Background(), []ApplyItem{{ID: "a", ResourceRefs: []string{"resource:1", "resource:2"}, ResourceType: "test-resource", Conditions: c}})
	if errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("a rule failing on an existing resource: %v", err)
	}
}

func TestApplyItemJSON(t *testing.T) {
	for _, tt := range []struct {
		in, out string
		want    ApplyItem
	}{
		{`{"id":"1","resourceRef":"r","resourceType":"t","conditions":` + rule2 + `}`, "",
			ApplyItem{ID: "1", ResourceRef: "r", ResourceType: "t", Conditions: Rule("test-resource", "test-rule-2", nil)}},
		{`{"id":"1","resourceRef":["r","s"],"resourceType":"t","conditions":` + rule2 + `,"result":"CONDITIONAL","pluginId":"p"}`,
			`{"id":"1","resourceRef":["r","s"],"resourceType":"t","conditions":` + rule2 + `}`,
			ApplyItem{ID: "1", ResourceRefs: []string{"r", "s"}, ResourceType: "t", Conditions: Rule("test-resource", "test-rule-2", nil)}},
	} {
		var got ApplyItem
		if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %+v", tt.in, got)
		}
		b, _ := json.Marshal(got)
		if want := cmpOr(tt.out, tt.in); string(b) != want {
			t.Errorf("marshal: %s, want %s", b, want)
		}
	}
	for _, r := range []ApplyResult{{ID: "1", Result: Allow}, {ID: "2", Results: []Result{Deny, Allow}}} {
		b, _ := json.Marshal(r)
		var back ApplyResult
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, r) {
			t.Errorf("%s read back as %+v (%v)", b, back, err)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// FuzzApplyConditionsBody: whatever the body, the handler answers 200
// in the shape the permission backend parses, or a 4xx with Backstage's
// error body; never a 5xx or a panic.
func FuzzApplyConditionsBody(f *testing.F) {
	f.Add(`{"items":[` + item("a", `["resource:1","resource:2"]`, rule1) + `,` + item("b", `"resource:1"`, rule2) + `]}`)
	f.Add(`{"items":[{"conditions":` + rule1 + `,"id":"123","pluginId":"p","resourceRef":["resource:1"],"resourceType":"test-resource","result":"CONDITIONAL"}]}`)
	f.Add(`{"items":[` + item("a", `[]`, rule1) + `]}`)
	e := newApplyEnv(50)
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		switch {
		case rec.Code == 200:
			checkClientSchema(t, body, rec.Body.String())
		case rec.Code/100 == 4:
			var eb struct {
				Error    struct{ Name, Message string }
				Response struct{ StatusCode int }
			}
			if json.Unmarshal(rec.Body.Bytes(), &eb) != nil || eb.Error.Name == "" || eb.Response.StatusCode != rec.Code {
				t.Fatalf("error body %s", rec.Body)
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
	})
}

// backstagePolicy answers as the policy mocks of Backstage's router tests:
// test.permission1 (on test-resource) is CONDITIONAL on test-rule-1 for
// plugin test-plugin; a resource permission on another type CONDITIONAL
// for that type (which the Authorizer refuses); anything else DENY.
var backstagePolicy = PolicyFunc(func(_ context.Context, q Query, _ *identity.User) (Decision, error) {
	switch {
	case q.Permission.Name == "test.permission1" && q.Permission.IsResource():
		return Decision{Result: Conditional, PluginID: "test-plugin", ResourceType: "test-resource",
			Conditions: Rule("test-resource", "test-rule-1", map[string]any{"foo": "a", "bar": 1.0})}, nil
	case q.Permission.Name == "test.wrong-type":
		return Decision{Result: Conditional, PluginID: "test-plugin", ResourceType: "test-resource-2",
			Conditions: Rule("test-resource-2", "test-rule-1", nil)}, nil
	}
	return Decision{Result: Deny}, nil
})

func TestAuthorizeBackstageBodies(t *testing.T) {
	l := &refLoader{missing: map[string]bool{"resource:2": true}}
	a := NewAuthorizer(backstagePolicy, &AuthorizerOptions{Rules: backstageRules(), Loaders: map[string]ResourceLoader{"test-resource": l}})
	// No token is Backstage's "none" principal; "obo" a user token issued
	// by a service (a plugin acting on the user's behalf).
	h := Handler(a, func(r *http.Request) (identity.Principal, error) {
		if r.Header.Get("Authorization") == "Bearer obo" {
			return identity.Principal{User: alice, Service: "plugin:some-service"}, nil
		}
		return identity.Principal{}, nil
	})
	post := func(auth, body string) (int, string) {
		req := httptest.NewRequest(http.MethodPost, "/api/permission/authorize", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, strings.TrimSpace(rec.Body.String())
	}
	const res1 = `{"type":"resource","name":"test.permission1","attributes":{},"resourceType":"test-resource"}`
	const basic2 = `{"type":"basic","name":"test.permission2","attributes":{}}`
	tests := []struct {
		name, auth, body string
		status           int
		want, match      string
	}{
		{"basic permissions", "", `{"items":[{"id":"123","permission":{"type":"basic","name":"test.permission1","attributes":{}}},{"id":"234","permission":` + basic2 + `}]}`,
			200, `{"items":[{"id":"123","result":"DENY"},{"id":"234","result":"DENY"}]}`, ""},
		{"batched resourceRef as an array", "", `{"items":[{"id":"123","permission":` + res1 + `,"resourceRef":["resource:1","resource:2"]},{"id":"234","permission":` + basic2 + `}]}`,
			200, `{"items":[{"id":"123","result":["ALLOW","DENY"]},{"id":"234","result":"DENY"}]}`, ""},
		{"conditions without a resourceRef, for a service acting for a user", "Bearer obo", `{"items":[{"id":"123","permission":` + res1 + `}]}`,
			200, `{"items":[{"id":"123","result":"CONDITIONAL","pluginId":"test-plugin","resourceType":"test-resource","conditions":{"rule":"test-rule-1","resourceType":"test-resource","params":{"foo":"a","bar":1}}}]}`, ""},
		{"no resourceRef from credentials not issued by a service", "", `{"items":[{"id":"123","permission":` + res1 + `}]}`,
			400, "", `(?i)Resource permissions require a resourceRef to be set`},
		// Backstage answers 500 with the policy's fault in the message;
		// here the message says nothing of the policy.
		{"a policy answering for another resource type", "", `{"items":[{"id":"123","permission":{"type":"resource","name":"test.wrong-type","attributes":{},"resourceType":"test-resource"},"resourceRef":"resource:1"}]}`,
			500, "", `"name":"Error"`},
	}
	// Backstage's "returns a 400 error for invalid request" bodies.
	for i, body := range []string{
		``, `""`, `{}`, `[{"permission":{"type":"basic","name":"test.permission","attributes":{}}}]`,
		`{"items":[{"permission":{"type":"basic","name":"test.permission","attributes":{}}}]}`,
		`{"items":[{"id":"123"}]}`, `{"items":[{"id":"123","permission":{"name":"test.permission","attributes":{}}}]}`,
		`{"items":[{"id":"123","permission":{"type":"basic","attributes":{}}}]}`, `{"items":[{"id":"123","permission":{"type":"basic"}}]}`,
		`{"items":[{"id":"123","permission":{"attributes":{"invalid":"attribute"}}}]}`,
		`{"items":[{"id":"123","resourceRef":"resource:1","permission":{"type":"basic","name":"test.permission","attributes":{}}}]}`,
		`{"items":[{"id":"123","resourceRef":["resource:1"],"permission":{"type":"basic","name":"test.permission","attributes":{}}}]}`,
		`{"items":[{"id":"123","resourceRef":[],"permission":{"type":"resource","name":"test.permission","attributes":{},"resourceType":"test-resource-1"}}]}`,
	} {
		tests = append(tests, struct {
			name, auth, body string
			status           int
			want, match      string
		}{"invalid request " + string(rune('a'+i)), "Bearer obo", body, 400, "", `"name":"InputError"`})
	}
	for _, tt := range tests {
		status, got := post(tt.auth, tt.body)
		if status != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, status, tt.status, got)
			continue
		}
		if tt.want != "" && !sameJSON(t, got, tt.want) {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.name, got, tt.want)
		}
		if tt.match != "" && !regexp.MustCompile(tt.match).MatchString(got) {
			t.Errorf("%s: %s does not match %s", tt.name, got, tt.match)
		}
		if status != 200 && !strings.Contains(got, `"response":{"statusCode":`) {
			t.Errorf("%s: error body without response.statusCode: %s", tt.name, got)
		}
	}
}

// Every error of every handler has the body a Backstage client parses
// (parseErrorResponseBody takes a JSON body only when it has both error
// and response; any other is reported as a generic Error).
func TestErrorBodiesAreBackstages(t *testing.T) {
	a := NewAuthorizer(&ownerPolicy{}, nil)
	fail := errcode.New(errcode.Unauthorized, "test", "no")
	handlers := map[string]http.Handler{
		"authorize": Handler(a, func(*http.Request) (identity.Principal, error) { return identity.Principal{}, fail }),
		"by-name":   ByNameHandler(a, func(*http.Request) (identity.Principal, error) { return identity.Principal{}, fail }, nil),
		"apply":     ApplyConditionsHandler(a, func(*http.Request) error { return fail }),
		"metadata":  MetadataHandler(CatalogRules().Metadata(), func(*http.Request) error { return fail }),
		"require":   Require(a, MustKnown(CatalogEntityCreate), func(*http.Request) (identity.Principal, error) { return identity.Principal{}, fail }, false)(http.NotFoundHandler()),
	}
	for name, h := range handlers {
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut} {
			req := httptest.NewRequest(method, "/", strings.NewReader(`{"items":[]}`))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var body map[string]map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("%s %s: %d %q %s", name, method, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
			if rec.Code < 400 || body["error"]["name"] == nil || body["error"]["message"] == nil || body["response"]["statusCode"] != float64(rec.Code) {
				t.Errorf("%s %s: %d %s", name, method, rec.Code, rec.Body)
			}
			// Backstage's NotAllowedError is a 403 (a refusal); a client
			// must not read a wrong method as one.
			if rec.Code != http.StatusForbidden && body["error"]["name"] == "NotAllowedError" {
				t.Errorf("%s %s: %d named NotAllowedError", name, method, rec.Code)
			}
		}
	}
}

func TestMetadataBackstageShape(t *testing.T) {
	testPermission := Permission{Type: Basic, Name: "test.permission", Attributes: Attributes{}}
	md := NewRules(backstageRules().List()[:2]...).Metadata(testPermission)
	b, _ := json.Marshal(md)
	const want = `{"permissions":[{"type":"basic","name":"test.permission","attributes":{}}],"rules":[
		{"name":"test-rule-1","description":"Test rule 1","resourceType":"test-resource","paramsSchema":{
			"$schema":"http://json-schema.org/draft-07/schema#","additionalProperties":false,
			"properties":{"foo":{"type":"string"},"bar":{"description":"bar","type":"number"}},"required":["foo","bar"],"type":"object"}},
		{"name":"test-rule-2","description":"Test rule 2","resourceType":"test-resource","paramsSchema":{
			"$schema":"http://json-schema.org/draft-07/schema#","additionalProperties":false,"properties":{},"type":"object"}}]}`
	if !sameJSON(t, string(b), want) {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	// The catalog's rules, as the catalog serves them (the RBAC plugin
	// builds its conditions form from these).
	b, _ = json.Marshal(CatalogRules().Metadata())
	var cat struct {
		Permissions []Permission
		Rules       []json.RawMessage
	}
	if err := json.Unmarshal(b, &cat); err != nil || cat.Permissions == nil || len(cat.Rules) != 6 {
		t.Fatalf("catalog metadata %s", b)
	}
	for _, w := range []string{
		`{"name":"HAS_ANNOTATION","description":"Allow entities with the specified annotation","resourceType":"catalog-entity","paramsSchema":{"type":"object","properties":{"annotation":{"type":"string","description":"Name of the annotation to match on"},"value":{"type":"string","description":"Value of the annotation to match on"}},"required":["annotation"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}}`,
		`{"name":"HAS_LABEL","description":"Allow entities with the specified label","resourceType":"catalog-entity","paramsSchema":{"type":"object","properties":{"label":{"type":"string","description":"Name of the label to match on"}},"required":["label"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}}`,
		`{"name":"HAS_METADATA","description":"Allow entities with the specified metadata subfield","resourceType":"catalog-entity","paramsSchema":{"type":"object","properties":{"key":{"type":"string","description":"Property within the entities metadata to match on"},"value":{"type":"string","description":"Value of the given property to match on"}},"required":["key"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}}`,
		`{"name":"HAS_SPEC","description":"Allow entities with the specified spec subfield","resourceType":"catalog-entity","paramsSchema":{"type":"object","properties":{"key":{"type":"string","description":"Property within the entities spec to match on"},"value":{"type":"string","description":"Value of the given property to match on"}},"required":["key"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}}`,
		`{"name":"IS_ENTITY_KIND","description":"Allow entities matching a specified kind","resourceType":"catalog-entity","paramsSchema":{"type":"object","properties":{"kinds":{"type":"array","items":{"type":"string"},"description":"List of kinds to match at least one of"}},"required":["kinds"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}}`,
		`{"name":"IS_ENTITY_OWNER","description":"Allow entities owned by a specified claim","resourceType":"catalog-entity","paramsSchema":{"type":"object","properties":{"claims":{"type":"array","items":{"type":"string"},"description":"List of claims to match at least one on within ownedBy"}},"required":["claims"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}}`,
	} {
		if !slices.ContainsFunc(cat.Rules, func(r json.RawMessage) bool { return sameJSON(t, string(r), w) }) {
			t.Errorf("catalog metadata %s\nlacks %s", b, w)
		}
	}
	// The metadata shares nothing with the rules: changing one schema
	// changes no other.
	md.Rules[0].ParamsSchema.(map[string]any)["properties"].(map[string]any)["foo"].(map[string]any)["type"] = "number"
	if s := backstageRules().List()[0].ParamSchemas["foo"]["type"]; s != "string" {
		t.Errorf("rule schema changed to %v", s)
	}
}

func TestMetadataHandler(t *testing.T) {
	md := CatalogRules().Metadata(MustKnown(CatalogEntityRead), MustKnown(CatalogEntityCreate))
	h := MetadataHandler(md, func(r *http.Request) error {
		if r.Header.Get("Authorization") != "Bearer service" {
			return errcode.New(errcode.Unauthorized, "test", "no token")
		}
		return nil
	})
	get := func(method, auth string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/.well-known/backstage/permissions/metadata", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := get(http.MethodGet, "Bearer service")
	want, _ := json.Marshal(md)
	if rec.Code != 200 || !bytes.Equal(bytes.TrimSpace(rec.Body.Bytes()), want) || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	// The permission backend reads the permissions as Permission objects.
	var got struct{ Permissions []Permission }
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || !reflect.DeepEqual(got.Permissions, []Permission{MustKnown(CatalogEntityRead), MustKnown(CatalogEntityCreate)}) {
		t.Errorf("permissions %+v (%v)", got.Permissions, err)
	}
	if rec := get(http.MethodGet, ""); rec.Code != 401 {
		t.Errorf("no token: %d", rec.Code)
	}
	if rec := get(http.MethodPost, "Bearer service"); rec.Code != 405 || rec.Header().Get("Allow") == "" {
		t.Errorf("POST: %d", rec.Code)
	}
}

// The bodies of Backstage's "POST /authorize/by-name" tests: names are
// hydrated to their registered permissions, unknown names are DENY
// without asking the policy, the order is kept, and the /authorize rules
// hold (a resourceRef for resource permissions from the user herself).
func TestByNameHandlerBackstageBodies(t *testing.T) {
	var mu sync.Mutex
	var asked []Permission
	policy := PolicyFunc(func(_ context.Context, q Query, u *identity.User) (Decision, error) {
		mu.Lock()
		asked = append(asked, q.Permission)
		mu.Unlock()
		switch {
		case u == nil:
			return Decision{Result: Deny}, nil
		case q.Permission.IsResource():
			return Decision{Result: Conditional, PluginID: "catalog", ResourceType: CatalogEntityResourceType,
				Conditions: Rule(CatalogEntityResourceType, IsEntityOwner, map[string]any{"claims": []any{"group:default/team-a"}})}, nil
		}
		return Decision{Result: Allow}, nil
	})
	loader := newLoader(2) // svc-0 is team-a's, svc-1 team-b's
	var logs bytes.Buffer
	a := NewAuthorizer(policy, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: loader},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	registry := map[string]Permission{
		CatalogEntityCreate: MustKnown(CatalogEntityCreate),
		CatalogEntityRead:   MustKnown(CatalogEntityRead),
		"known.basic":       {Type: Basic, Name: "known.basic", Attributes: Attributes{Action: Read}},
	}
	h := ByNameHandler(a, func(*http.Request) (identity.Principal, error) { return identity.Principal{User: alice}, nil },
		func(name string) (Permission, bool) { p, ok := registry[name]; return p, ok })
	for _, tt := range []struct {
		name, body string
		status     int
		want       string
		asked      []Permission
	}{
		{"a basic permission, hydrated with its attributes", `{"items":[{"id":"1","name":"catalog.entity.create"}]}`,
			200, `{"items":[{"id":"1","result":"ALLOW"}]}`, []Permission{MustKnown(CatalogEntityCreate)}},
		{"an unknown name", `{"items":[{"id":"1","name":"unknown.permission"}]}`, 200, `{"items":[{"id":"1","result":"DENY"}]}`, nil},
		{"a resource permission without a ref, from the user herself", `{"items":[{"id":"1","name":"catalog.entity.read"}]}`, 400, "", nil},
		{"a resource permission with a ref, its conditions applied", `{"items":[{"id":"1","name":"catalog.entity.read","resourceRef":"component:default/svc-0"}]}`,
			200, `{"items":[{"id":"1","result":"ALLOW"}]}`, []Permission{MustKnown(CatalogEntityRead)}},
		{"a ref array", `{"items":[{"id":"1","name":"catalog.entity.read","resourceRef":["component:default/svc-1","component:default/svc-0"]}]}`,
			200, `{"items":[{"id":"1","result":["DENY","ALLOW"]}]}`, []Permission{MustKnown(CatalogEntityRead)}},
		{"order kept, known and unknown mixed", `{"items":[{"id":"a","name":"unknown.one"},{"id":"b","name":"known.basic"},{"id":"c","name":"unknown.two"}]}`,
			200, `{"items":[{"id":"a","result":"DENY"},{"id":"b","result":"ALLOW"},{"id":"c","result":"DENY"}]}`, []Permission{registry["known.basic"]}},
		// Backstage's by-name accepts a ref with a basic permission's
		// name (a basic permission is never CONDITIONAL): it is ignored,
		// where /authorize refuses it.
		{"a basic permission with a ref, the ref ignored", `{"items":[{"id":"1","name":"catalog.entity.read","resourceRef":"component:default/svc-0"},{"id":"2","name":"catalog.entity.create","resourceRef":"component:default/svc-1"}]}`,
			200, `{"items":[{"id":"1","result":"ALLOW"},{"id":"2","result":"ALLOW"}]}`, []Permission{MustKnown(CatalogEntityRead), MustKnown(CatalogEntityCreate)}},
		{"a basic permission with a ref array, one result per ref", `{"items":[{"id":"1","name":"catalog.entity.create","resourceRef":["component:default/svc-1","component:default/svc-0"]}]}`,
			200, `{"items":[{"id":"1","result":["ALLOW","ALLOW"]}]}`, []Permission{MustKnown(CatalogEntityCreate)}},
		{"a basic permission with a ref of the wrong type", `{"items":[{"id":"1","name":"catalog.entity.create","resourceRef":42}]}`, 400, "", nil},
		{"a basic permission with an empty ref array", `{"items":[{"id":"1","name":"catalog.entity.create","resourceRef":[]}]}`, 400, "", nil},
		{"an invalid body", `{"items":[{"id":1,"name":42}]}`, 400, "", nil},
		{"a repeated id", `{"items":[{"id":"a","name":"unknown.one"},{"id":"a","name":"known.basic"}]}`, 400, "", nil},
		{"unknown names count against MaxItems", manyUnknown(1001), 400, "", nil},
		{"as many unknown names as MaxItems", manyUnknown(1000), 200, "", nil},
	} {
		asked = nil
		req := httptest.NewRequest(http.MethodPost, "/api/permission/authorize/by-name", strings.NewReader(tt.body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := strings.TrimSpace(rec.Body.String())
		if rec.Code != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, rec.Code, tt.status, got)
			continue
		}
		if tt.want != "" && !sameJSON(t, got, tt.want) {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.name, got, tt.want)
		}
		if tt.status == 400 && !strings.Contains(got, `"name":"InputError"`) || strings.HasPrefix(tt.name, "unknown names count") && !strings.Contains(got, "more than the limit") {
			t.Errorf("%s: %s", tt.name, got)
		}
		if !reflect.DeepEqual(asked, tt.asked) {
			t.Errorf("%s: the policy was asked %+v, want %+v", tt.name, asked, tt.asked)
		}
	}
	if !strings.Contains(logs.String(), "permission=unknown.permission count=1") || strings.Count(logs.String(), "not registered") != 3 {
		t.Errorf("no warning for an unknown name: %s", logs.String())
	}
	// Without a lookup, the names are the catalog's and scaffolder's.
	h = ByNameHandler(a, func(*http.Request) (identity.Principal, error) { return identity.Principal{User: alice}, nil }, nil)
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"items":[{"id":"1","name":"scaffolder.task.create"},{"id":"2","name":"known.basic"}]}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if !sameJSON(t, rec.Body.String(), `{"items":[{"id":"1","result":"ALLOW"},{"id":"2","result":"DENY"}]}`) {
		t.Errorf("default lookup: %s", rec.Body)
	}
}

// manyUnknown is a by-name body of n items with unknown names.
func manyUnknown(n int) string {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"%d","name":"unknown.%d"}`, i, i)
	}
	return b.String() + "]}"
}
