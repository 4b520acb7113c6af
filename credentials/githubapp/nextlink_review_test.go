package githubapp_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// A next link on the listing's path but spelled with a trailing slash (or
// another case) is followed on the listing's own path: the listing is not
// cut short and taken for whole.
func TestInstallationsNextSpelledOtherwise(t *testing.T) {
	for _, next := range []string{"/app/installations/", "/App/installations"} {
		t.Run(next, func(t *testing.T) {
			s := newSetup(t, nil, nil)
			s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.EqualFold(strings.TrimSuffix(r.URL.Path, "/"), "/app/installations") {
					return false
				}
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Query().Get("page") == "" {
					w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?per_page=100&page=2>; rel="next"`, r.Host, next))
					fmt.Fprintf(w, `[{"id":1,"app_id":%d,"account":{"login":"a","type":"Organization"}}]`, apptest.AppID)
					return true
				}
				fmt.Fprintf(w, `[{"id":2,"app_id":%d,"account":{"login":"b","type":"Organization"}}]`, apptest.AppID)
				return true
			})
			list, err := s.app.Installations(t.Context())
			if err == nil && len(list) != 2 {
				t.Errorf("Installations = %d installations, nil error; want 2, or an error saying the listing was cut short", len(list))
			}
		})
	}
}

// GHES: the API base has a path (/api/v3); the listing's next links carry
// it too and must still be followed.
func TestInstallationsGHESPrefix(t *testing.T) {
	clk := newClock()
	fake := apptest.New(t, clk.Now)
	c := integrations.GitHubAppConfig{AppID: apptest.AppID, PrivateKey: integrations.NewSecret(apptest.PrivateKeyPEM())}
	app, err := githubapp.New(fake.URL+"/api/v3/", c, &githubapp.Options{Now: clk.Now, ConfigPath: "x", Host: "ghe.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/v3/app/installations" {
			t.Errorf("request to %s", r.URL.Path)
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("page") == "" {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/api/v3/app/installations?per_page=100&page=2>; rel="next"`, r.Host))
			fmt.Fprintf(w, `[{"id":1,"app_id":%d,"account":{"login":"a","type":"Organization"}}]`, apptest.AppID)
			return true
		}
		fmt.Fprintf(w, `[{"id":2,"app_id":%d,"account":{"login":"b","type":"Organization"}}]`, apptest.AppID)
		return true
	})
	list, err := app.Installations(t.Context())
	if err != nil || len(list) != 2 {
		t.Errorf("Installations = %d, %v; want 2", len(list), err)
	}
}

// A selected-repositories installation whose repository listing's next
// link has a trailing slash: the second page is read, and a repository
// GitHub grants there gets a token.
func TestTokenSelectedNextSpelledOtherwise(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 7, Login: "acme", Selection: "selected", Repos: []string{"one", "two"}})
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.TrimSuffix(r.URL.Path, "/") != "/installation/repositories" {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("page") == "" {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/installation/repositories/?per_page=100&page=2>; rel="next"`, r.Host))
			fmt.Fprint(w, `{"total_count":2,"repositories":[{"name":"one"}]}`)
			return true
		}
		fmt.Fprint(w, `{"total_count":2,"repositories":[{"name":"two"}]}`)
		return true
	})
	if _, err := s.app.Installation(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Token(t.Context(), "acme", "two"); err != nil {
		t.Errorf("Token(acme, two) = %v; want a token (GitHub lists two on page 2)", err)
	}
}

// The roster (a burst of cold owners) reads a listing whose next link is
// spelled otherwise to its end: an owner on page 2 is not answered "not
// installed".
func TestRosterNextSpelledOtherwise(t *testing.T) {
	s := newSetup(t, nil, nil)
	for i, o := range []string{"o0", "o1", "fresh"} {
		s.fake.Add(apptest.Installation{ID: int64(i + 1), Login: o})
	}
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.TrimSuffix(r.URL.Path, "/") != "/app/installations" {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("page") == "" {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/app/installations/?per_page=100&page=2>; rel="next", <http://%[1]s/app/installations/?per_page=100&page=2>; rel="last"`, r.Host))
			fmt.Fprintf(w, `[{"id":1,"app_id":%d,"account":{"login":"o0","type":"Organization"}},{"id":2,"app_id":%[1]d,"account":{"login":"o1","type":"Organization"}}]`, apptest.AppID)
			return true
		}
		fmt.Fprintf(w, `[{"id":3,"app_id":%d,"account":{"login":"fresh","type":"Organization"}}]`, apptest.AppID)
		return true
	})
	for _, o := range []string{"o0", "o1", "fresh"} {
		if _, err := s.app.Token(t.Context(), o, ""); err != nil {
			t.Errorf("Token(%s) = %v; want a token", o, err)
		}
	}
}

// A next link to another host is not followed, and the listing is not
// taken for whole: Installations answers Unavailable.
func TestInstallationsNextOnAnotherHost(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/app/installations" {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Link", `<https://evil.example.com/app/installations?page=2>; rel="next"`)
		fmt.Fprintf(w, `[{"id":1,"app_id":%d,"account":{"login":"a","type":"Organization"}}]`, apptest.AppID)
		return true
	})
	if list, err := s.app.Installations(t.Context()); errcode.CodeOf(err) != errcode.Unavailable || strings.Contains(err.Error(), "evil") {
		t.Errorf("Installations = %v, %v; want Unavailable not naming the link", list, err)
	}
}
