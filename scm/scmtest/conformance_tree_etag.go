package scmtest

import (
	"io/fs"
	"testing"

	"github.com/scmkit/scmkit/scm"
)

// budgetTreeUnchanged is the request budget of a conditional ReadTree of an
// unchanged directory: the one small commit-listing request.
const budgetTreeUnchanged = 1

// testReadTreeETag checks conditional tree reads (ReadTree/ETag): a tree
// read WithETag has an ETag; reading it again with that ETag is NotModified
// after one request; on a branch where a file under the directory changed,
// the read is full (at most one request more than a plain read) and has a
// new ETag; on a branch where only a file elsewhere changed, it is still
// NotModified. The branches are made through the client's OpenPullRequest.
func testReadTreeETag(t *testing.T, h *env) {
	const dir = "templates/service"
	c := h.Client()
	warmUp(t, h)
	before := h.Requests()
	fsys, err := c.ReadTree(ctx(t), h.TreeURL(BasicRepo, "", dir), &scm.TreeOptions{WithETag: true})
	if err != nil {
		t.Fatalf("ReadTree(%q, WithETag): %v", dir, err)
	}
	if n := h.Requests() - before; n > budgetReadTree+1 {
		t.Errorf("ReadTree(%q, WithETag) made %d requests; want at most %d", dir, n, budgetReadTree+1)
	}
	checkTree(t, fsys, dir, nil)
	etag := scm.TreeETag(fsys)
	if etag == "" {
		t.Fatalf("TreeETag of a tree read WithETag is empty; the driver must implement driver.TreeVersioner")
	}

	before = h.Requests()
	_, err = c.ReadTree(ctx(t), h.TreeURL(BasicRepo, "", dir), &scm.TreeOptions{IfNoneMatch: etag})
	wantCode(t, h, "ReadTree with the tree's own ETag", err, scm.NotModified)
	if n := h.Requests() - before; n > budgetTreeUnchanged {
		t.Errorf("unchanged ReadTree made %d requests; want at most %d", n, budgetTreeUnchanged)
	}

	// A change elsewhere in the repository leaves the directory's ETag.
	const elsewhere = "scmtest-etag-elsewhere"
	open(t, c, &scm.PullRequestSpec{RepoURL: h.RepoURL(BasicRepo), Base: DefaultBranch, Branch: elsewhere,
		Title: "scmtest: elsewhere", Changes: []scm.Change{{Path: "docs/etag.md", Action: scm.Upsert, Content: []byte("elsewhere\n")}}})
	before = h.Requests()
	_, err = c.ReadTree(ctx(t), h.TreeURL(BasicRepo, elsewhere, dir), &scm.TreeOptions{IfNoneMatch: etag})
	wantCode(t, h, "ReadTree after a change outside the directory", err, scm.NotModified)
	if n := h.Requests() - before; n > budgetTreeUnchanged {
		t.Errorf("ReadTree after a change outside the directory made %d requests; want at most %d", n, budgetTreeUnchanged)
	}

	// A change under the directory gives a full read and a new ETag.
	const inside = "scmtest-etag-inside"
	open(t, c, &scm.PullRequestSpec{RepoURL: h.RepoURL(BasicRepo), Base: DefaultBranch, Branch: inside,
		Title: "scmtest: inside", Changes: []scm.Change{{Path: dir + "/etag.txt", Action: scm.Upsert, Content: []byte("inside\n")}}})
	before = h.Requests()
	fsys, err = c.ReadTree(ctx(t), h.TreeURL(BasicRepo, inside, dir), &scm.TreeOptions{IfNoneMatch: etag})
	if err != nil {
		t.Fatalf("ReadTree after a change under the directory: %v; want the full tree", err)
	}
	if n := h.Requests() - before; n > budgetReadTree+1 {
		t.Errorf("changed ReadTree made %d requests; want at most %d", n, budgetReadTree+1)
	}
	if got, err := fs.ReadFile(fsys, "etag.txt"); err != nil || string(got) != "inside\n" {
		t.Errorf("changed tree: etag.txt = %q, %v; want %q", got, err, "inside\n")
	}
	if e2 := scm.TreeETag(fsys); e2 == "" || e2 == etag {
		t.Errorf("changed tree's ETag = %q; want a new one (old %q)", e2, etag)
	}
}

func open(t *testing.T, c *scm.Client, spec *scm.PullRequestSpec) {
	t.Helper()
	if _, err := c.OpenPullRequest(ctx(t), spec); err != nil {
		t.Fatalf("OpenPullRequest(%s): %v", spec.Branch, err)
	}
}
