package githubapp_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/integrations"
)

// TestRosterSeesInstallationOnNewPage: the app has exactly 100
// installations, one full page without a next one. A 101st owner installs
// it: its installation starts page 2 while page 1's body, and so its
// ETag, stays the same. The next burst's listing must read page 1 in full
// (a 304 would bring back the old Link, without rel="next") and find the
// new owner; the one after sends page 1 conditionally, as it now leads on,
// and page 2 too, as it has room left.
func TestRosterSeesInstallationOnNewPage(t *testing.T) {
	s := newSetup(t, nil, nil)
	for i := range 100 {
		s.fake.Add(apptest.Installation{ID: int64(i + 1), Login: "o" + strconv.Itoa(i)})
	}
	// Two cold owners within 10 s: a burst, one listing of page 1.
	for _, o := range []string{"o0", "o1"} {
		if _, err := s.app.Token(t.Context(), o, ""); err != nil {
			t.Fatalf("Token(%s): %v", o, err)
		}
	}
	if got := s.fake.Count("GET /app/installations"); got != 1 {
		t.Fatalf("first burst listed %d pages; want 1", got)
	}
	s.fake.Add(apptest.Installation{ID: 101, Login: "fresh"})
	// The listing has expired (NotInstalledTTL); the JWT has not.
	s.clock.Advance(2 * time.Minute)
	if _, err := s.app.Token(t.Context(), "ghost", ""); !errors.Is(err, githubapp.ErrNotInstalled) {
		t.Fatalf("Token(ghost) = %v; want ErrNotInstalled", err)
	}
	tok, err := s.app.Token(t.Context(), "fresh", "")
	if err != nil {
		t.Fatalf("Token(fresh) = %v; want the token of installation 101 (page 2); routes %v, 304s %d",
			err, s.fake.Routes(), s.fake.NotModified())
	}
	if tok.InstallationID != 101 {
		t.Errorf("InstallationID = %d; want 101", tok.InstallationID)
	}
	if got := s.fake.NotModified(); got != 0 {
		t.Errorf("%d answers 304; want 0 (the last page is read in full)", got)
	}
	// Page 1 now names a next page: listed again, it is sent with its
	// ETag and answered 304; page 2, the last, has room left (1 of 100):
	// sent with its ETag too, and answered 304.
	s.clock.Advance(2 * time.Minute)
	pages := s.fake.Count("GET /app/installations")
	for _, o := range []string{"ghost2", "ghost3"} {
		if _, err := s.app.Token(t.Context(), o, ""); !errors.Is(err, githubapp.ErrNotInstalled) {
			t.Fatalf("Token(%s) = %v; want ErrNotInstalled", o, err)
		}
	}
	if got := s.fake.Count("GET /app/installations") - pages; got != 2 {
		t.Errorf("third burst listed %d pages; want 2", got)
	}
	if got := s.fake.NotModified(); got != 2 {
		t.Errorf("%d answers 304; want 2 (pages 1 and 2, unchanged)", got)
	}
}

// TestPublicTokenSeesInstallationOnNewPage: the same for publicAccess:
// 100 suspended installations fill page 1, then an active one is added
// on page 2; once the "no active installation" answer lapses, PublicToken
// finds it.
func TestPublicTokenSeesInstallationOnNewPage(t *testing.T) {
	s := newSetup(t, func(c *integrations.GitHubAppConfig) { c.PublicAccess = true }, nil)
	for i := range 100 {
		s.fake.Add(apptest.Installation{ID: int64(i + 1), Login: "s" + strconv.Itoa(i), Suspended: true})
	}
	if _, err := s.app.PublicToken(t.Context()); !errors.Is(err, githubapp.ErrNotInstalled) {
		t.Fatalf("PublicToken = %v; want ErrNotInstalled (every installation suspended)", err)
	}
	s.fake.Add(apptest.Installation{ID: 101, Login: "active"})
	s.clock.Advance(2 * time.Minute)
	tok, err := s.app.PublicToken(t.Context())
	if err != nil {
		t.Fatalf("PublicToken = %v; want installation 101 (page 2); routes %v, 304s %d", err, s.fake.Routes(), s.fake.NotModified())
	}
	if tok.InstallationID != 101 {
		t.Errorf("InstallationID = %d; want 101", tok.InstallationID)
	}
}

