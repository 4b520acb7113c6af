package bitbucketserverscm_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

// createTree is adaptertest.CreateTree without bin/run.sh: Bitbucket
// Server's REST API cannot set the executable bit.
func createTree(n int) fstest.MapFS {
	fsys := adaptertest.CreateTree(n)
	delete(fsys, "bin/run.sh")
	return fsys
}

func TestCreateRepositoryRequests(t *testing.T) {
	e := newEnv(t, "/bitbucket")
	fsys := createTree(20)
	owner := e.fake.URL() + "/projects/" + project
	before := e.requests()
	r, err := e.c.CreateRepository(t.Context(), owner, &scm.RepositorySpec{Name: "new-svc", DefaultBranch: "trunk"}, fsys)
	if err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	if n, want := e.requests()-before, 1+len(fsys); n != want {
		t.Errorf("CreateRepository made %d requests; want %d (1 + one per file)", n, want)
	}
	if r.DefaultBranch != "trunk" || r.CommitID == "" || !r.Private {
		t.Errorf("CreateRepository = %+v; want default branch trunk, a commit id, private", r)
	}
	files, err := e.fake.Files(project, "new-svc", "trunk")
	if err != nil || len(files) != len(fsys) {
		t.Fatalf("Files = %d, %v; want %d", len(files), err, len(fsys))
	}
	for _, f := range files {
		if string(f.Content) != string(fsys[f.Path].Data) {
			t.Errorf("%s = %q; want %q", f.Path, f.Content, fsys[f.Path].Data)
		}
	}
	// An executable file is refused before the repository is created.
	exec := createTree(1)
	exec["run.sh"] = &fstest.MapFile{Data: []byte("#!/bin/sh\n"), Mode: 0o755}
	before = e.requests()
	_, err = e.c.CreateRepository(t.Context(), owner, &scm.RepositorySpec{Name: "with-exec"}, exec)
	if scm.Code(err) != scm.Unimplemented || e.requests() != before {
		t.Errorf("CreateRepository with an executable file = %v after %d requests; want Unimplemented after 0", err, e.requests()-before)
	}
}

func TestCreateRepositoryFailureAfterCreation(t *testing.T) {
	e := newEnv(t, "")
	e.fake.Inject(fake.Fault{Kind: scmtest.FaultServerError, Method: "PUT"})
	_, err := e.c.CreateRepository(t.Context(), e.fake.URL()+"/projects/"+project, &scm.RepositorySpec{Name: "half"}, createTree(2))
	if scm.Code(err) != scm.Unavailable || !strings.Contains(err.Error(), project+"/half was created") ||
		!strings.Contains(err.Error(), "3 of its 3 files are missing") {
		t.Errorf("CreateRepository with failing writes = %v; want Unavailable naming the repository and the missing files", err)
	}
}

func BenchmarkBitbucketServerCreateRepository(b *testing.B) {
	e := newEnv(b, "/bitbucket")
	u := e.fake.URL() + "/projects/" + project
	fsys := createTree(49)
	adaptertest.Bench(b, e.requests, func(i int) error {
		_, err := e.c.CreateRepository(b.Context(), u, &scm.RepositorySpec{Name: fmt.Sprintf("svc-%d", i+1)}, fsys)
		return err
	})
}

func TestCreateRepositoryAccess(t *testing.T) {
	e := newEnv(t, "/bitbucket")
	e.fake.AddGroup("platform-devs")
	e.fake.AddUser("alice")
	spec := &scm.RepositorySpec{Name: "granted", Access: []scm.Access{
		{Team: "platform-devs", Permission: scm.Write}, {User: "alice", Permission: scm.Read}}}
	fsys := createTree(2)
	before := e.requests()
	if _, err := e.c.CreateRepository(t.Context(), e.fake.URL()+"/projects/"+project, spec, fsys); err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	if n, want := e.requests()-before, 1+len(fsys)+2; n != want {
		t.Errorf("CreateRepository with 2 grants made %d requests; want %d (1 + one per file + one per grant)", n, want)
	}
	want := []fakebitbucketserver.Grant{{Group: "platform-devs", Permission: "REPO_WRITE"}, {User: "alice", Permission: "REPO_READ"}}
	if got := e.fake.Grants(project, "granted"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("grants = %v; want %v", got, want)
	}
}

func TestCreateRepositoryAccessFailure(t *testing.T) {
	e := newEnv(t, "")
	e.fake.AddUser("alice")
	spec := &scm.RepositorySpec{Name: "half", Access: []scm.Access{
		{User: "alice", Permission: scm.Write}, {Team: "ghosts", Permission: scm.Read}}}
	_, err := e.c.CreateRepository(t.Context(), e.fake.URL()+"/projects/"+project, spec, createTree(1))
	msg := fmt.Sprint(err)
	for _, want := range []string{project + "/half was created with its files", "[team ghosts: read] are missing",
		"done: [user alice: write]", "No group with name 'ghosts' exists."} {
		if !strings.Contains(msg, want) {
			t.Errorf("CreateRepository with an unknown group = %v; want it to say %q", err, want)
		}
	}
	if scm.Code(err) != scm.NotFound {
		t.Errorf("code = %v; want NotFound", scm.Code(err))
	}
}

// BenchmarkBitbucketServerCreateRepositoryAccess is the benchmark above
// with a group and a user granted access: 1 + 50 + 2 requests.
func BenchmarkBitbucketServerCreateRepositoryAccess(b *testing.B) {
	e := newEnv(b, "/bitbucket")
	e.fake.AddGroup("platform-devs")
	e.fake.AddUser("alice")
	u := e.fake.URL() + "/projects/" + project
	fsys := createTree(49)
	access := []scm.Access{{Team: "platform-devs", Permission: scm.Write}, {User: "alice", Permission: scm.Admin}}
	adaptertest.Bench(b, e.requests, func(i int) error {
		_, err := e.c.CreateRepository(b.Context(), u, &scm.RepositorySpec{Name: fmt.Sprintf("svc-%d", i+1), Access: access}, fsys)
		return err
	})
}
