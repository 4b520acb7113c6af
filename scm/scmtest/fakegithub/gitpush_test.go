package fakegithub_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

const pushToken = "ghp_pushtoken"

// pushServer is a fake with an empty repository acme/empty, and
// acme/full holding one commit on main.
func pushServer(t testing.TB) (*fakegithub.Server, string) {
	t.Helper()
	s := fakegithub.New(&fakegithub.Options{Tokens: []string{pushToken}})
	t.Cleanup(s.Close)
	if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "empty", Private: true}); err != nil {
		t.Fatal(err)
	}
	head, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "full", Files: []fakegithub.File{{Path: "README.md", Content: []byte("hi\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	return s, head
}

// testPack packs a commit (on parent, when not zero) of a one-level tree
// of files; skip leaves that file's blob out of the pack.
func testPack(t testing.TB, parent plumbing.Hash, files map[string]string, skip string) (plumbing.Hash, []byte) {
	t.Helper()
	st := memory.NewStorage()
	var all []plumbing.Hash
	put := func(enc func(plumbing.EncodedObject) error) plumbing.Hash {
		o := st.NewEncodedObject()
		if err := enc(o); err != nil {
			t.Fatal(err)
		}
		h, err := st.SetEncodedObject(o)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, h)
		return h
	}
	tree := &object.Tree{}
	for _, n := range slices.Sorted(maps.Keys(files)) {
		o := &plumbing.MemoryObject{}
		o.SetType(plumbing.BlobObject)
		o.Write([]byte(files[n]))
		if n != skip {
			put(func(e plumbing.EncodedObject) error {
				e.SetType(plumbing.BlobObject)
				_, err := e.(*plumbing.MemoryObject).Write([]byte(files[n]))
				return err
			})
		}
		tree.Entries = append(tree.Entries, object.TreeEntry{Name: n, Mode: filemode.Regular, Hash: o.Hash()})
	}
	sig := object.Signature{Name: "Test", Email: "test@example.com", When: time.Unix(1700000000, 0).In(time.FixedZone("", 3600))}
	c := &object.Commit{Author: sig, Committer: sig, Message: "test\n", TreeHash: put(tree.Encode)}
	if !parent.IsZero() {
		c.ParentHashes = []plumbing.Hash{parent}
	}
	commit := put(c.Encode)
	var buf bytes.Buffer
	if _, err := packfile.NewEncoder(&buf, st, false).Encode(all, 0); err != nil {
		t.Fatal(err)
	}
	return commit, buf.Bytes()
}

// pushBody is a receive-pack request updating ref from old to new.
func pushBody(t testing.TB, ref string, old, new plumbing.Hash, pack []byte, band bool) []byte {
	t.Helper()
	upd := packp.NewReferenceUpdateRequest()
	upd.Capabilities.Set(capability.ReportStatus)
	if band {
		upd.Capabilities.Set(capability.Sideband64k)
	}
	upd.Commands = []*packp.Command{{Name: plumbing.ReferenceName(ref), Old: old, New: new}}
	upd.Packfile = io.NopCloser(bytes.NewReader(pack))
	var buf bytes.Buffer
	if err := upd.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gitAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func gitDo(t testing.TB, s *fakegithub.Server, method, path, auth string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-git-receive-pack-request")
	}
	hc := *s.Client()
	hc.Timeout = 10 * time.Second
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// report decodes a report-status answer (demultiplexed when band),
// returning the progress channel's text too.
func report(t testing.TB, body []byte, band bool) (*packp.ReportStatus, string) {
	t.Helper()
	var r io.Reader = bytes.NewReader(body)
	var progress bytes.Buffer
	if band {
		dm := sideband.NewDemuxer(sideband.Sideband64k, r)
		dm.Progress = &progress
		r = dm
	}
	rs := packp.NewReportStatus()
	if err := rs.Decode(r); err != nil {
		t.Fatalf("report-status %q: %v", body, err)
	}
	return rs, progress.String()
}

func TestGitAdvertisement(t *testing.T) {
	s, head := pushServer(t)
	for _, tc := range []struct {
		path string
		want map[string]string
	}{
		{"/acme/empty.git/info/refs?service=git-receive-pack", map[string]string{}},
		{"/acme/full/info/refs?service=git-receive-pack", map[string]string{"refs/heads/main": head}},
	} {
		resp, body := gitDo(t, s, http.MethodGet, tc.path, gitAuth("x-access-token", pushToken), nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-git-receive-pack-advertisement" {
			t.Fatalf("GET %s: %s %s", tc.path, resp.Status, resp.Header.Get("Content-Type"))
		}
		if !bytes.HasPrefix(body, []byte("001f# service=git-receive-pack\n0000")) {
			t.Errorf("GET %s = %q; want the service line and a flush first", tc.path, body)
		}
		if len(tc.want) == 0 && !bytes.Contains(body, []byte(plumbing.ZeroHash.String()+" capabilities^{}\x00")) {
			t.Errorf("GET %s = %q; want the zero id and capabilities^{} of an empty repository", tc.path, body)
		}
		adv := packp.NewAdvRefs()
		if err := adv.Decode(bytes.NewReader(body)); err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		got := map[string]string{}
		for n, h := range adv.References {
			got[n] = h.String()
		}
		if !maps.Equal(got, tc.want) || !adv.Capabilities.Supports(capability.ReportStatus) || !adv.Capabilities.Supports(capability.Sideband64k) {
			t.Errorf("GET %s: refs %v, capabilities %v; want %v with report-status and side-band-64k", tc.path, got, adv.Capabilities, tc.want)
		}
	}
}

// TestGitAuth: Basic with a known token only, as GitHub's git endpoints
// take it; 404 for a repository the credential cannot see.
func TestGitAuth(t *testing.T) {
	s, _ := pushServer(t)
	const refs = "/acme/empty.git/info/refs?service=git-receive-pack"
	for _, tc := range []struct {
		name, path, auth string
		want             int
	}{
		{"x-access-token", refs, gitAuth("x-access-token", pushToken), http.StatusOK},
		{"none", refs, "", http.StatusUnauthorized},
		{"Bearer", refs, "Bearer " + pushToken, http.StatusUnauthorized},
		{"bad token", refs, gitAuth("x-access-token", "ghp_bad"), http.StatusUnauthorized},
		{"unknown repository", "/acme/ghost.git/info/refs?service=git-receive-pack", gitAuth("x-access-token", pushToken), http.StatusNotFound},
		{"no pack to fetch", "/acme/empty.git/info/refs?service=git-upload-pack", gitAuth("x-access-token", pushToken), http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := gitDo(t, s, http.MethodGet, tc.path, tc.auth, nil)
			if resp.StatusCode != tc.want {
				t.Errorf("GET %s = %s %q; want %d", tc.path, resp.Status, body, tc.want)
			}
			if tc.want == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") != `Basic realm="GitHub"` {
				t.Errorf("WWW-Authenticate = %q; want Basic realm=\"GitHub\"", resp.Header.Get("WWW-Authenticate"))
			}
			if strings.Contains(string(body), pushToken) {
				t.Errorf("the answer shows the token: %q", body)
			}
		})
	}
}

