package fakegithub_test

import (
	"net/http"
	"testing"

	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

func TestAccessRoutes(t *testing.T) {
	s := newServer(t, nil)
	if err := s.AddOrgMember("acme", fakegithub.OrgMember{Login: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddTeam("acme", fakegithub.Team{Slug: "platform"}); err != nil {
		t.Fatal(err)
	}
	s.AddOwner("carol", fakegithub.User)
	api := s.APIBaseURL()
	for _, tc := range []struct {
		name, url, body string
		status          int
	}{
		{"team", api + "/orgs/acme/teams/platform/repos/acme/widgets", `{"permission":"push"}`, http.StatusNoContent},
		{"unknown team", api + "/orgs/acme/teams/ghosts/repos/acme/widgets", `{"permission":"push"}`, http.StatusNotFound},
		{"team, unknown permission", api + "/orgs/acme/teams/platform/repos/acme/widgets", `{"permission":"owner"}`, http.StatusUnprocessableEntity},
		{"team, unknown repository", api + "/orgs/acme/teams/platform/repos/acme/nothing", `{"permission":"pull"}`, http.StatusNotFound},
		{"member", api + "/repos/acme/widgets/collaborators/alice", `{"permission":"admin"}`, http.StatusNoContent},
		{"outside collaborator: invitation", api + "/repos/acme/widgets/collaborators/carol", `{"permission":"pull"}`, http.StatusCreated},
		{"unknown user", api + "/repos/acme/widgets/collaborators/nobody", `{"permission":"pull"}`, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, s, call{method: http.MethodPut, url: tc.url, body: tc.body})
			if resp.StatusCode != tc.status {
				t.Errorf("PUT %s = %d %s; want %d", tc.url, resp.StatusCode, body, tc.status)
			}
		})
	}
	want := []fakegithub.Grant{{Team: "platform", Permission: "push"}, {User: "alice", Permission: "admin"},
		{User: "carol", Permission: "pull", Invited: true}}
	got := s.Grants("acme", "widgets")
	if len(got) != len(want) {
		t.Fatalf("Grants = %+v; want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Grants[%d] = %+v; want %+v", i, got[i], want[i])
		}
	}
	resp, _ := do(t, s, call{method: http.MethodPut, url: api + "/repos/acme/widgets/collaborators/alice", body: `{"permission":"pull"}`,
		header: map[string]string{"Authorization": ""}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous PUT collaborator = %d; want 401", resp.StatusCode)
	}
}
