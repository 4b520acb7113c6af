package fakebitbucketserver_test

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

// TestGitPush: git itself pushes to the HTTP clone URL
// (scm/{project}/{repo}.git, under the context path) with an HTTP access
// token as Bearer or a password as Basic; the fake keeps the commit with
// its modes and the repository's default branch; a bad credential is 401
// with Basic's challenge, an unknown repository 404.
func TestGitPush(t *testing.T) {
	gitBin := testsvc.Require(t, "git", "git")
	s := newFake(t, "/bitbucket")
	for _, name := range []string{"bearer", "basic"} {
		if _, err := s.AddRepo(fakebitbucketserver.Repo{Project: "AMUNIZ", Name: name, DefaultBranch: "trunk"}); err != nil {
			t.Fatal(err)
		}
	}
	work := t.TempDir()
	env := append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0")
	git := func(wantOK bool, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), gitBin, args...)
		cmd.Dir, cmd.Env = work, env
		out, err := cmd.CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	git(true, "init", "-q", "-b", "main", ".")
	if err := os.WriteFile(work+"/run.sh", []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(work+"/README.md", []byte("# x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(true, "add", ".")
	git(true, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "initial")
	head := strings.TrimSpace(git(true, "rev-parse", "HEAD"))

	base := s.URL() + "/scm/amuniz/"
	git(true, "-c", "http.extraHeader=Authorization: Bearer "+token, "push", "-q", base+"bearer.git", "main")
	basic := strings.Replace(base, "://", "://alice:s3cret@", 1)
	git(true, "push", "-q", basic+"basic.git", "main")
	for _, name := range []string{"bearer", "basic"} {
		if id, ok := s.Branch("AMUNIZ", name, "main"); !ok || id != head {
			t.Errorf("%s: main = %q, %v; want the pushed %s", name, id, ok, head)
		}
		files, err := s.Files("AMUNIZ", name, "main")
		if err != nil || len(files) != 2 {
			t.Fatalf("%s: files = %+v, %v", name, files, err)
		}
		for _, f := range files {
			if f.Executable != (f.Path == "run.sh") {
				t.Errorf("%s: %s executable %v", name, f.Path, f.Executable)
			}
		}
	}

	// A bad credential, and an unknown repository.
	git(false, "-c", "http.extraHeader=Authorization: Bearer nope", "push", "-q", base+"bearer.git", "main:other")
	if _, ok := s.Branch("AMUNIZ", "bearer", "other"); ok {
		t.Error("a push with a bad token made a branch")
	}
	if _, body := do(t, s, "/rest/api/1.0/projects/AMUNIZ/repos/bearer/default-branch", reqOpts{}); !strings.Contains(string(body), `"displayId":"trunk"`) {
		t.Errorf("default branch after the push = %s; want trunk, as created", body)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"bearer.git/info/refs?service=git-receive-pack", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("info/refs without a credential = %s %q; want 401 with a Basic challenge", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, base+"missing.git/info/refs?service=git-receive-pack", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("info/refs of a missing repository = %s; want 404", resp.Status)
	}
}