// TestGitPush: a push is stored so that the fake's reads see it; a stale
// old id, missing objects, a bad pack and a ruleset are refused in
// report-status, changing nothing.
func TestGitPush(t *testing.T) {
	auth := gitAuth("x-access-token", pushToken)
	t.Run("first push to an empty repository", func(t *testing.T) {
		for _, band := range []bool{false, true} {
			s, _ := pushServer(t)
			commit, pack := testPack(t, plumbing.ZeroHash, map[string]string{"a.txt": "a\n", "b.txt": "b\n"}, "")
			resp, body := gitDo(t, s, http.MethodPost, "/acme/empty.git/git-receive-pack", auth,
				pushBody(t, "refs/heads/trunk", plumbing.ZeroHash, commit, pack, band))
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-git-receive-pack-result" {
				t.Fatalf("POST: %s %s %q", resp.Status, resp.Header.Get("Content-Type"), body)
			}
			rs, _ := report(t, body, band)
			if rs.Error() != nil || len(rs.CommandStatuses) != 1 {
				t.Fatalf("report-status: %v, %d commands", rs.Error(), len(rs.CommandStatuses))
			}
			info, ok := s.GetCommit("acme", "empty", "HEAD")
			if !ok || info.SHA != commit.String() || info.Message != "test\n" {
				t.Errorf("HEAD = %+v, %v; want the pushed commit %s on the new default branch trunk", info, ok, commit)
			}
			files, err := s.Files("acme", "empty", "trunk")
			if err != nil || len(files) != 2 || string(files[1].Content) != "b\n" {
				t.Errorf("Files = %+v, %v; want a.txt and b.txt", files, err)
			}
		}
	})
	t.Run("fast-forward of an existing branch", func(t *testing.T) {
		s, head := pushServer(t)
		commit, pack := testPack(t, plumbing.NewHash(head), map[string]string{"README.md": "hi\n", "new.txt": "new\n"}, "")
		_, body := gitDo(t, s, http.MethodPost, "/acme/full/git-receive-pack", auth,
			pushBody(t, "refs/heads/main", plumbing.NewHash(head), commit, pack, false))
		if rs, _ := report(t, body, false); rs.Error() != nil {
			t.Fatalf("report-status: %v", rs.Error())
		}
		if info, _ := s.GetCommit("acme", "full", "main"); info.SHA != commit.String() || !slices.Equal(info.Parents, []string{head}) {
			t.Errorf("main = %+v; want %s on %s", info, commit, head)
		}
	})
	for _, tc := range []struct {
		name, repo, ref string
		old             func(head string) plumbing.Hash
		skip            string
		corrupt, rule   bool
		twice           bool
		unpack, status  string
	}{
		{name: "stale old id", repo: "full", ref: "refs/heads/main",
			old: func(string) plumbing.Hash { return plumbing.ZeroHash }, unpack: "ok", status: "fetch first"},
		{name: "missing blob", repo: "empty", ref: "refs/heads/main", skip: "b.txt",
			unpack: "ok", status: "missing necessary objects"},
		{name: "corrupt pack", repo: "empty", ref: "refs/heads/main", corrupt: true, status: "unpacker error"},
		{name: "an object twice", repo: "empty", ref: "refs/heads/main", twice: true, status: "unpacker error"},
		{name: "ruleset", repo: "empty", ref: "refs/heads/main", rule: true,
			unpack: "ok", status: "push declined due to repository rule violations"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, head := pushServer(t)
			if tc.rule {
				s.RejectPushes("acme", tc.repo, "main")
			}
			before, _ := s.Ref("acme", tc.repo, "main")
			old := plumbing.ZeroHash
			if tc.old != nil {
				old = tc.old(head)
			}
			files := map[string]string{"a.txt": "a\n", "b.txt": "b\n"}
			if tc.twice {
				files["b.txt"] = "a\n" // testPack packs the blob twice
			}
			commit, pack := testPack(t, plumbing.ZeroHash, files, tc.skip)
			if tc.corrupt {
				pack[len(pack)/2] ^= 0xff
			}
			_, body := gitDo(t, s, http.MethodPost, "/acme/"+tc.repo+".git/git-receive-pack", auth,
				pushBody(t, tc.ref, old, commit, pack, true))
			rs, progress := report(t, body, true)
			if (tc.unpack != "" && rs.UnpackStatus != tc.unpack) || (tc.unpack == "" && rs.UnpackStatus == "ok") ||
				len(rs.CommandStatuses) != 1 || rs.CommandStatuses[0].Status != tc.status {
				t.Errorf("report-status = unpack %q, %+v; want unpack %q, ng %s %s", rs.UnpackStatus, rs.CommandStatuses, tc.unpack, tc.ref, tc.status)
			}
			if tc.rule && !strings.Contains(progress, "GH013: Repository rule violations found for refs/heads/main") {
				t.Errorf("progress channel = %q; want GitHub's GH013 message", progress)
			}
			if after, _ := s.Ref("acme", tc.repo, "main"); after != before {
				t.Errorf("main moved from %q to %q", before, after)
			}
		})
	}
}

