package scm

import (
	"os/exec"
	"path"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/internal/testsvc"
)

func TestValidBranchName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"main", true},
		{"feature/add-thing", true},
		{"release-1.2", true},
		{"scaffolder/my_service", true},
		{"", false},
		{"@", false},
		{"-topic", false},
		{"topic.", false},
		{"a..b", false},
		{"a@{b", false},
		{"a//b", false},
		{"/a", false},
		{"a/", false},
		{".hidden", false},
		{"a/.hidden", false},
		{"topic.lock", false},
		{"a/topic.lock/b", false},
		{"a b", false},
		{"a~b", false},
		{"a^b", false},
		{"a:b", false},
		{"a?b", false},
		{"a*b", false},
		{"a[b", false},
		{`a\b`, false},
		{"a\x7fb", false},
		{"a\tb", false},
		{"HEAD", false},
		{"refs/heads/main", false},
		{"refs/tags/v1", false},
		{"refs/x", false},
		{"head", true},
		{"HEAD/x", true},
		{"x/HEAD", true},
		{"refs", true},
		{"refsx/y", true},
		{"heads/main", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := validBranchName(tc.name); got != tc.want {
				t.Errorf("validBranchName(%q) = %v; want %v", tc.name, got, tc.want)
			}
		})
	}
}

// TestValidBranchNameRefusesWhatGitRefuses: every name that git
// check-ref-format --branch refuses is refused (skipped without git).
func TestValidBranchNameRefusesWhatGitRefuses(t *testing.T) {
	git := testsvc.Require(t, "git", "git")
	for _, name := range []string{"main", "HEAD", "head", "HEAD/x", "x/HEAD", "FETCH_HEAD", "@", "a/@", "@{-1}", "a@{u}",
		"refs", "refs/", "refs/heads/main", "-x", "x-", "a.", "a/.b", ".a", "a.lock", "a.lock/b", "a/b.lock", "a..b",
		"a//b", "/a", "a/", "a b", "a~b", "a^b", "a:b", "a?b", "a*b", "a[b", `a\b`, "a\x7fb", "a\x01b", "release/1.2"} {
		cmd := exec.Command(git, "check-ref-format", "--branch", name)
		cmd.Dir = t.TempDir() // outside any repository: "@{-1}" is then refused, not expanded
		gitOK := cmd.Run() == nil
		if !gitOK && validBranchName(name) {
			t.Errorf("validBranchName(%q) = true; git check-ref-format --branch refuses it", name)
		}
	}
}

func TestMatchGlob(t *testing.T) {
	for _, tc := range []struct {
		name, pattern, path string
		want                bool
	}{
		{"literal", "a/b.yaml", "a/b.yaml", true},
		{"literal mismatch", "a/b.yaml", "a/c.yaml", false},
		{"star in segment", "*.md", "README.md", true},
		{"star does not cross slash", "*.md", "docs/index.md", false},
		{"double star zero segments", "**/catalog-info.yaml", "catalog-info.yaml", true},
		{"double star many segments", "**/catalog-info.yaml", "a/b/c/catalog-info.yaml", true},
		{"double star in the middle", "templates/**/*.yaml", "templates/x.yaml", true},
		{"double star in the middle deep", "templates/**/*.yaml", "templates/a/b/x.yaml", true},
		{"double star prefix mismatch", "templates/**/*.yaml", "other/x.yaml", false},
		{"trailing double star", "docs/**", "docs/a/b.md", true},
		{"consecutive double stars", "**/**/x", "a/x", true},
		{"question mark", "?.txt", "a.txt", true},
		{"class", "[ab].txt", "b.txt", true},
		{"class mismatch", "[ab].txt", "c.txt", false},
		{"brace is literal", "{a,b}.txt", "a.txt", false},
		{"too few segments", "a/*/c", "a/c", false},
		{"too many segments", "a/*", "a/b/c", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !checkGlob(tc.pattern) {
				t.Fatalf("checkGlob(%q) = false; want true", tc.pattern)
			}
			if got := matchGlob(tc.pattern, tc.path); got != tc.want {
				t.Errorf("matchGlob(%q, %q) = %v; want %v", tc.pattern, tc.path, got, tc.want)
			}
		})
	}
}

func TestCheckGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{"a/*.yaml", true},
		{"**", true},
		{"", false},
		{"/a/*.yaml", false},
		{"a/../*.yaml", false},
		{"a//b", false},
		{"a/[b", false},
		{"a/b/", false},
		{"**/**/**/**/x", true},
		{"**/**/**/**/**/x", false},
	} {
		if got := checkGlob(tc.pattern); got != tc.want {
			t.Errorf("checkGlob(%q) = %v; want %v", tc.pattern, got, tc.want)
		}
	}
}

func TestGlobPrefix(t *testing.T) {
	for _, tc := range []struct{ pattern, want string }{
		{"templates/**/*.yaml", "templates"},
		{"a/b/*.yaml", "a/b"},
		{"a/b/c.yaml", "a/b"},
		{"*.md", ""},
		{"**/x", ""},
		{"a/*/b/c", "a"},
	} {
		if got := globPrefix(tc.pattern); got != tc.want {
			t.Errorf("globPrefix(%q) = %q; want %q", tc.pattern, got, tc.want)
		}
	}
}

