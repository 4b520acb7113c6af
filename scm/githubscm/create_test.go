package githubscm_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// textTree is a template of n text files.
func textTree(n int) fstest.MapFS {
	fsys := fstest.MapFS{}
	for i := range n {
		fsys[fmt.Sprintf("skeleton/dir%d/file%d.yaml", i%7, i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("n: %d\n", i)), Mode: 0o644}
	}
	return fsys
}

// requestsOf returns the requests fn made to the fake, as "METHOD path".
func (e *env) requestsOf(fn func()) []fake.Request {
	before := len(e.s.Requests())
	fn()
	return e.s.Requests()[before:]
}

func lines(reqs []fake.Request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.Method + " " + r.Path
	}
	return out
}

// TestCreateRepositoryRequests: the repository is created empty and the
// initial commit pushed with git's smart HTTP protocol, 3 requests for any
// tree (binary and executable files included), on github.com and on a
// GitHub Enterprise Server; the branch holds one root commit with exactly
// the tree, and becomes the default branch.
func TestCreateRepositoryRequests(t *testing.T) {
	binary := fstest.MapFS{
		"a.txt":      {Data: []byte("a\n"), Mode: 0o644},
		"logo.png":   {Data: []byte{0x89, 'P', 'N', 'G', 0, 1, 2, 0xff}, Mode: 0o644},
		"bin/run.sh": {Data: []byte("#!/bin/sh\necho run\n"), Mode: 0o755},
	}
	push := []string{"GET /acme/new-svc.git/info/refs?service=git-receive-pack", "POST /acme/new-svc.git/git-receive-pack"}
	for _, tc := range []struct {
		name string
		spec scm.RepositorySpec
		fsys fstest.MapFS
		want []string
	}{
		{"text tree, owner's default branch", scm.RepositorySpec{}, textTree(50), append([]string{"POST /orgs/acme/repos"}, push...)},
		{"one file", scm.RepositorySpec{}, textTree(1), append([]string{"POST /orgs/acme/repos"}, push...)},
		{"binary and executable files", scm.RepositorySpec{}, binary, append([]string{"POST /orgs/acme/repos"}, push...)},
		{"the same content and directories twice", scm.RepositorySpec{}, fstest.MapFS{
			"a/x.txt": {Data: []byte("same\n")}, "b/x.txt": {Data: []byte("same\n")}, "c.txt": {Data: []byte("same\n")}},
			append([]string{"POST /orgs/acme/repos"}, push...)},
		{"another default branch", scm.RepositorySpec{DefaultBranch: "trunk"}, textTree(50), append([]string{"POST /orgs/acme/repos"}, push...)},
		{"topics", scm.RepositorySpec{Topics: []string{"backstage", "go"}}, textTree(50),
			append(append([]string{"POST /orgs/acme/repos"}, push...), "PUT /repos/acme/new-svc/topics")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			both(t, func(t *testing.T, ghe bool) {
				e := newEnv(t, ghe, nil)
				e.s.AddOwner("acme", fakegithub.Organization)
				spec := tc.spec
				spec.Name = "new-svc"
				var r *scm.CreatedRepository
				reqs := e.requestsOf(func() {
					var err error
					r, err = e.c.CreateRepository(t.Context(), e.web("acme"), &spec, tc.fsys)
					if err != nil {
						t.Fatalf("CreateRepository: %v", err)
					}
				})
				want := slices.Clone(tc.want)
				if ghe {
					want[0] = "POST /api/v3/orgs/acme/repos"
					for i := 3; i < len(want); i++ {
						want[i] = strings.Replace(want[i], " /", " /api/v3/", 1)
					}
				}
				if got := lines(reqs); !slices.Equal(got, want) {
					t.Errorf("CreateRepository sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				for _, req := range reqs[1:3] {
					if user, pass, ok := (&http.Request{Header: req.Header}).BasicAuth(); !ok || user != "x-access-token" || pass != goodToken {
						t.Errorf("%s %s: Authorization %q; want Basic x-access-token with the token", req.Method, req.Path, req.Header.Get("Authorization"))
					}
				}
				branch := cmp.Or(spec.DefaultBranch, "main")
				if r.DefaultBranch != branch || r.CommitID == "" || !r.Private {
					t.Errorf("CreateRepository = %+v; want default branch %s, a commit id, private", r, branch)
				}
				info, ok := e.s.GetCommit("acme", "new-svc", "HEAD")
				if !ok || info.SHA != r.CommitID || len(info.Parents) != 0 || info.Message != "Initial commit" {
					t.Errorf("HEAD = %+v, %v; want the root commit %s, the default branch %s", info, ok, r.CommitID, branch)
				}
				files, err := e.s.Files("acme", "new-svc", branch)
				if err != nil || len(files) != len(tc.fsys) {
					t.Fatalf("Files = %d files, %v; want exactly the %d of the tree", len(files), err, len(tc.fsys))
				}
				for _, f := range files {
					src := tc.fsys[f.Path]
					if src == nil || !bytes.Equal(f.Content, src.Data) || f.Executable != (src.Mode&0o111 != 0) || f.Symlink {
						t.Errorf("%s: %q, executable %v; want %q, mode %v", f.Path, f.Content, f.Executable, src.Data, src.Mode)
					}
				}
			})
		})
	}
}

