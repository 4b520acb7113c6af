package gitlaborg_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/gitlaborg"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// TestUserPattern (review 29, point 6): catalog.providers.gitlab.<id>.userPattern
// is Backstage's key for the users to import; the bot the administrator
// leaves out must be neither a User nor a member of the group it is in
// (it was imported, its key dropped). A pattern that keeps nobody (one
// written for e-mail addresses) says so.
func TestUserPattern(t *testing.T) {
	doc := `
catalog:
  providers:
    gitlab:
      acme:
        host: gitlab.example.com
        group: acme
        orgEnabled: true
        restrictUsersToGroup: true
        userPattern: '^(alice|bob)$'
        usrPattern: x
        schedule: {frequency: {minutes: 30}, timeout: {minutes: 3}}
        projectPattern: '.*'
`
	cfg, err := config.LoadBytes(t.Context(), nil, []byte(doc))
	must(t, err)
	cs, err := gitlaborg.DecodeConfig(cfg)
	must(t, err)
	if len(cs) != 1 || cs[0].UserPattern != "^(alice|bob)$" {
		t.Fatalf("decoded %+v: no userPattern", cs)
	}
	if want := "catalog.providers.gitlab.acme.usrPattern: not a key scmkit reads here; ignored (a typo for userPattern?)"; !slices.Equal(cs[0].Warnings, []string{want}) {
		t.Errorf("warnings %q, want [%q]", cs[0].Warnings, want)
	}

	w := newWorld(t, nil)
	for _, u := range []string{"alice", "bob", "deploy-bot"} {
		must(t, w.fake.AddGroupMember("acme/platform", fakegitlab.Member{Username: u, Name: u}))
	}
	snap, err := w.reader(t, gitlaborg.Config{Group: "acme", RestrictUsersToGroup: true, UserPattern: cs[0].UserPattern}, nil).Read(context.Background())
	must(t, err)
	if snap.User(org.UserRef("", "deploy-bot")) != nil {
		t.Errorf("deploy-bot, left out by userPattern, is a user: %q", groupLines(snap))
	}
	if x := org.NewIndex(snap); x.IsMember(org.UserRef("", "deploy-bot"), org.GroupRef("", "platform")) ||
		!x.IsMember(org.UserRef("", "alice"), org.GroupRef("", "platform")) {
		t.Errorf("groups %q: want alice and bob in platform, not deploy-bot", groupLines(snap))
	}
	if snap.Source != "gitlab:" { // the reader's progress source: "gitlab:" + the block's id
		t.Errorf("Source %q", snap.Source)
	}
	if len(snap.Users) != 2 {
		t.Errorf("users %v, want alice and bob", snap.Users)
	}

	snap, err = w.reader(t, gitlaborg.Config{Group: "acme", RestrictUsersToGroup: true, UserPattern: `@acme\.example$`}, nil).Read(context.Background())
	must(t, err)
	if len(snap.Users) != 0 || !slices.ContainsFunc(snap.Warnings, func(s string) bool { return strings.Contains(s, "kept none of the 3 users") }) {
		t.Errorf("an e-mail pattern: users %v, warnings %q", snap.Users, snap.Warnings)
	}
	_, err = gitlaborg.New(gitlaborg.Config{Host: w.fake.Host(), Group: "acme", OrgEnabled: true, UserPattern: `^(?!bot)`},
		&gitlaborg.Options{Registry: w.reg, Resolver: w.res})
	if err == nil || !strings.Contains(err.Error(), "userPattern") {
		t.Errorf("an invalid userPattern: %v", err)
	}
}
