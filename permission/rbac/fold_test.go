package rbac

import (
	"context"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/permission"
)

// TestNonASCIILookAlikeGetsNoRoles (review 28, finding 7): refs fold ASCII
// case only, as org.Ref.Key does. strings.ToLower("\u212A") (KELVIN SIGN)
// is "k", so a token for user:default/\u212Aate used to hold
// user:default/kate's roles; so did a Membership key spelled so, and a
// group ref in the token's ownership refs.
func TestNonASCIILookAlikeGetsNoRoles(t *testing.T) {
	f, err := ParseCSV("policy.csv", strings.NewReader("p, role:default/admin, catalog-entity, delete, allow\n"+
		"g, user:default/kate, role:default/admin\n"+
		"g, group:default/kitchen, role:default/admin\n"))
	if err != nil {
		t.Fatal(err)
	}
	perm := permission.Permission{Name: "catalog.entity.delete", Type: permission.Resource, ResourceType: "catalog-entity",
		Attributes: permission.Attributes{Action: permission.Delete}}
	for _, tc := range []struct {
		name string
		m    *Membership
		opts *Options
		user *identity.User
	}{
		{"subject", nil, nil, &identity.User{EntityRef: "user:default/\u212Aate", OwnershipEntityRefs: []string{"user:default/\u212Aate"}}},
		{"membership group", &Membership{Users: map[string][]string{"user:default/mallory": {"group:default/\u212Aitchen"}}}, nil,
			&identity.User{EntityRef: "user:default/mallory"}},
		{"ownership ref", nil, &Options{UseOwnershipEntityRefs: true},
			&identity.User{EntityRef: "user:default/mallory", OwnershipEntityRefs: []string{"user:default/mallory", "group:default/\u212Aitchen"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New([]*File{f}, tc.m, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			d, err := p.Decide(context.Background(), permission.Query{Permission: perm}, tc.user)
			if err != nil {
				t.Fatal(err)
			}
			if d.Result == permission.Allow {
				t.Errorf("%q was allowed %s by %q (%s)", tc.user.EntityRef, perm.Name, d.Reason.Binding, d.Reason.Role)
			}
		})
	}
	// ASCII case still folds: KATE is kate.
	p, err := New([]*File{f}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.Decide(context.Background(), permission.Query{Permission: perm}, &identity.User{EntityRef: "User:Default/KATE"})
	if err != nil || d.Result != permission.Allow {
		t.Errorf("User:Default/KATE: %v, %v; want allowed as kate", d.Result, err)
	}
}
