package githuborg_test

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestUpdate applies each kind of organisation event to a snapshot: the
// result is what a full Read gives afterwards, for one GraphQL query (two
// when a team's new member is not in the snapshot yet), and the snapshot
// given is left as it was.
func TestUpdate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*fakegithub.Server) githuborg.Change
		want   int // requests
	}{
		{"nothing changed", func(*fakegithub.Server) githuborg.Change {
			return githuborg.Change{Org: "acme", Team: "web"}
		}, 1},
		{"member added", func(f *fakegithub.Server) githuborg.Change {
			must(t, f.AddOrgMember("acme", fakegithub.OrgMember{Login: "erin", Name: "Erin", Email: "erin@acme.example"}))
			return githuborg.Change{Org: "acme", User: "erin"}
		}, 1},
		{"member removed", func(f *fakegithub.Server) githuborg.Change {
			f.RemoveOrgMember("acme", "jane")
			return githuborg.Change{Org: "ACME", User: "jane"}
		}, 1},
		{"profile changed", func(f *fakegithub.Server) githuborg.Change {
			must(t, f.AddOrgMember("acme", fakegithub.OrgMember{Login: "bob", Name: "Robert"}))
			return githuborg.Change{Org: "acme", User: "bob"}
		}, 1},
		{"added to a team", func(f *fakegithub.Server) githuborg.Change {
			must(t, f.AddTeam("acme", fakegithub.Team{Slug: "web", Name: "Web", Members: []string{"dave"}}))
			return githuborg.Change{Org: "acme", Team: "web", User: "dave"}
		}, 2},
		{"removed from a team", func(f *fakegithub.Server) githuborg.Change {
			must(t, f.AddTeam("acme", fakegithub.Team{Slug: "platform-team", Name: "Platform Team", Parent: "engineering", Members: []string{"bob"}}))
			return githuborg.Change{Org: "acme", Team: "platform-team", User: "jane"}
		}, 2},
		{"new member in a team before her own event", func(f *fakegithub.Server) githuborg.Change {
			must(t, f.AddOrgMember("acme", fakegithub.OrgMember{Login: "frank"}))
			must(t, f.AddTeam("acme", fakegithub.Team{Slug: "web", Name: "Web", Members: []string{"frank"}}))
			return githuborg.Change{Org: "acme", Team: "web"}
		}, 2},
		{"team created under another", func(f *fakegithub.Server) githuborg.Change {
			must(t, f.AddTeam("acme", fakegithub.Team{Slug: "oncall", Name: "On call", Parent: "sre", Members: []string{"bob"}}))
			return githuborg.Change{Org: "acme", Team: "oncall"}
		}, 1},
		{"team edited and moved", func(f *fakegithub.Server) githuborg.Change {
			must(t, f.AddTeam("acme", fakegithub.Team{Slug: "web", Name: "Web Platform", Description: "The web", Parent: "engineering"}))
			return githuborg.Change{Org: "acme", Team: "web"}
		}, 1},
		{"team deleted", func(f *fakegithub.Server) githuborg.Change {
			must(t, f.RemoveTeam("acme", "sre"))
			return githuborg.Change{Org: "acme", Team: "sre"}
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			seedAcme(t, w.fake)
			r := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, nil)
			snap, err := r.Read(context.Background())
			must(t, err)
			before := cloneSnapshot(t, snap)
			ch := tc.change(w.fake)
			w.fake.ResetStats()
			got, err := r.Update(context.Background(), snap, ch)
			must(t, err)
			if n := w.fake.Stats().API; n != tc.want {
				t.Errorf("%d requests, want %d", n, tc.want)
			}
			want, err := r.Read(context.Background())
			must(t, err)
			ignore := cmpopts.IgnoreFields(org.Snapshot{}, "Warnings")
			if d := cmp.Diff(want, got, ignore, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("the update differs from a full read (-read +update):\n%s", d)
			}
			if d := cmp.Diff(before, snap); d != "" {
				t.Errorf("the snapshot given was modified:\n%s", d)
			}
		})
	}
}