// FuzzGitReceivePack: whatever the body, the fake answers without
// panicking and stores nothing it did not accept.
func FuzzGitReceivePack(f *testing.F) {
	s, _ := pushServer(f)
	commit, pack := testPack(f, plumbing.ZeroHash, map[string]string{"a.txt": "a\n"}, "")
	f.Add(pushBody(f, "refs/heads/main", plumbing.ZeroHash, commit, pack, true))
	f.Add([]byte("0000"))
	f.Add([]byte("00a4" + strings.Repeat("0", 40)))
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, _ := gitDo(t, s, http.MethodPost, "/acme/full.git/git-receive-pack", gitAuth("x-access-token", pushToken), body)
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST = %s; want 200 or 400", resp.Status)
		}
	})
}

// TestGitPushWithGit: git itself pushes to the fake (smart HTTP, Basic
// x-access-token), and the fake's reads see the commit: the fake speaks
// the protocol as git does, not only as go-git does.
func TestGitPushWithGit(t *testing.T) {
	gitBin := testsvc.Require(t, "git", "git")
	s, _ := pushServer(t)
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), gitBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0",
			"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com", "GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "trunk")
	if err := os.WriteFile(dir+"/hello.txt", []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "hello.txt")
	git("commit", "-q", "-m", "first")
	head := git("rev-parse", "HEAD")
	remote := strings.Replace(s.URL(), "http://", "http://x-access-token:"+pushToken+"@", 1) + "/acme/empty.git"
	git("push", "-q", remote, "trunk")
	if info, ok := s.GetCommit("acme", "empty", "HEAD"); !ok || info.SHA != head {
		t.Errorf("HEAD of acme/empty = %+v, %v; want git's commit %s on trunk", info, ok, head)
	}
	if files, err := s.Files("acme", "empty", "trunk"); err != nil || len(files) != 1 || string(files[0].Content) != "hello\n" {
		t.Errorf("Files = %+v, %v; want hello.txt", files, err)
	}
}

