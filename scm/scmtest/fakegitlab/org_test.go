package fakegitlab

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestGroupMembersAllSeats: members/all lists direct and inherited members
// once, and is_using_seat only when show_seat_info=true.
func TestGroupMembersAllSeats(t *testing.T) {
	s := New(&Options{Tokens: []string{token}})
	t.Cleanup(s.Close)
	for _, c := range []struct {
		group string
		m     Member
	}{
		{"acme", Member{Username: "carol", AccessLevel: 50}},
		{"acme", Member{Username: "guest", AccessLevel: 10, NoSeat: true}},
		{"acme/platform", Member{Username: "bob"}},
		{"acme/platform", Member{Username: "carol", AccessLevel: 30}},
	} {
		if err := s.AddGroupMember(c.group, c.m); err != nil {
			t.Fatal(err)
		}
	}
	get := func(path string) (int, []map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, s.APIBaseURL()+path, nil)
		req.Header.Set("PRIVATE-TOKEN", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out []map[string]any
		if resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, out
	}
	for _, tc := range []struct {
		path  string
		code  int
		users map[string]any // username -> is_using_seat (nil: absent)
		level map[string]float64
	}{
		{"/groups/acme/members/all?show_seat_info=true", 200, map[string]any{"carol": true, "guest": false}, map[string]float64{"carol": 50, "guest": 10}},
		{"/groups/acme%2Fplatform/members/all?show_seat_info=true", 200, map[string]any{"bob": true, "carol": true, "guest": false}, map[string]float64{"carol": 50, "bob": 30}},
		{"/groups/acme/members/all", 200, map[string]any{"carol": nil, "guest": nil}, nil},
		{"/groups/nope/members/all", 404, nil, nil},
	} {
		code, list := get(tc.path)
		if code != tc.code {
			t.Errorf("%s: status %d, want %d", tc.path, code, tc.code)
			continue
		}
		if len(list) != len(tc.users) {
			t.Errorf("%s: %d members, want %d: %v", tc.path, len(list), len(tc.users), list)
		}
		for _, m := range list {
			name, _ := m["username"].(string)
			want, ok := tc.users[name]
			if !ok {
				t.Errorf("%s: unexpected member %s", tc.path, name)
				continue
			}
			if got, has := m["is_using_seat"]; (want == nil) == has || (has && got != want) {
				t.Errorf("%s: %s is_using_seat = %v (present %v), want %v", tc.path, name, got, has, want)
			}
			if l, ok := tc.level[name]; ok && m["access_level"] != l {
				t.Errorf("%s: %s access_level = %v, want %v", tc.path, name, m["access_level"], l)
			}
		}
	}
}
