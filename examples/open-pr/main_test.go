package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/examples/internal/testenv"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// The tests set environment variables (the config's token, the user's
// token), so they are not parallel.

const (
	userToken    = "gho_examplesUserToken0000000000000000000"
	userTokenEnv = "SCMKIT_EXAMPLES_TEST_USER_TOKEN"
)

// newRepo starts the fake with acme/svc holding README.md and old.txt on
// main, and returns it with a local directory of files to commit.
func newRepo(t *testing.T) (*testenv.GitHub, string) {
	t.Helper()
	g := testenv.NewGitHub(t, userToken)
	g.AddRepo(t, "acme", "svc", "README.md", "# svc\n", "old.txt", "old\n")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "catalog-info.yaml"), "kind: Component\n", 0o644)
	write(t, filepath.Join(dir, "scripts", "run.sh"), "#!/bin/sh\n", 0o755)
	write(t, filepath.Join(dir, ".git", "config"), "[core]\n", 0o644) // skipped
	return g, dir
}

func write(t *testing.T, name, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(name, mode); err != nil { // whatever the umask
		t.Fatal(err)
	}
}

// paths lists the files of a branch, with "*" after executable ones.
func paths(t *testing.T, g *testenv.GitHub, branch string) map[string]string {
	t.Helper()
	files, err := g.Files("acme", "svc", branch)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		p := f.Path
		if f.Executable {
			p += "*"
		}
		out[p] = string(f.Content)
	}
	return out
}

func TestOpenTwice(t *testing.T) {
	g, dir := newRepo(t)
	readme := filepath.Join(t.TempDir(), "README.md")
	write(t, readme, "# svc, documented\n", 0o644)
	common := []string{"-config", g.Config, "-repo", g.WebURL("acme/svc"), "-branch", "add-catalog",
		"-title", "Add catalog-info.yaml", "-body", "Registers svc in the catalog.", "-draft",
		"-from", dir, "-file", "docs/README.md=" + readme}
	args := slices.Concat(common, []string{"-delete", "old.txt"})

	o := testenv.Exec(t, run, args...)
	if o.Err != nil {
		t.Fatalf("run: %v\nstderr: %s", o.Err, o.Stderr)
	}
	pulls := g.Pulls("acme", "svc")
	if len(pulls) != 1 {
		t.Fatalf("got %d pull requests; want 1", len(pulls))
	}
	pr := pulls[0]
	if pr.Title != "Add catalog-info.yaml" || pr.Body != "Registers svc in the catalog." || !pr.Draft ||
		pr.Head != "add-catalog" || pr.Base != "main" {
		t.Errorf("pull request: got %+v", pr)
	}
	for _, want := range []string{
		"4 changes for branch add-catalog",
		"  write   catalog-info.yaml (16 bytes)",
		"  write   docs/README.md (18 bytes)",
		"  delete  old.txt",
		"  write   scripts/run.sh (10 bytes, executable)",
		"opened pull request #1 from add-catalog into main",
		"/acme/svc/pull/1\n",
	} {
		if !strings.Contains(o.Stdout, want) {
			t.Errorf("stdout lacks %q; got:\n%s", want, o.Stdout)
		}
	}
	want := map[string]string{
		"README.md":         "# svc\n",
		"catalog-info.yaml": "kind: Component\n",
		"docs/README.md":    "# svc, documented\n",
		"scripts/run.sh*":   "#!/bin/sh\n",
	}
	if diff := cmp.Diff(want, paths(t, g, "add-catalog")); diff != "" {
		t.Errorf("files on the branch (-want +got):\n%s", diff)
	}
	// ONE commit on top of main.
	head, _ := g.GetCommit("acme", "svc", "add-catalog")
	base, _ := g.Ref("acme", "svc", "main")
	if diff := cmp.Diff([]string{base}, head.Parents); diff != "" || head.Message != "Add catalog-info.yaml" {
		t.Errorf("commit: parents %v (want [%s]), message %q", head.Parents, base, head.Message)
	}

	// Again: the open pull request is reported, nothing is committed.
	o = testenv.Exec(t, run, args...)
	if o.Err != nil {
		t.Fatalf("second run: %v\nstderr: %s", o.Err, o.Stderr)
	}
	if !strings.Contains(o.Stdout, "pull request #1 is already open from add-catalog") {
		t.Errorf("second run does not say the pull request is already open; got:\n%s", o.Stdout)
	}
	if n := len(g.Pulls("acme", "svc")); n != 1 {
		t.Errorf("after the second run: %d pull requests; want 1", n)
	}
	if again, _ := g.Ref("acme", "svc", "add-catalog"); again != head.SHA {
		t.Errorf("the second run moved the branch from %s to %s", head.SHA, again)
	}

	// With -update, the changes are committed on the open pull request's
	// branch (old.txt is gone there: deleting it again would be NotFound).
	write(t, readme, "# svc, documented better\n", 0o644)
	o = testenv.Exec(t, run, slices.Concat(common, []string{"-update", "-message", "Improve the docs"})...)
	if o.Err != nil {
		t.Fatalf("run -update: %v\nstderr: %s", o.Err, o.Stderr)
	}
	if !strings.Contains(o.Stdout, "pull request #1 was already open; the changes were committed on its branch add-catalog") {
		t.Errorf("-update run: got:\n%s", o.Stdout)
	}
	if got := paths(t, g, "add-catalog")["docs/README.md"]; got != "# svc, documented better\n" {
		t.Errorf("after -update docs/README.md is %q", got)
	}
	if c, _ := g.GetCommit("acme", "svc", "add-catalog"); c.Message != "Improve the docs" || len(c.Parents) != 1 || c.Parents[0] != head.SHA {
		t.Errorf("-update commit: got %+v; want one commit on %s", c, head.SHA)
	}
	if n := len(g.Pulls("acme", "svc")); n != 1 {
		t.Errorf("after -update: %d pull requests; want 1", n)
	}
}

