package fakegitlab

import (
	"net/http"
	"strings"
	"testing"
)

func TestAccessRoutes(t *testing.T) {
	s := newServer(t, nil)
	seed(t, s, "acme", "app", map[string]string{"README.md": "x\n"})
	if err := s.AddGroup("sre"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddGroupMember("acme", Member{Username: "maint", AccessLevel: 40}); err != nil {
		t.Fatal(err)
	}
	s.AddOrgUser(Member{Username: "alice"})
	group := call(t, s, "GET", "/api/v4/groups/sre", auth, nil).json(t).(map[string]any)["id"]
	users := call(t, s, "GET", "/api/v4/users?username=alice", auth, nil).json(t).([]any)
	if len(users) != 1 {
		t.Fatalf("GET /users?username=alice = %v; want alice only", users)
	}
	alice := users[0].(map[string]any)["id"]
	maint := call(t, s, "GET", "/api/v4/users?username=maint", auth, nil).json(t).([]any)[0].(map[string]any)["id"]
	p := "/api/v4/projects/acme%2Fapp"
	for _, tc := range []struct {
		name, path string
		body       map[string]any
		status     int
		want       string
	}{
		{"share", "/share", map[string]any{"group_id": group, "group_access": 30}, http.StatusCreated, `"group_access":30`},
		{"share again", "/share", map[string]any{"group_id": group, "group_access": 20}, http.StatusConflict, "already shared"},
		{"unknown group", "/share", map[string]any{"group_id": 999999, "group_access": 20}, http.StatusNotFound, "404 Group Not Found"},
		{"bad level", "/share", map[string]any{"group_id": group, "group_access": 31}, http.StatusBadRequest, "group_access"},
		{"member", "/members", map[string]any{"user_id": alice, "access_level": 40}, http.StatusCreated, `"username":"alice"`},
		{"member again", "/members", map[string]any{"user_id": alice, "access_level": 30}, http.StatusConflict, "Member already exists"},
		{"unknown user", "/members", map[string]any{"user_id": 999999, "access_level": 30}, http.StatusNotFound, "404 User Not Found"},
		{"below inherited", "/members", map[string]any{"user_id": maint, "access_level": 20}, http.StatusBadRequest, "inherited membership from group acme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, s, "POST", p+tc.path, auth, tc.body)
			if a.status != tc.status || !strings.Contains(string(a.body), tc.want) {
				t.Errorf("POST %s = %d %s; want %d with %q", tc.path, a.status, a.body, tc.status, tc.want)
			}
		})
	}
	if got, want := s.Grants("acme/app"), []Grant{{Group: "sre", AccessLevel: 30}, {User: "alice", AccessLevel: 40}}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Grants = %v; want %v", got, want)
	}
}
