package identity

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org"
)

func u(name, email string, annotations map[string]string, memberOf ...string) org.User {
	return org.User{Metadata: org.Metadata{Name: name, Annotations: annotations},
		Spec: org.UserSpec{Profile: org.Profile{Email: email}, MemberOf: memberOf}}
}

func g(name, parent string) org.Group {
	return org.Group{Metadata: org.Metadata{Name: name}, Spec: org.GroupSpec{Type: "team", Parent: parent}}
}

// snapshot: platform-team and team-a under engineering under company.
func snapshot() *org.Snapshot {
	return &org.Snapshot{
		Users: []org.User{
			u("alice", "alice@example.com", map[string]string{
				"github.com/user-id":          "MDQ6VXNlcjE=",
				"microsoft.com/email":         "alice@example.com",
				"graph.microsoft.com/user-id": "9f1c1a52-0000-4000-8000-000000000001",
				"bitbucket.org/username":      "alice-bb",
				"backstage.io/ldap-dn":        "uid=alice,ou=people,dc=example,dc=com",
			}, "platform-team"),
			u("bob", "bob@example.com", map[string]string{"github.com/user-id": "MDQ6VXNlcjI="}, "team-a"),
			u("dave", "", map[string]string{"github.com/user-id": "MDQ6VXNlcjM="}),
			u("twin-1", "shared@example.com", nil),
			u("twin-2", "Shared@Example.com", nil),
		},
		Groups: []org.Group{g("platform-team", "engineering"), g("team-a", "engineering"), g("engineering", "company"), g("company", "")},
	}
}

