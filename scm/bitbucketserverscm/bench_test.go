package bitbucketserverscm_test

import (
	"fmt"
	"testing"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

func BenchmarkBitbucketServerReadFile(b *testing.B) {
	e := newEnv(b, "/bitbucket")
	u := e.fileURL(scmtest.BasicRepo, "main", "catalog-info.yaml")
	adaptertest.Bench(b, e.requests, func(int) error {
		_, err := e.c.ReadFile(b.Context(), u, nil)
		return err
	})
}

func BenchmarkBitbucketServerReadFileUnchanged(b *testing.B) {
	e := newEnv(b, "/bitbucket")
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

func BenchmarkBitbucketServerReadTree(b *testing.B) {
	e := newEnv(b, "/bitbucket")
	u := e.repoURL(scmtest.BasicRepo) + "/browse/templates/service/?at=main"
	adaptertest.Bench(b, e.requests, func(int) error {
		_, err := e.c.ReadTree(b.Context(), u, nil)
		return err
	})
}

func benchPullRequest(b *testing.B, base string) {
	e := newEnv(b, "/bitbucket")
	adaptertest.Bench(b, e.requests, func(i int) error {
		_, err := e.c.OpenPullRequest(b.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Base: base,
			Branch: fmt.Sprintf("bench/%d", i+1), Title: "Generated", Changes: tenChanges(fmt.Sprintf("gen%d", i+1))})
		return err
	})
}

// BenchmarkBitbucketServerOpenPullRequest opens a pull request with 10
// text files on a new branch from an explicit base.
func BenchmarkBitbucketServerOpenPullRequest(b *testing.B) { benchPullRequest(b, "main") }

// BenchmarkBitbucketServerOpenPullRequestDefaultBase is the same from the
// default branch, which costs one more request to look up once per
// Options.DefaultBranchTTL (1 minute): 13 requests/op after the first
// (14 before the memo).
func BenchmarkBitbucketServerOpenPullRequestDefaultBase(b *testing.B) { benchPullRequest(b, "") }

// BenchmarkBitbucketServerListRepositories lists a project of 250
// repositories.
func BenchmarkBitbucketServerListRepositories(b *testing.B) {
	e := newEnv(b, "/bitbucket")
	for i := range 247 {
		if _, err := e.fake.AddRepo(fakebitbucketserver.Repo{Project: project, Name: fmt.Sprintf("repo-%03d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	owner := e.fake.URL() + "/projects/" + project
	adaptertest.Bench(b, e.requests, func(int) error {
		n := 0
		for _, err := range e.c.ListRepositories(b.Context(), owner, nil) {
			if err != nil {
				return err
			}
			n++
		}
		if n != 250 {
			return fmt.Errorf("listed %d repositories; want 250", n)
		}
		return nil
	})
}
