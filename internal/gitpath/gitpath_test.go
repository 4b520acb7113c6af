package gitpath

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc"
)

// nameCases are tree entry names, whether git accepts each as a regular
// file and as a directory.
var nameCases = []struct {
	name       string
	file, dir  bool // accepted as a regular file, as a directory
	noEncoding bool // cannot be written in a tree: not given to git
}{
	{"README.md", true, true, false},
	{"a", true, true, false},
	{".github", true, true, false},
	{".gitignore", true, true, false},
	{".gitattributes", true, false, false},
	{".GitAttributes. ", true, false, false},
	{"gitatt~1", true, false, false},
	{"gi7d29~1", true, false, false},
	{".gitattr\u200dibutes", true, false, false},
	{".gitignore.", true, true, false},
	{"gitign~1", true, true, false},
	{".mailmap", true, true, false},
	{".gitkeep", true, true, false},
	{".gitx", true, true, false},
	{"git", true, true, false},
	{"git~2", true, true, false},
	{"git~1x", true, true, false},
	{".g", true, true, false},
	{"x.git", true, true, false},
	{".git.x", true, true, false},
	{".gi\u00e9t", true, true, false},
	{".git\u00e9", true, true, false},
	{".gitmodules.x", true, true, false},
	{"gitmod~5", true, true, false},
	{"gitmodules", true, true, false},
	{"gi7eba~x", true, true, false},
	{"\u200c", true, true, false},

	{"", false, false, true},
	{".", false, false, false},
	{"..", false, false, false},
	{"a/b", false, false, true},
	{"a\x00b", false, false, true},

	{".git", false, false, false},
	{".GIT", false, false, false},
	{".Git", false, false, false},
	{".git.", false, false, false},
	{".git. ", false, false, false},
	{".git  ..", false, false, false},
	{".git:x", false, false, false},
	{".git\\x", false, false, false},
	{"git~1", false, false, false},
	{"GIT~1", false, false, false},
	{"git~1.", false, false, false},
	{".g\u200cit", false, false, false},
	{"\u200d.git", false, false, false},
	{".gi\u200et", false, false, false},
	{".git\u200f", false, false, false},
	{".\u202aGIT\u202e", false, false, false},
	{".g\u206ait\u206f", false, false, false},
	{".git\ufeff", false, false, false},
	{".git\xff", false, false, false},

	{".gitmodules", true, false, false},
	{".GITMODULES", true, false, false},
	{".gitmodules.", true, false, false},
	{".gitmodules ", true, false, false},
	{".gitmodules:x", true, false, false},
	{"gitmod~1", true, false, false},
	{"GITMOD~4", true, false, false},
	{"gitmod~1 .", true, false, false},
	{"gi7eba~1", true, false, false},
	{"gi7eba~9", true, false, false},
	{"gi7eb~12", true, false, false},
	{"g~123456", true, false, false},
	{".g\u200citmodules", true, false, false},
	{".gitmodules\ufeff", true, false, false},
}

func TestCheckName(t *testing.T) {
	for _, tc := range nameCases {
		for _, file := range []bool{true, false} {
			want := tc.file
			if !file {
				want = tc.dir
			}
			err := CheckName(tc.name, file)
			if (err == nil) != want {
				t.Errorf("CheckName(%q, file %v) = %v; want accepted %v", tc.name, file, err, want)
			}
			if err != nil && (errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "git refuses")) {
				t.Errorf("CheckName(%q, file %v) = %v; want InvalidArgument saying git refuses it", tc.name, file, err)
			}
		}
	}
}

func TestCheckPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		ok   bool
		why  string
	}{
		{"README.md", true, ""},
		{"a/b/c.txt", true, ""},
		{".gitmodules", true, ""},
		{"sub/.gitmodules", true, ""},
		{".github/workflows/ci.yaml", true, ""},
		{"", false, "an empty name"},
		{"a//b", false, "an empty name"},
		{"a/", false, "an empty name"},
		{"/a", false, "an empty name"},
		{"./a", false, `"." or ".."`},
		{"a/../b", false, `"." or ".."`},
		{".git/config", false, "as .git"},
		{"a/.GIT/hooks/x", false, "as .git"},
		{"git~1/config", false, "as .git"},
		{".git. /config", false, "as .git"},
		{".g\u200cit/config", false, "as .git"},
		{"a/.git", false, "as .git"},
		{".gitmodules/x", false, "not a regular file"},
		{"gitmod~1/x", false, "not a regular file"},
		{"a/.GITMODULES./x", false, "not a regular file"},
		{"a\x00b", false, "NUL"},
	} {
		err := CheckPath(tc.path)
		if (err == nil) != tc.ok {
			t.Errorf("CheckPath(%q) = %v; want accepted %v", tc.path, err, tc.ok)
			continue
		}
		if err != nil && (errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), tc.why) ||
			!strings.Contains(err.Error(), strconv.Quote(tc.path))) {
			t.Errorf("CheckPath(%q) = %v; want InvalidArgument naming the path and saying %q", tc.path, err, tc.why)
		}
	}
}

