package adaptertest

import (
	"io/fs"
	"testing"
)

func TestCommitsAhead(t *testing.T) {
	base := []string{"c3", "c2", "c1"}
	for _, tc := range []struct {
		head []string
		want int
	}{
		{[]string{"c3", "c2", "c1"}, 0},
		{[]string{"x1", "c3", "c2", "c1"}, 1},
		{[]string{"x2", "x1", "c2", "c1"}, 2},
		{[]string{"y"}, 1},
		{nil, 0},
	} {
		if got := CommitsAhead(tc.head, base); got != tc.want {
			t.Errorf("CommitsAhead(%v, %v) = %d; want %d", tc.head, base, got, tc.want)
		}
	}
}

func TestCreateTree(t *testing.T) {
	fsys := CreateTree(10)
	if len(fsys) != 12 {
		t.Errorf("CreateTree(10) has %d files; want 12", len(fsys))
	}
	if fi, err := fs.Stat(fsys, "bin/run.sh"); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("bin/run.sh: %v, %v; want an executable file", fi, err)
	}
}
