package permission_test

import (
	"context"
	"fmt"
	"log"
	"slices"

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
