package gitlaborg_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/gitlaborg"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// TestGitLabGroupNameSquatting (review 28, finding 2): in instance mode any
// user who may create a top-level group can make platform/admins, whose
// entity name is platform-admins as the real top-level group's is. The
// name, contested, goes to neither group (whichever GitLab lists first),
// with one warning naming both paths.
func TestGitLabGroupNameSquatting(t *testing.T) {
	for _, order := range [][2]string{{"platform-admins", "platform/admins"}, {"platform/admins", "platform-admins"}} {
		t.Run(strings.Join(order[:], ","), func(t *testing.T) {
			w := newWorld(t, nil)
			who := map[string]string{"platform-admins": "alice", "platform/admins": "mallory"}
			for _, p := range order {
				must(t, w.fake.AddGroupMember(p, fakegitlab.Member{Username: who[p], Name: who[p]}))
			}
			snap, err := w.reader(t, gitlaborg.Config{RestrictUsersToGroup: true}, nil).Read(context.Background())
			must(t, err)
			must(t, snap.Validate())
			x := org.NewIndex(snap)
			g := org.GroupRef("", "platform-admins")
			if x.IsMember(org.UserRef("", "mallory"), g) {
				t.Errorf("mallory, who created platform/admins, is a member of group:default/platform-admins; groups %q", groupLines(snap))
			}
			if snap.Group(g) != nil {
				t.Errorf("the contested name platform-admins was given to a group: %q", groupLines(snap))
			}
			if !slices.ContainsFunc(snap.Warnings, func(s string) bool {
				return strings.Contains(s, `"platform-admins"`) && strings.Contains(s, "platform-admins, platform/admins")
			}) {
				t.Errorf("no warning names both claimants: %q", snap.Warnings)
			}
			if snap.Group(org.GroupRef("", "platform")) == nil {
				t.Errorf("the uncontested group platform is missing: %q", groupLines(snap))
			}
		})
	}
}

// TestSubgroupCannotTakeTheRootName: the configured group is named by the
// configuration, not by anyone who can make a subgroup; acme/acme (also
// named "acme" once the prefix is cut) is left out and the root keeps its
// name and members.
func TestSubgroupCannotTakeTheRootName(t *testing.T) {
	w := newWorld(t, nil)
	must(t, w.fake.AddGroupMember("acme", fakegitlab.Member{Username: "alice"}))
	must(t, w.fake.AddGroupMember("acme/acme", fakegitlab.Member{Username: "mallory"}))
	snap, err := w.reader(t, gitlaborg.Config{Group: "acme", RestrictUsersToGroup: true}, nil).Read(context.Background())
	must(t, err)
	x := org.NewIndex(snap)
	root := org.GroupRef("", "acme")
	if !x.IsMember(org.UserRef("", "alice"), root) || x.IsMember(org.UserRef("", "mallory"), root) {
		t.Errorf("groups %q", groupLines(snap))
	}
	if g := snap.Group(root); g == nil || g.Metadata.Annotations[w.fake.Host()+"/team-path"] != "acme" {
		t.Errorf("group acme = %+v, want the configured group", g)
	}
	if !slices.ContainsFunc(snap.Warnings, func(s string) bool { return strings.Contains(s, "acme/acme") && strings.Contains(s, "skipped") }) {
		t.Errorf("warnings %q name no acme/acme", snap.Warnings)
	}
}
