package githuborg_test

import (
	"context"
	"testing"

	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/org/orgtest"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestInstallationListSeedsTheApp: with orgs empty, the installations the
// reader lists are handed to the resolver's app, so that each
// organisation's token costs the mint alone (no GET
// /orgs/{org}/installation); reading again sends their one page, of 3,
// with its ETag: it has room left, so any change of the listing would
// change it, and unchanged it is answered 304, free on GitHub's rate limit
// (before, the last page was always read in full: a counted request per
// Read). TestInstalledOrgsSeesInstallationOnNewPage shows why a full last
// page is still read in full.
func TestInstallationListSeedsTheApp(t *testing.T) {
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"unused"}})
	defer fake.Close()
	orgs := []string{"acme", "globex", "initech"}
	for _, o := range orgs {
		must(t, orgtest.SeedGitHub(fake, o))
	}
	r := appReader(t, fake, 81, githuborg.Config{}, nil)
	for _, o := range orgs {
		if _, err := fake.AddInstallation(fakegithub.Installation{AppID: 81, Account: o}); err != nil {
			t.Fatal(err)
		}
	}
	for read := range 2 {
		snap, err := r.Read(context.Background())
		must(t, err)
		if len(snap.Users) != len(orgs)*len(orgtest.People) {
			t.Fatalf("read %d: %d users; want %d", read, len(snap.Users), len(orgs)*len(orgtest.People))
		}
	}
	st := fake.Stats()
	if n := st.Routes[fakegithub.RouteOrgInstallation] + st.Routes[fakegithub.RouteUserInstallation]; n != 0 {
		t.Errorf("%d installation lookups; want 0 (the listing named every installation)", n)
	}
	if n := st.Routes[fakegithub.RouteCreateInstallToken]; n != len(orgs) {
		t.Errorf("%d mints; want %d", n, len(orgs))
	}
	if n := st.Routes[fakegithub.RouteAppInstallations]; n != 2 {
		t.Errorf("%d listings; want 2", n)
	}
	if st.NotModified != 1 {
		t.Errorf("%d answers 304; want 1 (the second Read's listing)", st.NotModified)
	}
}

// installedFake is a fake GitHub with n organisations, each with the
// app's installation, and a reader of them all (orgs empty).
func installedFake(b *testing.B, n int) (*fakegithub.Server, *githuborg.Reader) {
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"unused"}})
	b.Cleanup(fake.Close)
	r := appReader(b, fake, 82, githuborg.Config{}, nil)
	for i := range n {
		o := "org" + string(rune('a'+i))
		must(b, orgtest.SeedGitHub(fake, o))
		if _, err := fake.AddInstallation(fakegithub.Installation{AppID: 82, Account: o}); err != nil {
			b.Fatal(err)
		}
	}
	return fake, r
}

// BenchmarkReadInstalledOrgs10: a first Read of the 10 organisations a
// GitHub App is installed on (listing, tokens, one query each).
func BenchmarkReadInstalledOrgs10(b *testing.B) {
	var total int
	for b.Loop() {
		b.StopTimer()
		fake, r := installedFake(b, 10)
		b.StartTimer()
		if _, err := r.Read(context.Background()); err != nil {
			b.Fatal(err)
		}
		total += fake.Stats().API
	}
	b.ReportMetric(float64(total)/float64(b.N), "requests/op")
}

// BenchmarkRereadInstalledOrgs10: the next Reads, tokens cached. counted/op
// leaves out the 304s, which GitHub does not count against the rate limit:
// the installations' one page, of 10, has room left and is answered 304
// (before, as the last page, it was read in full and counted); the 10
// organisations' queries count (GraphQL POSTs have no conditional form).
func BenchmarkRereadInstalledOrgs10(b *testing.B) {
	fake, r := installedFake(b, 10)
	if _, err := r.Read(context.Background()); err != nil {
		b.Fatal(err)
	}
	st := fake.Stats()
	for b.Loop() {
		if _, err := r.Read(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	end := fake.Stats()
	n := end.API - st.API
	b.ReportMetric(float64(n)/float64(b.N), "requests/op")
	b.ReportMetric(float64(n-(end.NotModified-st.NotModified))/float64(b.N), "counted/op")
}

// TestInstalledOrgsProgressCountsTheListing: the requests the app sends
// to list its installations count in the Read's progress, as the queries
// do (the mints, the resolver's, do not): the final report counts the
// listing and the queries.
func TestInstalledOrgsProgressCountsTheListing(t *testing.T) {
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"unused"}})
	defer fake.Close()
	var last org.Progress
	r := appReader(t, fake, 83, githuborg.Config{}, &githuborg.Options{Progress: func(p org.Progress) { last = p }})
	for _, o := range []string{"acme", "globex"} {
		must(t, orgtest.SeedGitHub(fake, o))
		if _, err := fake.AddInstallation(fakegithub.Installation{AppID: 83, Account: o}); err != nil {
			t.Fatal(err)
		}
	}
	for read := range 2 {
		before := fake.Stats()
		if _, err := r.Read(context.Background()); err != nil {
			t.Fatal(err)
		}
		after := fake.Stats()
		listed := after.Routes[fakegithub.RouteAppInstallations] - before.Routes[fakegithub.RouteAppInstallations]
		mints := after.Routes[fakegithub.RouteCreateInstallToken] - before.Routes[fakegithub.RouteCreateInstallToken]
		queries := after.API - before.API - listed - mints
		if listed != 1 || queries != 2 || last.Requests != listed+queries || last.Phase != "done" {
			t.Errorf("Read %d: %d pages listed, %d queries, final progress %+v; want 1, 2 and 3 requests", read+1, listed, queries, last)
		}
	}
}
