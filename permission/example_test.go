package permission_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"

	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/permission"
	"github.com/scmkit/scmkit/scm/catalog"
)

// A policy making every catalog-entity permission conditional on
// ownership, and an Authorizer that evaluates the condition against the
// entity it loads.
func ExampleAuthorizer() {
	policy := permission.PolicyFunc(func(_ context.Context, q permission.Query, u *identity.User) (permission.Decision, error) {
		if u == nil || q.Permission.ResourceType != permission.CatalogEntityResourceType {
			return permission.Decision{Result: permission.Deny}, nil
		}
		claims := make([]any, len(u.OwnershipEntityRefs))
		for i, r := range u.OwnershipEntityRefs {
			claims[i] = r
		}
		return permission.Decision{Result: permission.Conditional, PluginID: "catalog", ResourceType: permission.CatalogEntityResourceType,
			Conditions: permission.Rule(permission.CatalogEntityResourceType, permission.IsEntityOwner, map[string]any{"claims": claims})}, nil
	})
	entities := map[string]any{
		"component:default/payments": &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "payments"}, Spec: map[string]any{"owner": "team-a"}},
		"component:default/search":   &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "search"}, Spec: map[string]any{"owner": "team-b"}},
	}
	loader := permission.LoaderFunc(func(_ context.Context, refs []string) (map[string]any, error) {
		out := map[string]any{}
		for _, r := range refs {
			if e, ok := entities[r]; ok {
				out[r] = e
			}
		}
		return out, nil
	})
	authz := permission.NewAuthorizer(policy, &permission.AuthorizerOptions{
		Loaders: map[string]permission.ResourceLoader{permission.CatalogEntityResourceType: loader},
	})
	alice := identity.Principal{User: &identity.User{EntityRef: "user:default/alice",
		OwnershipEntityRefs: []string{"user:default/alice", "group:default/team-a"}}}
	del := permission.MustKnown(permission.CatalogEntityDelete)
	answers, err := authz.Authorize(context.Background(), alice, []permission.Item{
		{ID: "1", Permission: del, ResourceRef: "component:default/payments"},
		{ID: "2", Permission: del, ResourceRef: "component:default/search"},
		{ID: "3", Permission: del, ResourceRef: "component:default/missing"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range answers {
		fmt.Println(a.ID, a.Result)
	}
	// Output:
	// 1 ALLOW
	// 2 DENY
	// 3 DENY
}

// Enforce a rule in an embedding server: ask before the action. Here a
// policy lets members of group:default/platform create catalog entities.
func ExampleAuthorizer_Allowed() {
	policy := permission.PolicyFunc(func(_ context.Context, q permission.Query, u *identity.User) (permission.Decision, error) {
		if q.Permission.Name == permission.CatalogEntityCreate && u != nil && slices.Contains(u.OwnershipEntityRefs, "group:default/platform") {
			return permission.Decision{Result: permission.Allow, Reason: permission.Reason{Policy: "example", Summary: "platform members create entities"}}, nil
		}
		return permission.Decision{Result: permission.Deny, Reason: permission.Reason{Policy: "example", Summary: "only platform members create entities"}}, nil
	})
	authz := permission.NewAuthorizer(policy, nil)
	ctx := context.Background()

	for _, u := range []*identity.User{
		{EntityRef: "user:default/alice", OwnershipEntityRefs: []string{"user:default/alice", "group:default/platform"}},
		{EntityRef: "user:default/bob", OwnershipEntityRefs: []string{"user:default/bob"}},
	} {
		ok, why, err := authz.Allowed(ctx, identity.Principal{User: u},
			permission.MustKnown(permission.CatalogEntityCreate), "")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(u.EntityRef, ok, why.Summary)
	}
	// Output:
	// user:default/alice true platform members create entities
	// user:default/bob false only platform members create entities
}

// A plugin serving the catalog's permission integration: the metadata the
// permission backend and the RBAC plugin read, and apply-conditions, whose
// items from a batched /authorize carry an array of refs and are answered
// with one result per ref, in order. Every ref is loaded in one call.
func ExampleApplyConditionsHandler() {
	entities := map[string]any{
		"component:default/payments": &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "payments"}, Spec: map[string]any{"owner": "team-a"}},
		"component:default/search":   &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "search"}, Spec: map[string]any{"owner": "team-b"}},
	}
	loader := permission.LoaderFunc(func(_ context.Context, refs []string) (map[string]any, error) {
		fmt.Println("loading", refs)
		out := map[string]any{}
		for _, r := range refs {
			if e, ok := entities[r]; ok {
				out[r] = e
			}
		}
		return out, nil
	})
	// The plugin applies conditions only: its policy is never asked.
	authz := permission.NewAuthorizer(permission.Static(permission.Decision{Result: permission.Deny}), &permission.AuthorizerOptions{
		Loaders: map[string]permission.ResourceLoader{permission.CatalogEntityResourceType: loader},
	})
	// who would verify the permission backend's token (identity.PluginVerifier).
	who := func(*http.Request) error { return nil }
	mux := http.NewServeMux()
	mux.Handle("/api/catalog/.well-known/backstage/permissions/apply-conditions", permission.ApplyConditionsHandler(authz, who))
	mux.Handle("/api/catalog/.well-known/backstage/permissions/metadata", permission.MetadataHandler(
		permission.CatalogRules().Metadata(permission.MustKnown(permission.CatalogEntityRead)), who))

	body := `{"items":[{"id":"1","resourceType":"catalog-entity","result":"CONDITIONAL","pluginId":"catalog",
		"resourceRef":["component:default/payments","component:default/search","component:default/gone"],
		"conditions":{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["group:default/team-a"]}}}]}`
	req := httptest.NewRequest(http.MethodPost, "/api/catalog/.well-known/backstage/permissions/apply-conditions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Print(rec.Code, " ", rec.Body)
	// Output:
	// loading [component:default/payments component:default/search component:default/gone]
	// 200 {"items":[{"id":"1","result":["ALLOW","DENY","DENY"]}]}
}

