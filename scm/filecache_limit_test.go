package scm_test

import (
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm"
)

// TestFileCacheEntryOverTheReadsLimitIsNotUsed: a cached file larger than
// the read's MaxBytes is not revalidated and handed out: the read is made
// afresh and refused as too large, as it is without a cache.
func TestFileCacheEntryOverTheReadsLimitIsNotUsed(t *testing.T) {
	const content = "apiVersion: backstage.io/v1alpha1\n"
	for _, mk := range fileFakes {
		f := mk(t, content)
		t.Run(f.name, func(t *testing.T) {
			fc := scm.NewMemoryFileCache(nil)
			c := f.client(t, "token-a", scm.Options{FileCache: fc})
			readContent(t, c, f.url)
			inm0 := f.conditional()
			got, err := c.ReadFile(t.Context(), f.url, &scm.ReadFileOptions{MaxBytes: 8})
			if scm.Code(err) != errcode.InvalidArgument {
				t.Fatalf("read with MaxBytes 8 of a cached %d-byte file: %v, %v; want InvalidArgument", len(content), got, err)
			}
			if inm := f.conditional() - inm0; inm != 0 {
				t.Errorf("the read carried If-None-Match %d times; want 0 (the entry is over the read's limit)", inm)
			}
		})
	}
}
