package scm_test

import (
	"testing"
	"time"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// A file deleted after it was read and cached: the read that finds it gone
// drops its cached content and remembers the NotFound, so the next reads
// within NotFoundMaxAge cost nothing; a read without NotFoundMaxAge still
// asks.
func TestNotFoundAfterDelete(t *testing.T) {
	s, u := notFoundFake(t)
	c := listClient(t, s, "token-a", scm.Options{})
	o := &scm.ReadFileOptions{NotFoundMaxAge: time.Hour}
	if code, n := readCode(t, s, c, u, o); code != scm.OK || n != 1 {
		t.Fatalf("first read: %v after %d requests; want OK after 1", code, n)
	}
	if _, err := s.Commit("acme", "svc", "main", fakegithub.Commit{Delete: []string{"catalog-info.yaml"}}); err != nil {
		t.Fatal(err)
	}
	if code, n := readCode(t, s, c, u, o); code != scm.NotFound || n != 1 {
		t.Errorf("read after the delete: %v after %d requests; want NotFound after 1", code, n)
	}
	for i := range 2 {
		if code, n := readCode(t, s, c, u, o); code != scm.NotFound || n != 0 {
			t.Errorf("re-read %d within NotFoundMaxAge: %v after %d requests; want NotFound after 0", i+1, code, n)
		}
	}
	if code, n := readCode(t, s, c, u, nil); code != scm.NotFound || n != 1 {
		t.Errorf("read without NotFoundMaxAge: %v after %d requests; want NotFound after 1", code, n)
	}
}

// A NotFound answered to one credential never answers another, which may
// see more: here an anonymous caller, to whom the private repository is
// invisible, and token-a share one FileCache.
func TestNotFoundNotSharedBetweenCredentials(t *testing.T) {
	s, u := notFoundFake(t)
	fc := scm.NewMemoryFileCache(nil)
	anon := listClient(t, s, "", scm.Options{FileCache: fc})
	tok := listClient(t, s, "token-a", scm.Options{FileCache: fc})
	o := &scm.ReadFileOptions{NotFoundMaxAge: time.Hour}
	for i := range 2 {
		if code, _ := readCode(t, s, anon, u, o); code != scm.NotFound {
			t.Fatalf("anonymous read %d: %v; want NotFound", i+1, code)
		}
	}
	f, err := tok.ReadFile(t.Context(), u, o)
	if err != nil || string(f.Content) != "kind: Component\n" {
		t.Errorf("token-a's read after the anonymous NotFound: %v; want the file", err)
	}
	if st := fc.Stats(); st.Entries != 2 {
		t.Errorf("%d cache entries; want 2 (the anonymous NotFound, token-a's file)", st.Entries)
	}
	// token-a's file does not answer the anonymous caller either: it
	// asks (conditionally) and is refused, twice: token-a's entry stays.
	for i := range 2 {
		if code, n := readCode(t, s, anon, u, o); code != scm.NotFound || n != 1 {
			t.Errorf("anonymous read %d once the file is cached: %v after %d requests; want NotFound after 1", i+1, code, n)
		}
	}
	// Neither refusal cost token-a its cached file: its re-read is a free
	// 304. Before, the anonymous 404 dropped the shared entry, and
	// token-a paid a full, counted read (an adversarial review).
	nm := s.Stats().NotModified
	if f, err := tok.ReadFile(t.Context(), u, o); err != nil || string(f.Content) != "kind: Component\n" || s.Stats().NotModified != nm+1 {
		t.Errorf("token-a's re-read after the anonymous NotFounds: %v, 304s %d -> %d; want the file, by a 304", err, nm, s.Stats().NotModified)
	}
}

// Without a FileCache (NoCache), NotFoundMaxAge remembers nothing: each
// read asks.
func TestNotFoundMaxAgeNoCache(t *testing.T) {
	s, u := notFoundFake(t)
	c := listClient(t, s, "token-a", scm.Options{FileCache: scm.NoCache{}})
	missing := u[:len(u)-len("catalog-info.yaml")] + "missing.yaml"
	for i := range 2 {
		if code, n := readCode(t, s, c, missing, &scm.ReadFileOptions{NotFoundMaxAge: time.Hour}); code != scm.NotFound || n != 1 {
			t.Errorf("read %d: %v after %d requests; want NotFound after 1", i+1, code, n)
		}
	}
}
