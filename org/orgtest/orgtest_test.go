package orgtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/org/gitlaborg"
	"github.com/scmkit/scmkit/org/msgraph"
	"github.com/scmkit/scmkit/org/orgtest"
	"github.com/scmkit/scmkit/org/orgtest/fakegraph"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// TestSameOrganisationEverywhere reads the demo organisation from the three
// fakes and checks that the memberships agree.
func TestSameOrganisationEverywhere(t *testing.T) {
	ctx := context.Background()
	gh := fakegithub.New(nil)
	defer gh.Close()
	gl := fakegitlab.New(nil)
	defer gl.Close()
	gr := fakegraph.New(&fakegraph.Options{OrgName: "Acme"})
	defer gr.Close()
	if err := orgtest.SeedGitHub(gh, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := orgtest.SeedGitLab(gl, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := orgtest.SeedGraph(gr); err != nil {
		t.Fatal(err)
	}
	reg, err := integrations.NewRegistry(integrations.Config{
		GitHub: []integrations.GitHubConfig{{Host: gh.Host(), APIBaseURL: gh.APIBaseURL(), Token: integrations.NewSecret("t")}},
		GitLab: []integrations.GitLabConfig{{Host: gl.Host(), APIBaseURL: gl.APIBaseURL(), BaseURL: gl.URL(), Token: integrations.NewSecret("t")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ghr, err := githuborg.New(githuborg.Config{GitHubURL: "http://" + gh.Host(), Orgs: []string{"acme"}}, &githuborg.Options{Registry: reg, Resolver: res})
	if err != nil {
		t.Fatal(err)
	}
	glr, err := gitlaborg.New(gitlaborg.Config{Host: gl.Host(), Group: "acme"}, &gitlaborg.Options{Registry: reg, Resolver: res})
	if err != nil {
		t.Fatal(err)
	}
	grr, err := msgraph.New(msgraph.Config{Target: gr.Target(), Authority: gr.URL(), TenantID: gr.TenantID(), ClientID: gr.ClientID(),
		ClientSecret: integrations.NewSecret(gr.ClientSecret())}, &msgraph.Options{MinWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// GitLab names groups by path below the configured group.
	gitlabName := map[string]string{"engineering": "engineering", "platform-team": "engineering-platform-team",
		"sre": "engineering-platform-team-sre", "web": "engineering-web"}
	for _, src := range []struct {
		name   string
		r      org.Reader
		user   func(string) string
		group  func(string) string
		groups int
	}{
		{"github", ghr, func(l string) string { return l }, func(s string) string { return s }, 4},
		{"gitlab", glr, func(l string) string { return l }, func(s string) string { return gitlabName[s] }, 5},
		{"graph", grr, func(l string) string { return l + "_acme.example" }, func(s string) string { return s }, 5},
	} {
		t.Run(src.name, func(t *testing.T) {
			snap, err := src.r.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(snap.Users) != len(orgtest.People) || len(snap.Groups) != src.groups {
				t.Errorf("%d users, %d groups", len(snap.Users), len(snap.Groups))
			}
			x := org.NewIndex(snap)
			for _, p := range orgtest.People {
				u := org.UserRef("", src.user(p.Login))
				inPlatform := p.Team == "platform-team" || p.Team == "sre"
				if got := x.IsMember(u, org.GroupRef("", src.group("platform-team"))); got != inPlatform {
					t.Errorf("%s in platform-team = %v, want %v", p.Login, got, inPlatform)
				}
				if got := x.IsMember(u, org.GroupRef("", src.group("engineering"))); got != (p.Team != "") {
					t.Errorf("%s in engineering = %v", p.Login, got)
				}
			}
		})
	}
}
