package bitbucketserverscm_test

import (
	"fmt"
	"testing"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	fakekit "github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

// updateChanges are n Update changes of files that the repository holds
// under dir, with new content tagged by run.
func updateChanges(dir string, n int, run string) []scm.Change {
	ch := adaptertest.TextChanges(dir, n)
	for i := range ch {
		ch[i].Action = scm.Update
		ch[i].Content = append(ch[i].Content, run...)
	}
	return ch
}

// BenchmarkBitbucketServerOpenPullRequestUpdates opens a pull request
// with 10 Update changes of files in one directory, on a new branch from
// an explicit base: the changes' paths are checked before anything is
// written.
func BenchmarkBitbucketServerOpenPullRequestUpdates(b *testing.B) {
	e := newEnv(b, "/bitbucket")
	var files []fakekit.File
	for _, ch := range adaptertest.TextChanges("conf", 10) {
		files = append(files, fakekit.File{Path: ch.Path, Content: ch.Content})
	}
	if _, err := e.fake.Commit(project, scmtest.BasicRepo, "main", fakebitbucketserver.Commit{Message: "conf", Files: files}); err != nil {
		b.Fatal(err)
	}
	adaptertest.Bench(b, e.requests, func(i int) error {
		_, err := e.c.OpenPullRequest(b.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Base: "main",
			Branch: fmt.Sprintf("upd/%d", i+1), Title: "Update", Changes: updateChanges("conf", 10, fmt.Sprint(i))})
		return err
	})
}

// BenchmarkBitbucketServerDiscoverReadFile discovers catalog-info.yaml
// without code search in a project of 100 repositories, 20 of which hold
// it: one listing page and one read per repository; a missing file must
// not cost another request.
func BenchmarkBitbucketServerDiscoverReadFile(b *testing.B) {
	fake := fakebitbucketserver.New(&fakebitbucketserver.Options{Tokens: []string{goodToken}})
	b.Cleanup(fake.Close)
	for i := range 100 {
		r := fakebitbucketserver.Repo{Project: "ACME", Name: fmt.Sprintf("svc-%03d", i),
			Files: []fakekit.File{{Path: "README.md", Content: []byte("# svc\n")}}}
		if i%5 == 0 {
			r.Files = append(r.Files, fakekit.File{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")})
		}
		if _, err := fake.AddRepo(r); err != nil {
			b.Fatal(err)
		}
	}
	c := searchClient(b, fake, &bitbucketserverscm.Options{NoCodeSearch: true})
	owner := fake.URL() + "/projects/ACME"
	adaptertest.Bench(b, func() int { return fake.Stats().Total }, func(int) error {
		n := 0
		for f, err := range c.FindFiles(b.Context(), owner, "catalog-info.yaml") {
			if err != nil {
				return err
			}
			if f.Method != scm.FoundByReadFile {
				return fmt.Errorf("method %v; want FoundByReadFile", f.Method)
			}
			n++
		}
		if n != 20 {
			return fmt.Errorf("found %d; want 20", n)
		}
		return nil
	})
}
