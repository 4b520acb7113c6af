package permission

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/identity"
)

func TestRequire(t *testing.T) {
	a := NewAuthorizer(&ownerPolicy{}, nil)
	who := func(r *http.Request) (identity.Principal, error) {
		switch r.Header.Get("X-User") {
		case "":
			return identity.Principal{}, errors.New("no session")
		case "alice":
			return identity.Principal{User: alice}, nil
		}
		return identity.Principal{User: &identity.User{EntityRef: "user:default/" + r.Header.Get("X-User")}}, nil
	}
	registered := 0
	h := Require(a, MustKnown(CatalogEntityCreate), who, true)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		registered++
		w.WriteHeader(http.StatusCreated)
	}))
	for _, tt := range []struct {
		user       string
		status     int
		registered int
	}{
		{"alice", 201, 1},
		{"bob", 403, 1},
		{"", 401, 1},
	} {
		r := httptest.NewRequest(http.MethodPost, "/register", nil)
		if tt.user != "" {
			r.Header.Set("X-User", tt.user)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.status || registered != tt.registered {
			t.Errorf("%q: status %d, registered %d; want %d, %d", tt.user, w.Code, registered, tt.status, tt.registered)
		}
		if tt.status == 403 && !strings.Contains(w.Header().Get("X-Permission-Reason"), "test") {
			t.Errorf("no reason header: %v", w.Header())
		}
	}
	// A failing policy denies; an erroring authorizer answers 500 and
	// does not run the handler.
	broken := NewAuthorizer(Static(Decision{Result: "MAYBE"}), nil)
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/register", nil).WithContext(context.Background())
	r.Header.Set("X-User", "alice")
	Require(broken, MustKnown(CatalogEntityCreate), who, false)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { registered++ })).ServeHTTP(w, r)
	if w.Code != 500 || registered != 1 {
		t.Errorf("broken policy: %d, registered %d", w.Code, registered)
	}
}
