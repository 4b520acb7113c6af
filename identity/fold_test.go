package identity

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org"
)

// Refs compare case-insensitively in ASCII only: the Kelvin sign U+212A
// folds to "k" under Unicode's rules, so group:default/\u212Aates owned
// what group:default/kates owns; and no ref with non-ASCII bytes is
// issued or verified.
func TestRefsFoldASCIIOnly(t *testing.T) {
	u := &User{EntityRef: "user:default/alice", OwnershipEntityRefs: []string{"user:default/alice", "group:default/kates"}}
	if !u.Owns("Group:Default/KATES") {
		t.Error("an ASCII case variant is not owned")
	}
	if u.Owns("group:default/\u212Aates") {
		t.Error("a Kelvin-sign look-alike is owned")
	}
	is := newIssuer(t, newClock())
	for _, ref := range []string{"user:default/\u212Aate", "user:default/al\u00efce", "user:default/a\x7fb"} {
		if _, err := is.Issue(t.Context(), IssueRequest{Subject: ref}); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("Issue for %q: %v; want InvalidArgument", ref, err)
		}
		if _, err := is.Issue(t.Context(), IssueRequest{Subject: "user:default/alice", Ent: []string{ref}}); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("Issue with ent %q: %v; want InvalidArgument", ref, err)
		}
	}
}

// A GitHub sign-in whose e-mail is not verified says which scope (or App
// permission) gives a verified one: the usual Backstage GitHub config
// without user:email signed nobody in with no hint why.
func TestGitHubUnverifiedEmailSaysWhy(t *testing.T) {
	snap := &org.Snapshot{Users: []org.User{{Metadata: org.Metadata{Name: "alice"}, Spec: org.UserSpec{Profile: org.Profile{Email: "alice@example.com"}}}}}
	r, err := NewSignInResolver("github", SignInConfig{Resolvers: []ResolverConfig{{Resolver: EmailMatchingUserEntityProfileEmail}}}, NewSnapshotCatalog(snap), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Resolve(t.Context(), SignInInfo{ProviderType: "github", Email: "alice@example.com", Username: "alice"})
	if errcode.CodeOf(err) != errcode.NotFound || !strings.Contains(err.Error(), "user:email scope in additionalScopes") {
		t.Errorf("an unverified GitHub e-mail: %v; want NotFound naming the user:email scope", err)
	}
}
