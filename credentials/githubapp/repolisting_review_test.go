package githubapp_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/errcode"
)

// A selected-repositories listing whose next link is on another host is
// partial: a repository GitHub grants on page 2 gets no token, and is not
// said to be outside the selection (Unavailable, not PermissionDenied).
func TestRepositoryOnAPageNotRead(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 7, Login: "acme", Selection: "selected", Repos: []string{"one", "two"}})
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/installation/repositories" {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Link", `<https://elsewhere.example.com/installation/repositories?per_page=100&page=2>; rel="next"`)
		fmt.Fprint(w, `{"total_count":2,"repositories":[{"name":"one"}]}`)
		return true
	})
	if _, err := s.app.Installation(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	_, err := s.app.Token(t.Context(), "acme", "two")
	if errcode.CodeOf(err) != errcode.Unavailable {
		t.Errorf("Token(acme, two) = %v (code %v); want Unavailable: the listing's page 2 was not read, GitHub grants two there", err, errcode.CodeOf(err))
	}
}

// A repository listing whose next link names the page just read (here on
// another path, which is asked on the listing's own path with the link's
// query: the same URL) is not read again and again: Unavailable, saying
// the listing links back.
func TestRepositoryListingLinkingToItself(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 7, Login: "acme", Selection: "selected", Repos: []string{"one", "two"}})
	n := 0
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/installation/repositories" {
			return false
		}
		n++
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Link", fmt.Sprintf(`<http://%s/repositories?%s>; rel="next"`, r.Host, r.URL.RawQuery))
		fmt.Fprint(w, `{"total_count":2,"repositories":[{"name":"one"}]}`)
		return true
	})
	if _, err := s.app.Installation(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	_, err := s.app.Token(t.Context(), "acme", "two")
	if errcode.CodeOf(err) != errcode.Unavailable {
		t.Errorf("Token(acme, two) = %v; want Unavailable", err)
	}
	if n > 2 {
		t.Errorf("a next link naming the page just read: %d GETs of /installation/repositories (want at most 2, and an error saying the listing links back); Token = %v", n, err)
	}
}

// A repository listing whose next links name one page with its query in
// other orders is read twice at most (the first page, then the page the
// links name), not once per spelling.
func TestRepositoryListingQueryOrderIsOnePage(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 7, Login: "acme", Selection: "selected", Repos: []string{"one", "two"}})
	orders := []string{"a=1&b=1&c=1&page=2", "b=1&a=1&c=1&page=2", "c=1&b=1&a=1&page=2", "page=2&a=1&b=1&c=1",
		"a=1&page=2&b=1&c=1", "b=1&page=2&c=1&a=1", "c=1&a=1&page=2&b=1", "page=2&c=1&b=1&a=1"}
	n := 0
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/installation/repositories" {
			return false
		}
		n++
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Link", fmt.Sprintf(`<http://%s/installation/repositories?%s>; rel="next"`, r.Host, orders[n%len(orders)]))
		fmt.Fprint(w, `{"total_count":2,"repositories":[{"name":"one"}]}`)
		return true
	})
	if _, err := s.app.Installation(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Token(t.Context(), "acme", "two"); errcode.CodeOf(err) != errcode.Unavailable {
		t.Errorf("Token(acme, two) = %v; want Unavailable", err)
	}
	if n > 3 {
		t.Errorf("%d GETs of /installation/repositories for one page spelled %d ways; want at most 3", n, len(orders))
	}
}
