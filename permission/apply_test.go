package permission

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
)

// applyOnly is the policy of Authorizers that only apply conditions: it
// is never asked.
var applyOnly = PolicyFunc(func(context.Context, Query, *identity.User) (Decision, error) {
	panic("the policy was asked while applying conditions")
})

func TestApplyConditions(t *testing.T) {
	loader := newLoader(4)
	a := NewAuthorizer(applyOnly, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: loader}})
	owner := Rule(CatalogEntityResourceType, IsEntityOwner, map[string]any{"claims": []any{"group:default/team-a"}})
	items := []ApplyItem{
		{ID: "1", ResourceRef: "component:default/svc-0", ResourceType: CatalogEntityResourceType, Conditions: owner},
		{ID: "2", ResourceRef: "component:default/svc-1", ResourceType: CatalogEntityResourceType, Conditions: owner},
		{ID: "3", ResourceRef: "component:default/svc-0", ResourceType: CatalogEntityResourceType, Conditions: Not(owner)},
		{ID: "4", ResourceRef: "component:default/ghost", ResourceType: CatalogEntityResourceType, Conditions: Not(owner)},
	}
	out, err := a.ApplyConditions(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{Allow, Deny, Deny, Deny}
	for i, r := range out {
		if r.ID != items[i].ID || r.Result != want[i] {
			t.Errorf("item %d: %+v, want %s", i, r, want[i])
		}
	}
	if loader.calls != 1 || loader.loads["component:default/svc-0"] != 1 {
		t.Errorf("loads %v in %d calls", loader.loads, loader.calls)
	}
	bad := [][]ApplyItem{
		nil,
		{{ID: "", ResourceRef: "x", ResourceType: CatalogEntityResourceType, Conditions: owner}},
		{{ID: "1", ResourceType: CatalogEntityResourceType, Conditions: owner}},
		{{ID: "1", ResourceRef: "x", ResourceType: "other", Conditions: owner}},
		{{ID: "1", ResourceRef: "x", ResourceType: CatalogEntityResourceType}},
		{{ID: "1", ResourceRef: "x", ResourceType: CatalogEntityResourceType, Conditions: nest(13)}},
		{{ID: "1", ResourceRef: "component:default/svc-0", ResourceType: CatalogEntityResourceType, Conditions: Rule(CatalogEntityResourceType, "NOPE", nil)}},
	}
	for i, items := range bad {
		if _, err := a.ApplyConditions(context.Background(), items); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("bad %d: %v", i, err)
		}
	}
}

func TestApplyConditionsHandler(t *testing.T) {
	a := NewAuthorizer(applyOnly, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: newLoader(2)}})
	srv := httptest.NewServer(ApplyConditionsHandler(a, func(r *http.Request) error {
		if r.Header.Get("Authorization") == "" {
			return errcode.New(errcode.Unauthorized, "test", "no token")
		}
		return nil
	}))
	defer srv.Close()
	body := `{"items":[{"id":"a","resourceRef":"component:default/svc-1","resourceType":"catalog-entity",
		"conditions":{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["group:default/team-b"]}}}]}`
	for _, tt := range []struct {
		auth, body string
		status     int
		want       string
	}{
		{"Bearer x", body, 200, `{"items":[{"id":"a","result":"ALLOW"}]}`},
		{"", body, 401, ""},
		{"Bearer x", `{"items":[{"id":"a","resourceRef":"r","resourceType":"catalog-entity","conditions":{"allOf":[]}}]}`, 400, ""},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(tt.body))
		req.Header.Set("Content-Type", "application/json")
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != tt.status || (tt.want != "" && string(got) != tt.want) {
			t.Errorf("status %d body %s, want %d %s", resp.StatusCode, got, tt.status, tt.want)
		}
	}
}

func TestRulesMetadata(t *testing.T) {
	md := CatalogRules().Metadata()
	b, _ := json.Marshal(md)
	if len(md.Rules) != 6 || !strings.Contains(string(b), `"name":"IS_ENTITY_OWNER"`) || !strings.Contains(string(b), `"required":["claims"]`) {
		t.Errorf("metadata %s", b)
	}
}

// A nil policy panics at construction, naming the fix, not at the first
// decision; with Disabled it is never asked and is fine.
func TestNewAuthorizerNilPolicy(t *testing.T) {
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "AuthorizerOptions.Disabled") {
				t.Fatalf("NewAuthorizer(nil, nil) recovered %v, want a panic naming Disabled", r)
			}
		}()
		NewAuthorizer(nil, nil)
	}()
	a := NewAuthorizer(nil, &AuthorizerOptions{Disabled: true})
	ok, _, err := a.Allowed(context.Background(), identity.Principal{}, Permission{Name: "catalog.entity.create", Type: Basic}, "")
	if err != nil || !ok {
		t.Fatalf("a disabled authorizer with no policy: %v %v, want allowed", ok, err)
	}
}
