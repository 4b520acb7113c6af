package catalog_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/catalog"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/memscm"
)

// olderServer is a driver whose repository listing names no default
// branch, as Bitbucket Server before Data Center 9 answers (see
// scm/bitbucketserverscm), and which has no owner-wide search (no
// FileFinder): discovery reads each repository.
type olderServer struct{ driver.Driver }

func (o olderServer) ListRepositories(ctx context.Context, hc *http.Client, r *driver.ListRepositoriesRequest) (*driver.RepositoryPage, error) {
	p, err := o.Driver.ListRepositories(ctx, hc, r)
	if p != nil {
		for i := range p.Repositories {
			p.Repositories[i].DefaultBranch = ""
		}
	}
	return p, err
}

// olderSearchServer is olderServer with code search whose hits name no
// default branch either.
type olderSearchServer struct{ olderServer }

func (o olderSearchServer) FindFiles(ctx context.Context, hc *http.Client, r *driver.FindFilesRequest) (*driver.FoundPage, error) {
	p, err := o.Driver.(driver.FileFinder).FindFiles(ctx, hc, r)
	if p != nil {
		for i := range p.Results {
			p.Results[i].Repository.DefaultBranch = ""
		}
	}
	return p, err
}

// TestDiscoverWithoutListedDefaultBranch: a listing (or search) that names
// no default branch, as Bitbucket Server before Data Center 9 answers, does
// not make every repository look empty: Discover finds each catalog file,
// with a URL that names no ref (the default branch), which reads back, and
// no request more than with the branch named. Where the provider's URLs
// cannot leave the ref out (GitHub), the files found are reported, not
// dropped without a word.
func TestDiscoverWithoutListedDefaultBranch(t *testing.T) {
	ctx := context.Background()
	const host = "bitbucket.example.com"
	reg, err := integrations.NewRegistry(integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{Host: host}}})
	if err != nil {
		t.Fatal(err)
	}
	w := memscm.New()
	for _, name := range []string{"a", "b"} {
		if err := w.AddRepo("PRJ", name, "main", memscm.Files(map[string]string{"catalog-info.yaml": "kind: Component\n"})); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.AddRepo("PRJ", "none", "main", memscm.Files(map[string]string{"README.md": "x"})); err != nil {
		t.Fatal(err)
	}
	if err := w.AddRepo("PRJ", "dir", "main", memscm.Files(map[string]string{"catalog-info.yaml/x": "a directory"})); err != nil {
		t.Fatal(err)
	}
	wrap := map[string]func(driver.Driver) driver.Driver{
		"listed":            func(d driver.Driver) driver.Driver { return d },
		"listed, no search": func(d driver.Driver) driver.Driver { return struct{ driver.Driver }{d} },
		"older, no search":  func(d driver.Driver) driver.Driver { return olderServer{d} },
		"older with search": func(d driver.Driver) driver.Driver { return olderSearchServer{olderServer{d}} },
	}
	client := func(t *testing.T, reg *integrations.Registry, kind integrations.Kind, wrap func(driver.Driver) driver.Driver) *scm.Client {
		t.Helper()
		open := w.Opener(nil)
		c, err := scm.NewClient(reg, nil, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{
			kind: func(in *integrations.Integration) (driver.Driver, error) {
				d, err := open(in)
				if err != nil {
					return nil, err
				}
				return wrap(d), nil
			}}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	requests := map[string]int{}
	for _, name := range []string{"listed", "listed, no search", "older, no search", "older with search"} {
		t.Run("bitbucketServer/"+name, func(t *testing.T) {
			c := client(t, reg, integrations.BitbucketServer, wrap[name])
			before := w.Requests()
			locs, err := catalog.Discover(ctx, c, "https://"+host+"/projects/PRJ", nil)
			requests[name] = w.Requests() - before
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			var got []string
			for _, l := range locs {
				got = append(got, l.Repo.Name)
				if strings.HasPrefix(name, "older") && (l.DefaultBranch != "" || strings.Contains(l.FileURL, "?at=")) {
					t.Errorf("%s: DefaultBranch %q, FileURL %s; want no branch and a URL naming no ref", l.Repo.Name, l.DefaultBranch, l.FileURL)
				}
				f, err := c.ReadFile(ctx, l.FileURL, nil)
				if err != nil {
					t.Errorf("ReadFile(%s): %v", l.FileURL, err)
				} else if string(f.Content) != "kind: Component\n" {
					t.Errorf("ReadFile(%s) = %q", l.FileURL, f.Content)
				}
			}
			if !slices.Equal(got, []string{"a", "b"}) {
				t.Errorf("Discover found %q; want [a b]", got)
			}
		})
	}
	if requests["older, no search"] != requests["listed, no search"] || requests["older with search"] != requests["listed"] {
		t.Errorf("requests: %v; an unnamed default branch must cost no request more", requests)
	}

	t.Run("github", func(t *testing.T) {
		c := client(t, nil, integrations.GitHub, wrap["older, no search"])
		locs, err := catalog.Discover(ctx, c, "https://github.com/PRJ", nil)
		if len(locs) != 0 || errcode.CodeOf(err) != errcode.Unknown ||
			!strings.Contains(err.Error(), "PRJ/a") || !strings.Contains(err.Error(), "PRJ/b") {
			t.Errorf("Discover = %d locations, %v; want none and an error naming PRJ/a and PRJ/b", len(locs), err)
		}
	})
}