// TestRosterNotInstalledExpiresWithTheListing: an owner a listing does
// not show is "not installed" only as long as the listing is used
// (NotInstalledTTL after it), not NotInstalledTTL after the lookup that
// asked: an owner who installs the app just after the listing is found
// as soon as it lapses.
func TestRosterNotInstalledExpiresWithTheListing(t *testing.T) {
	for _, ttl := range []time.Duration{0, 5 * time.Minute} {
		t.Run("NotInstalledTTL="+ttl.String(), func(t *testing.T) {
			s := newSetup(t, nil, func(o *githubapp.Options) { o.NotInstalledTTL = ttl })
			if ttl == 0 {
				ttl = githubapp.DefaultNotInstalledTTL
			}
			s.fake.Add(apptest.Installation{ID: 1, Login: "acme"}, apptest.Installation{ID: 2, Login: "globex"})
			// A burst lists the installations at time 0.
			for _, o := range []string{"acme", "globex"} {
				if _, err := s.app.Token(t.Context(), o, ""); err != nil {
					t.Fatalf("Token(%s): %v", o, err)
				}
			}
			// Just before the listing lapses, it still answers for
			// "late", who has not installed the app yet.
			s.clock.Advance(ttl - 10*time.Second)
			if _, err := s.app.Token(t.Context(), "late", ""); !errors.Is(err, githubapp.ErrNotInstalled) {
				t.Fatalf("Token(late) = %v; want ErrNotInstalled from the listing", err)
			}
			if got := s.fake.Count("GET /app/installations"); got != 1 {
				t.Fatalf("%d listings; want 1 (the listing answered)", got)
			}
			s.fake.Add(apptest.Installation{ID: 3, Login: "late"})
			// 20 s later, the listing (and so its answer) has lapsed.
			s.clock.Advance(20 * time.Second)
			tok, err := s.app.Token(t.Context(), "late", "")
			if err != nil {
				t.Fatalf("Token(late) %v after the listing (10s after it lapsed) = %v; want installation 3", ttl+10*time.Second, err)
			}
			if tok.InstallationID != 3 {
				t.Errorf("InstallationID = %d; want 3", tok.InstallationID)
			}
		})
	}
}

// TestInstallationsShortLastPageRevalidated: an app with fewer
// installations than a page holds (100) is listed again with one request
// sent with the ETag of its one page and answered 304, which GitHub does
// not count against the rate limit; before, that last page was read in
// full every time, one counted request per listing. Its page has room
// left, so an installation added since changes it: the next listing reads
// it in full and sees it, and the one after is a 304 again (the burst
// listing that answers cold owners is the same: see
// TestRosterSeesInstallationOnNewPage).
func TestInstallationsShortLastPageRevalidated(t *testing.T) {
	s := newSetup(t, nil, nil)
	for i := range 3 {
		s.fake.Add(apptest.Installation{ID: int64(i + 1), Login: "o" + strconv.Itoa(i)})
	}
	list := func(want, requests, notModified int) {
		t.Helper()
		req, nm := s.fake.Count("GET /app/installations"), s.fake.NotModified()
		got, err := s.app.Installations(t.Context())
		if err != nil {
			t.Fatalf("Installations: %v", err)
		}
		if len(got) != want {
			t.Errorf("%d installations; want %d", len(got), want)
		}
		r, n := s.fake.Count("GET /app/installations")-req, s.fake.NotModified()-nm
		if r != requests || n != notModified {
			t.Errorf("listing: %d requests, %d answered 304; want %d, %d", r, n, requests, notModified)
		}
	}
	list(3, 1, 0)
	list(3, 1, 1) // one page of 3: room left, revalidated
	s.fake.Add(apptest.Installation{ID: 4, Login: "fresh"})
	list(4, 1, 0) // the page changed: read in full, the new one seen
	list(4, 1, 1)
}