func TestAsUser(t *testing.T) {
	g, dir := newRepo(t)
	base := []string{"-config", g.Config, "-repo", g.WebURL("acme/svc"), "-title", "T", "-from", dir}

	t.Run("user token only", func(t *testing.T) {
		t.Setenv(testenv.TokenEnv, "ghp_configuredTokenTheHostRejects") // the service's token would fail
		t.Setenv(userTokenEnv, userToken)
		o := testenv.Exec(t, run, append(base, "-branch", "as-user", "-as-user", "-user-token-env", userTokenEnv)...)
		if o.Err != nil {
			t.Fatalf("run: %v\nstderr: %s", o.Err, o.Stderr)
		}
		if strings.Contains(o.Stdout+o.Stderr, userToken) {
			t.Errorf("the output shows the user's token:\n%s%s", o.Stdout, o.Stderr)
		}
		for _, r := range g.Requests() {
			if r.Host == "api" && r.Header.Get("Authorization") != "Bearer "+userToken {
				t.Errorf("%s %s sent Authorization %q; want the user's token", r.Method, r.Path, r.Header.Get("Authorization"))
			}
		}
	})

	t.Run("rejected user token does not fall back", func(t *testing.T) {
		t.Setenv(userTokenEnv, "gho_revoked")
		o := testenv.Exec(t, run, append(base, "-branch", "rejected", "-as-user", "-user-token-env", userTokenEnv)...)
		if got := scm.Code(o.Err); got != scm.Unauthorized {
			t.Fatalf("run: got %v (%v); want Unauthorized", got, o.Err)
		}
		if _, ok := g.Ref("acme", "svc", "rejected"); ok {
			t.Error("the branch was created")
		}
	})

	t.Run("without a user token", func(t *testing.T) {
		g.ResetStats()
		o := testenv.Exec(t, run, append(base, "-branch", "no-user", "-as-user")...)
		if o.Err == nil || !strings.Contains(o.Err.Error(), "-user-token-env") {
			t.Fatalf("run: got %v; want an error asking for -user-token-env", o.Err)
		}
		if n := g.Stats().API; n != 0 {
			t.Errorf("%d requests; want 0", n)
		}
	})

	t.Run("unset variable", func(t *testing.T) {
		o := testenv.Exec(t, run, append(base, "-branch", "unset", "-user-token-env", "SCMKIT_EXAMPLES_UNSET_VARIABLE")...)
		if o.Err == nil || !strings.Contains(o.Err.Error(), "SCMKIT_EXAMPLES_UNSET_VARIABLE is not set") {
			t.Fatalf("run: got %v; want an error naming the variable", o.Err)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	g, dir := newRepo(t)
	linked := t.TempDir()
	write(t, filepath.Join(linked, "a.txt"), "a\n", 0o644)
	if err := os.Symlink("/etc/passwd", filepath.Join(linked, "passwd")); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	repo := g.WebURL("acme/svc")
	tests := []struct {
		name     string
		args     []string
		wantCode scm.ErrorCode
		wantMsg  string
	}{
		{name: "no title", args: []string{"-repo", repo, "-branch", "b", "-from", dir}, wantMsg: "-title are required"},
		{name: "nothing to commit", args: []string{"-repo", repo, "-branch", "b", "-title", "T"}, wantMsg: "nothing to commit"},
		{name: "empty directory", args: []string{"-repo", repo, "-branch", "b", "-title", "T", "-from", empty}, wantMsg: "no files to commit"},
		{name: "symbolic link", args: []string{"-repo", repo, "-branch", "b", "-title", "T", "-from", linked}, wantMsg: "passwd is a symbolic link"},
		{name: "bad -file", args: []string{"-repo", repo, "-branch", "b", "-title", "T", "-file", "../x=" + filepath.Join(dir, "catalog-info.yaml")},
			wantMsg: "not a valid repository path"},
		{name: "write and delete", args: []string{"-repo", repo, "-branch", "b", "-title", "T", "-from", dir, "-delete", "catalog-info.yaml"},
			wantMsg: "also written"},
		{name: "bad branch name", args: []string{"-repo", repo, "-branch", "a..b", "-title", "T", "-from", dir}, wantCode: scm.InvalidArgument},
		{name: "missing base", args: []string{"-repo", repo, "-branch", "b", "-base", "nope", "-title", "T", "-from", dir}, wantCode: scm.NotFound},
		{name: "missing repository", args: []string{"-repo", g.WebURL("acme/nope"), "-branch", "b", "-title", "T", "-from", dir}, wantCode: scm.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testenv.Exec(t, run, append([]string{"-config", g.Config}, tt.args...)...)
			t.Logf("error: %v", o.Err)
			if o.Err == nil {
				t.Fatalf("run succeeded; want an error\nstdout: %s", o.Stdout)
			}
			if tt.wantCode != scm.OK {
				if got := scm.Code(o.Err); got != tt.wantCode {
					t.Errorf("code: got %v; want %v", got, tt.wantCode)
				}
			}
			if !strings.Contains(o.Err.Error(), tt.wantMsg) {
				t.Errorf("error %q lacks %q", o.Err, tt.wantMsg)
			}
		})
	}
	if n := len(g.Pulls("acme", "svc")); n != 0 {
		t.Errorf("%d pull requests opened; want 0", n)
	}
}

func TestGitLabMergeRequest(t *testing.T) {
	g := testenv.NewGitLab(t)
	g.AddProject(t, "acme/platform", "api", "README.md", "# api\n")
	dir := t.TempDir()
	write(t, filepath.Join(dir, "catalog-info.yaml"), "kind: Component\n", 0o644)
	args := []string{"-config", g.Config, "-repo", g.WebURL("acme/platform/api"), "-branch", "add-catalog",
		"-title", "Add catalog-info.yaml", "-from", dir}
	for i, want := range []string{"opened pull request #1", "pull request #1 is already open"} {
		o := testenv.Exec(t, run, args...)
		if o.Err != nil {
			t.Fatalf("run %d: %v\nstderr: %s", i+1, o.Err, o.Stderr)
		}
		if !strings.Contains(o.Stdout, want) || !strings.Contains(o.Stdout, "/acme/platform/api/-/merge_requests/1\n") {
			t.Errorf("run %d: stdout lacks %q and the merge request's URL; got:\n%s", i+1, want, o.Stdout)
		}
	}
	mrs := g.MergeRequests("acme/platform/api")
	if len(mrs) != 1 || mrs[0].SourceBranch != "add-catalog" || mrs[0].TargetBranch != "main" {
		t.Errorf("merge requests: got %+v; want one from add-catalog to main", mrs)
	}
}

// approver is the user at her browser: when the program tells her where
// to enter the code, she approves it on the fake.
type approver struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	g    *testenv.GitHub
	done bool
}

var codeLine = regexp.MustCompile(`open (\S+) and enter the code (\S+) `)

func (a *approver) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.buf.Write(p)
	if m := codeLine.FindStringSubmatch(a.buf.String()); m != nil && !a.done {
		a.done = a.g.ApproveDevice(m[2])
	}
	return len(p), nil
}

