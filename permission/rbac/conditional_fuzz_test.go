package rbac

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scmkit/scmkit/errcode"
)

// FuzzParseConditional: a conditional policies file (the RBAC plugin's
// YAML, also what its REST API accepts) parses whole or not at all. A
// refusal is an InvalidArgument *errcode.Error and no policy; what is
// accepted has a role ref in normal form, and writes back as JSON (one
// document per line) that parses to the same policies.
func FuzzParseConditional(f *testing.F) {
	if b, err := os.ReadFile("testdata/conditional.yaml"); err == nil {
		f.Add(string(b))
	}
	ok := "result: CONDITIONAL\nroleEntityRef: Role:A\npluginId: catalog\nresourceType: catalog-entity\npermissionMapping: [read]\n"
	f.Add(ok + "conditions: {rule: IS_ENTITY_OWNER, resourceType: catalog-entity, params: {claims: [$currentUser]}}\n")
	f.Add(ok + "conditions: {not: {allOf: [{rule: HAS_LABEL, resourceType: catalog-entity, params: {label: x}}]}}\n---\n")
	f.Add(`{"result":"CONDITIONAL","roleEntityRef":"role:default/a","pluginId":"catalog","resourceType":"catalog-entity","permissionMapping":["read"],"conditions":{"anyOf":[]}}`)
	f.Add("a: &a [*a, *a]\nb: *a\n")
	f.Fuzz(func(t *testing.T, doc string) {
		cps, err := ParseConditional("c.yaml", strings.NewReader(doc))
		if err != nil {
			var e *errcode.Error
			if !errors.As(err, &e) || e.Code != errcode.InvalidArgument || cps != nil {
				t.Fatalf("ParseConditional = %d policies, %v (%T); want none and InvalidArgument", len(cps), err, err)
			}
			return
		}
		var out bytes.Buffer
		for _, cp := range cps {
			if !strings.HasPrefix(cp.RoleEntityRef, "role:") || cp.RoleEntityRef != strings.ToLower(cp.RoleEntityRef) {
				t.Fatalf("role ref %q is not normal", cp.RoleEntityRef)
			}
			b, err := json.Marshal(cp)
			if err != nil {
				t.Fatalf("marshal %+v: %v", cp, err)
			}
			out.Write(b)
			out.WriteString("\n---\n")
		}
		again, err := ParseConditional("c.yaml", &out)
		if err != nil {
			t.Fatalf("the accepted policies, written back, do not parse: %v\n%s", err, out.String())
		}
		if diff := cmp.Diff(cps, again, cmpopts.IgnoreFields(ConditionalPolicy{}, "Source"), cmp.AllowUnexported(ConditionalPolicy{}), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