// TestAgreesWithGit: git's fsck (index-pack --strict, as
// receive.fsckObjects runs it) accepts each name of nameCases, as a
// regular file and as a directory, exactly when CheckName does.
func TestAgreesWithGit(t *testing.T) {
	gitBin := testsvc.Require(t, "git", "git")
	run := func(dir string, stdin []byte, args ...string) error {
		cmd := exec.CommandContext(t.Context(), gitBin, args...)
		cmd.Dir, cmd.Stdin = dir, bytes.NewReader(stdin)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
		return cmd.Run()
	}
	dir := t.TempDir()
	if err := run(dir, nil, "init", "-q", "--bare", "."); err != nil {
		t.Fatal(err)
	}
	for _, tc := range nameCases {
		if tc.noEncoding {
			continue
		}
		for _, file := range []bool{true, false} {
			gitOK := run(dir, treePack(t, tc.name, file), "index-pack", "--strict", "--stdin") == nil
			if ours := CheckName(tc.name, file) == nil; ours != gitOK {
				t.Errorf("%q as a file %v: git accepts it %v, CheckName %v", tc.name, file, gitOK, ours)
			}
		}
	}
}

// treePack packs a tree holding name: a blob (mode 100644) when file,
// else a tree holding one blob.
func treePack(t *testing.T, name string, file bool) []byte {
	t.Helper()
	st := memory.NewStorage()
	var ids []plumbing.Hash
	put := func(encode func(plumbing.EncodedObject) error) plumbing.Hash {
		o := st.NewEncodedObject()
		if err := encode(o); err != nil {
			t.Fatal(err)
		}
		h, err := st.SetEncodedObject(o)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, h)
		return h
	}
	blob := put(func(o plumbing.EncodedObject) error {
		o.SetType(plumbing.BlobObject)
		w, err := o.Writer()
		if err != nil {
			return err
		}
		w.Write([]byte("x\n"))
		return w.Close()
	})
	entry := object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: blob}
	if !file {
		sub := put((&object.Tree{Entries: []object.TreeEntry{{Name: "f", Mode: filemode.Regular, Hash: blob}}}).Encode)
		entry = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: sub}
	}
	put((&object.Tree{Entries: []object.TreeEntry{entry}}).Encode)
	var buf bytes.Buffer
	if _, err := packfile.NewEncoder(&buf, st, false).Encode(ids, 0); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzCheckName: CheckName never panics; what it accepts as a directory
// it accepts as a file; an accepted name is not empty, ".", "..", and has
// no '/' or NUL; case (ASCII) and the code points HFS+ ignores do not
// turn a refused .git into an accepted name.
func FuzzCheckName(f *testing.F) {
	for _, tc := range nameCases {
		f.Add(tc.name)
	}
	f.Fuzz(func(t *testing.T, name string) {
		asFile, asDir := CheckName(name, true) == nil, CheckName(name, false) == nil
		if asDir && !asFile {
			t.Errorf("CheckName(%q) accepts a directory, not a file", name)
		}
		if asFile && (name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00")) {
			t.Errorf("CheckName(%q, true) = nil", name)
		}
		plain := strings.Map(func(r rune) rune {
			if hfsIgnored(r) {
				return -1
			}
			if 'A' <= r && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		}, name)
		if utf8.ValidString(name) && (plain == ".git" || plain == "git~1") && asFile {
			t.Errorf("CheckName(%q, true) = nil; it is %q to NTFS or HFS+", name, plain)
		}
		if utf8.ValidString(name) && (plain == ".gitmodules" || plain == ".gitattributes") && asDir {
			t.Errorf("CheckName(%q, false) = nil; it is %q to HFS+", name, plain)
		}
	})
}
