package identity_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/org"
)

// A catalog user read from a self-managed GitLab (org/gitlaborg writes
// <host>/user-login) is found by username only for a sign-in from that
// instance: SignInInfo.Issuer, which FromAuth takes from the session.
func ExampleSignInInfo_issuer() {
	alice := org.User{Metadata: org.Metadata{Name: "alice", Annotations: map[string]string{
		"gitlab.corp.example/user-login": "https://gitlab.corp.example/alice"}}}
	r, err := identity.NewSignInResolver("gitlab", identity.SignInConfig{Resolvers: []identity.ResolverConfig{
		{Resolver: identity.UsernameMatchingUserEntityName}}}, identity.NewSnapshotCatalog(&org.Snapshot{Users: []org.User{alice}}), nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, issuer := range []string{"https://gitlab.corp.example", "https://gitlab.com"} {
		res, err := r.Resolve(context.Background(), identity.FromAuth(auth.Identity{Provider: "gitlab", Issuer: issuer, Login: "alice"}, ""))
		if err != nil {
			fmt.Println(issuer, "→", errcode.CodeOf(err))
			continue
		}
		fmt.Println(issuer, "→", res.Identity.EntityRef)
	}
	// Output:
	// https://gitlab.corp.example → user:default/alice
	// https://gitlab.com → PermissionDenied
}
