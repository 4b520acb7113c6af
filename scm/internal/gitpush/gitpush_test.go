package gitpush

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/scm/driver"
)

// reportBody encodes a report-status, with remote messages on the
// progress channel of side-band-64k when band.
func reportBody(t testing.TB, unpack string, band bool, remote string, statuses ...*packp.CommandStatus) []byte {
	t.Helper()
	var rs bytes.Buffer
	if err := (&packp.ReportStatus{UnpackStatus: unpack, CommandStatuses: statuses}).Encode(&rs); err != nil {
		t.Fatal(err)
	}
	if !band {
		return rs.Bytes()
	}
	var out bytes.Buffer
	mux := sideband.NewMuxer(sideband.Sideband64k, &out)
	if remote != "" {
		mux.WriteChannel(sideband.ProgressMessage, []byte(remote))
	}
	mux.Write(rs.Bytes())
	pktline.NewEncoder(&out).Flush()
	return out.Bytes()
}

func TestReadReport(t *testing.T) {
	const main = plumbing.ReferenceName("refs/heads/main")
	st := func(ref plumbing.ReferenceName, status string) *packp.CommandStatus {
		return &packp.CommandStatus{ReferenceName: ref, Status: status}
	}
	for _, tc := range []struct {
		name   string
		body   []byte
		band   bool
		code   errcode.Code
		reason string
	}{
		{"ok", reportBody(t, "ok", false, "", st(main, "ok")), false, errcode.OK, ""},
		{"ok in side-band", reportBody(t, "ok", true, "Resolving deltas: 100% (3/3)\n", st(main, "ok")), true, errcode.OK, ""},
		{"ruleset", reportBody(t, "ok", true, "error: GH013: Repository rule violations found for refs/heads/main.\n",
			st(main, "push declined due to repository rule violations")), true, errcode.PermissionDenied,
			"push declined due to repository rule violations (remote: error: GH013: Repository rule violations found for refs/heads/main.)"},
		{"protected branch hook", reportBody(t, "ok", false, "", st(main, "protected branch hook declined")), false, errcode.PermissionDenied, "protected branch hook declined"},
		{"fetch first", reportBody(t, "ok", false, "", st(main, "fetch first")), false, errcode.Conflict, "fetch first"},
		{"stale info", reportBody(t, "ok", false, "", st(main, "stale info")), false, errcode.Conflict, "stale info"},
		{"failed to update ref", reportBody(t, "ok", false, "", st(main, "failed to update ref")), false, errcode.Conflict, "failed to update ref"},
		{"another reason", reportBody(t, "ok", false, "", st(main, "missing necessary objects")), false, errcode.Unknown, "missing necessary objects"},
		{"unpack error", reportBody(t, "index-pack abnormal exit", false, "", st(main, "unpacker error")), false, errcode.Unknown, "index-pack abnormal exit"},
		{"another ref only", reportBody(t, "ok", false, "", st("refs/heads/other", "ok")), false, errcode.Unknown, "no status for refs/heads/main"},
		{"not a report", []byte("<html>sign in</html>"), false, errcode.Unknown, "unreadable report-status"},
		{"fatal error channel", []byte("0013\x03fatal: broken\n0000"), true, errcode.Unknown, "unreadable report-status"},
		{"ERR packet", []byte("0016ERR push disabled\n0000"), false, errcode.PermissionDenied, "the server refused: push disabled"},
		{"ERR packet in side-band", []byte("0016ERR push disabled\n0000"), true, errcode.PermissionDenied, "the server refused: push disabled"},
		{"ERR packet inside the band", []byte("0016\x010011ERR no space\n0000"), true, errcode.PermissionDenied, "the server refused: no space"},
		{"control characters in the reason", reportBody(t, "ok", false, "", st(main, "declined\x1b[31m")), false, errcode.PermissionDenied, "declined [31m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := (&Pusher{Vendor: "GitHub"}).readReport(tc.body, tc.band, main)
			if errcode.CodeOf(err) != tc.code || (tc.reason != "" && !strings.Contains(err.Error(), tc.reason)) {
				t.Errorf("readReport = %v; want %v saying %q", err, tc.code, tc.reason)
			}
		})
	}
}

