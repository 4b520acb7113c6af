package identity

import (
	"context"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org"
)

// Review 28, findings 4 and 5: a catalog user who says which account she is
// (an LDAP DN, a GitLab or GitHub Enterprise instance) is found by name or
// id only by a sign-in of that account. Users without those annotations
// match as in Backstage.
func TestResolvedUserIsTheSignedInAccount(t *testing.T) {
	const ghesA = "ghe-a.example.com"
	snap := &org.Snapshot{
		Users: []org.User{
			u("alice", "alice@corp.example", map[string]string{
				"backstage.io/ldap-dn":           "uid=alice,ou=people,dc=example,dc=com",
				"gitlab.corp.example/user-login": "https://gitlab.corp.example/alice",
			}, "admins"),
			u("bob", "", nil, "admins"),
			u("carol", "", map[string]string{"github.com/user-login": "carol", "github.com/user-id": "MDQ6VXNlcjE=",
				ghesA + "/user-id": "MDQ6VXNlcjE="}, "admins"),
			u("dave", "", map[string]string{"github.com/user-login": "dave", "github.com/user-id": "MDQ6VXNlcjI=",
				"graph.microsoft.com/user-id": "9f1c1a52-0000-4000-8000-000000000002"}, "admins"),
		},
		Groups: []org.Group{g("admins", "")},
	}
	byName := []ResolverConfig{{Resolver: UsernameMatchingUserEntityName}}
	byID := []ResolverConfig{{Resolver: UserIDMatchingUserEntityAnnotation}}
	for _, tc := range []struct {
		name     string
		provider string
		steps    []ResolverConfig
		id       auth.Identity
		wantRef  string
		wantCode errcode.Code
	}{
		// LDAP: another entry with uid=alice (another OU or directory).
		{"ldap: another DN", "ldap", byName, auth.Identity{Provider: "ldap", Login: "alice",
			Subject: "uid=alice,ou=contractors,dc=example,dc=com", DN: "uid=alice,ou=contractors,dc=example,dc=com"}, "", errcode.PermissionDenied},
		{"ldap: no DN", "ldap", byName, auth.Identity{Provider: "ldap", Login: "alice"}, "", errcode.PermissionDenied},
		{"ldap: her DN, spelled otherwise", "ldap", byName, auth.Identity{Provider: "ldap", Login: "alice",
			DN: "UID=alice, OU=People, DC=example, DC=com"}, "user:default/alice", errcode.OK},
		{"ldap: a user without a DN annotation", "ldap", byName, auth.Identity{Provider: "ldap", Login: "bob",
			DN: "uid=bob,ou=people,dc=example,dc=com"}, "user:default/bob", errcode.OK},
		// GitLab: gitlab.com's alice is not the self-managed instance's.
		{"gitlab: gitlab.com's alice", "gitlab", byName, auth.Identity{Provider: "gitlab", Issuer: "https://gitlab.com",
			Subject: "987654", Login: "alice"}, "", errcode.PermissionDenied},
		// A sign-in naming no instance (auth's providers always name one)
		// is not compared, as in Backstage.
		{"gitlab: no instance", "gitlab", byName, auth.Identity{Provider: "gitlab", Login: "alice"}, "user:default/alice", errcode.OK},
		{"gitlab: her instance", "gitlab", byName, auth.Identity{Provider: "gitlab", Issuer: "https://GitLab.corp.example:443",
			Subject: "12", Login: "alice"}, "user:default/alice", errcode.OK},
		{"gitlab: a user without an instance", "gitlab", byName, auth.Identity{Provider: "gitlab", Issuer: "https://gitlab.com",
			Login: "bob"}, "user:default/bob", errcode.OK},
		// GitHub: node ids repeat across GitHub Enterprise Servers.
		{"github id: another GHES", "github", byID, auth.Identity{Provider: "ghe-b", Issuer: "https://ghe-b.example.com",
			Subject: "MDQ6VXNlcjE=", Login: "mallory"}, "", errcode.PermissionDenied},
		{"github id: github.com", "github", byID, auth.Identity{Provider: "github", Issuer: "https://github.com",
			Subject: "MDQ6VXNlcjE=", Login: "mallory"}, "", errcode.PermissionDenied},
		{"github id: her GHES", "github", byID, auth.Identity{Provider: "ghe-a", Issuer: "https://" + ghesA,
			Subject: "MDQ6VXNlcjE=", Login: "carol"}, "user:default/carol", errcode.OK},
		{"github login: another GHES", "github", byName, auth.Identity{Provider: "ghe-b", Issuer: "https://ghe-b.example.com",
			Subject: "MDQ6VXNlcjE=", Login: "carol"}, "", errcode.PermissionDenied},
		// graph.microsoft.com/user-id is no GitHub instance.
		{"github id: a user without an instance", "github", byID, auth.Identity{Provider: "ghe-b", Issuer: "https://ghe-b.example.com",
			Subject: "MDQ6VXNlcjI=", Login: "dave"}, "user:default/dave", errcode.OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewSignInResolver(tc.provider, SignInConfig{Resolvers: tc.steps}, NewSnapshotCatalog(snap), nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Resolve(context.Background(), FromAuth(tc.id, tc.provider))
			if code := errcode.CodeOf(err); code != tc.wantCode {
				got := ""
				if res != nil {
					got = res.Identity.EntityRef
				}
				t.Fatalf("resolved to %q, err %v; want code %v", got, err, tc.wantCode)
			}
			if err == nil && res.Identity.EntityRef != tc.wantRef {
				t.Errorf("ref %s, want %s", res.Identity.EntityRef, tc.wantRef)
			}
		})
	}
}
