package fakegitlab

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
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

// TestQueryGroups: Query.groups lists every group an authenticated request
// sees, 100 a page at most, sorted by name (GitLab's default name_asc; ties by id),
// with its filters; an anonymous request sees none of the private groups.
func TestQueryGroups(t *testing.T) {
	s := New(&Options{Tokens: []string{token}})
	t.Cleanup(s.Close)
	for _, p := range []string{"acme/platform/sre", "acme/web", "zeta", "beta/platform"} {
		if err := s.AddGroup(p); err != nil {
			t.Fatal(err)
		}
	}
	const q = `query($first: Int, $after: String, $top: Boolean, $parent: ID, $search: String, $sort: String) {
	  groups(first: $first, after: $after, topLevelOnly: $top, parentPath: $parent, search: $search, sort: $sort) {
	    pageInfo { hasNextPage endCursor }
	    nodes { fullPath parent { fullPath } }
	  }
	}`
	list := func(header map[string]string, vars map[string]any) (paths []string, pages int) {
		t.Helper()
		var after any
		for ; ; pages++ {
			if pages > 10 {
				t.Fatal("too many pages")
			}
			vars["first"], vars["after"] = 2, after
			res := postGQL(t, s, header, q, vars)
			if res["errors"] != nil {
				t.Fatalf("errors: %v", res["errors"])
			}
			conn := res["data"].(map[string]any)["groups"].(map[string]any)
			for _, n := range conn["nodes"].([]any) {
				g := n.(map[string]any)
				p := g["fullPath"].(string)
				if par, ok := g["parent"].(map[string]any); ok {
					p += "<" + par["fullPath"].(string)
				}
				paths = append(paths, p)
			}
			pi := conn["pageInfo"].(map[string]any)
			if pi["hasNextPage"] != true {
				return paths, pages + 1
			}
			after = pi["endCursor"]
		}
	}
	for _, tc := range []struct {
		name string
		vars map[string]any
		want []string
	}{
		{"all by name", map[string]any{}, []string{"acme", "beta", "acme/platform<acme", "beta/platform<beta", "acme/platform/sre<acme/platform", "acme/web<acme", "zeta"}},
		{"name_desc", map[string]any{"sort": "name_desc"}, []string{"zeta", "acme/web<acme", "acme/platform/sre<acme/platform", "acme/platform<acme", "beta/platform<beta", "beta", "acme"}},
		{"top level only", map[string]any{"top": true}, []string{"acme", "beta", "zeta"}},
		{"parentPath", map[string]any{"parent": "acme"}, []string{"acme/platform<acme", "acme/web<acme"}},
		{"search", map[string]any{"search": "PLAT"}, []string{"acme/platform<acme", "beta/platform<beta", "acme/platform/sre<acme/platform"}},
	} {
		got, pages := list(auth, tc.vars)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v\nwant %v", tc.name, got, tc.want)
		}
		if want := (len(tc.want) + 1) / 2; pages != max(want, 1) {
			t.Errorf("%s: %d pages, want %d", tc.name, pages, want)
		}
	}
	if got, _ := list(nil, map[string]any{}); len(got) != 0 {
		t.Errorf("anonymous: %v", got)
	}
	res := postGQL(t, s, auth, `{ groups(first: 101) { nodes { fullPath } } }`, nil)
	if !strings.Contains(pretty(t, res["errors"]), "exceeds the maximum of 100") {
		t.Errorf("first: 101 answered %v", res)
	}
}
