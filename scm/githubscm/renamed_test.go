package githubscm_test

import (
	"io"
	"io/fs"
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestRenamedRepository reads a file and a tree of a renamed and of a
// transferred repository through its old name: GitHub answers 301 Moved
// Permanently to /repositories/{id}/..., which the adapter follows on the
// API host, the credential going to the API host only.
func TestRenamedRepository(t *testing.T) {
	for _, tt := range []struct{ name, newOwner, newName string }{
		{"renamed", "acme", "gadgets"},
		{"transferred", "globex", "widgets-moved"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, false, nil)
			e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "widgets", Private: true,
				Files: []fakegithub.File{{Path: "docs/readme.md", Content: []byte("hello")}}})
			if err := e.s.RenameRepo("acme", "widgets", tt.newOwner, tt.newName); err != nil {
				t.Fatal(err)
			}
			e.s.ResetStats()
			f, err := e.c.ReadFile(t.Context(), e.web("acme/widgets/blob/main/docs/readme.md"), nil)
			if err != nil {
				t.Fatalf("ReadFile through the old name: %v", err)
			}
			if string(f.Content) != "hello" {
				t.Errorf("content = %q; want hello", f.Content)
			}
			fsys, err := e.c.ReadTree(t.Context(), e.web("acme/widgets/tree/main/docs"), nil)
			if err != nil {
				t.Fatalf("ReadTree through the old name: %v", err)
			}
			if b, err := fs.ReadFile(fsys, "readme.md"); err != nil || string(b) != "hello" {
				t.Errorf("tree readme.md = %q, %v; want hello", b, err)
			}
			var moved, byID int
			for _, r := range e.s.Requests() {
				auth := r.Header.Get("Authorization")
				switch {
				case r.Host != "api" && auth != "":
					t.Errorf("%s host received Authorization on %s %s", r.Host, r.Method, r.Path)
				case r.Host == "api" && auth != "Bearer "+goodToken:
					t.Errorf("API request %s %s had Authorization %q; want the token", r.Method, r.Path, auth)
				}
				if strings.HasPrefix(r.Path, "/repos/acme/widgets/") {
					moved++
				}
				if strings.HasPrefix(r.Path, "/repositories/") {
					byID++
				}
			}
			if moved != 2 || byID != 2 || len(e.s.RequestsTo("download")) != 1 {
				t.Errorf("requests %v; want the old name and /repositories/{id} twice each, one download", e.s.Requests())
			}
		})
	}
}

// TestRenamedRepositoryAnswer checks the fake's answer to the old name:
// GitHub's 301 with Location and body, the same path tail and query under
// /repositories/{id}; and that a repository created with the old name
// ends the redirect.
func TestRenamedRepositoryAnswer(t *testing.T) {
	e := newEnv(t, false, nil)
	e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "widgets", Files: []fakegithub.File{{Path: "a.txt", Content: []byte("a")}}})
	if err := e.s.RenameRepo("acme", "widgets", "acme", "gadgets"); err != nil {
		t.Fatal(err)
	}
	noFollow := &http.Client{Transport: e.hc.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(c *http.Client, p string) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(e.s.APIBaseURL() + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get(noFollow, "/repos/acme/widgets/contents/a.txt?ref=main")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusMovedPermanently || !strings.HasPrefix(loc, e.s.APIBaseURL()+"/repositories/") ||
		!strings.HasSuffix(loc, "/contents/a.txt?ref=main") || !strings.Contains(body, `"message":"Moved Permanently"`) {
		t.Errorf("old name: %d Location %q %s; want 301 to /repositories/{id}/contents/a.txt?ref=main", resp.StatusCode, loc, body)
	}
	if resp, body := get(e.hc, "/repos/acme/widgets"); resp.StatusCode != 200 || !strings.Contains(body, `"full_name":"acme/gadgets"`) {
		t.Errorf("followed: %d %s; want acme/gadgets", resp.StatusCode, body)
	}
	e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "widgets"})
	if resp, _ := get(noFollow, "/repos/acme/widgets"); resp.StatusCode != 200 {
		t.Errorf("after a new acme/widgets: %d; want 200 (no redirect)", resp.StatusCode)
	}
	if err := e.s.RenameRepo("acme", "nope", "acme", "x"); err == nil {
		t.Error("RenameRepo of a missing repository succeeded")
	}
}
