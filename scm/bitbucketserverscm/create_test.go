package bitbucketserverscm_test

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

// createTree is adaptertest.CreateTree: n YAML files, the executable
// bin/run.sh and the binary logo.bin.
func createTree(n int) fstest.MapFS { return adaptertest.CreateTree(n) }

// TestCreateRepositoryRequests: a tree of any size is 3 requests (create,
// info/refs, receive-pack) and one commit, whose files keep their content
// and mode.
func TestCreateRepositoryRequests(t *testing.T) {
	for _, n := range []int{1, 20, 120} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			e := newEnv(t, "/bitbucket")
			fsys := createTree(n)
			owner := e.fake.URL() + "/projects/" + project
			before := e.requests()
			r, err := e.c.CreateRepository(t.Context(), owner, &scm.RepositorySpec{Name: "new-svc", DefaultBranch: "trunk"}, fsys)
			if err != nil {
				t.Fatalf("CreateRepository: %v", err)
			}
			if got := e.requests() - before; got != 3 {
				t.Errorf("CreateRepository of %d files made %d requests; want 3 (create, info/refs, receive-pack)", len(fsys), got)
			}
			if r.DefaultBranch != "trunk" || r.CommitID == "" || !r.Private {
				t.Errorf("CreateRepository = %+v; want default branch trunk, a commit id, private", r)
			}
			if head, ok := e.fake.Branch(project, "new-svc", "trunk"); !ok || head != r.CommitID {
				t.Errorf("trunk = %q, %v; want the returned commit %s", head, ok, r.CommitID)
			}
			if commits, err := e.fake.Commits(project, "new-svc", "trunk"); err != nil || len(commits) != 1 {
				t.Errorf("history of trunk = %v, %v; want one commit", commits, err)
			}
			files, err := e.fake.Files(project, "new-svc", "trunk")
			if err != nil || len(files) != len(fsys) {
				t.Fatalf("Files = %d, %v; want %d", len(files), err, len(fsys))
			}
			for _, f := range files {
				want := fsys[f.Path]
				if want == nil || string(f.Content) != string(want.Data) || f.Executable != (want.Mode&0o111 != 0) {
					t.Errorf("%s = %q executable %v; want %q mode %v", f.Path, f.Content, f.Executable, want.Data, want.Mode)
				}
			}
		})
	}
}

// TestCreateRepositoryPushCredentials: the push carries the REST API's
// credential as it is: Bearer for an HTTP access token, Basic for a
// username and password; a credential the git endpoints refuse leaves
// the repository created and says the initial commit is missing.
func TestCreateRepositoryPushCredentials(t *testing.T) {
	srv := fakebitbucketserver.New(&fakebitbucketserver.Options{Tokens: []string{goodToken},
		Users: map[string]string{"alice": "alice-password"}})
	t.Cleanup(srv.Close)
	srv.AddProject(project, "Acme")
	for _, tc := range []struct {
		name string
		conf integrations.BitbucketServerConfig
	}{
		{"token", integrations.BitbucketServerConfig{Token: integrations.NewSecret(goodToken)}},
		{"basic", integrations.BitbucketServerConfig{Username: "alice", Password: integrations.NewSecret("alice-password")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := tc.conf
			conf.Host, conf.APIBaseURL = srv.Host(), srv.APIBaseURL()
			c := adaptertest.NewClient(t, integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{conf}},
				&scm.Options{Drivers: map[integrations.Kind]driver.Opener{integrations.BitbucketServer: bitbucketserverscm.Opener(nil)}})
			r, err := c.CreateRepository(t.Context(), srv.URL()+"/projects/"+project, &scm.RepositorySpec{Name: "by-" + tc.name}, createTree(3))
			if err != nil || r.CommitID == "" {
				t.Fatalf("CreateRepository with %s = %+v, %v", tc.name, r, err)
			}
		})
	}
	// The git endpoints refuse the push (401): the repository exists,
	// empty, and the error says so.
	e := newEnv(t, "")
	e.fake.Inject(fake.Fault{Kind: scmtest.FaultUnauthorized, Method: "GET", Path: "/scm/"})
	_, err := e.c.CreateRepository(t.Context(), e.fake.URL()+"/projects/"+project, &scm.RepositorySpec{Name: "refused"}, createTree(2))
	if !strings.Contains(fmt.Sprint(err), project+"/refused was created, but its initial commit is missing") {
		t.Errorf("CreateRepository with the push refused = %v; want it to name the repository and the missing commit", err)
	}
	if _, ok := e.fake.Branch(project, "refused", "main"); ok {
		t.Error("the refused push wrote a branch")
	}
}

// TestCreateRepositoryRefusesPaths: a path git refuses is InvalidArgument
// before any request.
func TestCreateRepositoryRefusesPaths(t *testing.T) {
	e := newEnv(t, "")
	before := e.requests()
	fsys := fstest.MapFS{".git/config": {Data: []byte("x")}}
	_, err := e.c.CreateRepository(t.Context(), e.fake.URL()+"/projects/"+project, &scm.RepositorySpec{Name: "bad"}, fsys)
	if scm.Code(err) != scm.InvalidArgument || e.requests() != before {
		t.Errorf("CreateRepository with .git/config = %v after %d requests; want InvalidArgument after 0", err, e.requests()-before)
	}
}

