package fakebitbucketserver_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

func TestAccessRoutes(t *testing.T) {
	s := newFake(t, "")
	s.AddGroup("platform-devs")
	s.AddUser("alice")
	base := "/rest/api/1.0/projects/AMUNIZ/repos/test-repos/permissions/"
	for _, tc := range []struct {
		name, path, want string
		status           int
	}{
		{"group", "groups?permission=REPO_WRITE&name=platform-devs", "", http.StatusNoContent},
		{"user", "users?permission=REPO_ADMIN&name=alice", "", http.StatusNoContent},
		{"unknown group", "groups?permission=REPO_READ&name=ghosts", "NoSuchGroupException", http.StatusNotFound},
		{"unknown user", "users?permission=REPO_READ&name=nobody", "NoSuchUserException", http.StatusNotFound},
		{"unknown permission", "users?permission=PROJECT_ADMIN&name=alice", "IllegalArgumentException", http.StatusBadRequest},
		{"no name", "groups?permission=REPO_READ", "IllegalArgumentException", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, s, base+tc.path, reqOpts{method: http.MethodPut})
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
				t.Errorf("PUT %s = %d %s; want %d with %q", tc.path, resp.StatusCode, body, tc.status, tc.want)
			}
		})
	}
	want := []fakebitbucketserver.Grant{{Group: "platform-devs", Permission: "REPO_WRITE"}, {User: "alice", Permission: "REPO_ADMIN"}}
	got := s.Grants("AMUNIZ", "test-repos")
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Grants = %+v; want %+v", got, want)
	}
}