func FuzzMatchGlob(f *testing.F) {
	f.Add("templates/**/*.yaml", "templates/a/b.yaml")
	f.Add("**/**/x", "a/b/x")
	f.Add("[a-", "a")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if !checkGlob(pattern) {
			return
		}
		first := matchGlob(pattern, name) // must not panic or hang
		if again := matchGlob(pattern, name); again != first {
			t.Fatal("matchGlob is not deterministic")
		}
	})
}

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://user:secret@host/a/b?private_token=secret#frag", "https://host/a/b?"},
		{"https://host/a/b", "https://host/a/b"},
		{"://bad", "(unparsable URL)"},
	} {
		if got := redactURL(tc.in); got != tc.want {
			t.Errorf("redactURL(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// TestValidatePullRequestGitPaths: a change whose path git refuses in a
// tree (a ".git" element in any spelling NTFS or HFS+ reads as one, a NUL
// byte, a .gitmodules that is a directory) is InvalidArgument before any
// request, on every adapter, instead of whatever each host makes of it.
func TestValidatePullRequestGitPaths(t *testing.T) {
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{".git/config", false},
		{".GIT/hooks/post-checkout", false},
		{"sub/.git", false},
		{"git~1/config", false},
		{".git. /x", false},
		{".g\u200cit/config", false},
		{"a\x00b", false},
		{".gitmodules/x", false},
		{".gitmodules", true},
		{".github/workflows/ci.yaml", true},
		{"docs/.gitkeep", true},
	} {
		t.Run(tc.path, func(t *testing.T) {
			for _, action := range []ChangeAction{Upsert, Delete} {
				err := validatePullRequest("op", &PullRequestSpec{Title: "t", Branch: "b",
					Changes: []Change{{Path: tc.path, Action: action, Content: []byte("x")}}})
				// A Delete may remove such a path (never create one),
				// but no path holds a NUL byte.
				ok := tc.ok || (action == Delete && !strings.Contains(tc.path, "\x00"))
				if ok && err != nil {
					t.Errorf("action %d: %v; want accepted", action, err)
				}
				if !ok && Code(err) != InvalidArgument {
					t.Errorf("action %d: %v; want InvalidArgument", action, err)
				}
			}
		})
	}
}

// TestMatchGlobIsLinear: matching is linear in the pattern's and the
// path's lengths (one segment comparison per pair at most), however many
// "**" the pattern holds: a repository of deep paths ("x/x/x/.../x", which
// anyone who can push may add) must not make a Search of
// "**/x/**/x/**/x/**/b" cost the fourth power of their depth.
func TestMatchGlobIsLinear(t *testing.T) {
	calls := 0
	counted := func(pattern, name string) (bool, error) {
		calls++
		return path.Match(pattern, name)
	}
	name := strings.Repeat("x/", 120) + "z"
	for _, pattern := range []string{"**/x/**/b", "**/x/**/x/**/b", "**/x/**/x/**/x/**/b", "**/x/**/x/**/x/**/z"} {
		calls = 0
		want := strings.HasSuffix(pattern, "/z")
		if got := matchSegs(strings.Split(pattern, "/"), strings.Split(name, "/"), counted); got != want {
			t.Errorf("matchGlob(%q, x/.../z) = %v; want %v", pattern, got, want)
		}
		segs, depth := strings.Count(pattern, "/")+1, strings.Count(name, "/")+1
		if limit := segs * (depth + 1); calls > limit {
			t.Errorf("matchGlob(%q) on a path of %d segments: %d segment matches; want at most %d", pattern, depth, calls, limit)
		}
	}
}

// matchSegsBacktrack is the plain backtracking matcher, the reference
// FuzzMatchGlobAgrees checks matchSegs against.
func matchSegsBacktrack(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchSegsBacktrack(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// FuzzMatchGlobAgrees: matchGlob agrees with the backtracking matcher on
// every valid pattern and path.
func FuzzMatchGlobAgrees(f *testing.F) {
	for _, s := range [][2]string{
		{"**/catalog-info.yaml", "a/b/catalog-info.yaml"}, {"templates/**/*.yaml", "templates/x.yaml"},
		{"**", ""}, {"a/**/**/b", "a/b"}, {"**/x/**/x/**/b", "x/x/x/b"}, {"*.md", "docs/a.md"},
		{"a/[b-c]/?", "a/b/z"}, {"**/a", "a/a/a"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if !checkGlob(pattern) || strings.Count(name, "/") > 12 || strings.Count(pattern, "/") > 12 {
			return
		}
		got := matchGlob(pattern, name)
		if want := matchSegsBacktrack(strings.Split(pattern, "/"), strings.Split(name, "/")); got != want {
			t.Errorf("matchGlob(%q, %q) = %v; backtracking says %v", pattern, name, got, want)
		}
	})
}