// TestUpdateNeedsFullRead: a team deleted with its child teams cannot be
// applied alone; a change for an organisation the reader does not read is
// refused.
func TestUpdateNeedsFullRead(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	r := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, nil)
	snap, err := r.Read(context.Background())
	must(t, err)
	must(t, w.fake.RemoveTeam("acme", "sre"))
	must(t, w.fake.RemoveTeam("acme", "platform-team"))
	if _, err := r.Update(context.Background(), snap, githuborg.Change{Org: "acme", Team: "platform-team"}); errcode.CodeOf(err) != errcode.Conflict {
		t.Errorf("a team deleted with its children: %v, want Conflict", err)
	}
	// A renamed team: GitHub gives it a new slug, and the event names only
	// that one.
	must(t, w.fake.AddTeam("acme", fakegithub.Team{Slug: "web-platform", Name: "Web Platform"}))
	if _, err := r.Update(context.Background(), snap, githuborg.Change{Org: "acme", Team: "web-platform", Action: "edited"}); errcode.CodeOf(err) != errcode.Conflict {
		t.Errorf("a team renamed: %v, want Conflict", err)
	}
	if _, err := r.Update(context.Background(), snap, githuborg.Change{Org: "globex", User: "jane"}); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("another organisation: %v, want InvalidArgument", err)
	}
	if _, err := r.Update(context.Background(), snap, githuborg.Change{Org: "acme"}); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("a change naming nothing: %v, want InvalidArgument", err)
	}
	// Anyone can install a public app on an organisation of their own:
	// that is none of this Reader's business, not a full read of acme.
	for _, action := range []string{"created", "deleted", "suspend", "renamed"} {
		if _, err := r.Update(context.Background(), snap, githuborg.Change{Org: "evil", Action: action}); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("organisation evil %s: %v, want InvalidArgument", action, err)
		}
	}
	// acme renamed: the event names the new login, and the old one.
	if _, err := r.Update(context.Background(), snap, githuborg.Change{Org: "acme-corp", From: "acme", Action: "renamed"}); errcode.CodeOf(err) != errcode.Conflict {
		t.Errorf("acme renamed: %v, want Conflict", err)
	}
	for _, ch := range []githuborg.Change{{Org: "..", Action: "deleted"}, {Org: "acme", User: ".."}, {Org: "acme", User: "a/b"}, {Org: "x", From: "../acme", Action: "renamed"}} {
		if _, err := r.Update(context.Background(), snap, ch); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%+v: %v, want InvalidArgument", ch, err)
		}
	}
}

// TestUpdateSeveralOrganisations: with several organisations, an update
// of one leaves the other's entities (in their own namespace) as they are.
func TestUpdateSeveralOrganisations(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	must(t, w.fake.AddOrgMember("globex", fakegithub.OrgMember{Login: "jane"}))
	must(t, w.fake.AddTeam("globex", fakegithub.Team{Slug: "web", Members: []string{"jane"}}))
	r := w.reader(t, githuborg.Config{Orgs: []string{"acme", "globex"}}, nil)
	snap, err := r.Read(context.Background())
	must(t, err)
	must(t, w.fake.AddOrgMember("globex", fakegithub.OrgMember{Login: "erin"}))
	must(t, w.fake.AddTeam("globex", fakegithub.Team{Slug: "web", Members: []string{"jane", "erin"}}))
	got, err := r.Update(context.Background(), snap, githuborg.Change{Org: "globex", Team: "web", User: "erin"})
	must(t, err)
	want, err := r.Read(context.Background())
	must(t, err)
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(org.Snapshot{}, "Warnings"), cmpopts.EquateEmpty()); d != "" {
		t.Errorf("the update differs from a full read (-read +update):\n%s", d)
	}
}

func cloneSnapshot(t *testing.T, s *org.Snapshot) *org.Snapshot {
	t.Helper()
	c := &org.Snapshot{Warnings: slices.Clone(s.Warnings), Source: s.Source}
	for _, u := range s.Users {
		u.Metadata.Annotations = maps.Clone(u.Metadata.Annotations)
		u.Spec.MemberOf = slices.Clone(u.Spec.MemberOf)
		c.Users = append(c.Users, u)
	}
	for _, g := range s.Groups {
		g.Metadata.Annotations = maps.Clone(g.Metadata.Annotations)
		g.Spec.Members, g.Spec.Children = slices.Clone(g.Spec.Members), slices.Clone(g.Spec.Children)
		c.Groups = append(c.Groups, g)
	}
	return c
}

