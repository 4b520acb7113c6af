package main

import (
	"context"
	"fmt"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/org/orgtest"
	"github.com/scmkit/scmkit/org/orgtest/fakegraph"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// The fake world's secrets: what a deployment keeps in its environment.
// They reach the configuration through ${VAR} substitutions, as in a real
// app-config.yaml, and are never printed.
var fakeSecrets = map[string]string{
	"GITHUB_TOKEN":        "ghp_orgsync_fake_token",
	"GITLAB_TOKEN":        "glpat-orgsync-fake-token",
	"AZURE_CLIENT_SECRET": "orgsync-fake-client-secret",
}

// fakeWorld is a fake GitHub, GitLab and Microsoft Graph holding the same
// organisation, and an app-config.yaml pointing at them.
type fakeWorld struct {
	github *fakegithub.Server
	gitlab *fakegitlab.Server
	graph  *fakegraph.Server
	config *config.Config
}

func (w *fakeWorld) close() {
	w.github.Close()
	w.gitlab.Close()
	w.graph.Close()
}

func startFakeWorld(ctx context.Context) (*fakeWorld, error) {
	w := &fakeWorld{
		github: fakegithub.New(&fakegithub.Options{Tokens: []string{fakeSecrets["GITHUB_TOKEN"]}}),
		gitlab: fakegitlab.New(&fakegitlab.Options{Tokens: []string{fakeSecrets["GITLAB_TOKEN"]}}),
		graph:  fakegraph.New(&fakegraph.Options{OrgName: "Acme", ClientID: "org-sync", ClientSecret: fakeSecrets["AZURE_CLIENT_SECRET"]}),
	}
	seed := []error{orgtest.SeedGitHub(w.github, "acme"), orgtest.SeedGitLab(w.gitlab, "acme"), orgtest.SeedGraph(w.graph)}
	for _, err := range seed {
		if err != nil {
			w.close()
			return nil, err
		}
	}
	doc := fmt.Sprintf(`integrations:
  github:
    - host: %[1]s
      apiBaseUrl: %[2]s
      token: ${GITHUB_TOKEN}
  gitlab:
    - host: %[3]s
      apiBaseUrl: %[4]s
      baseUrl: %[5]s
      token: ${GITLAB_TOKEN}
catalog:
  providers:
    githubOrg:
      id: production
      githubUrl: http://%[1]s
      orgs: [acme]
    gitlab:
      acme:
        host: %[3]s
        group: acme
        orgEnabled: true
        restrictUsersToGroup: true
    microsoftGraphOrg:
      target: %[6]s
      authority: %[7]s
      tenantId: %[8]s
      clientId: org-sync
      clientSecret: ${AZURE_CLIENT_SECRET}
`, w.github.Host(), w.github.APIBaseURL(), w.gitlab.Host(), w.gitlab.APIBaseURL(), w.gitlab.URL(),
		w.graph.Target(), w.graph.URL(), w.graph.TenantID())
	lookup := func(name string) (string, bool) { v, ok := fakeSecrets[name]; return v, ok }
	cfg, err := config.LoadBytes(ctx, &config.Options{Lookup: lookup}, []byte(doc))
	if err != nil {
		w.close()
		return nil, err
	}
	w.config = cfg
	return w, nil
}
