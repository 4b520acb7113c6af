package rbac

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/permission"
)

// Entity refs compare as Backstage compares them: case-insensitively, with
// the default kind and namespace filled in. "User:alice" is
// user:default/alice, whether it is the signed-in user's ref, a key of the
// Membership or a group named in it; and two spellings of one user in the
// Membership merge rather than one hiding the other.
func TestRefsWithDefaultKindAndNamespace(t *testing.T) {
	m := &Membership{
		Users: map[string][]string{
			"User:alice":         {"platform-team"},        // group kind by default
			"user:default/bob":   {"Group:team-a"},         // namespace by default
			"user:default/carol": {"group:default/team-a"}, // two spellings of carol:
			"User:Default/Carol": {"group:platform-team"},  // her groups merge
		},
		Parents: map[string][]string{
			"Group:platform-team": {"engineering"},
			"team-a":              {"group:engineering"},
		},
	}
	p := load(t, m, nil)
	tests := []struct {
		name, ref string
		perm      string
		want      permission.Result
	}{
		{"full ref, membership keyed by a short one", "user:default/alice", permission.CatalogEntityCreate, permission.Allow},
		{"short ref of the user", "User:alice", permission.CatalogEntityCreate, permission.Allow},
		{"short ref, inherited role through short parents", "User:Alice", permission.CatalogEntityRead, permission.Allow},
		{"group without namespace", "user:bob", permission.CatalogEntityRead, permission.Allow},
		{"not a member", "user:bob", permission.CatalogEntityCreate, permission.Deny},
		{"merged spellings: first", "user:default/carol", permission.CatalogEntityRead, permission.Allow},
		{"merged spellings: second", "user:default/carol", permission.CatalogEntityCreate, permission.Allow},
		{"another kind is not the user", "group:default/alice", permission.CatalogEntityCreate, permission.Deny},
		{"another namespace is not the user", "user:other/alice", permission.CatalogEntityCreate, permission.Deny},
	}
	for _, tt := range tests {
		d, err := p.Decide(context.Background(), permission.Query{Permission: perm(tt.perm)}, user(tt.ref))
		if err != nil || d.Result != tt.want {
			t.Errorf("%s: %s for %s: %s (%s), %v; want %s", tt.name, tt.perm, tt.ref, d.Result, d.Reason, err, tt.want)
		}
	}
	// A user known only by the CSV's g lines, signed in with a short ref.
	if d, _ := p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityDelete)}, user("User:dave")); d.Result != permission.Allow {
		t.Errorf("dave by a short ref: %s (%s)", d.Result, d.Reason)
	}
	// The token's ownership refs, when trusted, are compared the same way.
	p = load(t, m, &Options{UseOwnershipEntityRefs: true})
	u := &identity.User{EntityRef: "user:default/mallory", OwnershipEntityRefs: []string{"Group:Platform-Team"}}
	if d, _ := p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityCreate)}, u); d.Result != permission.Allow {
		t.Errorf("ownership ref Group:Platform-Team: %s (%s)", d.Result, d.Reason)
	}
}

// $currentUser and $ownerRefs are substituted with the refs in the form
// the catalog writes them (full, lower case), so that a user signed in
// with a short ref ("User:Bob") owns what user:default/bob owns.
func TestConditionalAliasesUseFullRefs(t *testing.T) {
	pf, err := ParseCSV("c.csv", strings.NewReader("g, user:default/bob, role:default/owner\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := New([]*File{pf}, nil, &Options{Conditional: loadConditional(t)})
	if err != nil {
		t.Fatal(err)
	}
	bob := &identity.User{EntityRef: "User:Bob", OwnershipEntityRefs: []string{"User:Bob", "Group:team-a"}}
	d, err := p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityRead)}, bob)
	if err != nil || d.Result != permission.Conditional {
		t.Fatalf("got %+v, %v", d, err)
	}
	got, _ := json.Marshal(d.Conditions)
	for _, want := range []string{`"claims":["user:default/bob","group:default/team-a"]`, `"value":"user:default/bob"`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("conditions %s lack %s", got, want)
		}
	}
}

// FuzzRefKey: a ref's lookup key is stable (the key of a key is itself),
// has a kind and a namespace, and does not depend on case.
func FuzzRefKey(f *testing.F) {
	for _, s := range []string{"user:default/alice", "User:alice", "alice", "group:Other/Team-A", "a/b", "", ":", "x:y:z/w", "İ:k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		k := key(ref, "user")
		if again := key(k, "user"); again != k {
			t.Fatalf("key(%q) = %q, but key(%q) = %q", ref, k, k, again)
		}
		kind, rest, ok := strings.Cut(k, ":")
		if !ok || !strings.Contains(rest, "/") || (!strings.Contains(ref, ":") && kind != "user") {
			t.Fatalf("key(%q) = %q: no kind or namespace", ref, k)
		}
		if up := key(strings.ToUpper(ref), "user"); strings.ToLower(k) == k && up != key(strings.ToLower(strings.ToUpper(ref)), "user") {
			t.Fatalf("key(%q) = %q depends on case", strings.ToUpper(ref), up)
		}
	})
}