// -device-login signs the user in with the device flow of the repository's
// host, with a client id alone, and the pull request goes out in her name
// only: every API request carries her token, none the configured one.
func TestDeviceLogin(t *testing.T) {
	g, dir := newRepo(t)
	g.AddOAuthApp(fakegithub.OAuthApp{ClientID: "Iv1.cli", ClientSecret: "unused", Expiring: true, DeviceFlow: true, DevicePollInterval: time.Second})
	g.SetOAuthUser(fakegithub.OAuthUser{Login: "alice", Name: "Alice"})
	t.Setenv(testenv.TokenEnv, "ghp_configuredTokenTheHostRejects") // the service's token would fail
	a := &approver{g: g}
	var out bytes.Buffer
	err := run(t.Context(), []string{"-config", g.Config, "-repo", g.WebURL("acme/svc"), "-title", "T", "-from", dir,
		"-branch", "device", "-as-user", "-device-login", "Iv1.cli"}, &out, a)
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, a.buf.String())
	}
	if !a.done || !strings.Contains(a.buf.String(), "Signed in as alice.") || !strings.Contains(out.String(), "/pull/1") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out.String(), a.buf.String())
	}
	if strings.Contains(out.String()+a.buf.String(), "ghu_") {
		t.Errorf("the output shows her token")
	}
	for _, r := range g.Requests() {
		if auth := r.Header.Get("Authorization"); r.Host == "api" && !strings.HasPrefix(auth, "Bearer ghu_") && !strings.HasPrefix(r.Path, "/login/") {
			t.Errorf("%s %s sent Authorization %q; want her device-flow token", r.Method, r.Path, auth)
		}
	}
	if err := run(t.Context(), []string{"-config", g.Config, "-repo", g.WebURL("acme/svc"), "-title", "T", "-from", dir, "-branch", "x",
		"-device-login", "Iv1.cli", "-user-token-env", userTokenEnv}, &out, io.Discard); err == nil || !strings.Contains(err.Error(), "pass one") {
		t.Errorf("-device-login with -user-token-env: %v; want a usage error", err)
	}
}