// BenchmarkUpdate proves an organisation event's budget on an
// organisation of 10,000 members and 1,000 teams: one GraphQL query to
// apply a team's change, one for a member's (a full Read costs 100).
func BenchmarkUpdate(b *testing.B) {
	w := newWorld(b)
	seedBig(b, w.fake, 10000, 1000, 10)
	r := w.reader(b, githuborg.Config{Orgs: []string{"big"}}, nil)
	snap, err := r.Read(context.Background())
	must(b, err)
	for _, ch := range []githuborg.Change{{Org: "big", Team: "team-7"}, {Org: "big", User: "user-42"}} {
		b.Run(ch.Team+ch.User, func(b *testing.B) {
			w.fake.ResetStats()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Update(context.Background(), snap, ch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(w.fake.Stats().API)/float64(b.N), "requests/op")
		})
	}
}

// TestUpdatePrivateMember: a member whose membership GraphQL does not
// show (private, to a GitHub App's installation token) is kept, after one
// REST request that confirms it; a member who left is removed.
func TestUpdatePrivateMember(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	must(t, w.fake.AddOrgMember("acme", fakegithub.OrgMember{Login: "jane", Name: "Jane Doe", Email: "jane@acme.example", Private: true}))
	// The token is a member's: GitHub answers a non-member 302 (see
	// TestUpdatePrivateMemberNonMemberToken).
	must(t, w.fake.AddOrgMember("acme", fakegithub.OrgMember{Login: "fake-user"}))
	r := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, nil)
	snap, err := r.Read(context.Background())
	must(t, err)
	w.fake.ResetStats()
	got, err := r.Update(context.Background(), snap, githuborg.Change{Org: "acme", User: "jane"})
	must(t, err)
	if got.User(org.UserRef("", "jane")) == nil {
		t.Fatal("a private member was removed")
	}
	if n := w.fake.Stats().API; n != 2 {
		t.Errorf("%d requests, want 2 (the query, and the REST membership check)", n)
	}
	w.fake.RemoveOrgMember("acme", "jane")
	got, err = r.Update(context.Background(), snap, githuborg.Change{Org: "acme", User: "jane"})
	must(t, err)
	if got.User(org.UserRef("", "jane")) != nil {
		t.Fatal("a member who left is kept")
	}
}

// TestUpdatePrivateMemberNonMemberToken: GitHub answers the membership
// check of a token whose user is not a member of the organisation with
// 302 (it may not see private memberships): Update is PermissionDenied,
// saying so, and never removes the member on that answer.
func TestUpdatePrivateMemberNonMemberToken(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	must(t, w.fake.AddOrgMember("acme", fakegithub.OrgMember{Login: "jane", Name: "Jane Doe", Email: "jane@acme.example", Private: true}))
	r := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, nil)
	snap, err := r.Read(context.Background())
	must(t, err)
	got, err := r.Update(context.Background(), snap, githuborg.Change{Org: "acme", User: "jane"})
	if errcode.CodeOf(err) != errcode.PermissionDenied || got != nil {
		t.Fatalf("Update = %v, %v; want PermissionDenied and no snapshot", got, err)
	}
	if !strings.Contains(err.Error(), "not a member of acme") {
		t.Errorf("err = %v; want it to say the credential is not a member of acme", err)
	}
	if snap.User(org.UserRef("", "jane")) == nil {
		t.Fatal("the snapshot was changed")
	}
}

// TestUpdatePrivateMemberOfInstallation: an installation token (which
// GraphQL shows no private membership) gets GitHub's answer from REST:
// the private member is kept.
func TestUpdatePrivateMemberOfInstallation(t *testing.T) {
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"unused"}})
	t.Cleanup(fake.Close)
	must(t, fake.AddOrgMember("acme", fakegithub.OrgMember{Login: "bob"}))
	must(t, fake.AddOrgMember("acme", fakegithub.OrgMember{Login: "jane", Private: true}))
	must(t, fake.AddTeam("acme", fakegithub.Team{Slug: "web", Members: []string{"bob"}}))
	r := appReader(t, fake, 81, githuborg.Config{Orgs: []string{"acme"}}, nil)
	_, err := fake.AddInstallation(fakegithub.Installation{AppID: 81, Account: "acme"})
	must(t, err)
	snap, err := r.Read(context.Background())
	must(t, err)
	got, err := r.Update(context.Background(), snap, githuborg.Change{Org: "acme", User: "jane"})
	must(t, err)
	if got.User(org.UserRef("", "jane")) == nil {
		t.Fatal("a private member was removed")
	}
	fake.RemoveOrgMember("acme", "jane")
	got, err = r.Update(context.Background(), snap, githuborg.Change{Org: "acme", User: "jane"})
	must(t, err)
	if got.User(org.UserRef("", "jane")) != nil {
		t.Fatal("a member who left is kept")
	}
}