// Catalog entities held in memory as a loader: the values are
// *catalog.Entity, which the catalog rules evaluate.
func ExampleMapLoader() {
	entities := permission.MapLoader{
		"component:default/payments": &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "payments"}, Spec: map[string]any{"owner": "team-a"}},
	}
	ownerOnly := permission.PolicyFunc(func(_ context.Context, q permission.Query, u *identity.User) (permission.Decision, error) {
		return permission.Decision{Result: permission.Conditional, PluginID: "catalog", ResourceType: permission.CatalogEntityResourceType,
			Conditions: permission.Rule(permission.CatalogEntityResourceType, permission.IsEntityOwner, map[string]any{"claims": []any{"group:default/team-a"}})}, nil
	})
	authz := permission.NewAuthorizer(ownerOnly, &permission.AuthorizerOptions{
		Loaders: map[string]permission.ResourceLoader{permission.CatalogEntityResourceType: entities},
	})
	alice := identity.Principal{User: &identity.User{EntityRef: "user:default/alice"}}
	for _, ref := range []string{"component:default/payments", "component:default/missing"} {
		ok, _, err := authz.Allowed(context.Background(), alice, permission.MustKnown(permission.CatalogEntityDelete), ref)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ref, ok)
	}
	// Output:
	// component:default/payments true
	// component:default/missing false
}

// A portal that accepts the scaffolder's calls on a user's behalf (its
// plugin id in identity.PluginVerifierOptions.AllowedPlugins) without
// letting it act as itself with every right: only the catalog may.
func ExampleAllowServices() {
	policy := permission.Static(permission.Decision{Result: permission.Deny, Reason: permission.Reason{Policy: "static", Summary: "the user's policy denies"}})
	authz := permission.NewAuthorizer(policy, &permission.AuthorizerOptions{
		ServicePolicy: permission.AllowServices("plugin:catalog"),
	})
	create := permission.MustKnown(permission.CatalogEntityCreate)
	for _, who := range []identity.Principal{
		{Service: "plugin:catalog"},
		{Service: "plugin:scaffolder"},
		{Service: "plugin:scaffolder", User: &identity.User{EntityRef: "user:default/alice"}}, // decided by policy, as alice
	} {
		ok, why, err := authz.Allowed(context.Background(), who, create, "")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(who, ok, "-", why.Summary)
	}
	// Output:
	// plugin:catalog true - plugin:catalog is allowed everything (AllowServices)
	// plugin:scaffolder false - plugin:scaffolder acting as itself is not in AllowServices
	// plugin:scaffolder on behalf of user:default/alice false - the user's policy denies
}
