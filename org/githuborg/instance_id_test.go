package githuborg_test

import (
	"context"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/org/githuborg"
)

// TestGHESUsersNameTheirInstance (review 28, finding 5): users read from a
// GitHub Enterprise Server (the fake's host is not github.com) carry their
// node id under the instance's host too, and the sign-in resolver matches
// them only to a sign-in from that instance: node ids encode per-instance
// database ids, so another instance's user with the same id is someone
// else.
func TestGHESUsersNameTheirInstance(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	snap, err := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, nil).Read(context.Background())
	must(t, err)
	must(t, snap.Validate())
	key := strings.ToLower(w.fake.Host()) + "/user-id"
	for _, u := range snap.Users {
		if id := u.Metadata.Annotations["github.com/user-id"]; id == "" || u.Metadata.Annotations[key] != id {
			t.Errorf("%s: annotations %v, want %s equal to github.com/user-id", u.Metadata.Name, u.Metadata.Annotations, key)
		}
	}
	jane := snap.Users[0]
	for _, u := range snap.Users {
		if u.Metadata.Name == "jane" {
			jane = u
		}
	}
	r, err := identity.NewSignInResolver("github", identity.SignInConfig{Resolvers: []identity.ResolverConfig{{Resolver: identity.UserIDMatchingUserEntityAnnotation}}},
		identity.NewSnapshotCatalog(snap), nil)
	must(t, err)
	id := jane.Metadata.Annotations["github.com/user-id"]
	res, err := r.Resolve(context.Background(), identity.FromAuth(auth.Identity{Provider: "ghe", Issuer: "https://" + w.fake.Host(), Subject: id, Login: "jane"}, "github"))
	if err != nil || res.Identity.EntityRef != "user:default/jane" {
		t.Errorf("jane of %s: %v, %v", w.fake.Host(), res, err)
	}
	for _, other := range []string{"https://ghe-b.example.com", "https://github.com"} {
		_, err := r.Resolve(context.Background(), identity.FromAuth(auth.Identity{Provider: "gh", Issuer: other, Subject: id, Login: "mallory"}, "github"))
		if errcode.CodeOf(err) != errcode.PermissionDenied {
			t.Errorf("node id %s from %s: %v, want PermissionDenied", id, other, err)
		}
	}
}
