package permission

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/scm/catalog"
)

// TestLoaderWrongTypeIsLoggedOnce: a catalog-entity loader giving
// JSON-shaped maps answered a bare 500 through the handler, the cause
// shown nowhere, and Allowed's error carried two codes ("(InvalidArgument)
// (Unknown)"). The handler now logs the cause through the Authorizer's
// Logger, and the error has one code and says what type the loader must
// give.
func TestLoaderWrongTypeIsLoggedOnce(t *testing.T) {
	var logs bytes.Buffer
	loader := MapLoader{"component:default/web": map[string]any{"kind": "Component", "metadata": map[string]any{"name": "web"}, "spec": map[string]any{"owner": "team-a"}}}
	a := NewAuthorizer(&ownerPolicy{}, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: loader},
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelError}))})
	alice := identity.Principal{User: &identity.User{EntityRef: "user:default/alice", OwnershipEntityRefs: []string{"group:default/team-a"}}}

	_, _, err := a.Allowed(context.Background(), alice, MustKnown(CatalogEntityDelete), "component:default/web")
	if err == nil {
		t.Fatal("a map[string]any resource was evaluated")
	}
	msg := err.Error()
	if strings.Contains(msg, "(InvalidArgument)") || strings.Count(msg, "(Unknown)") != 1 || !strings.Contains(msg, "*catalog.Entity") {
		t.Errorf("error %q: want one code, (Unknown), naming *catalog.Entity", msg)
	}

	srv := httptest.NewServer(Handler(a, func(*http.Request) (identity.Principal, error) { return alice, nil }))
	defer srv.Close()
	body := `{"items":[{"id":"1","permission":{"type":"resource","name":"catalog.entity.delete","attributes":{"action":"delete"},"resourceType":"catalog-entity"},"resourceRef":"component:default/web"}]}`
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}
	if l := logs.String(); !strings.Contains(l, "answered 500") || !strings.Contains(l, "not a catalog entity") || !strings.Contains(l, "user:default/alice") {
		t.Errorf("the handler's 500 was not logged with its cause: %q", l)
	}

	// The same entity as *catalog.Entity through MapLoader: decided.
	good := NewAuthorizer(&ownerPolicy{}, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: MapLoader{
		"component:default/web": &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "web"}, Spec: map[string]any{"owner": "team-a"}}}}})
	for ref, want := range map[string]bool{"component:default/web": true, "component:default/other": false} {
		ok, why, err := good.Allowed(context.Background(), alice, MustKnown(CatalogEntityDelete), ref)
		if err != nil || ok != want {
			t.Errorf("%s: %v (%s), %v; want %v", ref, ok, why, err, want)
		}
	}
}

// TestServicePolicy: a plugin accepted for its on-behalf-of calls was
// allowed everything when it acted as itself, with no way to let a
// policy decide. Without a ServicePolicy that stays Backstage's
// behaviour; with AllowServices only the named services are; a service
// on a user's behalf is decided as the user either way.
func TestServicePolicy(t *testing.T) {
	ctx := context.Background()
	del := MustKnown(CatalogEntityCreate)
	scaffolder := identity.Principal{Service: "plugin:scaffolder"}
	catalogSvc := identity.Principal{Service: "plugin:catalog"}
	onBehalf := identity.Principal{Service: "plugin:scaffolder", User: &identity.User{EntityRef: "user:default/bob"}}

	backstage := NewAuthorizer(&ownerPolicy{}, nil)
	if ok, why, _ := backstage.Allowed(ctx, scaffolder, del, ""); !ok {
		t.Errorf("default: a service acting as itself is denied (%s); Backstage allows it", why)
	}
	a := NewAuthorizer(&ownerPolicy{}, &AuthorizerOptions{ServicePolicy: AllowServices("plugin:catalog")})
	for _, tt := range []struct {
		who  identity.Principal
		want bool
	}{{scaffolder, false}, {catalogSvc, true}, {onBehalf, false}, {identity.Principal{Service: "plugin:scaffolder", User: &identity.User{EntityRef: "user:default/alice"}}, true}} {
		ok, why, err := a.Allowed(ctx, tt.who, del, "")
		if err != nil || ok != tt.want {
			t.Errorf("%s: %v (%s), %v; want %v", tt.who, ok, why, err, tt.want)
		}
	}
	// A ServicePolicyFunc decides per permission; a panic denies.
	perPerm := NewAuthorizer(&ownerPolicy{}, &AuthorizerOptions{ServicePolicy: ServicePolicyFunc(func(_ context.Context, q Query, svc string) (Decision, error) {
		if svc == "plugin:scaffolder" && q.Permission.Name == CatalogEntityRead {
			return Decision{Result: Allow, Reason: Reason{Policy: "test"}}, nil
		}
		if q.Permission.Name == CatalogLocationRead {
			panic("bug")
		}
		return Decision{Result: Deny, Reason: Reason{Policy: "test"}}, nil
	})})
	out, err := perPerm.Authorize(ctx, scaffolder, []Item{{ID: "1", Permission: MustKnown(CatalogEntityRead)}, {ID: "2", Permission: del}, {ID: "3", Permission: MustKnown(CatalogLocationRead)}})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Result != Allow || out[1].Result != Deny || out[2].Result != Deny {
		t.Errorf("per permission: %+v", out)
	}
}

// TestDisabledIsLogged: an Authorizer built Disabled says so once, at
// Warn, when it has a Logger.
func TestDisabledIsLogged(t *testing.T) {
	var logs bytes.Buffer
	NewAuthorizer(nil, &AuthorizerOptions{Disabled: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if l := logs.String(); strings.Count(l, "level=WARN") != 1 || !strings.Contains(l, "every request is allowed") {
		t.Errorf("log %q", l)
	}
}
