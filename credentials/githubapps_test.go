package credentials

import (
	"testing"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/integrations"
)

// TestGitHubApps: the Resolver's own apps, by web or API host, so that
// installations seeded into them spare the Resolver's lookups.
func TestGitHubApps(t *testing.T) {
	fake := newFakeGitHub(t, nil)
	fake.Add(apptest.Installation{ID: 42, Login: "acme"})
	r := tableResolver(t, integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: "ghe.example.com", APIBaseURL: fake.URL, Apps: []integrations.GitHubAppConfig{app(), app(func(c *integrations.GitHubAppConfig) { c.AppID = apptest.AppID2 })},
	}}}, nil)
	apps := r.GitHubApps("ghe.example.com")
	if len(apps) != 2 || apps[0].ID() != apptest.AppID || apps[1].ID() != apptest.AppID2 {
		t.Fatalf("GitHubApps = %v; want the two apps in config order", apps)
	}
	if len(r.GitHubApps("github.com")) != 0 || r.GitHubApps("nowhere.example.com") != nil {
		t.Errorf("apps for hosts without any")
	}
	apps[0].SeedInstallations([]githubapp.Installation{{ID: 42, AppID: apptest.AppID, Account: "acme", AccountType: "Organization"}})
	if _, err := r.Resolve(t.Context(), Request{Host: "ghe.example.com", Owner: "acme"}); err != nil {
		t.Fatal(err)
	}
	if got := fake.Routes(); len(got) != 1 || got["POST /app/installations/42/access_tokens"] != 1 {
		t.Errorf("requests = %v; want the mint alone", got)
	}
}
