package bitbucketcloudscm_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

func TestCreateRepositoryRequests(t *testing.T) {
	e := newEnv(t, nil, integrations.BitbucketCloudConfig{})
	fsys := adaptertest.CreateTree(50)
	before := e.requests()
	r, err := e.c.CreateRepository(t.Context(), e.fake.URL()+"/"+workspace, &scm.RepositorySpec{Name: "new-svc",
		DefaultBranch: "trunk", Visibility: scm.Public}, fsys)
	if err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	if n := e.requests() - before; n != 2 {
		t.Errorf("CreateRepository made %d requests; want 2", n)
	}
	if r.DefaultBranch != "trunk" || r.CommitID == "" || r.Private {
		t.Errorf("CreateRepository = %+v; want default branch trunk, a commit id, public", r)
	}
	commits, err := e.fake.Commits(workspace, "new-svc", "trunk")
	if err != nil || len(commits) != 1 || commits[0] != r.CommitID {
		t.Errorf("Commits = %v, %v; want the one commit %s", commits, err, r.CommitID)
	}
	files, err := e.fake.Files(workspace, "new-svc", "trunk")
	if err != nil || len(files) != len(fsys) {
		t.Fatalf("Files = %d, %v; want %d", len(files), err, len(fsys))
	}
	for _, f := range files {
		if string(f.Content) != string(fsys[f.Path].Data) || f.Executable != (f.Path == "bin/run.sh") {
			t.Errorf("%s = %q exec %v; want %q", f.Path, f.Content, f.Executable, fsys[f.Path].Data)
		}
	}
	for _, spec := range []scm.RepositorySpec{
		{Name: "x", Topics: []string{"go"}},
		{Name: "x", Visibility: scm.Internal},
		{Name: "Upper"},
	} {
		before := e.requests()
		_, err := e.c.CreateRepository(t.Context(), e.fake.URL()+"/"+workspace, &spec, fsys)
		if scm.Code(err) != scm.InvalidArgument || e.requests() != before {
			t.Errorf("CreateRepository(%+v) = %v after %d requests; want InvalidArgument after 0", spec, err, e.requests()-before)
		}
	}
}

func TestCreateRepositoryFailureAfterCreation(t *testing.T) {
	e := newEnv(t, nil, integrations.BitbucketCloudConfig{})
	e.fake.Inject(fake.Fault{Kind: scmtest.FaultServerError, Method: "POST", Path: "/2.0/repositories/" + workspace + "/half/src"})
	_, err := e.c.CreateRepository(t.Context(), e.fake.URL()+"/"+workspace, &scm.RepositorySpec{Name: "half"}, adaptertest.CreateTree(2))
	if scm.Code(err) != scm.Unavailable || !strings.Contains(err.Error(), workspace+"/half was created") ||
		!strings.Contains(err.Error(), "initial commit is missing") {
		t.Errorf("CreateRepository with a failing commit = %v; want Unavailable naming the repository and the missing initial commit", err)
	}
}

func BenchmarkBitbucketCloudCreateRepository(b *testing.B) {
	e := benchEnv(b)
	u := e.fake.URL() + "/" + workspace
	fsys := adaptertest.CreateTree(50)
	adaptertest.Bench(b, e.requests, func(i int) error {
		_, err := e.c.CreateRepository(b.Context(), u, &scm.RepositorySpec{Name: fmt.Sprintf("svc-%d", i+1)}, fsys)
		return err
	})
}

