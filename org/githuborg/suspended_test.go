package githuborg_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/org/internal/readertest"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// newGHESWorld is newWorld on a fake GitHub Enterprise Server, reached at
// its /api/v3 and /api/graphql, seeded with seedAcme.
func newGHESWorld(t testing.TB) *world {
	t.Helper()
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{token}, EnterpriseServer: true})
	t.Cleanup(fake.Close)
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: fake.Host(), APIBaseURL: fake.GHEAPIBaseURL(), Token: integrations.NewSecret(token)}}})
	must(t, err)
	res, err := credentials.NewResolver(reg, nil)
	must(t, err)
	seedAcme(t, fake)
	return &world{fake, reg, res}
}

// decode reads one githubOrg entry from YAML, as app-config.yaml has it.
func decode(t *testing.T, yaml string) githuborg.Config {
	t.Helper()
	cfg, err := config.LoadBytes(context.Background(), nil, []byte(yaml))
	must(t, err)
	cfgs, err := githuborg.DecodeConfig(cfg)
	must(t, err)
	return cfgs[0]
}

// TestExcludeSuspendedUsers: on GitHub Enterprise Server,
// excludeSuspendedUsers: true leaves bob (suspended) out of the users and
// out of platform-team's members, with no warning and no request more;
// false keeps him. The key is read from the YAML.
func TestExcludeSuspendedUsers(t *testing.T) {
	for _, tc := range []struct {
		name        string
		exclude     bool
		teamPage    int // pageSizes.teamMembers: 1 puts bob on platform-team's second page
		wantBob     bool
		wantMembers []string // of platform-team
		wantReqs    int
	}{
		{"excluded", true, 0, false, []string{"jane"}, 1},
		{"excluded from a team's later page", true, 1, false, []string{"jane"}, 2},
		{"not excluded", false, 0, true, []string{"bob", "jane"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newGHESWorld(t)
			w.fake.SuspendUser("bob", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			yaml := "catalog:\n  providers:\n    githubOrg:\n      id: ghes\n      orgs: [acme]\n      excludeSuspendedUsers: " +
				map[bool]string{true: "true", false: "false"}[tc.exclude] + "\n"
			cfg := decode(t, yaml)
			cfg.PageSizes.TeamMembers = tc.teamPage
			snap, err := w.reader(t, cfg, nil).Read(context.Background())
			must(t, err)
			must(t, snap.Validate())
			if got := snap.User(org.UserRef("", "bob")) != nil; got != tc.wantBob {
				t.Errorf("bob among the users: %v, want %v", got, tc.wantBob)
			}
			if g := snap.Group(org.GroupRef("", "platform-team")); g == nil || !slices.Equal(g.Spec.Members, tc.wantMembers) {
				t.Errorf("platform-team = %+v, want members %v", g, tc.wantMembers)
			}
			if len(snap.Users) != 3+map[bool]int{true: 1}[tc.wantBob] {
				t.Errorf("%d users", len(snap.Users))
			}
			if len(snap.Warnings) != 0 {
				t.Errorf("warnings %q, want none", snap.Warnings)
			}
			if n := w.fake.Stats().API; n != tc.wantReqs {
				t.Errorf("requests = %d, want %d", n, tc.wantReqs)
			}
		})
	}
}

// TestExcludeSuspendedUsersOnGitHubCom: github.com has no suspended users
// and its GraphQL refuses User.suspendedAt; New refuses the key there,
// InvalidArgument naming it, rather than send queries GitHub refuses
// (Backstage's read fails on GitHub's validation error instead). A host
// that is not github.com is taken for GitHub Enterprise Server; one whose
// GraphQL has no such field (the fake in github.com's shape) fails the
// first read, InvalidArgument naming the key, with GitHub's own error.
func TestExcludeSuspendedUsersOnGitHubCom(t *testing.T) {
	dotcom, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{Host: "github.com", Token: integrations.NewSecret(token)}}})
	must(t, err)
	dotcomRes, err := credentials.NewResolver(dotcom, nil)
	must(t, err)
	for _, tc := range []struct {
		name    string
		url     string
		exclude bool
		wantErr bool
	}{
		{"github.com, true", "https://github.com", true, true},
		{"github.com, false", "https://github.com", false, false},
		{"github.com by default, true", "", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := githuborg.New(githuborg.Config{ID: "cloud", GitHubURL: tc.url, Orgs: []string{"acme"}, ExcludeSuspendedUsers: tc.exclude},
				&githuborg.Options{Registry: dotcom, Resolver: dotcomRes})
			if tc.wantErr != (err != nil) || (tc.wantErr && (errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "excludeSuspendedUsers"))) {
				t.Errorf("New = %v, want an InvalidArgument naming excludeSuspendedUsers: %v", err, tc.wantErr)
			}
		})
	}
	t.Run("a host whose schema lacks the field", func(t *testing.T) {
		w := newWorld(t)
		seedAcme(t, w.fake)
		_, err := w.reader(t, githuborg.Config{Orgs: []string{"acme"}, ExcludeSuspendedUsers: true}, nil).Read(context.Background())
		if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "excludeSuspendedUsers") || !strings.Contains(err.Error(), "Field 'suspendedAt' doesn't exist") {
			t.Errorf("Read = %v, want InvalidArgument naming excludeSuspendedUsers, with GitHub's refusal of suspendedAt", err)
		}
	})
}

