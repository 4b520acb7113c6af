package scm_test

import (
	"testing"

	"github.com/scmkit/scmkit/scm/internal/adaptertest"
)

// TestDocMemberRefs: every Type.Name that the package's comments write,
// for a type of the package, names one of its fields or methods (the doc
// of SearchOptions.MaxResults once named a SearchResult.Truncated that
// never existed).
func TestDocMemberRefs(t *testing.T) {
	if n := adaptertest.DocMemberRefs(t, ".", "scm"); n < 20 {
		t.Errorf("checked %d references; the package's comments hold more: is the pattern broken?", n)
	}
}
