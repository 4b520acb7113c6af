package githuborg_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestUseVerifiedEmails: with useVerifiedEmails, a member's e-mail is her
// first verified-domain address without its +tag (most members leave the
// public profile e-mail empty), else the public one; without it, only the
// public one. The same one request either way, and the query (checked by
// the fake against GitHub's schema) asks for the field only when needed.
func TestUseVerifiedEmails(t *testing.T) {
	for _, tc := range []struct {
		use                 bool
		wantJane, wantBob   string
		wantCarol, wantDave string
		wantErin            string
		wantFrank, wantBot  string
	}{
		{false, "jane@gmail.example", "", "", "dave@acme.example", "Erin@acme.example", "", ""},
		// jane: the first in sort order; erin: the one equal to her public
		// e-mail; frank's bot keeps its tag, or both would share frank's.
		{true, "j.doe@acme.example", "bob@acme.example", "", "dave@acme.example", "erin@acme.example", "frank@acme.example", "frank+bot@acme.example"},
	} {
		w := newWorld(t)
		for _, m := range []fakegithub.OrgMember{
			{Login: "jane", Email: "jane@gmail.example", VerifiedEmails: []string{"jane@acme.example", "j.doe@acme.example"}},
			{Login: "erin", Email: "Erin@acme.example", VerifiedEmails: []string{"a.erin@acme.example", "erin+routed@acme.example"}},
			{Login: "frank", VerifiedEmails: []string{"frank@acme.example"}},
			{Login: "frank-bot", VerifiedEmails: []string{"frank+bot@acme.example"}},
			{Login: "bob", VerifiedEmails: []string{"bob+github@acme.example"}},
			{Login: "carol", VerifiedEmails: []string{"not-an-address"}},
			{Login: "dave", Email: "dave@acme.example"},
		} {
			must(t, w.fake.AddOrgMember("acme", m))
		}
		snap, err := w.reader(t, githuborg.Config{Orgs: []string{"acme"}, DefaultUserTransformer: githuborg.UserTransformer{UseVerifiedEmails: tc.use}}, nil).Read(context.Background())
		must(t, err)
		if got := w.fake.Stats().API; got != 1 {
			t.Errorf("use=%v: requests = %d, want 1", tc.use, got)
		}
		for login, want := range map[string]string{"jane": tc.wantJane, "bob": tc.wantBob, "carol": tc.wantCarol, "dave": tc.wantDave, "erin": tc.wantErin, "frank": tc.wantFrank, "frank-bot": tc.wantBot} {
			if u := snap.User(org.UserRef("", login)); u == nil || u.Spec.Profile.Email != want {
				t.Errorf("use=%v: %s = %+v, want e-mail %q", tc.use, login, u, want)
			}
		}
	}
}

// TestUpdateWithVerifiedEmailsThatWouldBeShared: a member read again who
// owns the address another member holds without its +tag cannot be told
// apart from the snapshot alone: Conflict, never two users with one
// address.
func TestUpdateWithVerifiedEmailsThatWouldBeShared(t *testing.T) {
	w := newWorld(t)
	must(t, w.fake.AddOrgMember("acme", fakegithub.OrgMember{Login: "jane", VerifiedEmails: []string{"jane+work@acme.example"}}))
	r := w.reader(t, githuborg.Config{Orgs: []string{"acme"}, DefaultUserTransformer: githuborg.UserTransformer{UseVerifiedEmails: true}}, nil)
	snap, err := r.Read(context.Background())
	must(t, err)
	must(t, w.fake.AddOrgMember("acme", fakegithub.OrgMember{Login: "jdoe", VerifiedEmails: []string{"jane@acme.example"}}))
	if _, err := r.Update(context.Background(), snap, githuborg.Change{Org: "acme", User: "jdoe"}); errcode.CodeOf(err) != errcode.Conflict {
		t.Fatalf("Update: %v, want Conflict", err)
	}
	full, err := r.Read(context.Background())
	must(t, err)
	if a, b := full.User(org.UserRef("", "jane")), full.User(org.UserRef("", "jdoe")); a.Spec.Profile.Email == b.Spec.Profile.Email {
		t.Fatalf("a full read gives both %q", a.Spec.Profile.Email)
	}
}

// TestVerifiedEmailChoice: among a member's verified addresses, the one
// equal to her public e-mail, then one without a tag, then the first in
// sort order, whatever GitHub's order.
func TestVerifiedEmailChoice(t *testing.T) {
	for _, tc := range []struct {
		public   string
		verified []string
		want     string
	}{
		{"", []string{"jane+a@acme.example", "jane@acme.example"}, "jane@acme.example"},
		{"", []string{"jane@acme.example", "jane+a@acme.example"}, "jane@acme.example"},
		{"jane+a@acme.example", []string{"jane@acme.example", "jane+a@acme.example"}, "jane@acme.example"},
		{"", []string{"b@acme.example", "a+x@acme.example"}, "b@acme.example"},
		{"", []string{"c+y@acme.example", "a+x@acme.example"}, "a@acme.example"},
	} {
		w := newWorld(t)
		must(t, w.fake.AddOrgMember("acme", fakegithub.OrgMember{Login: "jane", Email: tc.public, VerifiedEmails: tc.verified}))
		snap, err := w.reader(t, githuborg.Config{Orgs: []string{"acme"}, DefaultUserTransformer: githuborg.UserTransformer{UseVerifiedEmails: true}}, nil).Read(context.Background())
		must(t, err)
		if got := snap.User(org.UserRef("", "jane")).Spec.Profile.Email; got != tc.want {
			t.Errorf("public %q, verified %q: %q, want %q", tc.public, tc.verified, got, tc.want)
		}
	}
}

