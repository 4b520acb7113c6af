package githubscm_test

import (
	"fmt"
	"testing"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/catalog"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// The benchmarks run end to end: the portable *scm.Client with a real
// credentials.Resolver (a PAT), the retry transport and this driver,
// against the fake GitHub, which counts the requests. requests/op counts
// API requests; downloads/op the requests to the archive download host.

func benchEnv(b *testing.B) *env {
	b.Helper()
	e := newEnv(b, false, nil)
	files := []fakegithub.File{
		{Path: "catalog-info.yaml", Content: []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc\n")},
		{Path: "README.md", Content: []byte("# svc\n")},
	}
	for i := range 8 {
		files = append(files, fakegithub.File{Path: fmt.Sprintf("templates/service/skeleton/file%d.yaml", i), Content: []byte(fmt.Sprintf("n: %d\n", i))})
	}
	files = append(files, fakegithub.File{Path: "templates/service/template.yaml", Content: []byte("kind: Template\n")})
	e.addRepo(b, fakegithub.Repo{Owner: "acme", Name: "svc", Files: files})
	return e
}

// measure runs fn b.N times and reports requests/op and downloads/op.
func measure(b *testing.B, e *env, fn func(i int) error) {
	b.Helper()
	b.ReportAllocs()
	before := e.s.Stats()
	n := 0
	for b.Loop() {
		if err := fn(n); err != nil {
			b.Fatal(err)
		}
		n++
	}
	after := e.s.Stats()
	b.ReportMetric(float64(after.API-before.API)/float64(n), "requests/op")
	if d := after.Download - before.Download; d > 0 {
		b.ReportMetric(float64(d)/float64(n), "downloads/op")
	}
}

func BenchmarkGitHubReadFile(b *testing.B) {
	e := benchEnv(b)
	u := e.web("acme/svc/blob/main/catalog-info.yaml")
	measure(b, e, func(int) error {
		_, err := e.c.ReadFile(b.Context(), u, nil)
		return err
	})
}

func BenchmarkGitHubReadFileNotModified(b *testing.B) {
	e := benchEnv(b)
	u := e.web("acme/svc/blob/main/catalog-info.yaml")
	f, err := e.c.ReadFile(b.Context(), u, nil)
	if err != nil {
		b.Fatal(err)
	}
	opts := &scm.ReadFileOptions{IfNoneMatch: f.ETag}
	measure(b, e, func(int) error {
		if _, err := e.c.ReadFile(b.Context(), u, opts); scm.Code(err) != scm.NotModified {
			return fmt.Errorf("got %v; want NotModified", err)
		}
		return nil
	})
}

func BenchmarkGitHubReadTree(b *testing.B) {
	e := benchEnv(b)
	u := e.web("acme/svc/tree/main/templates/service")
	measure(b, e, func(int) error {
		_, err := e.c.ReadTree(b.Context(), u, nil)
		return err
	})
}

func BenchmarkGitHubOpenPullRequest10Files(b *testing.B) {
	e := benchEnv(b)
	changes := textChanges(10)
	measure(b, e, func(i int) error {
		_, err := e.c.OpenPullRequest(b.Context(), &scm.PullRequestSpec{RepoURL: e.web("acme/svc"), Base: "main",
			Branch: fmt.Sprintf("bench-%d", i), Title: "Add files", Changes: changes})
		return err
	})
}

// BenchmarkGitHubOpenPullRequestAgain: opening an open pull request again
// is the query alone, which finds it.
func BenchmarkGitHubOpenPullRequestAgain(b *testing.B) {
	e := benchEnv(b)
	spec := &scm.PullRequestSpec{RepoURL: e.web("acme/svc"), Base: "main", Branch: "again", Title: "Add files", Changes: textChanges(10)}
	if _, err := e.c.OpenPullRequest(b.Context(), spec); err != nil {
		b.Fatal(err)
	}
	measure(b, e, func(int) error {
		pr, err := e.c.OpenPullRequest(b.Context(), spec)
		if err == nil && !pr.Existing {
			return fmt.Errorf("pull request %+v; want the existing one", pr)
		}
		return err
	})
}

func BenchmarkGitHubSearch(b *testing.B) {
	e := benchEnv(b)
	u := e.web("acme/svc/blob/main/templates/**/*.yaml")
	measure(b, e, func(int) error {
		res, err := e.c.Search(b.Context(), u, nil)
		if err == nil && len(res) != 9 {
			return fmt.Errorf("%d results; want 9", len(res))
		}
		return err
	})
}

func BenchmarkGitHubDiscover1000Repos(b *testing.B) {
	e := newEnv(b, false, nil)
	for i := range 1000 {
		r := fakegithub.Repo{Owner: "big", Name: fmt.Sprintf("r%04d", i), Files: []fakegithub.File{{Path: "README.md", Content: []byte("x")}}}
		if i%5 == 0 {
			r.Files = append(r.Files, fakegithub.File{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")})
		}
		e.addRepo(b, r)
	}
	u := e.web("big")
	measure(b, e, func(int) error {
		locs, err := catalog.Discover(b.Context(), e.c, u, nil)
		if err == nil && len(locs) != 200 {
			return fmt.Errorf("%d locations; want 200", len(locs))
		}
		return err
	})
}

// BenchmarkGitHubListUserRepositoriesAgain lists a user's one page of
// repositories with her own token, again and again through one client: the
// client remembers that she is a user and that the token is hers, so each
// listing after the first is one request (three without it).
func BenchmarkGitHubListUserRepositoriesAgain(b *testing.B) {
	e := newEnvWith(b, false, &fakegithub.Options{Tokens: []string{goodToken}, User: "octocat"}, nil)
	e.s.AddOwner("octocat", fakegithub.User)
	for i := range 5 {
		e.addRepo(b, fakegithub.Repo{Owner: "octocat", Name: fmt.Sprintf("r%d", i), Private: i == 0})
	}
	list := func(int) error {
		n := 0
		for _, err := range e.c.ListRepositories(b.Context(), e.web("octocat"), nil) {
			if err != nil {
				return err
			}
			n++
		}
		if n != 5 {
			return fmt.Errorf("listed %d repositories; want 5", n)
		}
		return nil
	}
	if err := list(0); err != nil {
		b.Fatal(err)
	}
	measure(b, e, list)
}
