package scm_test

import (
	"testing"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// notFoundFake is a fake GitHub with acme/svc, private, holding
// catalog-info.yaml, which token-a can read and an anonymous caller
// cannot see.
func notFoundFake(t *testing.T) (*fakegithub.Server, string) {
	t.Helper()
	s := fakegithub.New(&fakegithub.Options{Tokens: []string{"token-a"}})
	t.Cleanup(s.Close)
	if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "svc", Private: true,
		Files: []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}); err != nil {
		t.Fatal(err)
	}
	return s, "https://" + s.Host() + "/acme/svc/blob/main/catalog-info.yaml"
}

// readCode reads u with o through c and returns the code and the API
// requests the read cost.
func readCode(t *testing.T, s *fakegithub.Server, c *scm.Client, u string, o *scm.ReadFileOptions) (scm.ErrorCode, int) {
	t.Helper()
	before := s.Stats().API
	_, err := c.ReadFile(t.Context(), u, o)
	return scm.Code(err), s.Stats().API - before
}

// The spellings of one file's URL share its FileCache entry: blob/ and
// tree/ (which ResolveURL makes of relative references), with a fragment
// or a query, are all one (host, repository, ref, path). Before, the key
// was the raw URL, and each spelling started with a full read.
func TestFileCacheSharedBetweenSpellings(t *testing.T) {
	s, u := notFoundFake(t)
	c := listClient(t, s, "token-a", scm.Options{})
	base := "https://" + s.Host() + "/acme/svc/"
	if code, n := readCode(t, s, c, u, nil); code != scm.OK || n != 1 {
		t.Fatalf("first read: %v after %d requests", code, n)
	}
	for _, v := range []string{base + "tree/main/catalog-info.yaml", base + "blob/main/catalog-info.yaml#L3", base + "blob/main/catalog-info.yaml?plain=1"} {
		nm := s.Stats().NotModified
		code, n := readCode(t, s, c, v, nil)
		if code != scm.OK || n != 1 || s.Stats().NotModified-nm != 1 {
			t.Errorf("%s after blob/main: %v after %d requests, %d answered 304; want OK after 1, a 304", v, code, n, s.Stats().NotModified-nm)
		}
	}
}
