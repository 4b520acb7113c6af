package fakebitbucketcloud_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

func TestAccessRoutes(t *testing.T) {
	s := newFake(t, nil)
	s.AddGroup("amuniz", "developers")
	alice := "557058:ba8948b2-49da-43a9-9e8b-e7249b8e324a"
	s.AddAccount(alice)
	base := s.APIBaseURL() + "/repositories/amuniz/test-repos/permissions-config/"
	for _, tc := range []struct {
		name, path, body, want string
		status                 int
	}{
		{"group", "groups/developers", `{"permission":"write"}`, `"repository_group_permission"`, http.StatusOK},
		{"user", "users/" + alice, `{"permission":"admin"}`, `"repository_user_permission"`, http.StatusOK},
		{"unknown group", "groups/ghosts", `{"permission":"read"}`, `"error"`, http.StatusNotFound},
		{"unknown user", "users/{d301aafa-d676-4ee0-88be-962be7417567}", `{"permission":"read"}`, `"error"`, http.StatusNotFound},
		{"unknown permission", "groups/developers", `{"permission":"owner"}`, "not one of read, write, or admin", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, s, base+tc.path, reqOpts{method: http.MethodPut, body: tc.body, ctype: "application/json"})
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
				t.Errorf("PUT %s = %d %s; want %d with %s", tc.path, resp.StatusCode, body, tc.status, tc.want)
			}
		})
	}
	want := []fakebitbucketcloud.Grant{{Group: "developers", Permission: "write"}, {User: alice, Permission: "admin"}}
	got := s.Grants("amuniz", "test-repos")
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Grants = %+v; want %+v", got, want)
	}
}