// TestCreateRepositoryFailureAfterCreation: a failing or refused push
// names the repository and the missing initial commit, with the code of
// GitHub's answer and, for a refusal, GitHub's reason.
func TestCreateRepositoryFailureAfterCreation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		arm   func(s *fakegithub.Server)
		code  scm.ErrorCode
		words []string
	}{
		{"push answered 500", func(s *fakegithub.Server) {
			s.Inject(fake.Fault{Kind: fake.FaultServerError, Method: "POST", Path: "/acme/half.git/git-receive-pack"})
		}, scm.Unavailable, nil},
		{"ref advertisement answered 401", func(s *fakegithub.Server) {
			s.Inject(fake.Fault{Kind: fake.FaultUnauthorized, Path: "/acme/half.git/info/refs"})
		}, scm.Unauthorized, nil},
		{"ref advertisement answered 404", func(s *fakegithub.Server) {
			s.Inject(fake.Fault{Kind: fake.FaultNotFound, Path: "/acme/half.git/info/refs"})
		}, scm.NotFound, nil},
		{"push refused by a ruleset", func(s *fakegithub.Server) { s.RejectPushes("acme", "half", "main") },
			scm.PermissionDenied, []string{"push declined due to repository rule violations", "GH013: Repository rule violations found for refs/heads/main"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, false, nil)
			e.s.AddOwner("acme", fakegithub.Organization)
			tc.arm(e.s)
			_, err := e.c.CreateRepository(t.Context(), e.web("acme"), &scm.RepositorySpec{Name: "half"}, textTree(3))
			if scm.Code(err) != tc.code {
				t.Errorf("code = %v; want %v (error %v)", scm.Code(err), tc.code, err)
			}
			for _, w := range append([]string{"acme/half was created", "initial commit is missing"}, tc.words...) {
				if !strings.Contains(fmt.Sprint(err), w) {
					t.Errorf("CreateRepository = %v; want it to say %q", err, w)
				}
			}
			if _, ok := e.s.Ref("acme", "half", "main"); ok {
				t.Error("the branch was written")
			}
		})
	}
}

