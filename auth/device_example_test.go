package auth_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// A command-line tool signs its user in with GitHub's device flow (here
// the fake GitHub of scm/scmtest, where ApproveDevice stands for her
// entering the code in a browser), then acts as her.
func ExampleDeviceProvider() {
	gh := fakegithub.New(nil)
	defer gh.Close()
	gh.AddOAuthApp(fakegithub.OAuthApp{ClientID: "my-cli", ClientSecret: "my-secret", Expiring: true, DeviceFlow: true, DevicePollInterval: time.Second})
	gh.SetOAuthUser(fakegithub.OAuthUser{Login: "alice", Name: "Alice"})

	github, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "my-cli", ClientSecret: integrations.NewSecret("my-secret"),
		EnterpriseInstanceURL: gh.URL()}) // "" for github.com
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	dc, err := github.DeviceAuth(ctx, []string{"repo"})
	if err != nil {
		log.Fatal(err)
	}
	// Show dc.UserCode and dc.VerificationURI to the user; she approves.
	gh.ApproveDevice(dc.UserCode)

	s, err := github.DeviceSignIn(ctx, dc) // polls every dc.Interval
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in as", s.Identity.Login)

	// Her credentials for scm.Client.ForUser, renewed through GitHub; keep
	// each rotated refresh token (GitHub App tokens rotate on every use).
	creds := auth.UserCredentials(github, s, &credentials.UserOptions{
		OnRotate: func(ctx context.Context, tok *oauth2.Token) { /* save tok.RefreshToken */ },
	})
	c, err := creds[github.Info().Host].Credential(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Kind, len(creds))
	// Output:
	// signed in as alice
	// user 1
}
