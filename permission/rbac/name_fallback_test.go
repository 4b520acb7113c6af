package rbac

import (
	"context"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/permission"
)

// TestResourceTypeLinesApplyWhenNoneOfHerRolesNamesThePermission: p lines
// naming a resource permission for other roles do not hide the lines of
// her roles for its resource type (Decide's step 5), and those lines still
// answer both ways.
func TestResourceTypeLinesApplyWhenNoneOfHerRolesNamesThePermission(t *testing.T) {
	csv := `p, role:default/deleter, catalog.entity.delete, delete, allow
p, role:default/admin, catalog-entity, delete, allow
p, role:default/no-delete, catalog-entity, delete, deny
g, user:default/a, role:default/deleter
g, user:default/b, role:default/admin
g, user:default/c, role:default/no-delete
`
	f, err := ParseCSV("policy.csv", strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	p, err := New([]*File{f}, &Membership{Users: map[string][]string{"user:default/a": nil, "user:default/b": nil, "user:default/c": nil}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user string
		want permission.Result
		rule string
	}{
		{"user:default/a", permission.Allow, "p, role:default/deleter, catalog.entity.delete, delete, allow"},
		{"user:default/b", permission.Allow, "p, role:default/admin, catalog-entity, delete, allow"},
		{"user:default/c", permission.Deny, "p, role:default/no-delete, catalog-entity, delete, deny"},
	} {
		d, err := p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityDelete)}, user(tc.user))
		if err != nil || d.Result != tc.want || d.Reason.Rule != tc.rule {
			t.Errorf("%s: %s by %q, %v; want %s by %q", tc.user, d.Result, d.Reason.Rule, err, tc.want, tc.rule)
		}
	}
}