// TestUpdateKeepsOtherWarningsAndRefusesOrgEvents: warnings not about the
// organisation updated stay; a change of the organisation itself
// (renamed, deleted) needs a full read.
func TestUpdateKeepsOtherWarningsAndRefusesOrgEvents(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	r := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, nil)
	snap, err := r.Read(context.Background())
	must(t, err)
	snap.Warnings = append(snap.Warnings, "group sales: a note of another source")
	got, err := r.Update(context.Background(), snap, githuborg.Change{Org: "acme", Team: "web"})
	must(t, err)
	if !slices.Contains(got.Warnings, "group sales: a note of another source") {
		t.Errorf("warnings = %q", got.Warnings)
	}
	if _, err := r.Update(context.Background(), snap, githuborg.Change{Org: "acme", Action: "renamed"}); errcode.CodeOf(err) != errcode.Conflict {
		t.Errorf("organisation renamed: %v, want Conflict", err)
	}
}

// TestUpdateOfAnotherInstallation: with the organisations found from the
// app's installations and a snapshot of one organisation without teams,
// nothing shows which organisation its users belong to: an event of
// another organisation is Conflict, never applied to them.
func TestUpdateOfAnotherInstallation(t *testing.T) {
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"unused"}})
	t.Cleanup(fake.Close)
	must(t, fake.AddOrgMember("acme", fakegithub.OrgMember{Login: "bob"}))
	must(t, fake.AddOrgMember("globex", fakegithub.OrgMember{Login: "bob"}))
	r := appReader(t, fake, 79, githuborg.Config{}, nil)
	_, err := fake.AddInstallation(fakegithub.Installation{AppID: 79, Account: "acme"})
	must(t, err)
	snap, err := r.Read(context.Background())
	must(t, err)
	_, err = fake.AddInstallation(fakegithub.Installation{AppID: 79, Account: "globex"})
	must(t, err)
	fake.RemoveOrgMember("globex", "bob")
	if _, err := r.Update(context.Background(), snap, githuborg.Change{Org: "globex", User: "bob"}); errcode.CodeOf(err) != errcode.Conflict {
		t.Fatalf("an event of an organisation the snapshot does not show: %v, want Conflict", err)
	}
}

// TestUpdateWarningsOnceEach: warnings that name no organisation (Clean's)
// do not pile up over updates.
func TestUpdateWarningsOnceEach(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	must(t, w.fake.AddOrgMember("acme", fakegithub.OrgMember{Login: "eve", Email: "eve\x00@acme.example"}))
	r := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, nil)
	snap, err := r.Read(context.Background())
	must(t, err)
	for range 3 {
		snap, err = r.Update(context.Background(), snap, githuborg.Change{Org: "acme", User: "eve"})
		must(t, err)
	}
	n := 0
	for _, w := range snap.Warnings {
		if strings.Contains(w, "user eve") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("warnings = %q; want the one about eve once", snap.Warnings)
	}
}