func TestCreateRepositoryAccess(t *testing.T) {
	e := newEnv(t, nil, integrations.BitbucketCloudConfig{})
	e.fake.AddGroup(workspace, "developers")
	alice := "557058:ba8948b2-49da-43a9-9e8b-e7249b8e324a"
	e.fake.AddAccount(alice)
	spec := &scm.RepositorySpec{Name: "granted", Access: []scm.Access{
		{Team: "developers", Permission: scm.Write}, {User: alice, Permission: scm.Admin}}}
	before := e.requests()
	if _, err := e.c.CreateRepository(t.Context(), e.fake.URL()+"/"+workspace, spec, adaptertest.CreateTree(3)); err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	if n := e.requests() - before; n != 2+2 {
		t.Errorf("CreateRepository with 2 grants made %d requests; want 4 (2 + one per grant)", n)
	}
	want := []fakebitbucketcloud.Grant{{Group: "developers", Permission: "write"}, {User: alice, Permission: "admin"}}
	if got := e.fake.Grants(workspace, "granted"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("grants = %v; want %v", got, want)
	}
}

func TestCreateRepositoryAccessFailure(t *testing.T) {
	e := newEnv(t, nil, integrations.BitbucketCloudConfig{})
	e.fake.AddGroup(workspace, "developers")
	spec := &scm.RepositorySpec{Name: "half", Access: []scm.Access{
		{Team: "developers", Permission: scm.Read}, {User: "{d301aafa-d676-4ee0-88be-962be7417567}", Permission: scm.Read}}}
	_, err := e.c.CreateRepository(t.Context(), e.fake.URL()+"/"+workspace, spec, adaptertest.CreateTree(1))
	msg := fmt.Sprint(err)
	for _, want := range []string{workspace + "/half was created with its initial commit",
		"[user {d301aafa-d676-4ee0-88be-962be7417567}: read] are missing", "done: [team developers: read]"} {
		if !strings.Contains(msg, want) {
			t.Errorf("CreateRepository with an unknown user = %v; want it to say %q", err, want)
		}
	}
	if scm.Code(err) != scm.NotFound {
		t.Errorf("code = %v; want NotFound", scm.Code(err))
	}
	if got := e.fake.Grants(workspace, "half"); len(got) != 1 {
		t.Errorf("grants = %v; want the group's only", got)
	}
}

// BenchmarkBitbucketCloudCreateRepositoryAccess is the benchmark above
// with a group and a user granted access: 2 + 2 requests.
func BenchmarkBitbucketCloudCreateRepositoryAccess(b *testing.B) {
	e := benchEnv(b)
	e.fake.AddGroup(workspace, "developers")
	e.fake.AddAccount("557058:ba8948b2-49da-43a9-9e8b-e7249b8e324a")
	u := e.fake.URL() + "/" + workspace
	fsys := adaptertest.CreateTree(50)
	access := []scm.Access{{Team: "developers", Permission: scm.Write},
		{User: "557058:ba8948b2-49da-43a9-9e8b-e7249b8e324a", Permission: scm.Admin}}
	adaptertest.Bench(b, e.requests, func(i int) error {
		_, err := e.c.CreateRepository(b.Context(), u, &scm.RepositorySpec{Name: fmt.Sprintf("svc-%d", i+1), Access: access}, fsys)
		return err
	})
}

// TestCreateRepositoryAccessDotNames: a grant to a team or user named "."
// or ".." would be a PUT to .../permissions-config/groups/.., a path that
// dot-segment normalisation (RFC 3986, done by proxies) turns into
// another resource: refused with InvalidArgument before any request, so
// that nothing is created either.
func TestCreateRepositoryAccessDotNames(t *testing.T) {
	e := newEnv(t, nil, integrations.BitbucketCloudConfig{})
	for _, a := range []scm.Access{{Team: "..", Permission: scm.Admin}, {User: ".", Permission: scm.Admin}} {
		before := e.requests()
		_, err := e.c.CreateRepository(t.Context(), e.fake.URL()+"/"+workspace, &scm.RepositorySpec{Name: "dots", Access: []scm.Access{a}},
			adaptertest.CreateTree(1))
		if scm.Code(err) != scm.InvalidArgument || e.requests() != before {
			t.Errorf("CreateRepository granting %+v = %v after %d requests; want InvalidArgument after 0", a, err, e.requests()-before)
		}
	}
}