func TestCreateRepositoryFailureAfterCreation(t *testing.T) {
	e := newEnv(t, "")
	e.fake.Inject(fake.Fault{Kind: scmtest.FaultServerError, Method: "POST", Path: "/scm/"})
	_, err := e.c.CreateRepository(t.Context(), e.fake.URL()+"/projects/"+project, &scm.RepositorySpec{Name: "half"}, createTree(2))
	if scm.Code(err) != scm.Unavailable || !strings.Contains(err.Error(), project+"/half was created") ||
		!strings.Contains(err.Error(), "initial commit is missing") {
		t.Errorf("CreateRepository with a failing push = %v; want Unavailable naming the repository and the missing commit", err)
	}
}

// TestCreateRepositoryPushAnswerLost: when the push's answer is lost
// after the server applied it, one more GET info/refs finds the branch
// at the pushed commit, and the creation succeeds in 4 requests.
func TestCreateRepositoryPushAnswerLost(t *testing.T) {
	e := newEnv(t, "")
	e.fake.Inject(fake.Fault{Kind: scmtest.FaultLostAnswer, Method: "POST", Path: "/scm/", Times: 1})
	before := e.requests()
	r, err := e.c.CreateRepository(t.Context(), e.fake.URL()+"/projects/"+project, &scm.RepositorySpec{Name: "lost"}, createTree(2))
	if err != nil {
		t.Fatalf("CreateRepository with the push's answer lost: %v", err)
	}
	if head, ok := e.fake.Branch(project, "lost", "main"); !ok || head != r.CommitID {
		t.Errorf("main = %q, %v; want %s", head, ok, r.CommitID)
	}
	if n := e.requests() - before; n != 4 {
		t.Errorf("%d requests; want 4 (create, info/refs, receive-pack, info/refs)", n)
	}
}

// BenchmarkBitbucketServerCreateRepository creates a repository of 51
// files (49 YAML files, an executable script, a binary file): 3
// requests/op (it was 51, one PUT browse per file, before the push).
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
	if n, want := e.requests()-before, 3+2; n != want {
		t.Errorf("CreateRepository with 2 grants made %d requests; want %d (3 + one per grant)", n, want)
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
// with a group and a user granted access: 3 + 2 requests.
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

// TestCreateRepositoryGitHTTPDisabled: an instance with Git over HTTP(S)
// turned off answers the ref advertisement with git's ERR packet: the
// creation fails PermissionDenied, naming the created repository and
// quoting the server, not an unreadable advertisement (Unknown).
func TestCreateRepositoryGitHTTPDisabled(t *testing.T) {
	e := newEnv(t, "")
	e.fake.SetGitHTTP(false)
	_, err := e.c.CreateRepository(t.Context(), e.fake.URL()+"/projects/"+project, &scm.RepositorySpec{Name: "nohttp"}, createTree(2))
	if scm.Code(err) != scm.PermissionDenied || !strings.Contains(err.Error(), project+"/nohttp was created") ||
		!strings.Contains(err.Error(), "the server refused: SCM access over HTTP(S) has been disabled") {
		t.Errorf("CreateRepository with Git over HTTP(S) off = %v (%v); want PermissionDenied quoting the server", err, scm.Code(err))
	}
	if strings.Contains(err.Error(), goodToken) {
		t.Errorf("the error quotes the token: %v", err)
	}
	e.fake.SetGitHTTP(true)
	if _, err := e.c.CreateRepository(t.Context(), e.fake.URL()+"/projects/"+project, &scm.RepositorySpec{Name: "withhttp"}, createTree(2)); err != nil {
		t.Errorf("CreateRepository with Git over HTTP(S) on again: %v", err)
	}
}

// renameTransport renames the repository a creation asks for, so that the
// slug Data Center gives it differs from the one the driver would derive
// from the requested name.
type renameTransport struct {
	next     http.RoundTripper
	from, to string
}

func (rt *renameTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/repos") && r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		b = bytes.Replace(b, []byte(`"name":"`+rt.from+`"`), []byte(`"name":"`+rt.to+`"`), 1)
		r = r.Clone(r.Context())
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	}
	return rt.next.RoundTrip(r)
}

// TestCreateRepositoryUsesAnsweredSlug: the push and the access grants go
// to the slug in Data Center's answer, not one derived from the name.
func TestCreateRepositoryUsesAnsweredSlug(t *testing.T) {
	e := newEnv(t, "")
	e.fake.AddGroup("platform-devs")
	d, hc := driverFor(t, e.fake, nil)
	hc2 := *hc
	hc2.Transport = &renameTransport{next: cmp.Or[http.RoundTripper](hc.Transport, http.DefaultTransport), from: "Svc One", to: "Svc Two"}
	r, err := d.CreateRepository(t.Context(), &hc2, &driver.CreateRepositoryRequest{Owner: project, Name: "Svc One", CommitMessage: "init",
		Files:  []driver.Change{{Path: "README.md", Content: []byte("# svc\n")}},
		Access: []driver.AccessGrant{{Team: "platform-devs", Permission: "write"}}})
	if err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	if r.Repository.Name != "svc-two" {
		t.Errorf("created %q; want svc-two", r.Repository.Name)
	}
	if head, ok := e.fake.Branch(project, "svc-two", "main"); !ok || head != r.CommitID {
		t.Errorf("svc-two main = %q, %v; want %s (the push went elsewhere)", head, ok, r.CommitID)
	}
}
