package permission

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
)

// TestZeroAuthorizer: an Authorizer not made by NewAuthorizer says so,
// on every entry point, instead of "1 items, more than the limit of 0".
func TestZeroAuthorizer(t *testing.T) {
	var a Authorizer
	p := MustKnown("catalog.entity.create")
	want := func(what string, err error) {
		t.Helper()
		if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "NewAuthorizer") {
			t.Errorf("%s = %v; want InvalidArgument naming NewAuthorizer", what, err)
		}
	}
	_, err := a.Authorize(t.Context(), identity.Principal{}, []Item{{ID: "1", Permission: p}})
	want("Authorize", err)
	_, _, err = a.Allowed(t.Context(), identity.Principal{}, p, "")
	want("Allowed", err)
	_, err = a.ApplyConditions(t.Context(), []ApplyItem{{ID: "1", ResourceRef: "component:default/a", ResourceType: "catalog-entity"}})
	want("ApplyConditions", err)

	who := func(*http.Request) (identity.Principal, error) { return identity.Principal{}, nil }
	body := `{"items":[{"id":"1","permission":{"type":"basic","name":"catalog.entity.create","attributes":{"action":"create"}}}]}`
	for name, h := range map[string]http.Handler{"Handler": Handler(&a, who), "ByNameHandler": ByNameHandler(&a, who, nil)} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(rec, req)
		if rec.Code < 400 || rec.Code >= 500 || !strings.Contains(rec.Body.String(), "NewAuthorizer") {
			t.Errorf("%s answered %d %q; want a 4xx naming NewAuthorizer", name, rec.Code, rec.Body.String())
		}
	}
}
