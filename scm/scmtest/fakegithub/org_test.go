package fakegithub_test

import (
	"cmp"
	"net/http"
	"strings"
	"testing"

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
