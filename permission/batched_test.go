package permission

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
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
		// Backstage's permission backend takes a non-empty array only.
		{"an empty array", `{"id":"b1","permission":` + read + `,"resourceRef":[]}`, 400, ""},
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

// FuzzHandlerBody: whatever the body, the handler answers 200 with one
// answer per item, the id echoed and, for a resourceRef array, one
// ALLOW or DENY per ref; or a 4xx error; never a 5xx or a panic.
func FuzzHandlerBody(f *testing.F) {
	const read = `{"type":"resource","name":"catalog.entity.read","attributes":{"action":"read"},"resourceType":"catalog-entity"}`
	f.Add(`{"items":[{"id":"a","permission":` + read + `,"resourceRef":["component:default/svc-0","component:default/svc-1"]}]}`)
	f.Add(`{"items":[{"id":"a","permission":` + read + `,"resourceRef":"component:default/svc-0"},{"id":"b","permission":` + read + `,"resourceRef":[]}]}`)
	f.Add(`{"items":[{"id":"a","permission":{"type":"basic","name":"x"},"resourceRef":null}]}`)
	loader := newLoader(2)
	a := NewAuthorizer(&ownerPolicy{}, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: loader}, MaxItems: 50})
	h := Handler(a, func(*http.Request) (identity.Principal, error) { return identity.Principal{User: alice}, nil })
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 || (rec.Code != 200 && rec.Code/100 != 4) {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Code != 200 {
			return
		}
		var in struct {
			Items []struct {
				ID          string          `json:"id"`
				ResourceRef json.RawMessage `json:"resourceRef"`
			} `json:"items"`
		}
		var out struct {
			Items []struct {
				ID     string          `json:"id"`
				Result json.RawMessage `json:"result"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(body), &in); err != nil {
			t.Fatalf("200 for a body that does not decode: %q", body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Items) != len(in.Items) {
			t.Fatalf("answer %s for %q", rec.Body, body)
		}
		for i, it := range in.Items {
			if out.Items[i].ID != it.ID {
				t.Fatalf("item %d: id %q, want %q", i, out.Items[i].ID, it.ID)
			}
			var refs []string
			if json.Unmarshal(it.ResourceRef, &refs) == nil && len(refs) > 0 {
				var res []Result
				if err := json.Unmarshal(out.Items[i].Result, &res); err != nil || len(res) != len(refs) {
					t.Fatalf("item %d: results %s for %d refs", i, out.Items[i].Result, len(refs))
				}
				for _, r := range res {
					if r != Allow && r != Deny {
						t.Fatalf("item %d: result %s", i, r)
					}
				}
			}
		}
	})
}

// An authenticator that cannot decide (its keys cannot be fetched: the
// JWKS, or the Redis behind it, is down) answers 503 with Retry-After,
// not 401: the token may be good, and a client told 401 drops it. A token
// that does not verify is still 401; in every case next is not reached.
func TestHandlersAnswer503WhenAuthenticationIsUnavailable(t *testing.T) {
	a := NewAuthorizer(&ownerPolicy{}, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: newLoader(1)}})
	body := `{"items":[{"id":"a","permission":{"type":"basic","name":"catalog.entity.create","attributes":{"action":"create"}}}]}`
	for _, tt := range []struct {
		name   string
		err    error
		status int
	}{
		{"keys unavailable", errcode.New(errcode.Unavailable, "identity.Verify", "fetching the JWKS"), http.StatusServiceUnavailable},
		{"bad token", errcode.New(errcode.Unauthorized, "identity.Verify", "invalid token"), http.StatusUnauthorized},
		{"plain error", errors.New("no"), http.StatusUnauthorized},
	} {
		reached := false
		next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true })
		for hname, h := range map[string]http.Handler{
			"authorize": Handler(a, func(*http.Request) (identity.Principal, error) { return identity.Principal{}, tt.err }),
			"apply":     ApplyConditionsHandler(a, func(*http.Request) error { return tt.err }),
			"require": Require(a, MustKnown(CatalogEntityCreate), func(*http.Request) (identity.Principal, error) { return identity.Principal{}, tt.err },
				false)(next),
		} {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("%s, %s: status %d, want %d: %s", tt.name, hname, rec.Code, tt.status, rec.Body)
			}
			if tt.status == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
				t.Errorf("%s, %s: no Retry-After", tt.name, hname)
			}
		}
		if reached {
			t.Errorf("%s: next was reached", tt.name)
		}
	}
}