// TestCreateRepositoryPushKeepsTheToken: the push's credential goes to
// the integration's host only, and a git endpoint that echoes the
// credentials in its error gets them into no error, in any encoding.
func TestCreateRepositoryPushKeepsTheToken(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	rec := roundTripper(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		sent = append(sent, r.URL.Host+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		return http.DefaultTransport.RoundTrip(r)
	})
	s := fakegithub.New(&fakegithub.Options{Tokens: []string{goodToken}})
	t.Cleanup(s.Close)
	s.AddOwner("acme", fakegithub.Organization)
	c, err := newClient(s, false, goodToken, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Inject(fake.Fault{Kind: fake.FaultEchoCredentials, Method: "POST", Path: "/acme/echo.git/git-receive-pack"})
	_, err = c.CreateRepository(t.Context(), "https://"+s.Host()+"/acme", &scm.RepositorySpec{Name: "echo"}, textTree(2))
	if scm.Code(err) != scm.InvalidArgument || !strings.Contains(fmt.Sprint(err), "acme/echo was created") {
		t.Errorf("CreateRepository with an echoing push endpoint = %v; want InvalidArgument (400) naming acme/echo", err)
	}
	basic := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + goodToken))
	for _, form := range []string{goodToken, basic} {
		if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), form) {
			t.Errorf("the error shows the credential (%.12s...): %v", form, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sent) != 3 {
		t.Errorf("sent %d requests; want 3", len(sent))
	}
	for _, line := range sent {
		if !strings.HasPrefix(line, s.Host()+" ") {
			t.Errorf("a request went to another host: %q", line)
		}
	}
}