// entryPack packs a root commit by author whose tree holds one entry
// named name: a file, or a directory holding a file when dir.
func entryPack(t testing.TB, name string, dir bool, author object.Signature) (plumbing.Hash, []byte) {
	t.Helper()
	st := memory.NewStorage()
	var all []plumbing.Hash
	put := func(enc func(plumbing.EncodedObject) error) plumbing.Hash {
		o := st.NewEncodedObject()
		if err := enc(o); err != nil {
			t.Fatal(err)
		}
		h, err := st.SetEncodedObject(o)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, h)
		return h
	}
	blob := put(func(e plumbing.EncodedObject) error {
		e.SetType(plumbing.BlobObject)
		_, err := e.(*plumbing.MemoryObject).Write([]byte("x\n"))
		return err
	})
	entry := object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: blob}
	if dir {
		sub := put((&object.Tree{Entries: []object.TreeEntry{{Name: "f", Mode: filemode.Regular, Hash: blob}}}).Encode)
		entry = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: sub}
	}
	tree := put((&object.Tree{Entries: []object.TreeEntry{entry}}).Encode)
	commit := put((&object.Commit{Author: author, Committer: author, Message: "m\n", TreeHash: tree}).Encode)
	var buf bytes.Buffer
	if _, err := packfile.NewEncoder(&buf, st, false).Encode(all, 0); err != nil {
		t.Fatal(err)
	}
	return commit, buf.Bytes()
}

// TestGitPushRefusesWhatGitRefuses: a push holding a name git's fsck
// refuses (.git as NTFS or HFS+ reads it, a .gitmodules directory) or a
// malformed author is refused whole, as GitHub (receive.fsckObjects)
// refuses it: "unpack index-pack abnormal exit", "ng ... unpacker error",
// the fsck error on the progress channel, no ref written. git's
// index-pack --strict refuses the same packs, and accepts the control.
func TestGitPushRefusesWhatGitRefuses(t *testing.T) {
	gitBin, _ := exec.LookPath("git")
	if gitBin == "" && os.Getenv("CI") == "true" {
		t.Fatal("git is not installed (Debian package git)")
	}
	auth := gitAuth("x-access-token", pushToken)
	good := object.Signature{Name: "Test", Email: "test@example.com", When: time.Unix(1700000000, 0).UTC()}
	bad := good
	bad.Name = "a>b"
	for _, tc := range []struct {
		name   string
		entry  string
		dir    bool
		author object.Signature
		ok     bool
	}{
		{"control", "README.md", false, good, true},
		{".gitmodules file", ".gitmodules", false, good, true},
		{"git~1", "git~1", true, good, false},
		{".GIT.", ".GIT.", true, good, false},
		{".g\u200cit", ".g\u200cit", true, good, false},
		{".gitmodules directory", ".gitmodules", true, good, false},
		{"gitmod~1 directory", "gitmod~1", true, good, false},
		{"author name with >", "README.md", false, bad, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := pushServer(t)
			commit, pack := entryPack(t, tc.entry, tc.dir, tc.author)
			_, body := gitDo(t, s, http.MethodPost, "/acme/empty.git/git-receive-pack", auth,
				pushBody(t, "refs/heads/main", plumbing.ZeroHash, commit, pack, true))
			rs, progress := report(t, body, true)
			_, written := s.Ref("acme", "empty", "main")
			if tc.ok {
				if rs.Error() != nil || !written {
					t.Errorf("report-status = %v, branch written %v; want it accepted", rs.Error(), written)
				}
			} else if rs.UnpackStatus != "index-pack abnormal exit" || len(rs.CommandStatuses) != 1 ||
				rs.CommandStatuses[0].Status != "unpacker error" || !strings.Contains(progress, "fatal: fsck error in packed object") || written {
				t.Errorf("report-status = unpack %q, %+v, progress %q, branch written %v; want the push refused as fsck refuses it",
					rs.UnpackStatus, rs.CommandStatuses, progress, written)
			}
			if gitBin == "" {
				return
			}
			dir := t.TempDir()
			run := func(stdin []byte, args ...string) error {
				cmd := exec.CommandContext(t.Context(), gitBin, args...)
				cmd.Dir, cmd.Stdin = dir, bytes.NewReader(stdin)
				cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
				return cmd.Run()
			}
			if err := run(nil, "init", "-q", "--bare", "."); err != nil {
				t.Fatal(err)
			}
			if gitOK := run(pack, "index-pack", "--strict", "--stdin") == nil; gitOK != tc.ok {
				t.Errorf("git index-pack --strict accepts the pack: %v; the fake: %v", gitOK, tc.ok)
			}
		})
	}
}