func resolver(t *testing.T, providerType, cfgJSON string, opts *ResolverOptions) *SignInResolver {
	t.Helper()
	var sc SignInConfig
	if err := json.Unmarshal([]byte(cfgJSON), &sc); err != nil {
		t.Fatal(err)
	}
	r, err := NewSignInResolver(providerType, sc, NewSnapshotCatalog(snapshot()), opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestResolvers(t *testing.T) {
	tests := []struct {
		name     string
		provider string
		cfg      string
		info     SignInInfo
		wantRef  string
		wantCode errcode.Code
	}{
		{"profile email", "oidc", `{"resolvers":[{"resolver":"emailMatchingUserEntityProfileEmail"}]}`,
			SignInInfo{Email: "Alice@Example.com", EmailVerified: true}, "user:default/alice", errcode.OK},
		{"plus-address retry", "oidc", `{"resolvers":[{"resolver":"emailMatchingUserEntityProfileEmail"}]}`,
			SignInInfo{Email: "alice+portal@example.com", EmailVerified: true}, "user:default/alice", errcode.OK},
		{"unverified email never matches", "oidc", `{"resolvers":[{"resolver":"emailMatchingUserEntityProfileEmail"}]}`,
			SignInInfo{Email: "alice@example.com"}, "", errcode.NotFound},
		{"unverified falls through", "github", `{"resolvers":[{"resolver":"emailMatchingUserEntityProfileEmail"},{"resolver":"usernameMatchingUserEntityName"}]}`,
			SignInInfo{Email: "alice@example.com", Username: "bob"}, "user:default/bob", errcode.OK},
		{"allowedDomains on profile email", "oidc", `{"resolvers":[{"resolver":"emailMatchingUserEntityProfileEmail","allowedDomains":["acme.com"]}]}`,
			SignInInfo{Email: "alice@example.com", EmailVerified: true}, "", errcode.PermissionDenied},
		{"allowedDomains allows", "oidc", `{"resolvers":[{"resolver":"emailMatchingUserEntityProfileEmail","allowedDomains":["EXAMPLE.com"]}]}`,
			SignInInfo{Email: "alice@example.com", EmailVerified: true}, "user:default/alice", errcode.OK},
		{"domain refusal aborts", "github", `{"resolvers":[{"resolver":"emailLocalPartMatchingUserEntityName","allowedDomains":["acme.com"]},{"resolver":"usernameMatchingUserEntityName"}]}`,
			SignInInfo{Email: "alice@example.com", EmailVerified: true, Username: "alice"}, "", errcode.PermissionDenied},
		{"email local part", "oidc", `{"resolvers":[{"resolver":"emailLocalPartMatchingUserEntityName","allowedDomains":["example.com"]}]}`,
			SignInInfo{Email: "bob@example.com", EmailVerified: true}, "user:default/bob", errcode.OK},
		{"email local part of another domain", "oidc", `{"resolvers":[{"resolver":"emailLocalPartMatchingUserEntityName","allowedDomains":["example.com"]}]}`,
			SignInInfo{Email: "bob@anywhere.org", EmailVerified: true}, "", errcode.PermissionDenied},
		{"email local part, any domain by opt-in", "oidc", `{"resolvers":[{"resolver":"emailLocalPartMatchingUserEntityName","dangerouslyAllowAnyEmailDomain":true}]}`,
			SignInInfo{Email: "bob@anywhere.org", EmailVerified: true}, "user:default/bob", errcode.OK},
		{"no email aborts", "github", `{"resolvers":[{"resolver":"emailMatchingUserEntityProfileEmail"},{"resolver":"usernameMatchingUserEntityName"}]}`,
			SignInInfo{Username: "alice"}, "", errcode.InvalidArgument},
		{"two users conflict", "oidc", `{"resolvers":[{"resolver":"emailMatchingUserEntityProfileEmail"},{"resolver":"emailLocalPartMatchingUserEntityName","allowedDomains":["example.com"]}]}`,
			SignInInfo{Email: "shared@example.com", EmailVerified: true}, "", errcode.Conflict},
		{"username", "gitlab", `{"resolvers":[{"resolver":"usernameMatchingUserEntityName"}]}`,
			SignInInfo{Username: "Bob"}, "user:default/bob", errcode.OK},
		{"github node id", "github", `{"resolvers":[{"resolver":"userIdMatchingUserEntityAnnotation"}]}`,
			SignInInfo{UserID: "MDQ6VXNlcjM="}, "user:default/dave", errcode.OK},
		{"github node id wrong case", "github", `{"resolvers":[{"resolver":"userIdMatchingUserEntityAnnotation"},{"resolver":"usernameMatchingUserEntityName"}]}`,
			SignInInfo{UserID: "mdq6vxnlcjm=", Username: "dave"}, "", errcode.InvalidArgument},
		{"github node id unknown falls through", "github", `{"resolvers":[{"resolver":"userIdMatchingUserEntityAnnotation"},{"resolver":"usernameMatchingUserEntityName"}]}`,
			SignInInfo{UserID: "MDQ6VXNlcjk=", Username: "dave"}, "user:default/dave", errcode.OK},
		{"microsoft email annotation", "microsoft", `{"resolvers":[{"resolver":"emailMatchingUserEntityAnnotation"}]}`,
			SignInInfo{Email: "ALICE@example.com", EmailVerified: true}, "user:default/alice", errcode.OK},
		{"microsoft user id", "microsoft", `{"resolvers":[{"resolver":"userIdMatchingUserEntityAnnotation"}]}`,
			SignInInfo{UserID: "9F1C1A52-0000-4000-8000-000000000001"}, "user:default/alice", errcode.OK},
		{"bitbucket username annotation", "bitbucket", `{"resolvers":[{"resolver":"usernameMatchingUserEntityAnnotation"}]}`,
			SignInInfo{Username: "alice-bb"}, "user:default/alice", errcode.OK},
		{"ldap dn", "ldap", `{"resolvers":[{"resolver":"ldapDnMatchingUserEntityAnnotation"}]}`,
			SignInInfo{DN: "UID=alice, OU=people, DC=example, DC=com"}, "user:default/alice", errcode.OK},
		{"ldap dn unknown", "ldap", `{"resolvers":[{"resolver":"ldapDnMatchingUserEntityAnnotation"}]}`,
			SignInInfo{DN: "uid=mallory,ou=people,dc=example,dc=com"}, "", errcode.NotFound},
		{"ldap dn malformed", "ldap", `{"resolvers":[{"resolver":"ldapDnMatchingUserEntityAnnotation"}]}`,
			SignInInfo{DN: "not a dn"}, "", errcode.InvalidArgument},
		{"nobody", "github", `{"resolvers":[{"resolver":"usernameMatchingUserEntityName"}]}`,
			SignInInfo{Username: "mallory"}, "", errcode.NotFound},
		// Unicode case folding must not reach another person: U+0130
		// (LATIN CAPITAL LETTER I WITH DOT ABOVE) lowers to "i" and U+212A
		// (KELVIN SIGN) to "k" under Unicode rules.
		{"unicode fold of a profile email", "oidc", `{"resolvers":[{"resolver":"emailMatchingUserEntityProfileEmail"}]}`,
			SignInInfo{Email: "al\u0130ce@example.com", EmailVerified: true}, "", errcode.NotFound},
		{"unicode fold of an email local part", "oidc", `{"resolvers":[{"resolver":"emailLocalPartMatchingUserEntityName","allowedDomains":["anywhere.org"]}]}`,
			SignInInfo{Email: "al\u0130ce@anywhere.org", EmailVerified: true}, "", errcode.NotFound},
		{"unicode fold of a username", "gitlab", `{"resolvers":[{"resolver":"usernameMatchingUserEntityName"}]}`,
			SignInInfo{Username: "al\u0130ce"}, "", errcode.NotFound},
		{"unicode fold of an email annotation", "microsoft", `{"resolvers":[{"resolver":"emailMatchingUserEntityAnnotation"}]}`,
			SignInInfo{Email: "al\u0130ce@example.com", EmailVerified: true}, "", errcode.NotFound},
		{"unicode fold of an allowed domain", "oidc", `{"resolvers":[{"resolver":"emailLocalPartMatchingUserEntityName","allowedDomains":["kpmg.com"]}]}`,
			SignInInfo{Email: "alice@\u212Apmg.com", EmailVerified: true}, "", errcode.PermissionDenied},
		// The fallback must not take an existing catalog user's ref:
		// alice@elsewhere.org is not alice@example.com, and a GitHub
		// login "bob" whose id is not bob's is not bob.
		{"dangerous fallback does not take a catalog user's ref (email)", "oidc", `{"resolvers":[{"resolver":"emailMatchingUserEntityProfileEmail","dangerouslyAllowSignInWithoutUserInCatalog":true}]}`,
			SignInInfo{Email: "alice@elsewhere.org", EmailVerified: true}, "", errcode.PermissionDenied},
		{"dangerous fallback does not take a catalog user's ref (github id)", "github", `{"resolvers":[{"resolver":"userIdMatchingUserEntityAnnotation","dangerouslyAllowSignInWithoutUserInCatalog":true}]}`,
			SignInInfo{UserID: "MDQ6VXNlcjk5", Username: "Bob"}, "", errcode.PermissionDenied},
		{"dangerous fallback for a new name", "github", `{"resolvers":[{"resolver":"userIdMatchingUserEntityAnnotation","dangerouslyAllowSignInWithoutUserInCatalog":true}]}`,
			SignInInfo{UserID: "MDQ6VXNlcjk5", Username: "erin"}, "user:default/erin", errcode.OK},
		{"dangerous fallback", "github", `{"resolvers":[{"resolver":"usernameMatchingUserEntityName","dangerouslyAllowSignInWithoutUserInCatalog":true}]}`,
			SignInInfo{Username: "mallory"}, "user:default/mallory", errcode.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := resolver(t, tt.provider, tt.cfg, nil)
			tt.info.ProviderType = tt.provider
			res, err := r.Resolve(context.Background(), tt.info)
			if code := errcode.CodeOf(err); code != tt.wantCode {
				t.Fatalf("err = %v, want code %v", err, tt.wantCode)
			}
			if err == nil && res.Identity.EntityRef != tt.wantRef {
				t.Errorf("ref %s, want %s", res.Identity.EntityRef, tt.wantRef)
			}
		})
	}
}

func TestResolveOwnershipAndSteps(t *testing.T) {
	r := resolver(t, "github", `{"resolvers":[{"resolver":"userIdMatchingUserEntityAnnotation"},{"resolver":"usernameMatchingUserEntityName"}]}`, nil)
	res, err := r.Resolve(context.Background(), SignInInfo{ProviderType: "github", UserID: "MDQ6VXNlcjk=", Username: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	want := User{EntityRef: "user:default/alice", OwnershipEntityRefs: []string{"user:default/alice", "group:default/platform-team"}}
	if diff := cmp.Diff(want, res.Identity); diff != "" {
		t.Error(diff)
	}
	if len(res.Steps) != 2 || res.Steps[0].Outcome != "not found" || res.Steps[1].Outcome != "matched" || res.Resolver != UsernameMatchingUserEntityName {
		t.Errorf("steps %+v", res.Steps)
	}
	// Refused: the later resolvers are not tried, and Explain says so.
	r = resolver(t, "oidc", `{"resolvers":[{"resolver":"emailMatchingUserEntityProfileEmail"},{"resolver":"emailLocalPartMatchingUserEntityName","allowedDomains":["example.com"]}]}`, nil)
	res, err = r.Explain(context.Background(), SignInInfo{Email: "shared@example.com", EmailVerified: true})
	if errcode.CodeOf(err) != errcode.Conflict || len(res.Steps) != 2 || res.Steps[0].Outcome != "refused" || res.Steps[1].Outcome != "not tried" {
		t.Errorf("explain %+v, %v", res, err)
	}
	if !strings.Contains(err.Error(), "user:default/twin-1") || !strings.Contains(err.Error(), "user:default/twin-2") {
		t.Errorf("conflict does not name both users: %v", err)
	}
}

func TestSeveralProvidersResolveToOneEntity(t *testing.T) {
	cat := NewSnapshotCatalog(snapshot())
	gh, err := NewSignInResolver("github", SignInConfig{Resolvers: []ResolverConfig{{Resolver: UserIDMatchingUserEntityAnnotation}}}, cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := NewSignInResolver("microsoft", SignInConfig{Resolvers: []ResolverConfig{{Resolver: EmailMatchingUserEntityAnnotation, AllowedDomains: []string{"example.com"}}}}, cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	ld, err := NewSignInResolver("ldap", SignInConfig{Resolvers: []ResolverConfig{{Resolver: LDAPDNMatchingUserEntityAnnotation}}}, cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	is := newIssuer(t, newClock())
	hook := BackstageIdentityFunc(Resolvers{"github": {"production": gh}, "microsoft": {"production": ms}, "ldap": {"production": ld}}, is)
	sessions := []*auth.Session{
		{Env: "production", Identity: auth.Identity{Provider: "github", Subject: "MDQ6VXNlcjE=", Login: "alice"}},
		{Env: "production", Identity: auth.Identity{Provider: "microsoft", Subject: "x", Email: "alice@example.com", EmailVerified: true}},
		{Env: "production", Identity: auth.Identity{Provider: "ldap", Subject: "uid=alice,ou=people,dc=example,dc=com", DN: "uid=alice,ou=people,dc=example,dc=com"}},
	}
	var got []auth.BackstageUserRef
	for _, s := range sessions {
		bi, err := hook(context.Background(), s)
		if err != nil {
			t.Fatalf("%s: %v", s.Identity.Provider, err)
		}
		if bi.Token == "" || bi.ExpiresInSeconds != 3600 {
			t.Errorf("%s: %+v", s.Identity.Provider, bi)
		}
		got = append(got, bi.Identity)
	}
	for _, id := range got[1:] {
		if diff := cmp.Diff(got[0], id); diff != "" {
			t.Errorf("providers resolve differently: %s", diff)
		}
	}
	if _, err := hook(context.Background(), &auth.Session{Env: "production", Identity: auth.Identity{Provider: "gitlab", Login: "alice"}}); errcode.CodeOf(err) != errcode.PermissionDenied {
		t.Errorf("provider without resolvers: %v", err)
	}
	// Another environment of a provider with resolvers has none of them.
	if _, err := hook(context.Background(), &auth.Session{Env: "development", Identity: auth.Identity{Provider: "github", Subject: "MDQ6VXNlcjE=", Login: "alice"}}); errcode.CodeOf(err) != errcode.PermissionDenied {
		t.Errorf("environment without resolvers: %v", err)
	}
}

func TestNewSignInResolverBadConfig(t *testing.T) {
	cat := NewSnapshotCatalog(snapshot())
	tests := []struct{ provider, cfg string }{
		{"github", `{"resolvers":[]}`},
		{"github", `{"resolvers":[{"resolver":"noSuchResolver"}]}`},
		{"gitlab", `{"resolvers":[{"resolver":"userIdMatchingUserEntityAnnotation"}]}`},
		{"oidc", `{"resolvers":[{"resolver":"usernameMatchingUserEntityName"}]}`},
		{"github", `{"resolvers":[{"resolver":"usernameMatchingUserEntityName","allowedDomains":["example.com"]}]}`},
		{"github", `{"resolvers":[{"resolver":"emailMatchingUserEntityProfileEmail","unknownOption":1}]}`},
		{"github", `{"resolvers":[{"resolver":"emailMatchingUserEntityProfileEmail","allowedDomains":["a@b"]}]}`},
		{"ldap", `{"resolvers":[{"resolver":"ldapDnMatchingUserEntityAnnotation","dangerouslyAllowSignInWithoutUserInCatalog":true}]}`},
		{"oidc", `{"resolvers":[{"resolver":"emailLocalPartMatchingUserEntityName","allowedDomains":["example.com"],"dangerouslyAllowAnyEmailDomain":true}]}`},
		{"oidc", `{"resolvers":[{"resolver":"emailMatchingUserEntityProfileEmail","dangerouslyAllowAnyEmailDomain":true}]}`},
	}
	for _, tt := range tests {
		var sc SignInConfig
		if err := json.Unmarshal([]byte(tt.cfg), &sc); err != nil {
			t.Fatal(err)
		}
		if _, err := NewSignInResolver(tt.provider, sc, cat, nil); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%s %s: %v", tt.provider, tt.cfg, err)
		}
	}
}

func TestOwnershipRefs(t *testing.T) {
	cat := NewSnapshotCatalog(snapshot())
	alice := org.UserRef("default", "alice")
	direct, err := OwnershipRefs(context.Background(), cat, alice, nil)
	if err != nil || !cmp.Equal(direct, []string{"user:default/alice", "group:default/platform-team"}) {
		t.Errorf("direct: %v, %v", direct, err)
	}
	trans, err := OwnershipRefs(context.Background(), cat, alice, &OwnershipOptions{Transitive: true})
	want := []string{"user:default/alice", "group:default/company", "group:default/engineering", "group:default/platform-team"}
	if err != nil || !cmp.Equal(trans, want) {
		t.Errorf("transitive: %v, %v", trans, err)
	}
	if _, err := OwnershipRefs(context.Background(), cat, alice, &OwnershipOptions{Transitive: true, MaxRefs: 3}); errcode.CodeOf(err) != errcode.InvalidArgument ||
		!strings.Contains(err.Error(), "4 ownership refs") {
		t.Errorf("cap: %v", err)
	}
	// Unknown user: her own ref only.
	if refs, err := OwnershipRefs(context.Background(), cat, org.UserRef("default", "ghost"), nil); err != nil || len(refs) != 1 {
		t.Errorf("ghost: %v, %v", refs, err)
	}
}

func TestOwnershipGroupCycle(t *testing.T) {
	s := snapshot()
	s.Groups[3].Spec.Parent = "platform-team" // company → platform-team → engineering → company
	cat := NewSnapshotCatalog(s)
	_, err := OwnershipRefs(context.Background(), cat, org.UserRef("default", "alice"), &OwnershipOptions{Transitive: true})
	if errcode.CodeOf(err) != errcode.Conflict || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("transitive through a cycle: %v", err)
	}
	// Direct ownership does not walk parents.
	if refs, err := OwnershipRefs(context.Background(), cat, org.UserRef("default", "alice"), nil); err != nil || len(refs) != 2 {
		t.Errorf("direct with a cycle: %v, %v", refs, err)
	}
	// A resolver with transitive ownership refuses the sign-in.
	r, _ := NewSignInResolver("github", SignInConfig{Resolvers: []ResolverConfig{{Resolver: UsernameMatchingUserEntityName}}}, cat,
		&ResolverOptions{Ownership: &OwnershipOptions{Transitive: true}})
	if _, err := r.Resolve(context.Background(), SignInInfo{Username: "alice"}); errcode.CodeOf(err) != errcode.Conflict {
		t.Errorf("resolve through a cycle: %v", err)
	}
}

// failingCatalog fails every lookup: a catalog error aborts, it is not "not found".
type failingCatalog struct{ *SnapshotCatalog }

func (failingCatalog) FindUsers(context.Context, Filter) ([]org.User, error) {
	return nil, errors.New("catalog unreachable")
}

func TestCatalogErrorAborts(t *testing.T) {
	r, err := NewSignInResolver("github", SignInConfig{Resolvers: []ResolverConfig{{Resolver: UsernameMatchingUserEntityName}, {Resolver: EmailLocalPartMatchingUserEntityName, AllowedDomains: []string{"example.com"}}}},
		failingCatalog{NewSnapshotCatalog(snapshot())}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Explain(context.Background(), SignInInfo{Username: "alice", Email: "alice@example.com", EmailVerified: true})
	if errcode.CodeOf(err) != errcode.Unavailable || res.Steps[1].Outcome != "not tried" {
		t.Errorf("%+v, %v", res, err)
	}
}

// Resolvers.Principal resolves a session with the resolver of its own
// provider id and environment, with the provider's type (a provider id
// "corp-gh" of type github reads the github.com/user-id annotation): a
// known user is her catalog identity with her ownership, an unknown one
// NotFound, and a provider or environment without resolvers
// PermissionDenied.
func TestResolversPrincipal(t *testing.T) {
	rs := Resolvers{}
	rs.Set("corp-gh", "production", resolver(t, "github", `{"resolvers":[{"resolver":"userIdMatchingUserEntityAnnotation"}]}`, nil))
	ctx := context.Background()
	alice := auth.Identity{Provider: "corp-gh", Subject: "MDQ6VXNlcjE=", Login: "alice"}

	p, err := rs.Principal(ctx, &auth.Session{Identity: alice, Env: "production"})
	if err != nil || p.User == nil || p.User.EntityRef != "user:default/alice" || !slices.Contains(p.User.OwnershipEntityRefs, "group:default/platform-team") {
		t.Fatalf("alice: %+v %v", p.User, err)
	}
	stranger := alice
	stranger.Subject = "MDQ6VXNlcjk="
	if _, err := rs.Principal(ctx, &auth.Session{Identity: stranger, Env: "production"}); errcode.CodeOf(err) != errcode.NotFound {
		t.Fatalf("a user the catalog does not know: %v, want NotFound", err)
	}
	for _, s := range []*auth.Session{
		{Identity: alice, Env: "development"},
		{Identity: auth.Identity{Provider: "github", Subject: alice.Subject}, Env: "production"},
	} {
		if _, err := rs.Principal(ctx, s); errcode.CodeOf(err) != errcode.PermissionDenied {
			t.Fatalf("%s in %q: %v, want PermissionDenied", s.Identity.Provider, s.Env, err)
		}
	}
}
