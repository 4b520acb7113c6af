package identity

import (
	"testing"

	"github.com/scmkit/scmkit/errcode"
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
