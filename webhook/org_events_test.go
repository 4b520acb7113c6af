package webhook

import (
	"slices"
	"testing"

	"github.com/scmkit/scmkit/errcode"
)

// TestGitHubOrgEvents: GitHub's organization, membership and team events
// (payloads shaped as GitHub's webhook documentation shows them) name the
// member and team to read again; other actions name nothing.
func TestGitHubOrgEvents(t *testing.T) {
	org := `"organization": {"login": "acme", "id": 9}, "sender": {"login": "admin"}`
	for _, tc := range []struct {
		name, event, body string
		want              *OrgChange
	}{
		{"member added", "organization", `{"action": "member_added", "membership": {"state": "active", "role": "member", "user": {"login": "jane", "id": 1}}, ` + org + `}`,
			&OrgChange{Org: "acme", User: "jane", Action: "member_added"}},
		{"member removed", "organization", `{"action": "member_removed", "membership": {"user": {"login": "jane"}}, ` + org + `}`,
			&OrgChange{Org: "acme", User: "jane", Action: "member_removed"}},
		{"organisation renamed", "organization", `{"action": "renamed", "changes": {"login": {"from": "acme-old"}}, ` + org + `}`,
			&OrgChange{Org: "acme", Action: "renamed", From: "acme-old"}},
		{"member invited", "organization", `{"action": "member_invited", "invitation": {"login": "jane"}, ` + org + `}`, nil},
		{"team membership", "membership", `{"action": "removed", "scope": "team", "member": {"login": "bob"}, "team": {"slug": "platform-team", "name": "Platform Team"}, ` + org + `}`,
			&OrgChange{Org: "acme", User: "bob", Team: "platform-team", Action: "removed"}},
		{"team edited", "team", `{"action": "edited", "changes": {"name": {"from": "Web"}}, "team": {"slug": "web", "name": "Web Platform"}, ` + org + `}`,
			&OrgChange{Org: "acme", Team: "web", Action: "edited"}},
		{"team added to a repository", "team", `{"action": "added_to_repository", "team": {"slug": "web"}, "repository": {"html_url": "https://github.com/acme/service"}, ` + org + `}`, nil},
		{"a push", "push", string(load(t, "github-push.json")), nil},
		{"app installed on an organisation", "installation", `{"action": "created", "installation": {"id": 7, "account": {"login": "acme", "type": "Organization"}}, "repositories": [], "sender": {"login": "admin"}}`,
			&OrgChange{Org: "acme", Action: "created"}},
		{"app uninstalled", "installation", `{"action": "deleted", "installation": {"id": 7, "account": {"login": "acme", "type": "Organization"}}, "sender": {"login": "admin"}}`,
			&OrgChange{Org: "acme", Action: "deleted"}},
		{"app suspended", "installation", `{"action": "suspend", "installation": {"id": 7, "account": {"login": "acme", "type": "Organization"}}}`,
			&OrgChange{Org: "acme", Action: "suspend"}},
		{"app given new permissions", "installation", `{"action": "new_permissions_accepted", "installation": {"id": 7, "account": {"login": "acme", "type": "Organization"}}}`,
			&OrgChange{Org: "acme", Action: "new_permissions_accepted"}},
		{"app installed on a user", "installation", `{"action": "created", "installation": {"id": 8, "account": {"login": "octocat", "type": "User"}}}`, nil},
		{"installation's organisation renamed", "installation_target", `{"action": "renamed", "target_type": "Organization", "account": {"login": "acme-new", "type": "Organization"}, "changes": {"login": {"from": "acme"}}, "installation": {"id": 7}}`,
			&OrgChange{Org: "acme-new", Action: "renamed", From: "acme"}},
		{"installation's user renamed", "installation_target", `{"action": "renamed", "target_type": "User", "account": {"login": "octo"}, "installation": {"id": 8}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t, "github.com", nil)
			body := []byte(tc.body)
			h := githubHeaders(body, "d-"+tc.name)
			h.Set("X-Github-Event", tc.event)
			ev, err := r.Parse(t.Context(), h, body)
			if err != nil {
				t.Fatal(err)
			}
			if (ev.Org == nil) != (tc.want == nil) || (ev.Org != nil && *ev.Org != *tc.want) {
				t.Fatalf("Org = %+v, want %+v", ev.Org, tc.want)
			}
			if tc.want != nil && (ev.Ignored == "" || len(ev.Changes) != 0) {
				t.Errorf("an organisation event changes no catalog file: %+v", ev)
			}
		})
	}
}

// TestGitHubOrgEventBadNames: a login or slug that cannot be GitHub's is
// refused, as is an organisation event without an organization.
func TestGitHubOrgEventBadNames(t *testing.T) {
	for _, tc := range []struct{ event, body string }{
		{"organization", `{"action": "member_added", "membership": {"user": {"login": "jane doe"}}, "organization": {"login": "acme"}}`},
		{"team", `{"action": "created", "team": {"slug": "web\n"}, "organization": {"login": "acme"}}`},
		{"team", `{"action": "created", "team": {"slug": "web"}}`},
		{"installation", `{"action": "created", "installation": {"id": 7, "account": {"login": "acme corp", "type": "Organization"}}}`},
		{"installation_target", `{"action": "renamed", "target_type": "Organization", "account": {"login": "../acme"}}`},
		{"installation_target", `{"action": "renamed", "target_type": "Organization", "account": {"login": ".."}}`},
		{"organization", `{"action": "renamed", "changes": {"login": {"from": "../old"}}, "organization": {"login": "acme"}}`},
		{"organization", `{"action": "member_added", "membership": {"user": {"login": "."}}, "organization": {"login": "acme"}}`},
	} {
		r := newReceiver(t, "github.com", nil)
		h := githubHeaders([]byte(tc.body), "d")
		h.Set("X-Github-Event", tc.event)
		if _, err := r.Parse(t.Context(), h, []byte(tc.body)); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", tc.body, err)
		}
	}
}

func FuzzGitHubOrgEvent(f *testing.F) {
	f.Add(uint8(0), []byte(`{"action":"member_added","membership":{"user":{"login":"jane"}},"organization":{"login":"acme"}}`))
	f.Add(uint8(1), []byte(`{"action":"added","scope":"team","member":{"login":"bob"},"team":{"slug":"web"},"organization":{"login":"acme"}}`))
	f.Add(uint8(2), []byte(`{"action":"deleted","team":{"slug":"web"},"organization":{"login":"acme"}}`))
	f.Add(uint8(3), []byte(`{"action":"created","installation":{"id":7,"account":{"login":"acme","type":"Organization"}}}`))
	f.Add(uint8(4), []byte(`{"action":"renamed","target_type":"Organization","account":{"login":"acme"}}`))
	events := []string{"organization", "membership", "team", "installation", "installation_target"}
	whole := map[string][]string{"organization": {"renamed", "deleted"}, "installation_target": {"renamed"}, "installation": {"created", "deleted", "suspend", "unsuspend", "new_permissions_accepted"}}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		r := newReceiver(t, "github.com", nil)
		h := githubHeaders(body, "f")
		h.Set("X-Github-Event", events[int(which)%len(events)])
		ev, err := r.Parse(t.Context(), h, body)
		switch {
		case err != nil:
			if errcode.CodeOf(err) == errcode.Unknown {
				t.Fatalf("unclassified error: %v", err)
			}
		case ev.Org != nil:
			if !gitHubName(ev.Org.Org) || (ev.Org.User == "" && ev.Org.Team == "" && !slices.Contains(whole[ev.Name], ev.Org.Action)) ||
				(ev.Org.User != "" && !gitHubName(ev.Org.User)) || (ev.Org.Team != "" && !gitHubName(ev.Org.Team)) {
				t.Fatalf("Org = %+v", ev.Org)
			}
		}
	})
}
