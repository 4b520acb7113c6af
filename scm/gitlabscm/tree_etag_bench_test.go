package gitlabscm_test

import (
	"fmt"
	"io/fs"
	"testing"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// Conditional tree reads: the unchanged case must cost 1 request (the
// commit listing by path); the changed case (a commit under the directory
// before every read, made on the fake directly, not counted) at most one
// request more than BenchmarkGitLabReadTree.

func BenchmarkGitLabReadTreeUnchanged(b *testing.B) {
	w := benchWorld(b)
	c, u := w.c, w.treeURL(b, "acme/platform", "svc", "", "templates/service")
	etag := treeETag(b, c, u)
	opts := &scm.TreeOptions{IfNoneMatch: etag}
	benchLoop(b, func() int { return w.requests() }, func(int) error {
		if _, err := c.ReadTree(b.Context(), u, opts); scm.Code(err) != scm.NotModified {
			return fmt.Errorf("got %v; want NotModified", err)
		}
		return nil
	})
}

func BenchmarkGitLabReadTreeChanged(b *testing.B) {
	w := benchWorld(b)
	c, u := w.c, w.treeURL(b, "acme/platform", "svc", "", "templates/service")
	etag := treeETag(b, c, u)
	benchLoop(b, func() int { return w.requests() }, func(i int) error {
		content := []byte(fmt.Sprintf("change %d\n", i))
		if _, err := w.s.Commit("acme/platform/svc", "main", fakegitlab.Commit{Files: []fakegitlab.File{{Path: "templates/service/changed.txt", Content: content}}}); err != nil {
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

// benchLoop runs op b.N times after one warm-up run and reports
// requests/op as counted by requests.
func benchLoop(b *testing.B, requests func() int, op func(i int) error) {
	b.Helper()
	if err := op(-1); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	before := requests()
	n := 0
	for b.Loop() {
		if err := op(n); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(requests()-before)/float64(n), "requests/op")
}
