package scm_test

import (
	"sync/atomic"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestReadTreeETagVersionRevalidated: with a page cache, a conditional
// ReadTree of an unchanged directory on GitHub costs one request answered
// 304 (free of the rate limit), not a counted 200; a change is seen.
func TestReadTreeETagVersionRevalidated(t *testing.T) {
	s := fakegithub.New(&fakegithub.Options{Tokens: []string{"token-a"}})
	t.Cleanup(s.Close)
	if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "svc", Files: []fakegithub.File{
		{Path: "conf/a.yaml", Content: []byte("a")}, {Path: "README.md", Content: []byte("r")}}}); err != nil {
		t.Fatal(err)
	}
	cfg := integrations.Config{GitHub: []integrations.GitHubConfig{{Host: s.Host(), APIBaseURL: s.APIBaseURL(), Token: integrations.NewSecret("token-a")}}}
	c := newListingClient(t, cfg, integrations.GitHub, githubscm.Opener(nil), newMemPages(), new(atomic.Int64))
	u := "https://" + s.Host() + "/acme/svc/tree/main/conf"
	fsys, err := c.ReadTree(t.Context(), u, &scm.TreeOptions{WithETag: true})
	if err != nil {
		t.Fatal(err)
	}
	etag := scm.TreeETag(fsys)
	before := s.Stats()
	if _, err := c.ReadTree(t.Context(), u, &scm.TreeOptions{IfNoneMatch: etag}); scm.Code(err) != scm.NotModified {
		t.Fatalf("unchanged: %v, want NotModified", err)
	}
	after := s.Stats()
	if n, nm := after.API-before.API, after.NotModified-before.NotModified; n != 1 || nm != 1 {
		t.Errorf("unchanged directory: %d requests, %d answered 304; want 1, 1", n, nm)
	}
	if _, err := s.Commit("acme", "svc", "main", fakegithub.Commit{Message: "edit", Files: []fakegithub.File{{Path: "conf/a.yaml", Content: []byte("b")}}}); err != nil {
		t.Fatal(err)
	}
	fsys, err = c.ReadTree(t.Context(), u, &scm.TreeOptions{IfNoneMatch: etag})
	if err != nil || scm.TreeETag(fsys) == etag {
		t.Fatalf("after a change: %v, etag %q (was %q); want the new tree", err, scm.TreeETag(fsys), etag)
	}
}