// TestReadReportCleansServerText: the server's text reaches an error
// cleaned (no control character) and capped, whether go-git's decoder
// quotes it (a malformed line, an unknown channel) or it is a remote
// message (channels 2 and 3 of side-band-64k); channel 3 is quoted as
// one.
func TestReadReportCleansServerText(t *testing.T) {
	const main = plumbing.ReferenceName("refs/heads/main")
	junk := "\x1b[2J\x1b]0;owned\x07" + strings.Repeat("A", 60000)
	pkt := func(parts ...[]byte) []byte {
		var b bytes.Buffer
		e := pktline.NewEncoder(&b)
		for _, p := range parts {
			if p == nil {
				e.Flush()
			} else if err := e.Encode(p); err != nil {
				t.Fatal(err)
			}
		}
		return b.Bytes()
	}
	var lines []byte
	for range 200 {
		lines = append(lines, pkt(append([]byte{2}, "error: "+strings.Repeat("B", 50)+"\x1b[0m\n"...))...)
	}
	lines = append(lines, pkt(nil)...)
	for _, tc := range []struct {
		name string
		body []byte
		band bool
		want string
	}{
		{"malformed unpack line", pkt([]byte("garbage "+junk+"\n"), nil), false, "unreadable report-status (malformed unpack status: garbage  [2J ]0;owned AAA"},
		{"side-band channel 3", pkt(append([]byte{3}, "fatal: "+junk...)), true, "(remote: fatal:  [2J ]0;owned AAA"},
		{"unknown channel", pkt(append([]byte{7}, junk...)), true, "unreadable side-band answer (a packet on channel 7)"},
		{"many progress lines", lines, true, "(remote: error: BBB"},
		{"long reason", reportBody(t, "ok", false, "", &packp.CommandStatus{ReferenceName: main, Status: "declined " + junk}), false, "GitHub refused the push to refs/heads/main: declined  [2J ]0;owned AAA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := (&Pusher{Vendor: "GitHub"}).readReport(tc.body, tc.band, main)
			s := fmt.Sprint(err)
			if err == nil || len(s) > 1500 || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Errorf("readReport = %d bytes %.200q...; want an error of at most 1500 bytes without control characters", len(s), s)
			}
			if !strings.Contains(s, tc.want) {
				t.Errorf("readReport = %.300q...; want it to say %q", s, tc.want)
			}
		})
	}
}

// TestAdvertisementCleansServerText: a malformed ref advertisement's text
// reaches the error cleaned and capped.
func TestAdvertisementCleansServerText(t *testing.T) {
	junk := "\x1b[2J" + strings.Repeat("A", 60000)
	var b bytes.Buffer
	pktline.NewEncoder(&b).Encode([]byte("# service=git-receive-pack\n"))
	pktline.NewEncoder(&b).Flush()
	pktline.NewEncoder(&b).Encode([]byte("zz " + junk + "\n"))
	pktline.NewEncoder(&b).Flush()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-git-receive-pack-advertisement")
		w.Write(b.Bytes())
	}))
	t.Cleanup(srv.Close)
	_, err := (&Pusher{}).advertisement(t.Context(), srv.Client(), srv.URL+"/acme/x.git")
	s := fmt.Sprint(err)
	if err == nil || len(s) > 1000 || strings.Contains(s, "\x1b") || !strings.Contains(s, "unreadable ref advertisement") {
		t.Errorf("advertisement = %d bytes %.200q...; want a short error without control characters", len(s), s)
	}
}

// FuzzReadReport: any answer gives nil only with "unpack ok" and "ok" for
// the ref, and never panics.
func FuzzReadReport(f *testing.F) {
	const main = plumbing.ReferenceName("refs/heads/main")
	f.Add(reportBody(f, "ok", false, "", &packp.CommandStatus{ReferenceName: main, Status: "ok"}), false)
	f.Add(reportBody(f, "ok", true, "remote: hi\n", &packp.CommandStatus{ReferenceName: main, Status: "fetch first"}), true)
	f.Add([]byte("0000"), true)
	f.Add(reportBody(f, "ok", true, "remote: \x1b[31mdenied\r\nERROR: fake line\n", &packp.CommandStatus{ReferenceName: main, Status: "pre-receive hook declined\x1b[0m"}), true)
	f.Add([]byte("0014ERR no\x1b[2J push\n"), false)
	f.Fuzz(func(t *testing.T, body []byte, band bool) {
		err := (&Pusher{Vendor: "GitHub"}).readReport(body, band, main)
		if err == nil && (!bytes.Contains(body, []byte("unpack ok")) || !bytes.Contains(body, []byte("ok "+main))) {
			t.Errorf("readReport(%q) = nil without unpack ok and ok %s", body, main)
		}
		// The server's text reaches the error cleaned: no control
		// character (a forged log line, a terminal escape), and capped.
		if err != nil {
			msg := err.Error()
			if i := strings.IndexFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f }); i >= 0 {
				t.Errorf("readReport(%q) = %q: control character at %d", body, msg, i)
			}
			if len(msg) > 2048 {
				t.Errorf("readReport(%q) = a %d-byte error", body, len(msg))
			}
		}
		if err != nil && errcode.CodeOf(err) == errcode.OK {
			t.Errorf("readReport(%q) = %v with code OK", body, err)
		}
	})
}

