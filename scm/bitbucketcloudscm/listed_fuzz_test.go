package bitbucketcloudscm

import (
	"path"
	"strings"
	"testing"
)

// FuzzListedUnder: a listed path that listedUnder accepts is clean,
// relative, free of NUL and ".." elements, and strictly below dir.
func FuzzListedUnder(f *testing.F) {
	for _, s := range [][2]string{{"tpl/a.txt", "tpl"}, {"tpl/../x", "tpl"}, {"other/x", "tpl"}, {"/tpl/x", "tpl"},
		{"tpl/./x", "tpl"}, {"tplx/a", "tpl"}, {"a", ""}, {".", ""}, {"a/\x00", "a"}, {"a//b", "a"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, p, dir string) {
		if !listedUnder(p, dir) {
			return
		}
		if path.Clean(p) != p || strings.HasPrefix(p, "/") || p == "." || strings.Contains(p, "\x00") {
			t.Fatalf("listedUnder(%q, %q) accepted an unclean path", p, dir)
		}
		for _, e := range strings.Split(p, "/") {
			if e == ".." {
				t.Fatalf("listedUnder(%q, %q) accepted a .. element", p, dir)
			}
		}
		if dir != "" && !strings.HasPrefix(p, dir+"/") {
			t.Fatalf("listedUnder(%q, %q) accepted a path outside dir", p, dir)
		}
	})
}
