package permission

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/identity"
)

// A Backstage PermissionClient with
// permission.EXPERIMENTAL_enableBatchedRequests sends one item per
// permission with every ref in an array ("resourceRef": [...], empty for
// a resource permission asked without one) and reads {id, result: [...]},
// one result per ref in order, or {id, result} for an item without refs.
// The handler refused such a body whole (400), so every check of such a
// Backstage backend failed.
func TestHandlerBatchedResourceRefs(t *testing.T) {
	loader := newLoader(4) // svc-0 and svc-2 are team-a's (alice's), svc-1 and svc-3 team-b's
	a := NewAuthorizer(&ownerPolicy{}, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: loader}, MaxItems: 5})
	who := func(r *http.Request) (identity.Principal, error) {
		if r.Header.Get("Authorization") != "Bearer alice" {
			return identity.Principal{}, errors.New("no")
		}
		return identity.Principal{User: alice}, nil
	}
	srv := httptest.NewServer(Handler(a, who))
	defer srv.Close()
	post := func(body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer alice")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, string(v)
	}
	const read = `{"type":"resource","name":"catalog.entity.read","attributes":{"action":"read"},"resourceType":"catalog-entity"}`
	const create = `{"type":"basic","name":"catalog.entity.create","attributes":{"action":"create"}}`
	tests := []struct {
		name, items string
		status      int
		want        string
	}{
		{"refs in an array", `{"id":"b1","permission":` + read + `,"resourceRef":["component:default/svc-0","component:default/svc-1","component:default/missing","component:default/svc-2"]},
			{"id":"b2","permission":` + create + `}`, 200,
			`{"items":[{"id":"b1","result":["ALLOW","DENY","DENY","ALLOW"]},{"id":"b2","result":"ALLOW"}]}`},
		{"a repeated ref answers each time", `{"id":"b1","permission":` + read + `,"resourceRef":["component:default/svc-1","component:default/svc-0","component:default/svc-1"]}`, 200,
			`{"items":[{"id":"b1","result":["DENY","ALLOW","DENY"]}]}`},
		{"an empty array is no ref", `{"id":"b1","permission":` + read + `,"resourceRef":[]}`, 200,
			`{"items":[{"id":"b1","result":"CONDITIONAL","pluginId":"catalog","resourceType":"catalog-entity","conditions":{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["user:default/alice","group:default/team-a"]}}}]}`},
		{"a string ref as before", `{"id":"b1","permission":` + read + `,"resourceRef":"component:default/svc-1"}`, 200,
			`{"items":[{"id":"b1","result":"DENY"}]}`},
		{"refs count against MaxItems", `{"id":"b1","permission":` + read + `,"resourceRef":["a:b/c","a:b/d","a:b/e","a:b/f","a:b/g","a:b/h"]}`, 400, ""},
		{"refs on a basic permission", `{"id":"b1","permission":` + create + `,"resourceRef":["component:default/svc-0"]}`, 400, ""},
		{"an empty ref in the array", `{"id":"b1","permission":` + read + `,"resourceRef":["component:default/svc-0",""]}`, 400, ""},
		{"a ref of the wrong type", `{"id":"b1","permission":` + read + `,"resourceRef":[1]}`, 400, ""},
		{"an object ref", `{"id":"b1","permission":` + read + `,"resourceRef":{}}`, 400, ""},
		{"a repeated id", `{"id":"b1","permission":` + create + `},{"id":"b1","permission":` + create + `}`, 400, ""},
	}
	for _, tt := range tests {
		status, got := post(`{"items":[` + tt.items + `]}`)
		if status != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, status, tt.status, got)
			continue
		}
		if tt.want != "" && got != tt.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.name, got, tt.want)
		}
	}
}
