package bitbucketserverscm_test

import (
	"fmt"
	"io/fs"
	"testing"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

// Conditional tree reads: the unchanged case must cost 1 request (the
// commit listing by path); the changed case (a commit under the directory
// before every read, made on the fake directly, not counted) at most one
// request more than BenchmarkBitbucketServerReadTree.

func BenchmarkBitbucketServerReadTreeUnchanged(b *testing.B) {
	e := newEnv(b, "/bitbucket")
	c, u := e.c, e.repoURL(scmtest.BasicRepo)+"/browse/templates/service/?at=main"
	etag := treeETag(b, c, u)
	opts := &scm.TreeOptions{IfNoneMatch: etag}
	bench(b, e, func(int) error {
		if _, err := c.ReadTree(b.Context(), u, opts); scm.Code(err) != scm.NotModified {
			return fmt.Errorf("got %v; want NotModified", err)
		}
		return nil
	})
}

func BenchmarkBitbucketServerReadTreeChanged(b *testing.B) {
	e := newEnv(b, "/bitbucket")
	c, u := e.c, e.repoURL(scmtest.BasicRepo)+"/browse/templates/service/?at=main"
	etag := treeETag(b, c, u)
	bench(b, e, func(i int) error {
		content := []byte(fmt.Sprintf("change %d\n", i))
		if _, err := e.fake.Commit(project, scmtest.BasicRepo, "main", fakebitbucketserver.Commit{Files: []fake.File{{Path: "templates/service/changed.txt", Content: content}}}); err != nil {
			return err
		}
		fsys, err := c.ReadTree(b.Context(), u, &scm.TreeOptions{IfNoneMatch: etag})
		if err != nil {
			return err
		}
		if got, err := fs.ReadFile(fsys, "changed.txt"); err != nil || string(got) != string(content) {
			return fmt.Errorf("changed.txt = %q, %v; want %q", got, err, content)
		}
		next := scm.TreeETag(fsys)
		if next == "" || next == etag {
			return fmt.Errorf("ETag %q after a change; want a new one (old %q)", next, etag)
		}
		etag = next
		return nil
	})
}

// treeETag reads the tree at u WithETag and returns its ETag.
func treeETag(b *testing.B, c *scm.Client, u string) string {
	b.Helper()
	fsys, err := c.ReadTree(b.Context(), u, &scm.TreeOptions{WithETag: true})
	if err != nil {
		b.Fatal(err)
	}
	etag := scm.TreeETag(fsys)
	if etag == "" {
		b.Fatal("no ETag")
	}
	return etag
}