// TestUpdateOfTheOneInstallationWithoutTeams: with the organisations
// found from the app's installations, a snapshot of its one organisation,
// which has no team, takes that organisation's events (Update remembers
// which organisation the snapshots it and Read returned are of), one
// after another; a snapshot this Reader did not return is Conflict, and
// so is an event of another installation.
func TestUpdateOfTheOneInstallationWithoutTeams(t *testing.T) {
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"unused"}})
	t.Cleanup(fake.Close)
	for _, l := range []string{"bob", "carol", "dave"} {
		must(t, fake.AddOrgMember("acme", fakegithub.OrgMember{Login: l}))
	}
	must(t, fake.AddOrgMember("globex", fakegithub.OrgMember{Login: "bob"}))
	r := appReader(t, fake, 83, githuborg.Config{}, nil)
	_, err := fake.AddInstallation(fakegithub.Installation{AppID: 83, Account: "acme"})
	must(t, err)
	snap, err := r.Read(context.Background())
	must(t, err)
	fake.RemoveOrgMember("acme", "bob")
	got, err := r.Update(context.Background(), snap, githuborg.Change{Org: "acme", User: "bob", Action: "member_removed"})
	must(t, err)
	if got.User(org.UserRef("", "bob")) != nil || got.User(org.UserRef("", "carol")) == nil {
		t.Fatalf("users after bob left = %v", got.Users)
	}
	// The next event applies to the snapshot Update returned.
	must(t, fake.AddOrgMember("acme", fakegithub.OrgMember{Login: "erin"}))
	got, err = r.Update(context.Background(), got, githuborg.Change{Org: "acme", User: "erin", Action: "member_added"})
	must(t, err)
	if got.User(org.UserRef("", "erin")) == nil || got.User(org.UserRef("", "bob")) != nil {
		t.Fatalf("users after erin joined = %v", got.Users)
	}
	// A copy read back from storage is the same snapshot.
	var buf bytes.Buffer
	must(t, got.WriteYAML(&buf))
	stored, err := org.ParseYAML(buf.Bytes())
	must(t, err)
	if _, err := r.Update(context.Background(), stored, githuborg.Change{Org: "acme", User: "carol"}); err != nil {
		t.Fatalf("a snapshot read back from YAML: %v", err)
	}
	// An event of another installation is never applied to acme's users.
	_, err = fake.AddInstallation(fakegithub.Installation{AppID: 83, Account: "globex"})
	must(t, err)
	if _, err := r.Update(context.Background(), got, githuborg.Change{Org: "globex", User: "bob"}); errcode.CodeOf(err) != errcode.Conflict {
		t.Fatalf("an event of another installation: %v, want Conflict", err)
	}
	// A snapshot the Reader does not know (another Reader's, or one
	// changed since) shows no organisation: Conflict.
	other := appReader(t, fake, 85, githuborg.Config{}, nil)
	if _, err := other.Update(context.Background(), got, githuborg.Change{Org: "acme", User: "carol"}); errcode.CodeOf(err) != errcode.Conflict {
		t.Fatalf("a snapshot of another Reader: %v, want Conflict", err)
	}
	changed := *got
	changed.Users = got.Users[1:]
	if _, err := r.Update(context.Background(), &changed, githuborg.Change{Org: "acme", User: "carol"}); errcode.CodeOf(err) != errcode.Conflict {
		t.Fatalf("a snapshot changed since Update returned it: %v, want Conflict", err)
	}
}

// TestUpdateOfAnInstallationEvent: the GitHub App installed on (or
// removed from) an organisation, as webhook.Event.Org names it (an Action
// and neither member nor team), changes which organisations are read:
// Conflict, read them again, with no request.
func TestUpdateOfAnInstallationEvent(t *testing.T) {
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"unused"}})
	t.Cleanup(fake.Close)
	must(t, fake.AddOrgMember("acme", fakegithub.OrgMember{Login: "bob"}))
	must(t, fake.AddTeam("acme", fakegithub.Team{Slug: "web", Members: []string{"bob"}}))
	r := appReader(t, fake, 87, githuborg.Config{}, nil)
	_, err := fake.AddInstallation(fakegithub.Installation{AppID: 87, Account: "acme"})
	must(t, err)
	snap, err := r.Read(context.Background())
	must(t, err)
	for _, action := range []string{"created", "deleted", "suspend", "unsuspend", "new_permissions_accepted"} {
		fake.ResetStats()
		if _, err := r.Update(context.Background(), snap, githuborg.Change{Org: "acme", Action: action}); errcode.CodeOf(err) != errcode.Conflict || !strings.Contains(err.Error(), action) {
			t.Errorf("%s: %v, want Conflict naming it", action, err)
		}
		if n := fake.Stats().API; n != 0 {
			t.Errorf("%s: %d requests, want 0", action, n)
		}
	}
}
