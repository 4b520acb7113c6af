package githubscm

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
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
		{"control characters in the reason", reportBody(t, "ok", false, "", st(main, "declined\x1b[31m")), false, errcode.PermissionDenied, "declined [31m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := readReport(tc.body, tc.band, main)
			if errcode.CodeOf(err) != tc.code || (tc.reason != "" && !strings.Contains(err.Error(), tc.reason)) {
				t.Errorf("readReport = %v; want %v saying %q", err, tc.code, tc.reason)
			}
		})
	}
}

// FuzzReadReport: any answer gives nil only with "unpack ok" and "ok" for
// the ref, and never panics.
func FuzzReadReport(f *testing.F) {
	const main = plumbing.ReferenceName("refs/heads/main")
	f.Add(reportBody(f, "ok", false, "", &packp.CommandStatus{ReferenceName: main, Status: "ok"}), false)
	f.Add(reportBody(f, "ok", true, "remote: hi\n", &packp.CommandStatus{ReferenceName: main, Status: "fetch first"}), true)
	f.Add([]byte("0000"), true)
	f.Fuzz(func(t *testing.T, body []byte, band bool) {
		err := readReport(body, band, main)
		if err == nil && !bytes.Contains(body, []byte("unpack ok")) {
			t.Errorf("readReport(%q) = nil without unpack ok", body)
		}
		if err != nil && errcode.CodeOf(err) == errcode.OK {
			t.Errorf("readReport(%q) = %v with code OK", body, err)
		}
	})
}

// TestInitialPackRefusesPaths: what git refuses in a tree is refused
// while the pack is built, before any request.
func TestInitialPackRefusesPaths(t *testing.T) {
	d, err := New(&integrations.Integration{Kind: integrations.GitHub, Host: "github.com", APIBaseURL: "https://api.github.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	file := func(p string) driver.Change { return driver.Change{Path: p, Content: []byte("x")} }
	for _, files := range [][]driver.Change{
		{file(".git/config")}, {file("a/.GIT/hooks/x")}, {file("a//b")}, {file("a/../b")}, {file("./a")},
		{file("a"), file("a/b")}, {file("a/b"), file("a")}, {file("a"), file("a")},
	} {
		if _, err := d.initialPack(files, "m", time.Now()); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("initialPack(%v) = %v; want InvalidArgument", files, err)
		}
	}
	p, err := d.initialPack([]driver.Change{file("a/b"), file("a.txt"), file("a-b")}, "m", time.Unix(0, 0))
	if err != nil || p.commit.IsZero() || len(p.data) == 0 {
		t.Errorf("initialPack of a valid tree = %+v, %v", p, err)
	}
}

// TestInitialPackWithGit: git itself accepts the pack (index-pack
// --strict refuses an object twice, a badly sorted tree, a bad mode) and
// finds the commit whole (fsck --strict).
func TestInitialPackWithGit(t *testing.T) {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("git is not installed (Debian package git)")
		}
		t.Skip("git is not installed: apt-get install git")
	}
	d, err := New(&integrations.Integration{Kind: integrations.GitHub, Host: "github.com", APIBaseURL: "https://api.github.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.initialPack([]driver.Change{
		{Path: "a/x.txt", Content: []byte("same\n")}, {Path: "b/x.txt", Content: []byte("same\n")}, {Path: "c.txt", Content: []byte("same\n")},
		{Path: "a-b", Content: []byte("sorted before a/\n")}, {Path: "a.d/y", Content: []byte("and this\n")},
		{Path: "bin/run.sh", Content: []byte("#!/bin/sh\n"), Executable: true}, {Path: "logo.bin", Content: []byte{0, 1, 2, 0xff}},
	}, "Initial commit", time.Unix(1700000000, 0))
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
	git(p.data, "index-pack", "--strict", "--stdin")
	git(nil, "update-ref", "refs/heads/main", p.commit.String())
	git(nil, "fsck", "--strict", "--full", "--no-dangling")
	want := "100644 blob 1275430f1765c63e539cb0452565563bd6aef6a6\ta/x.txt\n"
	if got := git(nil, "ls-tree", "-r", "main"); !strings.Contains(got, want) || !strings.Contains(got, "100755 blob") || strings.Count(got, "\n") != 7 {
		t.Errorf("git ls-tree -r main =\n%s; want the 7 files, run.sh executable", got)
	}
}
