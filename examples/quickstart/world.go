package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"strings"
	"testing/fstest"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/adapters"
	"github.com/scmkit/scmkit/scm/catalog"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// The fake world's secrets. They stand for what a real deployment keeps in
// its environment or secret store; the program never prints them.
var secrets = map[string]string{
	"GITHUB_TOKEN":           "ghp_quickstart_service_token",
	"GITHUB_LABS_TOKEN":      "ghp_quickstart_labs_token",
	"GITLAB_TOKEN":           "glpat-quickstart-token",
	"BITBUCKET_CLIENT_ID":    "quickstart-consumer",
	"BITBUCKET_SECRET":       "quickstart-consumer-secret",
	"BITBUCKET_SERVER_TOKEN": "bbs-quickstart-token",
}

// appID is the fake GitHub App installed on the acme organisation.
const appID = 4242

// userToken is the signed-in user's OAuth token for the fake GitHub, as a
// developer portal gets it from its sign-in flow.
const userToken = "gho_quickstart_alice"

// Sizes of the fake GitHub organisation.
const (
	orgRepos     = 300 // repositories in the "acme" organisation
	catalogEvery = 3   // every third repository has a catalog-info.yaml
)

// world is the set of fake servers, the configuration pointing at them,
// and the library objects built from it, as an embedder would build them.
type world struct {
	github          *fakegithub.Server
	gitlab          *fakegitlab.Server
	bitbucketCloud  *fakebitbucketcloud.Server
	bitbucketServer *fakebitbucketserver.Server

	config   string // the generated app-config.yaml
	reg      *integrations.Registry
	resolver *credentials.Resolver
	client   *scm.Client

	found []catalog.Location // what discovery found, for the later steps

	signedIn scm.UserCredentials // alice's signed-in session (signin.go)
}

func (w *world) close() {
	if w.github != nil {
		w.github.Close()
	}
	if w.gitlab != nil {
		w.gitlab.Close()
	}
	if w.bitbucketCloud != nil {
		w.bitbucketCloud.Close()
	}
	if w.bitbucketServer != nil {
		w.bitbucketServer.Close()
	}
}

// newWorld starts the fakes, seeds them and builds the client.
func newWorld(ctx context.Context) (_ *world, err error) {
	w := &world{}
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	w.github = fakegithub.New(&fakegithub.Options{
		Tokens: []string{secrets["GITHUB_TOKEN"], secrets["GITHUB_LABS_TOKEN"], userToken},
		User:   "alice",
	})
	w.gitlab = fakegitlab.New(&fakegitlab.Options{Tokens: []string{secrets["GITLAB_TOKEN"]}, RelativePath: "/gitlab"})
	w.bitbucketCloud = fakebitbucketcloud.New(&fakebitbucketcloud.Options{
		Consumers: map[string]string{secrets["BITBUCKET_CLIENT_ID"]: secrets["BITBUCKET_SECRET"]},
	})
	w.bitbucketServer = fakebitbucketserver.New(&fakebitbucketserver.Options{
		Tokens: []string{secrets["BITBUCKET_SERVER_TOKEN"]}, ContextPath: "/bitbucket",
	})
	if err := w.seed(); err != nil {
		return nil, err
	}
	// A GitHub App installed on acme: its private key is a secret like the
	// others; the fake knows its public half.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	secrets["GITHUB_APP_KEY"] = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	if err := w.github.AddApp(fakegithub.App{ID: appID, PublicKey: &key.PublicKey}); err != nil {
		return nil, err
	}
	if _, err := w.github.AddInstallation(fakegithub.Installation{AppID: appID, Account: "acme"}); err != nil {
		return nil, err
	}

	// The configuration is an ordinary Backstage app-config.yaml whose
	// secrets are ${VAR} references, loaded through config.LoadBytes with
	// a lookup function standing in for the environment.
	w.config = fmt.Sprintf(`integrations:
  github:
    - host: %[1]s
      apiBaseUrl: %[2]s
      token: ${GITHUB_TOKEN}
      apps:
        - appId: %[11]d
          privateKey: ${GITHUB_APP_KEY}
      credentials:
        - owners: [acme-labs]
          token: ${GITHUB_LABS_TOKEN}
  gitlab:
    - host: %[3]s
      baseUrl: %[4]s
      apiBaseUrl: %[5]s
      token: ${GITLAB_TOKEN}
  bitbucketCloud:
    - host: %[6]s
      apiBaseUrl: %[7]s
      tokenUrl: %[8]s
      clientId: ${BITBUCKET_CLIENT_ID}
      clientSecret: ${BITBUCKET_SECRET}
  bitbucketServer:
    - host: %[9]s
      apiBaseUrl: %[10]s
      token: ${BITBUCKET_SERVER_TOKEN}
backend:
  reading:
    allow:
      - host: '*.example.org'
`, w.github.Host(), w.github.APIBaseURL(),
		w.gitlab.Host(), w.gitlab.URL(), w.gitlab.APIBaseURL(),
		w.bitbucketCloud.Host(), w.bitbucketCloud.APIBaseURL(), w.bitbucketCloud.TokenURL(),
		w.bitbucketServer.Host(), w.bitbucketServer.APIBaseURL(), appID)
	lookup := func(name string) (string, bool) { v, ok := secrets[name]; return v, ok }
	cfg, err := config.LoadBytes(ctx, &config.Options{Lookup: lookup}, []byte(w.config))
	if err != nil {
		return nil, err
	}
	w.reg = cfg.Registry
	if w.resolver, err = credentials.NewResolver(w.reg, nil); err != nil {
		return nil, err
	}
	w.client, err = scm.NewClient(w.reg, w.resolver, &scm.Options{Drivers: adapters.All(nil)})
	return w, err
}

