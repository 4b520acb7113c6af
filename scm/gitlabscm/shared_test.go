package gitlabscm_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestListRepositoriesOwnOnly checks that a group's listing holds the
// projects of the group and its subgroups only: GET groups/:id/projects
// also gives, by default (with_shared=true), the projects of other
// namespaces shared with the group, which are not the group's.
func TestListRepositoriesOwnOnly(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.add(t, "acme", "svc", map[string]string{"README.md": "svc\n"})
	w.add(t, "acme/platform", "api", map[string]string{"README.md": "api\n"})
	w.add(t, "globex", "lib", map[string]string{"README.md": "lib\n"})
	api := w.s.APIBaseURL()
	call := func(method, path string, form url.Values, out any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, api+path, strings.NewReader(form.Encode()))
		req.Header.Set("PRIVATE-TOKEN", goodToken)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %s", method, path, resp.Status)
		}
		if out != nil {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatal(err)
			}
		}
	}
	var group struct {
		ID int64 `json:"id"`
	}
	call("GET", "/groups/acme", nil, &group)
	call("POST", "/projects/globex%2Flib/share", url.Values{"group_id": {strconv.FormatInt(group.ID, 10)}, "group_access": {"30"}}, nil)

	var got []string
	for r, err := range w.c.ListRepositories(t.Context(), w.url(t, "acme", "", "", "", false), nil) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Owner+"/"+r.Name)
	}
	if diff := cmp.Diff([]string{"acme/svc", "acme/platform/api"}, got); diff != "" {
		t.Errorf("ListRepositories(acme) (-want +got):\n%s", diff)
	}
}
