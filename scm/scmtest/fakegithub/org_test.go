package fakegithub_test

import (
	"cmp"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestOrgMembershipAsGitHubAnswers: GET /orgs/{org}/members/{username}
// answers 204 or 404 only to a requester who belongs to the organisation;
// anyone else gets 302 to the public membership check, as GitHub answers.
func TestOrgMembershipAsGitHubAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, user, token, who string
		want                   int
		org                    string
	}{
		{"member asks about a private member", "alice", "t", "jane", http.StatusNoContent, ""},
		{"member asks about a non-member", "alice", "t", "zed", http.StatusNotFound, ""},
		{"non-member asks about a private member", "mallory", "t", "jane", http.StatusFound, ""},
		{"non-member asks about a non-member", "mallory", "t", "zed", http.StatusFound, ""},
		{"anonymous", "alice", "", "jane", http.StatusFound, ""},
		{"no such organisation", "mallory", "t", "jane", http.StatusNotFound, "nosuchorg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fakegithub.New(&fakegithub.Options{Tokens: []string{"t"}, User: tc.user})
			t.Cleanup(s.Close)
			for _, m := range []fakegithub.OrgMember{{Login: "alice"}, {Login: "jane", Private: true}} {
				if err := s.AddOrgMember("acme", m); err != nil {
					t.Fatal(err)
				}
			}
			req, err := http.NewRequest(http.MethodGet, s.APIBaseURL()+"/orgs/"+cmp.Or(tc.org, "acme")+"/members/"+tc.who, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			c := s.Client()
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.want)
			}
			if loc := resp.Header.Get("Location"); tc.want == http.StatusFound && !strings.HasSuffix(loc, "/orgs/acme/public_members/"+tc.who) {
				t.Errorf("Location = %q, want the public membership check", loc)
			}
		})
	}
}

// TestSuspendedAtOnEnterpriseServerOnly: User.suspendedAt is GitHub
// Enterprise Server's; github.com's schema refuses a query naming it, as
// GitHub does. A suspension is the account's: it shows in every
// organisation, a later one too, until it is lifted.
func TestSuspendedAtOnEnterpriseServerOnly(t *testing.T) {
	const q = `{"query":"{ organization(login: \"acme\") { membersWithRole(first: 10) { nodes { login suspendedAt } } teams(first: 10) { nodes { members(first: 10) { nodes { login suspendedAt } } } } } }"}`
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name       string
		enterprise bool
		lift       bool
		want       string // in the answer
	}{
		{"github.com refuses the field", false, false, `"message":"Field 'suspendedAt' doesn't exist on type 'User'"`},
		{"enterprise server answers it", true, false, `"membersWithRole":{"nodes":[{"login":"alice","suspendedAt":null},{"login":"bob","suspendedAt":"2026-03-04T04:06:07Z"}]}`},
		{"a team's member too", true, false, `"members":{"nodes":[{"login":"bob","suspendedAt":"2026-03-04T04:06:07Z"}]}`},
		{"lifted", true, true, `{"login":"bob","suspendedAt":null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fakegithub.New(&fakegithub.Options{EnterpriseServer: tc.enterprise})
			t.Cleanup(s.Close)
			s.SuspendUser("Bob", at)
			for _, m := range []string{"alice", "bob"} {
				if err := s.AddOrgMember("acme", fakegithub.OrgMember{Login: m}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.AddTeam("acme", fakegithub.Team{Slug: "web", Members: []string{"bob"}}); err != nil {
				t.Fatal(err)
			}
			if tc.lift {
				s.SuspendUser("bob", time.Time{})
			}
			resp, err := s.Client().Post(s.URL()+"/api/graphql", "application/json", strings.NewReader(q))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), tc.want) {
				t.Errorf("%d %s\nwant %s in it", resp.StatusCode, body, tc.want)
			}
		})
	}
}
