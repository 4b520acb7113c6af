package bitbucketcloudscm_test

import (
	"fmt"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

func benchEnv(b *testing.B) *env { return newEnv(b, nil, integrations.BitbucketCloudConfig{}) }

func BenchmarkBitbucketCloudReadFile(b *testing.B) {
	e := benchEnv(b)
	u := e.fileURL(scmtest.BasicRepo, "main", "catalog-info.yaml")
	adaptertest.Bench(b, e.requests, func(int) error {
		_, err := e.c.ReadFile(b.Context(), u, nil)
		return err
	})
}

func BenchmarkBitbucketCloudReadFileUnchanged(b *testing.B) {
	e := benchEnv(b)
	u := e.fileURL(scmtest.BasicRepo, "main", "catalog-info.yaml")
	f, err := e.c.ReadFile(b.Context(), u, nil)
	if err != nil {
		b.Fatal(err)
	}
	adaptertest.Bench(b, e.requests, func(int) error {
		_, err := e.c.ReadFile(b.Context(), u, &scm.ReadFileOptions{IfNoneMatch: f.ETag})
		if scm.Code(err) != scm.NotModified {
			return fmt.Errorf("conditional re-read: %v; want NotModified", err)
		}
		return nil
	})
}

// BenchmarkBitbucketCloudReadTree reads a directory at a known ref.
func BenchmarkBitbucketCloudReadTree(b *testing.B) {
	e := benchEnv(b)
	u := e.repoURL(scmtest.BasicRepo) + "/src/main/templates/service/"
	adaptertest.Bench(b, e.requests, func(int) error {
		_, err := e.c.ReadTree(b.Context(), u, nil)
		return err
	})
}

func benchPullRequest(b *testing.B, base string) {
	e := benchEnv(b)
	adaptertest.Bench(b, e.requests, func(i int) error {
		_, err := e.c.OpenPullRequest(b.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Base: base,
			Branch: fmt.Sprintf("bench/%d", i+1), Title: "Generated", Changes: tenChanges(fmt.Sprintf("gen%d", i+1))})
		return err
	})
}

// BenchmarkBitbucketCloudOpenPullRequest opens a pull request with 10 text
// files on a new branch from an explicit base.
func BenchmarkBitbucketCloudOpenPullRequest(b *testing.B) { benchPullRequest(b, "main") }

// BenchmarkBitbucketCloudOpenPullRequestDefaultBase is the same from the
// main branch, Base left empty.
func BenchmarkBitbucketCloudOpenPullRequestDefaultBase(b *testing.B) { benchPullRequest(b, "") }

// BenchmarkBitbucketCloudOpenPullRequestAgain opens the same pull request
// again: the existing one is returned.
func BenchmarkBitbucketCloudOpenPullRequestAgain(b *testing.B) {
	e := benchEnv(b)
	spec := &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Base: "main", Branch: "bench/again", Title: "Generated",
		Changes: tenChanges("gen")}
	adaptertest.Bench(b, e.requests, func(int) error {
		_, err := e.c.OpenPullRequest(b.Context(), spec)
		return err
	})
}

func addRepos(b *testing.B, e *env, n int) {
	b.Helper()
	for i := range n {
		_, err := e.fake.AddRepo(fakebitbucketcloud.Repo{Workspace: workspace, Slug: fmt.Sprintf("repo-%04d", i),
			Files: []fake.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBitbucketCloudListRepositories lists a workspace of 1,003
// repositories (pagelen=100, next links).
func BenchmarkBitbucketCloudListRepositories(b *testing.B) {
	e := benchEnv(b)
	addRepos(b, e, 1000)
	owner := e.fake.URL() + "/" + workspace
	adaptertest.Bench(b, e.requests, func(int) error {
		n := 0
		for _, err := range e.c.ListRepositories(b.Context(), owner, nil) {
			if err != nil {
				return err
			}
			n++
		}
		if n != 1003 {
			return fmt.Errorf("listed %d repositories; want 1003", n)
		}
		return nil
	})
}

// BenchmarkBitbucketCloudDiscover finds catalog-info.yaml in a workspace
// of 1,003 repositories (1,002 hold one) with code search.
func BenchmarkBitbucketCloudDiscover(b *testing.B) {
	e := benchEnv(b)
	addRepos(b, e, 1000)
	owner := e.fake.URL() + "/" + workspace
	adaptertest.Bench(b, e.requests, func(int) error {
		n := 0
		for f, err := range e.c.FindFiles(b.Context(), owner, "catalog-info.yaml") {
			if err != nil {
				return err
			}
			if f.Method != scm.FoundByFinder {
				return fmt.Errorf("%s found by %v; want code search", f.Repository.Name, f.Method)
			}
			n++
		}
		if n != 1002 {
			return fmt.Errorf("found %d files; want 1002", n)
		}
		return nil
	})
}