// TestUpdateKeepsSuspendedUsersOut: with excludeSuspendedUsers, no event
// brings a suspended member back (hers, her team's, her membership's), a
// team's event costs no request for its suspended members, and a member
// suspended since the Read leaves with her memberships on her event.
func TestUpdateKeepsSuspendedUsersOut(t *testing.T) {
	w := newGHESWorld(t)
	w.fake.SuspendUser("bob", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	r := w.reader(t, githuborg.Config{Orgs: []string{"acme"}, ExcludeSuspendedUsers: true}, nil)
	snap, err := r.Read(context.Background())
	must(t, err)
	for _, tc := range []struct {
		name     string
		suspend  string // suspended before the event
		ch       githuborg.Change
		gone     string // the user not in the result
		wantTeam []string
	}{
		{"team event", "", githuborg.Change{Org: "acme", Team: "platform-team"}, "bob", []string{"jane"}},
		{"member event", "", githuborg.Change{Org: "acme", User: "bob"}, "bob", []string{"jane"}},
		{"membership event", "", githuborg.Change{Org: "acme", User: "bob", Team: "platform-team"}, "bob", []string{"jane"}},
		{"suspended since the read", "jane", githuborg.Change{Org: "acme", User: "jane"}, "jane", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.suspend != "" {
				w.fake.SuspendUser(tc.suspend, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
				t.Cleanup(func() { w.fake.SuspendUser(tc.suspend, time.Time{}) })
			}
			w.fake.ResetStats()
			got, err := r.Update(context.Background(), snap, tc.ch)
			must(t, err)
			if got.User(org.UserRef("", tc.gone)) != nil {
				t.Errorf("%s is among the users", tc.gone)
			}
			if g := got.Group(org.GroupRef("", "platform-team")); g == nil || !slices.Equal(g.Spec.Members, tc.wantTeam) {
				t.Errorf("platform-team = %+v, want members %v", g, tc.wantTeam)
			}
			if tc.gone == "jane" {
				if g := got.Group(org.GroupRef("", "sre")); g == nil || len(g.Spec.Members) != 0 {
					t.Errorf("sre = %+v, want no members", g)
				}
			}
			want := 1 + map[bool]int{true: 1}[tc.ch.User != "" && tc.ch.Team != ""]
			if n := w.fake.Stats().API; n != want {
				t.Errorf("requests = %d, want %d", n, want)
			}
			if len(got.Warnings) != 0 {
				t.Errorf("warnings %q, want none", got.Warnings)
			}
		})
	}
}

// BenchmarkReadBudgetExcludeSuspended: excludeSuspendedUsers on GitHub
// Enterprise Server costs no request more than BenchmarkReadBudget (10,000
// members, 100 of them suspended, 1,000 teams: 100 queries).
func BenchmarkReadBudgetExcludeSuspended(b *testing.B) {
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{token}, EnterpriseServer: true})
	b.Cleanup(fake.Close)
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: fake.Host(), APIBaseURL: fake.GHEAPIBaseURL(), Token: integrations.NewSecret(token)}}})
	must(b, err)
	res, err := credentials.NewResolver(reg, nil)
	must(b, err)
	w := &world{fake, reg, res}
	seedBig(b, fake, 10000, 1000, 10)
	for i := range 100 {
		fake.SuspendUser(fmt.Sprintf("user-%d", i*100), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	}
	r := w.reader(b, githuborg.Config{Orgs: []string{"big"}, ExcludeSuspendedUsers: true}, nil)
	b.ResetTimer()
	readertest.Budget(b, r, readertest.Counter{Reset: fake.ResetStats, Requests: func() int { return fake.Stats().API }}, 9900, 1000, 100)
}