// TestInitialPackRefusesPaths: what git refuses in a tree is refused
// while the pack is built, before any request.
func TestInitialPackRefusesPaths(t *testing.T) {
	file := func(p string) driver.Change { return driver.Change{Path: p, Content: []byte("x")} }
	for _, files := range [][]driver.Change{
		{file(".git/config")}, {file("a/.GIT/hooks/x")}, {file("a//b")}, {file("a/../b")}, {file("./a")},
		{file("a"), file("a/b")}, {file("a/b"), file("a")}, {file("a"), file("a")},
		// git's NTFS and HFS+ forms of .git, and a .gitmodules directory
		// (git index-pack --strict refuses them: hasDotgit, gitmodulesBlob).
		{file("git~1/config")}, {file(".git. /config")}, {file(".g\u200cit/config")}, {file("a/.Git:x")},
		{file(".gitmodules/x")}, {file("gitmod~1/x")}, {file(".gitattributes/x")}, {file("a\x00b")},
	} {
		if _, err := Build(files, "m", DefaultAuthor, time.Now()); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("initialPack(%v) = %v; want InvalidArgument", files, err)
		}
	}
	p, err := Build([]driver.Change{file("a/b"), file("a.txt"), file("a-b"), file(".gitmodules"), file("x/.gitattributes")}, "m", DefaultAuthor, time.Unix(0, 0))
	if err != nil || p.Commit.IsZero() || len(p.Data) == 0 {
		t.Errorf("initialPack of a valid tree = %+v, %v", p, err)
	}
}

// TestInitialPackWithGit: git itself accepts the pack (index-pack
// --strict refuses an object twice, a badly sorted tree, a bad mode) and
// finds the commit whole (fsck --strict).
func TestInitialPackWithGit(t *testing.T) {
	gitBin := testsvc.Require(t, "git", "git")
	p, err := Build([]driver.Change{
		{Path: "a/x.txt", Content: []byte("same\n")}, {Path: "b/x.txt", Content: []byte("same\n")}, {Path: "c.txt", Content: []byte("same\n")},
		{Path: "a-b", Content: []byte("sorted before a/\n")}, {Path: "a.d/y", Content: []byte("and this\n")},
		{Path: "bin/run.sh", Content: []byte("#!/bin/sh\n"), Executable: true}, {Path: "logo.bin", Content: []byte{0, 1, 2, 0xff}},
	}, "Initial commit", DefaultAuthor, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	git := func(stdin []byte, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), gitBin, args...)
		cmd.Dir, cmd.Stdin = dir, bytes.NewReader(stdin)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	git(nil, "init", "-q", "--bare", ".")
	git(p.Data, "index-pack", "--strict", "--stdin")
	git(nil, "update-ref", "refs/heads/main", p.Commit.String())
	git(nil, "fsck", "--strict", "--full", "--no-dangling")
	want := "100644 blob 1275430f1765c63e539cb0452565563bd6aef6a6\ta/x.txt\n"
	if got := git(nil, "ls-tree", "-r", "main"); !strings.Contains(got, want) || !strings.Contains(got, "100755 blob") || strings.Count(got, "\n") != 7 {
		t.Errorf("git ls-tree -r main =\n%s; want the 7 files, run.sh executable", got)
	}
}

