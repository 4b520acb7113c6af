package adaptertest

import "testing"

// TestDocMemberRefsGenerics: a method of a type with two type parameters,
// and a method promoted from an embedded generic type, are found.
func TestDocMemberRefsGenerics(t *testing.T) {
	rec := &recordingTB{TB: t}
	if n := DocMemberRefs(rec, "testdata/generics", "p"); n != 3 {
		t.Errorf("checked %d references, want 3", n)
	}
	for _, e := range rec.errs {
		t.Errorf("false report: %s", e)
	}
}

// recordingTB records Errorf instead of failing.
type recordingTB struct {
	testing.TB
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) { r.errs = append(r.errs, format) }
func (r *recordingTB) Helper()                           {}
