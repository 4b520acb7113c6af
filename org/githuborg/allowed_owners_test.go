package githuborg_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/org/orgtest"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// With orgs empty, the organisations read are the app's installations
// that its allowedInstallationOwners names: one installed elsewhere (a
// public app is installed by anyone) is neither read, with the host's
// token, nor fails the whole Read, without one.
func TestInstalledOrgsHonourAllowedInstallationOwners(t *testing.T) {
	for _, withToken := range []bool{false, true} {
		fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"hosttok"}})
		defer fake.Close()
		for _, o := range []string{"acme", "evil"} {
			must(t, orgtest.SeedGitHub(fake, o))
		}
		key, _ := rsa.GenerateKey(rand.Reader, 2048)
		keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
		must(t, fake.AddApp(fakegithub.App{ID: 90, PublicKey: &key.PublicKey, Permissions: map[string]string{"members": "read"}}))
		gc := integrations.GitHubConfig{Host: fake.Host(), APIBaseURL: fake.APIBaseURL(),
			Apps: []integrations.GitHubAppConfig{{AppID: 90, PrivateKey: integrations.NewSecret(keyPEM), AllowedInstallationOwners: []string{"acme"}}}}
		if withToken {
			gc.Token = integrations.NewSecret("hosttok")
		}
		reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{gc}})
		must(t, err)
		res, err := credentials.NewResolver(reg, &credentials.ResolverOptions{HTTPClient: fake.Client()})
		must(t, err)
		r, err := githuborg.New(githuborg.Config{GitHubURL: "http://" + fake.Host()}, &githuborg.Options{Registry: reg, Resolver: res})
		must(t, err)
		for _, a := range []string{"acme", "evil"} {
			if _, err := fake.AddInstallation(fakegithub.Installation{AppID: 90, Account: a}); err != nil {
				t.Fatal(err)
			}
		}
		snap, err := r.Read(context.Background())
		if err != nil {
			t.Fatalf("with host token %v: Read = %v", withToken, err)
		}
		for _, u := range snap.Users {
			if u.Metadata.Namespace == "evil" || u.Metadata.Annotations["github.com/org"] == "evil" {
				t.Fatalf("with host token %v: a member of evil was read: %+v", withToken, u.Metadata)
			}
		}
		if len(snap.Users) == 0 {
			t.Fatalf("with host token %v: nobody of acme was read", withToken)
		}
	}
}
