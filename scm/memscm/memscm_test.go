package memscm_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/memscm"
)

var gh = &integrations.Integration{Kind: integrations.GitHub, Host: "github.com", BaseURL: "https://github.com"}

func open(t *testing.T, w *memscm.World, o *memscm.Options) driver.Driver {
	t.Helper()
	d, err := w.Opener(o)(gh)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAddRepo(t *testing.T) {
	w := memscm.New()
	files := fstest.MapFS{
		"run.sh":    {Data: []byte("#!/bin/sh\n"), Mode: 0o755},
		"README.md": {Data: []byte("hi\n"), Mode: 0o644},
	}
	if err := w.AddRepo("Acme", "Svc", "", files); err != nil {
		t.Fatal(err)
	}
	if err := w.AddRepo("acme", "svc", "main", nil); err == nil {
		t.Error("AddRepo of an existing repository (other case) succeeded; want an error")
	}
	for _, bad := range [][2]string{{"", "x"}, {"acme", ""}, {"acme", "a/b"}} {
		if err := w.AddRepo(bad[0], bad[1], "main", nil); err == nil {
			t.Errorf("AddRepo(%q, %q) succeeded; want an error", bad[0], bad[1])
		}
	}
	content, exec, ok := w.File("acme", "svc", "", "run.sh")
	if !ok || !exec || string(content) != "#!/bin/sh\n" {
		t.Errorf("File(run.sh) = %q, %v, %v; want the executable script", content, exec, ok)
	}
	if _, _, ok := w.File("acme", "svc", "main", "nope"); ok {
		t.Error("File(nope) found; want missing")
	}
	if got := w.Branches("acme", "svc"); len(got) != 1 || got["main"] == "" {
		t.Errorf("Branches = %v; want main only", got)
	}
}

func TestBranchesAndPullRequests(t *testing.T) {
	w := memscm.New()
	if err := w.AddRepo("acme", "svc", "main", memscm.Files(map[string]string{"a.txt": "a\n"})); err != nil {
		t.Fatal(err)
	}
	if err := w.CreateBranch("acme", "svc", "dev", ""); err != nil {
		t.Fatal(err)
	}
	if err := w.CreateBranch("acme", "svc", "dev", "main"); err == nil {
		t.Error("CreateBranch of an existing branch succeeded; want an error")
	}
	if err := w.CreateBranch("acme", "svc", "x", "no-such-ref"); err == nil {
		t.Error("CreateBranch from a missing ref succeeded; want an error")
	}
	d := open(t, w, nil)
	ctx := t.Context()
	req := &driver.PullRequestRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Base: "dev", Branch: "topic", Title: "T",
		Changes: []driver.Change{{Path: "b.txt", Action: driver.Create, Content: []byte("b\n")}}}
	pr, err := d.OpenPullRequest(ctx, nil, req)
	if err != nil {
		t.Fatal(err)
	}
	want := []memscm.PullRequest{{Number: 1, Base: "dev", Branch: "topic", Title: "T", Open: true, CommitID: pr.CommitID}}
	if diff := cmp.Diff(want, w.PullRequests("acme", "svc")); diff != "" {
		t.Errorf("PullRequests (-want +got):\n%s", diff)
	}
	if pr.URL != "https://github.com/acme/svc/pull/1" {
		t.Errorf("URL = %q", pr.URL)
	}
	// Failing changes leave the branch untouched (atomic commit).
	for _, tc := range []struct {
		name string
		ch   driver.Change
		code scm.ErrorCode
	}{
		{"create existing", driver.Change{Path: "a.txt", Action: driver.Create}, scm.AlreadyExists},
		{"update missing", driver.Change{Path: "nope.txt", Action: driver.Update}, scm.NotFound},
		{"delete missing", driver.Change{Path: "nope.txt", Action: driver.Delete}, scm.NotFound},
		{"file over directory", driver.Change{Path: "a.txt/x", Content: []byte("x")}, scm.Conflict},
	} {
		head := w.Branches("acme", "svc")["other"]
		r := *req
		r.Branch = "other"
		r.Changes = []driver.Change{{Path: "ok.txt", Content: []byte("ok")}, tc.ch}
		_, err := d.OpenPullRequest(ctx, nil, &r)
		if got := d.ErrorInfo(err).Code; got != tc.code {
			t.Errorf("%s: code %v (%v); want %v", tc.name, got, err, tc.code)
		}
		if got := w.Branches("acme", "svc")["other"]; got != head {
			t.Errorf("%s: branch moved to %q; want it unchanged", tc.name, got)
		}
	}
	r := *req
	r.Base = "no-such-branch"
	if _, err := d.OpenPullRequest(ctx, nil, &r); d.ErrorInfo(err).Code != scm.NotFound {
		t.Errorf("missing base: %v; want NotFound", err)
	}
}