// TestPushWithGitHTTPBackend: git's own server side of smart HTTP (git
// http-backend, as a CGI) takes the push: the advertisement, the
// receive-pack request and the pack are git's, and its report-status (in
// side-band-64k) reads back; a second push finds the repository no
// longer empty and sends nothing.
func TestPushWithGitHTTPBackend(t *testing.T) {
	gitBin := testsvc.Require(t, "git", "git")
	env := append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), gitBin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	root := t.TempDir()
	bare := root + "/acme/svc.git"
	git("init", "-q", "--bare", bare)
	git("-C", bare, "config", "http.receivepack", "true")
	backend := git("--exec-path") + "/git-http-backend"
	var posts int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if r.Method == http.MethodPost {
			posts++
		}
		mu.Unlock()
		(&cgi.Handler{Path: backend, Env: append(env, "GIT_PROJECT_ROOT="+root, "GIT_HTTP_EXPORT_ALL=1")}).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	d := &Pusher{Vendor: "GitHub"}
	p, err := Build([]driver.Change{{Path: "README.md", Content: []byte("# svc\n")},
		{Path: "bin/run.sh", Content: []byte("#!/bin/sh\n"), Executable: true}}, "Initial commit", DefaultAuthor, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Push(t.Context(), srv.Client(), srv.URL+"/acme/svc.git", "trunk", p); err != nil {
		t.Fatalf("push to git http-backend: %v", err)
	}
	if got := git("-C", bare, "rev-parse", "refs/heads/trunk"); got != p.Commit.String() {
		t.Errorf("trunk = %s; want the pushed commit %s", got, p.Commit)
	}
	git("-C", bare, "fsck", "--strict", "--full", "--no-dangling")

	err = d.Push(t.Context(), srv.Client(), srv.URL+"/acme/svc.git", "main", p)
	if errcode.CodeOf(err) != errcode.Conflict || !strings.Contains(err.Error(), "refs/heads/trunk") {
		t.Errorf("second push = %v; want Conflict naming refs/heads/trunk", err)
	}
	mu.Lock()
	if posts != 1 {
		t.Errorf("%d receive-pack requests; want 1 (none for the refused second push)", posts)
	}
	mu.Unlock()

	// A pre-receive hook that refuses, as GitHub's rulesets do: git says
	// why on the progress channel.
	ruled := root + "/acme/ruled.git"
	git("init", "-q", "--bare", ruled)
	git("-C", ruled, "config", "http.receivepack", "true")
	hook := "#!/bin/sh\necho 'error: GH013: Repository rule violations found for refs/heads/trunk.' >&2\nexit 1\n"
	if err := os.WriteFile(ruled+"/hooks/pre-receive", []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	err = d.Push(t.Context(), srv.Client(), srv.URL+"/acme/ruled.git", "trunk", p)
	if errcode.CodeOf(err) != errcode.PermissionDenied || !strings.Contains(err.Error(), "pre-receive hook declined") ||
		!strings.Contains(err.Error(), "GH013: Repository rule violations found for refs/heads/trunk.") {
		t.Errorf("push refused by a hook = %v; want PermissionDenied with the hook's message", err)
	}
}

// TestPushERRPacket: Bitbucket Data Center with Git over HTTP(S) turned
// off answers the ref advertisement 200 with git's ERR packet ("fatal:
// remote error: SCM access over HTTP(S) has been disabled" in git): the
// push is PermissionDenied quoting the server, with or without the
// "# service=" header, and a long or hostile message is cleaned and cut.
func TestPushERRPacket(t *testing.T) {
	const disabled = "SCM access over HTTP(S) has been disabled"
	for _, tc := range []struct {
		name   string
		header bool
		msg    string
		want   string
	}{
		{"after the service header", true, disabled, "GET info/refs: the server refused: " + disabled},
		{"alone", false, disabled, "GET info/refs: the server refused: " + disabled},
		{"hostile", true, "\x1b[2J" + strings.Repeat("A", 60000), "the server refused: [2JAAA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var b bytes.Buffer
				e := pktline.NewEncoder(&b)
				if tc.header {
					e.EncodeString("# service=git-receive-pack\n")
					e.Flush()
				}
				e.Encode([]byte("ERR " + tc.msg))
				w.Header().Set("Content-Type", "application/x-git-receive-pack-advertisement")
				w.Write(b.Bytes())
			}))
			t.Cleanup(srv.Close)
			pack, err := Build([]driver.Change{{Path: "a.txt", Content: []byte("a")}}, "m", DefaultAuthor, time.Unix(0, 0))
			if err != nil {
				t.Fatal(err)
			}
			err = (&Pusher{Vendor: "Bitbucket"}).Push(t.Context(), srv.Client(), srv.URL+"/scm/p/r.git", "main", pack)
			s := fmt.Sprint(err)
			if errcode.CodeOf(err) != errcode.PermissionDenied || !strings.Contains(s, tc.want) {
				t.Errorf("Push = %.300q (%v); want PermissionDenied saying %q", s, errcode.CodeOf(err), tc.want)
			}
			if len(s) > 500 || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) || strings.Contains(s, srv.URL) {
				t.Errorf("Push = %d bytes %.200q...; want a short error without control characters or the URL", len(s), s)
			}
		})
	}
}