// TestCreateRepositoryPushRedirectedAway: the web host redirects the ref
// advertisement to another host (as GitHub redirects a renamed
// repository's git URLs): that host gets no credential, and the push is
// not sent.
func TestCreateRepositoryPushRedirectedAway(t *testing.T) {
	var (
		mu          sync.Mutex
		foreignAuth []string
	)
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		foreignAuth = append(foreignAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Basic realm="elsewhere"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(foreign.Close)
	s := fakegithub.New(&fakegithub.Options{Tokens: []string{goodToken}})
	t.Cleanup(s.Close)
	s.AddOwner("acme", fakegithub.Organization)
	posts := 0
	rt := roundTripper(func(r *http.Request) (*http.Response, error) {
		switch {
		case r.URL.Host == s.Host() && strings.HasSuffix(r.URL.Path, "/info/refs"):
			return &http.Response{StatusCode: http.StatusFound, Request: r, Body: http.NoBody,
				Header: http.Header{"Location": {foreign.URL + r.URL.RequestURI()}}}, nil
		case strings.HasSuffix(r.URL.Path, "/git-receive-pack"):
			posts++
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	c, err := newClient(s, false, goodToken, rt, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateRepository(t.Context(), "https://"+s.Host()+"/acme", &scm.RepositorySpec{Name: "moved"}, textTree(2))
	if scm.Code(err) != scm.Unauthorized || !strings.Contains(fmt.Sprint(err), "acme/moved was created") {
		t.Errorf("CreateRepository redirected to another host = %v; want Unauthorized naming acme/moved", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(foreignAuth) != 1 || foreignAuth[0] != "" {
		t.Errorf("the other host got Authorization %q; want one request without", foreignAuth)
	}
	if posts != 0 {
		t.Errorf("the push was sent %d times; want none", posts)
	}
}

// TestCreateRepositoryPushPreconditions: the push is not sent when the
// repository stopped being empty after its creation (Conflict) or when
// the web host does not speak git's smart protocol (a sign-in page); a
// path git refuses is refused before any request.
func TestCreateRepositoryPushPreconditions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		intro func(s *fakegithub.Server, r *http.Request) *http.Response // before the ref advertisement
		code  scm.ErrorCode
		words string
	}{
		{"someone pushed first", func(s *fakegithub.Server, r *http.Request) *http.Response {
			if _, err := s.Commit("acme", "raced", "main", fakegithub.Commit{Files: []fakegithub.File{{Path: "x", Content: []byte("x")}}}); err != nil {
				panic(err)
			}
			return nil
		}, scm.Conflict, "no longer empty (it has refs/heads/main): nothing was pushed"},
		{"a sign-in page", func(s *fakegithub.Server, r *http.Request) *http.Response {
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/html"}}, Request: r,
				Body: io.NopCloser(strings.NewReader("<html>Sign in</html>"))}
		}, scm.Unknown, "an answer of type text/html, not application/x-git-receive-pack-advertisement"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fakegithub.New(&fakegithub.Options{Tokens: []string{goodToken}})
			t.Cleanup(s.Close)
			s.AddOwner("acme", fakegithub.Organization)
			posts := 0
			rt := roundTripper(func(r *http.Request) (*http.Response, error) {
				if strings.HasSuffix(r.URL.Path, "/info/refs") {
					if resp := tc.intro(s, r); resp != nil {
						return resp, nil
					}
				}
				if strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
					posts++
				}
				return http.DefaultTransport.RoundTrip(r)
			})
			c, err := newClient(s, false, goodToken, rt, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.CreateRepository(t.Context(), "https://"+s.Host()+"/acme", &scm.RepositorySpec{Name: "raced"}, textTree(2))
			if scm.Code(err) != tc.code || !strings.Contains(fmt.Sprint(err), tc.words) || !strings.Contains(fmt.Sprint(err), "acme/raced was created") {
				t.Errorf("CreateRepository = %v; want %v naming acme/raced and saying %q", err, tc.code, tc.words)
			}
			if posts != 0 {
				t.Errorf("the push was sent %d times; want none", posts)
			}
		})
	}
	for _, tc := range []struct {
		name   string
		fsys   fstest.MapFS
		author *githubscm.Signature
	}{
		{"a .git directory", fstest.MapFS{".git/config": {Data: []byte("[core]\n")}}, nil},
		{"git~1, .git to NTFS", fstest.MapFS{"git~1/config": {Data: []byte("x")}}, nil},
		{".g\u200cit, .git to HFS+", fstest.MapFS{".g\u200cit/config": {Data: []byte("x")}}, nil},
		{"a .gitmodules directory", fstest.MapFS{".gitmodules/x": {Data: []byte("x")}}, nil},
		{"an author with '>'", textTree(1), &githubscm.Signature{Name: "a>b", Email: "a@b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fakegithub.New(&fakegithub.Options{Tokens: []string{goodToken}})
			t.Cleanup(s.Close)
			s.AddOwner("acme", fakegithub.Organization)
			before := len(s.Requests())
			c, err := newClient(s, false, goodToken, nil, &githubscm.Options{CommitAuthor: tc.author})
			if tc.author != nil {
				if scm.Code(err) != scm.InvalidArgument || len(s.Requests()) != before {
					t.Errorf("NewClient with CommitAuthor %+v = %v after %d requests; want InvalidArgument, none", tc.author, err, len(s.Requests())-before)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.fsys["README.md"] = &fstest.MapFile{Data: []byte("x")}
			_, err = c.CreateRepository(t.Context(), "https://"+s.Host()+"/acme", &scm.RepositorySpec{Name: "refused"}, tc.fsys)
			if scm.Code(err) != scm.InvalidArgument {
				t.Errorf("CreateRepository = %v; want InvalidArgument", err)
			}
			if n := len(s.Requests()) - before; n != 0 {
				t.Errorf("CreateRepository made %d requests; want 0", n)
			}
		})
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// BenchmarkGitHubCreateRepository creates a repository with a 50-file
// text tree: 3 requests (the REST Git Data path cost 4).
func BenchmarkGitHubCreateRepository(b *testing.B) {
	e := newEnv(b, false, nil)
	e.s.AddOwner("acme", fakegithub.Organization)
	fsys := textTree(50)
	measure(b, e, func(i int) error {
		_, err := e.c.CreateRepository(b.Context(), e.web("acme"), &scm.RepositorySpec{Name: fmt.Sprintf("svc-%d", i)}, fsys)
		return err
	})
}

func TestCreateRepositoryUserOwner(t *testing.T) {
	e := newEnvWith(t, false, &fakegithub.Options{Tokens: []string{goodToken}, User: "alice"}, nil)
	var r *scm.CreatedRepository
	n := e.count(func() {
		var err error
		r, err = e.c.CreateRepository(t.Context(), e.web("alice"), &scm.RepositorySpec{Name: "dotfiles"}, textTree(3))
		if err != nil {
			t.Fatalf("CreateRepository for the user: %v", err)
		}
	})
	// 404 from /orgs/alice/repos, GET /user, then the 3 of an organization.
	if n != 5 || r.Owner != "alice" {
		t.Errorf("CreateRepository for the user = %+v after %d requests; want alice/dotfiles after 5", r, n)
	}
	n = e.count(func() {
		_, err := e.c.CreateRepository(t.Context(), e.web("bob"), &scm.RepositorySpec{Name: "dotfiles2"}, textTree(3))
		if scm.Code(err) != scm.NotFound {
			t.Errorf("CreateRepository for another user = %v; want NotFound", err)
		}
	})
	if n != 2 {
		t.Errorf("CreateRepository for another user made %d requests; want 2 (nothing created)", n)
	}
	if _, err := e.s.Files("alice", "dotfiles2", "main"); err == nil {
		t.Error("alice/dotfiles2 was created for bob's URL")
	}
}

func TestCreateRepositoryAccess(t *testing.T) {
	e := newEnv(t, false, nil)
	e.s.AddOwner("acme", fakegithub.Organization)
	e.s.AddOwner("carol", fakegithub.User)
	if err := e.s.AddOrgMember("acme", fakegithub.OrgMember{Login: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.AddTeam("acme", fakegithub.Team{Slug: "platform"}); err != nil {
		t.Fatal(err)
	}
	spec := &scm.RepositorySpec{Name: "granted", Access: []scm.Access{
		{Team: "platform", Permission: scm.Write}, {User: "alice", Permission: scm.Admin}, {User: "carol", Permission: scm.Read}}}
	n := e.count(func() {
		if _, err := e.c.CreateRepository(t.Context(), e.web("acme"), spec, textTree(5)); err != nil {
			t.Fatalf("CreateRepository: %v", err)
		}
	})
	if n != 3+3 {
		t.Errorf("CreateRepository with 3 grants made %d requests; want 6 (3 + one per grant)", n)
	}
	want := []fakegithub.Grant{{Team: "platform", Permission: "push"}, {User: "alice", Permission: "admin"},
		{User: "carol", Permission: "pull", Invited: true}}
	if got := e.s.Grants("acme", "granted"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("grants = %+v; want %+v", got, want)
	}
}

func TestCreateRepositoryAccessFailure(t *testing.T) {
	e := newEnv(t, false, nil)
	e.s.AddOwner("acme", fakegithub.Organization)
	if err := e.s.AddTeam("acme", fakegithub.Team{Slug: "platform"}); err != nil {
		t.Fatal(err)
	}
	spec := &scm.RepositorySpec{Name: "half", Access: []scm.Access{
		{Team: "platform", Permission: scm.Write}, {Team: "ghosts", Permission: scm.Read}, {User: "nobody", Permission: scm.Read}}}
	_, err := e.c.CreateRepository(t.Context(), e.web("acme"), spec, textTree(3))
	msg := fmt.Sprint(err)
	for _, want := range []string{"acme/half was created with its initial commit", "[team ghosts: read user nobody: read] are missing",
		"done: [team platform: write]"} {
		if !strings.Contains(msg, want) {
			t.Errorf("CreateRepository with an unknown team = %v; want it to say %q", err, want)
		}
	}
	if scm.Code(err) != scm.NotFound {
		t.Errorf("code = %v; want NotFound (GitHub's 404 for the team)", scm.Code(err))
	}
	if _, err := e.s.Files("acme", "half", "main"); err != nil {
		t.Errorf("the initial commit is missing: %v", err)
	}
}

func TestCreateRepositoryAccessRefusedBeforeCreation(t *testing.T) {
	e := newEnvWith(t, false, &fakegithub.Options{Tokens: []string{goodToken}, User: "alice"}, nil)
	one := func(a scm.Access) []scm.Access { return []scm.Access{a} }
	for _, tc := range []struct {
		name   string
		owner  string
		access []scm.Access
	}{
		{"unknown permission", "acme", one(scm.Access{Team: "platform", Permission: "owner"})},
		{"no team nor user", "acme", one(scm.Access{Permission: scm.Read})},
		{"team and user", "acme", one(scm.Access{Team: "platform", User: "alice", Permission: scm.Read})},
		{"control character", "acme", one(scm.Access{User: "al\nice", Permission: scm.Read})},
		{"query in a name", "acme", one(scm.Access{Team: "platform?x=1", Permission: scm.Read})},
		{"user twice", "acme", []scm.Access{{User: "bob", Permission: scm.Read}, {User: "Bob", Permission: scm.Write}}},
		{"slash in a team slug", "acme", one(scm.Access{Team: "a/b", Permission: scm.Read})},
		{"team on a user's repository", "alice", one(scm.Access{Team: "platform", Permission: scm.Read})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.c.CreateRepository(t.Context(), e.web(tc.owner), &scm.RepositorySpec{Name: "refused", Access: tc.access}, textTree(1))
			if scm.Code(err) != scm.InvalidArgument {
				t.Errorf("CreateRepository(%+v) = %v; want InvalidArgument", tc.access, err)
			}
			if _, err := e.s.Files(tc.owner, "refused", "main"); err == nil {
				t.Errorf("%s/refused was created", tc.owner)
			}
		})
	}
}

// BenchmarkGitHubCreateRepositoryAccess is the benchmark above with a
// team and a user granted access: 3 + 2 requests.
func BenchmarkGitHubCreateRepositoryAccess(b *testing.B) {
	e := newEnv(b, false, nil)
	e.s.AddOwner("acme", fakegithub.Organization)
	if err := e.s.AddOrgMember("acme", fakegithub.OrgMember{Login: "alice"}); err != nil {
		b.Fatal(err)
	}
	if err := e.s.AddTeam("acme", fakegithub.Team{Slug: "platform"}); err != nil {
		b.Fatal(err)
	}
	fsys := textTree(50)
	access := []scm.Access{{Team: "platform", Permission: scm.Write}, {User: "alice", Permission: scm.Admin}}
	measure(b, e, func(i int) error {
		_, err := e.c.CreateRepository(b.Context(), e.web("acme"), &scm.RepositorySpec{Name: fmt.Sprintf("svc-%d", i), Access: access}, fsys)
		return err
	})
}

// TestCreateRepositoryPushAnswerLost: when the answer to the POST
// git-receive-pack is lost (a connection reset after the pack was sent, a
// 5xx, an unreadable report, the caller's context cancelled meanwhile),
// one more GET info/refs says whether the branch holds the pushed commit:
// then CreateRepository succeeds; if it does not, the error says the
// initial commit is missing; if the check fails (or the context is done,
// when no check is made), it says the initial commit may be missing.
func TestCreateRepositoryPushAnswerLost(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	type step func(r *http.Request, cancel func()) (*http.Response, error)
	forward := func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	answer := func(r *http.Request, status int, ctype, body string) *http.Response {
		return &http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), Request: r,
			Header: http.Header{"Content-Type": {ctype}}, Body: io.NopCloser(strings.NewReader(body))}
	}
	for _, tc := range []struct {
		name   string
		post   step
		check  step // the second GET info/refs; nil: the fake answers
		landed bool
		code   scm.ErrorCode // of the error; OK: CreateRepository succeeds
		words  []string
		gets   int // GET info/refs sent
	}{
		{"connection reset after the push landed", func(r *http.Request, _ func()) (*http.Response, error) {
			if _, err := forward(r); err != nil {
				return nil, err
			}
			return nil, reset
		}, nil, true, scm.OK, nil, 2},
		{"502 after the push landed", func(r *http.Request, _ func()) (*http.Response, error) {
			if _, err := forward(r); err != nil {
				return nil, err
			}
			return answer(r, http.StatusBadGateway, "text/html", "<html>bad gateway</html>"), nil
		}, nil, true, scm.OK, nil, 2},
		{"unreadable report after the push landed", func(r *http.Request, _ func()) (*http.Response, error) {
			if _, err := forward(r); err != nil {
				return nil, err
			}
			return answer(r, http.StatusOK, "application/x-git-receive-pack-result", "garbage"), nil
		}, nil, true, scm.OK, nil, 2},
		{"connection reset before the push landed", func(r *http.Request, _ func()) (*http.Response, error) {
			io.Copy(io.Discard, r.Body)
			return nil, reset
		}, nil, false, scm.Unavailable, []string{"initial commit is missing", "connection reset by peer"}, 2},
		{"connection reset, and the check fails", func(r *http.Request, _ func()) (*http.Response, error) {
			if _, err := forward(r); err != nil {
				return nil, err
			}
			return nil, reset
		}, func(r *http.Request, _ func()) (*http.Response, error) {
			return answer(r, http.StatusNotFound, "text/plain", "Repository not found.\n"), nil
		}, true, scm.Unavailable, []string{"initial commit may be missing", "reading the branch back failed", "404 Not Found: Repository not found.", "connection reset by peer"}, 2},
		{"context cancelled after sending", func(r *http.Request, cancel func()) (*http.Response, error) {
			if _, err := forward(r); err != nil {
				return nil, err
			}
			cancel()
			return nil, context.Canceled
		}, nil, true, scm.Canceled, []string{"initial commit may be missing", "the context ended before the branch could be read back"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fakegithub.New(&fakegithub.Options{Tokens: []string{goodToken}})
			t.Cleanup(s.Close)
			s.AddOwner("acme", fakegithub.Organization)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var gets atomic.Int32
			rt := roundTripper(func(r *http.Request) (*http.Response, error) {
				switch {
				case strings.HasSuffix(r.URL.Path, "/git-receive-pack"):
					return tc.post(r, cancel)
				case strings.HasSuffix(r.URL.Path, "/info/refs"):
					if gets.Add(1) == 2 && tc.check != nil {
						return tc.check(r, cancel)
					}
				}
				return http.DefaultTransport.RoundTrip(r)
			})
			c, err := newClient(s, false, goodToken, rt, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.CreateRepository(ctx, "https://"+s.Host()+"/acme", &scm.RepositorySpec{Name: "lost"}, textTree(2))
			ref, landed := s.Ref("acme", "lost", "main")
			if landed != tc.landed {
				t.Fatalf("the branch landed: %v; the test wants %v", landed, tc.landed)
			}
			if scm.Code(err) != tc.code {
				t.Errorf("CreateRepository = %v; want code %v", err, tc.code)
			}
			if err == nil && got.CommitID != ref {
				t.Errorf("CommitID = %q; the branch holds %q", got.CommitID, ref)
			}
			for _, w := range tc.words {
				if !strings.Contains(fmt.Sprint(err), w) || !strings.Contains(fmt.Sprint(err), "acme/lost was created") {
					t.Errorf("CreateRepository = %v; want it to name acme/lost and say %q", err, w)
				}
			}
			if n := int(gets.Load()); n != tc.gets {
				t.Errorf("sent %d GET info/refs; want %d", n, tc.gets)
			}
		})
	}
}

// TestCreateRepositoryPushAnswerLostByTheFake: the fake applies the push
// and closes the connection without answering (FaultLostAnswer):
// CreateRepository reads the branch back and succeeds, in 4 requests.
func TestCreateRepositoryPushAnswerLostByTheFake(t *testing.T) {
	e := newEnv(t, false, nil)
	e.s.AddOwner("acme", fakegithub.Organization)
	e.s.Inject(fake.Fault{Kind: fake.FaultLostAnswer, Method: "POST", Path: "/acme/lost.git/git-receive-pack", Times: 1})
	var got *scm.CreatedRepository
	reqs := e.requestsOf(func() {
		var err error
		if got, err = e.c.CreateRepository(t.Context(), e.web("acme"), &scm.RepositorySpec{Name: "lost"}, textTree(3)); err != nil {
			t.Errorf("CreateRepository = %v; want the pushed commit found", err)
		}
	})
	if ref, ok := e.s.Ref("acme", "lost", "main"); !ok || got == nil || got.CommitID != ref {
		t.Errorf("CreateRepository = %+v; the branch holds %q (%v)", got, ref, ok)
	}
	want := []string{"POST /orgs/acme/repos", "GET /acme/lost.git/info/refs?service=git-receive-pack",
		"POST /acme/lost.git/git-receive-pack", "GET /acme/lost.git/info/refs?service=git-receive-pack"}
	if l := lines(reqs); !slices.Equal(l, want) {
		t.Errorf("requests = %q; want %q", l, want)
	}
}

// TestCreateRepositoryErrorCodeOnce: an error after the creation that
// carries a host (here from the transport) shows its code once.
func TestCreateRepositoryErrorCodeOnce(t *testing.T) {
	s := fakegithub.New(&fakegithub.Options{Tokens: []string{goodToken}})
	t.Cleanup(s.Close)
	s.AddOwner("acme", fakegithub.Organization)
	rt := roundTripper(func(r *http.Request) (*http.Response, error) {
		if strings.HasSuffix(r.URL.Path, "/info/refs") {
			return nil, &errcode.Error{Code: errcode.Unavailable, Host: s.Host(), Msg: "the proxy is down"}
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	c, err := newClient(s, false, goodToken, rt, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateRepository(t.Context(), "https://"+s.Host()+"/acme", &scm.RepositorySpec{Name: "once"}, textTree(1))
	if msg := fmt.Sprint(err); scm.Code(err) != scm.Unavailable || strings.Count(msg, "(Unavailable") != 1 ||
		!strings.Contains(msg, "the proxy is down") || !strings.Contains(msg, "initial commit is missing") {
		t.Errorf("CreateRepository = %v; want Unavailable once, saying the initial commit is missing and the proxy is down", err)
	}
}

// TestCreateRepositoryPushPostRedirected: a redirect of the POST
// git-receive-pack (307, 308 keep the body; 302 would become a GET) is not
// followed: the other host receives nothing, the pack included, and the
// error says so, naming the repository, without a second GET info/refs.
func TestCreateRepositoryPushPostRedirected(t *testing.T) {
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var foreignHits atomic.Int32
			foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				foreignHits.Add(1)
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusNotFound)
			}))
			t.Cleanup(foreign.Close)
			s := fakegithub.New(&fakegithub.Options{Tokens: []string{goodToken}})
			t.Cleanup(s.Close)
			s.AddOwner("acme", fakegithub.Organization)
			var gets atomic.Int32
			rt := roundTripper(func(r *http.Request) (*http.Response, error) {
				if r.URL.Host == s.Host() && strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
					io.Copy(io.Discard, r.Body)
					return &http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), Request: r,
						Body: http.NoBody, Header: http.Header{"Location": {foreign.URL + r.URL.RequestURI() + "?token=secret"}}}, nil
				}
				if strings.HasSuffix(r.URL.Path, "/info/refs") {
					gets.Add(1)
				}
				return http.DefaultTransport.RoundTrip(r)
			})
			c, err := newClient(s, false, goodToken, rt, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.CreateRepository(t.Context(), "https://"+s.Host()+"/acme", &scm.RepositorySpec{Name: "moved"}, textTree(2))
			msg := fmt.Sprint(err)
			if scm.Code(err) != scm.Unknown || !strings.Contains(msg, "acme/moved was created") ||
				!strings.Contains(msg, "does not follow a redirect") || !strings.Contains(msg, foreign.URL) || strings.Contains(msg, "secret") {
				t.Errorf("CreateRepository = %v; want Unknown naming acme/moved, the redirect's host (no query), and that it is not followed", err)
			}
			if n := foreignHits.Load(); n != 0 {
				t.Errorf("the other host received %d requests; want none", n)
			}
			if n := gets.Load(); n != 1 {
				t.Errorf("sent %d GET info/refs; want 1 (a redirect settles the push: not applied)", n)
			}
		})
	}
}