func TestFaults(t *testing.T) {
	w := memscm.New()
	if err := w.AddRepo("acme", "svc", "main", memscm.Files(map[string]string{"a.txt": "a\n"})); err != nil {
		t.Fatal(err)
	}
	d := open(t, w, nil)
	rf := &driver.ReadFileRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Path: "a.txt", MaxBytes: 100}
	at := time.Now().Add(time.Hour)
	w.Inject(memscm.Fault{Op: "ReadFile", Code: scm.RateLimited, Status: 429, RetryAt: at, Times: 2})
	w.Inject(memscm.Fault{Op: "ListFiles", Code: scm.Unavailable})
	for i := range 2 {
		_, err := d.ReadFile(t.Context(), nil, rf)
		if info := d.ErrorInfo(err); info != (driver.ErrorInfo{Code: scm.RateLimited, Status: 429, RetryAt: at}) {
			t.Errorf("call %d: ErrorInfo = %+v; want the injected rate limit", i, info)
		}
	}
	if _, err := d.ReadFile(t.Context(), nil, rf); err != nil {
		t.Errorf("third call: %v; want the fault used up", err)
	}
	w.ClearFaults()
	if _, err := d.ListFiles(t.Context(), nil, &driver.ListFilesRequest{Repo: rf.Repo}); err != nil {
		t.Errorf("after ClearFaults: %v", err)
	}
	if got := w.Requests(); got != 4 {
		t.Errorf("Requests = %d; want 4", got)
	}

	w.Inject(memscm.Fault{Delay: time.Minute})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := d.ReadFile(ctx, nil, rf)
	if !errors.Is(err, context.DeadlineExceeded) || d.ErrorInfo(err).Code != scm.DeadlineExceeded {
		t.Errorf("slow call past its deadline: %v; want DeadlineExceeded", err)
	}
	w.ClearFaults()

	bad := open(t, w, &memscm.Options{Faults: []memscm.Fault{{Code: scm.Unauthorized, Status: 401}}})
	for range 2 {
		if _, err := bad.ReadFile(t.Context(), nil, rf); bad.ErrorInfo(err).Code != scm.Unauthorized {
			t.Errorf("driver with a permanent fault: %v; want Unauthorized every time", err)
		}
	}
	if d.ErrorInfo(errors.New("other")).Code != scm.Unknown {
		t.Error("ErrorInfo of a foreign error is not Unknown")
	}
}

func TestReadFileAndTree(t *testing.T) {
	w := memscm.New()
	if err := w.AddRepo("acme", "svc", "main", memscm.Files(map[string]string{"d/a.txt": "a\n", "b.txt": "b\n"})); err != nil {
		t.Fatal(err)
	}
	d := open(t, w, &memscm.Options{ListFilesLimit: 1, PageSize: 1})
	ctx := t.Context()
	repo := driver.Repo{Owner: "acme", Name: "svc"}
	f, err := d.ReadFile(ctx, nil, &driver.ReadFileRequest{Repo: repo, Path: "d/a.txt", MaxBytes: 10})
	if err != nil || !bytes.Equal(f.Content, []byte("a\n")) || f.BlobID != "78981922613b2afb6025042ff6bd878ac1994e85" {
		t.Fatalf("ReadFile = %+v, %v; want content a and git's blob id", f, err)
	}
	for _, tc := range []struct {
		name string
		req  driver.ReadFileRequest
		code scm.ErrorCode
	}{
		{"directory", driver.ReadFileRequest{Repo: repo, Path: "d"}, scm.InvalidArgument},
		{"not modified", driver.ReadFileRequest{Repo: repo, Path: "d/a.txt", IfNoneMatch: f.ETag}, scm.NotModified},
		{"too large", driver.ReadFileRequest{Repo: repo, Path: "d/a.txt", MaxBytes: 1}, scm.InvalidArgument},
		{"missing repo", driver.ReadFileRequest{Repo: driver.Repo{Owner: "acme", Name: "x"}, Path: "a"}, scm.NotFound},
		{"missing ref", driver.ReadFileRequest{Repo: repo, Ref: "x", Path: "b.txt"}, scm.NotFound},
		{"commit id ref", driver.ReadFileRequest{Repo: repo, Ref: f.CommitID, Path: "b.txt"}, scm.OK},
	} {
		_, err := d.ReadFile(ctx, nil, &tc.req)
		if got := d.ErrorInfo(err).Code; err == nil && tc.code != scm.OK || err != nil && got != tc.code {
			t.Errorf("%s: %v; want %v", tc.name, err, tc.code)
		}
	}
	l, err := d.ListFiles(ctx, nil, &driver.ListFilesRequest{Repo: repo})
	if err != nil || !l.Truncated || len(l.Paths) != 1 {
		t.Errorf("ListFiles with ListFilesLimit 1 = %+v, %v; want 1 path, truncated", l, err)
	}
	l, err = d.ListFiles(ctx, nil, &driver.ListFilesRequest{Repo: repo, Dir: "nope"})
	if err != nil || len(l.Paths) != 0 {
		t.Errorf("ListFiles of a missing dir = %+v, %v; want an empty list", l, err)
	}
	tr, err := d.ReadTree(ctx, nil, &driver.TreeRequest{Repo: repo, Dir: "d"})
	if err != nil || len(tr.Files) != 1 || tr.Files[0].Path != "a.txt" {
		t.Errorf("ReadTree(d) = %+v, %v; want a.txt", tr, err)
	}
	if _, err := d.ReadTree(ctx, nil, &driver.TreeRequest{Repo: repo, Dir: "nope"}); d.ErrorInfo(err).Code != scm.NotFound {
		t.Errorf("ReadTree of a missing dir: %v; want NotFound", err)
	}
	if _, err := d.ListRepositories(ctx, nil, &driver.ListRepositoriesRequest{Owner: "acme", Cursor: "x"}); d.ErrorInfo(err).Code != scm.InvalidArgument {
		t.Errorf("ListRepositories with a bad cursor: %v; want InvalidArgument", err)
	}
}
