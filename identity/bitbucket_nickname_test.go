package identity

import (
	"context"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// Bitbucket Cloud removed usernames from its API in 2019: auth's
// Bitbucket sign-in reports the nickname as Login, which Atlassian
// documents as not unique, and which every user chooses. Fed to
// usernameMatchingUserEntityAnnotation (bitbucket.org/username), anyone
// who named herself "alice-bb" signed in as the catalog's alice. A
// Bitbucket sign-in now carries no username: that resolver refuses it
// (use userIdMatchingUserEntityAnnotation, the account uuid), and the
// dangerous fallback gives no name from a nickname either.
func TestBitbucketNicknameIsNotAUsername(t *testing.T) {
	mallory := auth.Identity{Provider: "bitbucket", Subject: "{6c5bd7d8-0000-4000-8000-00000000beef}", Login: "alice-bb", Email: "m@evil.example"}
	r := resolver(t, "bitbucket", `{"resolvers":[{"resolver":"usernameMatchingUserEntityAnnotation"}]}`, nil)
	res, err := r.Resolve(context.Background(), FromAuth(mallory, "bitbucket"))
	if err == nil || res != nil {
		t.Fatalf("a Bitbucket nickname resolved to %+v", res.Identity)
	}
	if errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("err = %v; want InvalidArgument (no username)", err)
	}
	r = resolver(t, "bitbucket", `{"resolvers":[{"resolver":"userIdMatchingUserEntityAnnotation","dangerouslyAllowSignInWithoutUserInCatalog":true}]}`, nil)
	if res, err := r.Resolve(context.Background(), FromAuth(auth.Identity{Provider: "bitbucket", Subject: "{uuid-2}", Login: "erin"}, "bitbucket")); err == nil {
		t.Errorf("a Bitbucket nickname named the fallback user %s", res.Identity.EntityRef)
	}
	// Other providers' logins are usernames.
	if info := FromAuth(auth.Identity{Provider: "github", Login: "alice"}, ""); info.Username != "alice" {
		t.Errorf("github Username = %q", info.Username)
	}
}