// seed fills every fake with repositories.
func (w *world) seed() error {
	for i := 1; i <= orgRepos; i++ {
		files := fstest.MapFS{"README.md": {Data: []byte(fmt.Sprintf("# service-%03d\n", i))}}
		if i%catalogEvery == 0 {
			files["catalog-info.yaml"] = &fstest.MapFile{Data: []byte(catalogInfo(fmt.Sprintf("service-%03d", i)))}
		}
		if _, err := w.github.AddFS(fakegithub.Repo{Owner: "acme", Name: fmt.Sprintf("service-%03d", i), Archived: i%50 == 0}, files); err != nil {
			return err
		}
	}
	if _, err := w.github.AddFS(fakegithub.Repo{Owner: "acme", Name: "templates"}, templateRepo()); err != nil {
		return err
	}
	if _, err := w.github.AddFS(fakegithub.Repo{Owner: "acme-labs", Name: "experiments"}, fstest.MapFS{
		"catalog-info.yaml": {Data: []byte(catalogInfo("experiments"))},
	}); err != nil {
		return err
	}

	if err := w.gitlab.AddGroup("platform/backend"); err != nil {
		return err
	}
	if _, _, err := w.gitlab.AddFS(fakegitlab.Project{Namespace: "platform/backend", Path: "payments", Name: "payments"}, serviceRepo("payments")); err != nil {
		return err
	}
	w.bitbucketCloud.AddWorkspace("acme-ws")
	if _, err := w.bitbucketCloud.AddFS(fakebitbucketcloud.Repo{Workspace: "acme-ws", Slug: "billing", Name: "billing"}, serviceRepo("billing")); err != nil {
		return err
	}
	w.bitbucketServer.AddProject("PLAT", "Platform")
	if _, err := w.bitbucketServer.AddFS(fakebitbucketserver.Repo{Project: "PLAT", Name: "ledger"}, serviceRepo("ledger")); err != nil {
		return err
	}
	return nil
}

func catalogInfo(name string) string {
	return `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ` + name + `
  annotations:
    github.com/project-slug: acme/` + name + `
spec:
  type: service
  lifecycle: production
  owner: team-platform
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: ` + name + `-api
spec:
  type: openapi
  lifecycle: production
  owner: team-platform
  definition: "openapi: 3.0.0"
`
}

func serviceRepo(name string) fs.FS {
	return fstest.MapFS{
		"catalog-info.yaml": {Data: []byte(catalogInfo(name))},
		"README.md":         {Data: []byte("# " + name + "\n")},
	}
}

// templateRepo is a Backstage software template with a skeleton.
func templateRepo() fs.FS {
	skeleton := map[string]string{
		"template.yaml":                      "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata:\n  name: go-service\nspec:\n  owner: team-platform\n  type: service\n",
		"skeleton/catalog-info.yaml":         "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${{ values.name }}\nspec:\n  type: service\n  owner: ${{ values.owner }}\n  lifecycle: experimental\n",
		"skeleton/README.md":                 "# ${{ values.name }}\n",
		"skeleton/go.mod":                    "module example.com/${{ values.name }}\n\ngo 1.26\n",
		"skeleton/main.go":                   "package main\n\nfunc main() {}\n",
		"skeleton/internal/server/server.go": "package server\n",
		"skeleton/docs/index.md":             "# ${{ values.name }}\n",
		"skeleton/.github/workflows/ci.yaml": "on: push\njobs: {}\n",
	}
	files := fstest.MapFS{"README.md": {Data: []byte("# templates\n")}}
	for p, body := range skeleton {
		files["templates/go-service/"+p] = &fstest.MapFile{Data: []byte(body)}
	}
	files["templates/go-service/skeleton/scripts/run.sh"] = &fstest.MapFile{Data: []byte("#!/bin/sh\nexec go run .\n"), Mode: 0o755}
	return files
}

// webURL returns the web URL of a path on a fake's host, with the scheme
// the fake really serves (plain http on loopback).
func webURL(host string, parts ...string) string {
	return "http://" + host + "/" + strings.Join(parts, "/")
}
