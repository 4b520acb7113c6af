package githuborg_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/org/orgtest"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestInstalledOrgsSeesInstallationOnNewPage: the app is installed on
// exactly 100 organisations, one full page without a next one. A 101st
// starts page 2 while page 1's body, and so its ETag, stays the same: the
// next Read must read page 1 in full (a 304 would bring back the old
// Link, without rel="next") and read the new organisation. The Read after
// that sends page 1 with its ETag, as it now leads on, and page 2, the
// last, with its ETag too, as it has room left (1 of 100): both are
// answered 304.
func TestInstalledOrgsSeesInstallationOnNewPage(t *testing.T) {
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"unused"}})
	defer fake.Close()
	r := appReader(t, fake, 81, githuborg.Config{}, nil)
	add := func(i int) {
		o := "org" + strconv.Itoa(i)
		must(t, orgtest.SeedGitHub(fake, o))
		if _, err := fake.AddInstallation(fakegithub.Installation{AppID: 81, Account: o}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		add(i)
	}
	snap, err := r.Read(context.Background())
	must(t, err)
	if got, want := len(snap.Users), 100*len(orgtest.People); got != want {
		t.Fatalf("first Read: %d users; want %d", got, want)
	}
	add(100)
	for read := range 2 {
		before := fake.Stats()
		snap, err = r.Read(context.Background())
		must(t, err)
		if got, want := len(snap.Users), 101*len(orgtest.People); got != want {
			t.Fatalf("Read %d after org100 installed the app: %d users; want %d (org100 is on page 2)", read+2, got, want)
		}
		after := fake.Stats()
		if got := after.Routes[fakegithub.RouteAppInstallations] - before.Routes[fakegithub.RouteAppInstallations]; got != 2 {
			t.Errorf("Read %d listed %d pages of installations; want 2", read+2, got)
		}
		if got := after.NotModified - before.NotModified; got != 2*read {
			t.Errorf("Read %d: %d answers 304; want %d", read+2, got, 2*read)
		}
	}
}
