package githubscm

import (
	"bytes"
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