// TestUpdateWithTaggedAddresses: an Update touching a member whose address
// matches another's without the +tags is Conflict (only both accounts'
// verified addresses tell who keeps which); one touching neither is not.
func TestUpdateWithTaggedAddresses(t *testing.T) {
	opts := githuborg.Config{Orgs: []string{"acme"}, DefaultUserTransformer: githuborg.UserTransformer{UseVerifiedEmails: true}}
	for _, tc := range []struct {
		name   string
		change func(*fakegithub.Server) githuborg.Change
		want   errcode.Code
	}{
		{"a member joins with another's address under a tag", func(f *fakegithub.Server) githuborg.Change {
			must(t, f.AddOrgMember("acme", fakegithub.OrgMember{Login: "jdoe", VerifiedEmails: []string{"jane+x@acme.example"}}))
			return githuborg.Change{Org: "acme", User: "jdoe"}
		}, errcode.Conflict},
		{"the owner of the untagged address leaves", func(f *fakegithub.Server) githuborg.Change {
			f.RemoveOrgMember("acme", "frank")
			return githuborg.Change{Org: "acme", User: "frank"}
		}, errcode.Conflict},
		{"an unrelated member joins", func(f *fakegithub.Server) githuborg.Change {
			must(t, f.AddOrgMember("acme", fakegithub.OrgMember{Login: "erin", VerifiedEmails: []string{"erin@acme.example"}}))
			return githuborg.Change{Org: "acme", User: "erin"}
		}, errcode.OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			for _, m := range []fakegithub.OrgMember{
				{Login: "jane", VerifiedEmails: []string{"jane+work@acme.example"}},
				{Login: "frank", VerifiedEmails: []string{"frank@acme.example"}},
				{Login: "frank-bot", VerifiedEmails: []string{"frank+bot@acme.example"}},
			} {
				must(t, w.fake.AddOrgMember("acme", m))
			}
			r := w.reader(t, opts, nil)
			snap, err := r.Read(context.Background())
			must(t, err)
			got, err := r.Update(context.Background(), snap, tc.change(w.fake))
			if errcode.CodeOf(err) != tc.want {
				t.Fatalf("Update: %v, want %v", err, tc.want)
			}
			if err == nil {
				want, err := r.Read(context.Background())
				must(t, err)
				if d := cmp.Diff(want.Users, got.Users); d != "" {
					t.Errorf("the update differs from a full read (-read +update):\n%s", d)
				}
			}
		})
	}
}

// TestUseVerifiedEmailsWithNoneVerified: useVerifiedEmails where GitHub
// lists no verified-domain address for anyone (not GitHub Enterprise
// Cloud, or no verified domain) is a warning naming the organisation,
// not a silent no-op; one member with such an address is enough to
// silence it, and Update keeps it.
func TestUseVerifiedEmailsWithNoneVerified(t *testing.T) {
	for _, tc := range []struct {
		name     string
		use      bool
		verified []string
		want     bool
	}{
		{"on, none verified", true, nil, true},
		{"on, one verified", true, []string{"bob@acme.example"}, false},
		{"off", false, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			must(t, w.fake.AddOrgMember("acme", fakegithub.OrgMember{Login: "jane", Email: "jane@acme.example"}))
			must(t, w.fake.AddOrgMember("acme", fakegithub.OrgMember{Login: "bob", VerifiedEmails: tc.verified}))
			r := w.reader(t, githuborg.Config{Orgs: []string{"acme"}, DefaultUserTransformer: githuborg.UserTransformer{UseVerifiedEmails: tc.use}}, nil)
			snap, err := r.Read(context.Background())
			must(t, err)
			warned := func(s *org.Snapshot) bool {
				return slices.ContainsFunc(s.Warnings, func(w string) bool {
					return strings.Contains(w, "useVerifiedEmails") && strings.Contains(w, "organisation acme")
				})
			}
			if warned(snap) != tc.want {
				t.Fatalf("warnings = %q, want a useVerifiedEmails warning: %v", snap.Warnings, tc.want)
			}
			got, err := r.Update(context.Background(), snap, githuborg.Change{Org: "acme", User: "jane"})
			must(t, err)
			if warned(got) != tc.want {
				t.Fatalf("after Update, warnings = %q, want a useVerifiedEmails warning: %v", got.Warnings, tc.want)
			}
		})
	}
}
