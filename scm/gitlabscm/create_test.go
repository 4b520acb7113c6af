package gitlabscm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/gitlabscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

func TestCreateRepositoryRequests(t *testing.T) {
	for _, tc := range []struct {
		name  string
		owner string
		spec  scm.RepositorySpec
	}{
		{"group", "acme", scm.RepositorySpec{}},
		{"subgroup, branch, topics, internal", "acme/platform", scm.RepositorySpec{DefaultBranch: "trunk",
			Topics: []string{"backstage"}, Visibility: scm.Internal}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{})
			if err := w.s.AddGroup(tc.owner); err != nil {
				t.Fatal(err)
			}
			spec := tc.spec
			spec.Name = "new-svc"
			fsys := adaptertest.CreateTree(50)
			before := w.requests()
			r, err := w.c.CreateRepository(t.Context(), w.ownerURL(t, tc.owner), &spec, fsys)
			if err != nil {
				t.Fatalf("CreateRepository: %v", err)
			}
			if n := w.requests() - before; n != 3 {
				t.Errorf("CreateRepository made %d requests; want 3", n)
			}
			branch := cmpOr(spec.DefaultBranch, "main")
			if r.DefaultBranch != branch || r.CommitID == "" || r.Owner != tc.owner {
				t.Errorf("CreateRepository = %+v; want owner %s, default branch %s and a commit id", r, tc.owner, branch)
			}
			commits, err := w.s.Commits(tc.owner+"/new-svc", branch)
			if err != nil || len(commits) != 1 || commits[0] != r.CommitID {
				t.Errorf("Commits = %v, %v; want the one commit %s", commits, err, r.CommitID)
			}
			files, err := w.s.Files(tc.owner+"/new-svc", branch)
			if err != nil || len(files) != len(fsys) {
				t.Fatalf("Files = %d, %v; want %d", len(files), err, len(fsys))
			}
			for _, f := range files {
				if string(f.Content) != string(fsys[f.Path].Data) || f.Executable != (f.Path == "bin/run.sh") {
					t.Errorf("%s = %q exec %v; want %q", f.Path, f.Content, f.Executable, fsys[f.Path].Data)
				}
			}
		})
	}
}

func TestCreateRepositoryFailureAfterCreation(t *testing.T) {
	w := newWorld(t, worldOptions{})
	if err := w.s.AddGroup("acme"); err != nil {
		t.Fatal(err)
	}
	w.s.Inject(fake.Fault{Kind: fake.FaultServerError, Method: "POST", Path: "/api/v4/projects/"})
	_, err := w.c.CreateRepository(t.Context(), w.ownerURL(t, "acme"), &scm.RepositorySpec{Name: "half"}, adaptertest.CreateTree(2))
	if scm.Code(err) != scm.Unavailable || !strings.Contains(err.Error(), "acme/half was created") ||
		!strings.Contains(err.Error(), "initial commit is missing") {
		t.Errorf("CreateRepository with a failing commit = %v; want Unavailable naming acme/half and the missing initial commit", err)
	}
}

// BenchmarkGitLabCreateRepository creates projects of 50 files in one
// subgroup: "remembered" with the driver knowing the subgroup's id (every
// project after the first), "looked-up" with the memory off.
func BenchmarkGitLabCreateRepository(b *testing.B) {
	for _, bc := range []struct {
		name string
		ttl  time.Duration
	}{{"remembered", 0}, {"looked-up", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			w := newWorld(b, worldOptions{driver: &gitlabscm.Options{NamespaceTTL: bc.ttl}})
			if err := w.s.AddGroup("acme/platform"); err != nil {
				b.Fatal(err)
			}
			u := w.ownerURL(b, "acme/platform")
			fsys := adaptertest.CreateTree(50)
			if _, err := w.c.CreateRepository(b.Context(), u, &scm.RepositorySpec{Name: "first"}, fsys); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			before := w.requests()
			i := 0
			for b.Loop() {
				if _, err := w.c.CreateRepository(b.Context(), u, &scm.RepositorySpec{Name: fmt.Sprintf("svc-%d", i)}, fsys); err != nil {
					b.Fatal(err)
				}
				i++
			}
			report(b, w, before)
		})
	}
}

// projectID matches a numeric project id in a path.
var projectID = regexp.MustCompile(`/projects/[0-9]+/`)

// createdPaths lists the method and path of the requests since the n-th,
// with the project ids as {id} and the escaped slashes unescaped.
func createdPaths(w *world, n int) []string {
	var out []string
	for _, r := range w.s.Requests()[n:] {
		p := projectID.ReplaceAllString(strings.ReplaceAll(r.Path, "%2F", "/"), "/projects/{id}/")
		out = append(out, r.Method+" "+p)
	}
	return out
}

func TestCreateRepositoryRemembersNamespace(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	w := newWorld(t, worldOptions{driver: &gitlabscm.Options{Now: func() time.Time { return now }}})
	if err := w.s.AddGroup("acme/platform"); err != nil {
		t.Fatal(err)
	}
	u := w.ownerURL(t, "acme/platform")
	lookup := []string{"GET /api/v4/namespaces/acme/platform"}
	create := []string{"POST /api/v4/projects", "POST /api/v4/projects/{id}/repository/commits"}
	for i, step := range []struct {
		advance time.Duration
		want    []string
	}{
		{0, append(lookup, create...)},                        // cold: look the namespace up
		{gitlabscm.DefaultNamespaceTTL - time.Second, create}, // remembered: 2 requests
		{time.Second, append(lookup, create...)},              // expired: looked up again
		{0, create},
	} {
		now = now.Add(step.advance)
		n := len(w.s.Requests())
		if _, err := w.c.CreateRepository(t.Context(), u, &scm.RepositorySpec{Name: fmt.Sprintf("svc-%d", i)}, adaptertest.CreateTree(5)); err != nil {
			t.Fatalf("CreateRepository %d: %v", i, err)
		}
		if got := createdPaths(w, n); fmt.Sprint(got) != fmt.Sprint(step.want) {
			t.Errorf("CreateRepository %d sent %v; want %v", i, got, step.want)
		}
	}
}
func TestCreateRepositoryAccess(t *testing.T) {
	w := newWorld(t, worldOptions{})
	if err := w.s.AddGroup("acme/platform"); err != nil {
		t.Fatal(err)
	}
	if err := w.s.AddGroup("acme/sre"); err != nil {
		t.Fatal(err)
	}
	w.s.AddOrgUser(fakegitlab.Member{Username: "bob"})
	w.s.AddOrgUser(fakegitlab.Member{Username: "alice"})
	spec := &scm.RepositorySpec{Name: "granted", Access: []scm.Access{
		{Team: "acme/sre", Permission: scm.Write}, {User: "alice", Permission: scm.Admin}, {User: "bob", Permission: scm.Read}}}
	before := w.requests()
	if _, err := w.c.CreateRepository(t.Context(), w.ownerURL(t, "acme/platform"), spec, adaptertest.CreateTree(3)); err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	if n := w.requests() - before; n != 3+2*3 {
		t.Errorf("CreateRepository with 3 grants made %d requests; want 9 (3 + a look-up and a grant each)", n)
	}
	want := []fakegitlab.Grant{{Group: "acme/sre", AccessLevel: 30}, {User: "alice", AccessLevel: 40}, {User: "bob", AccessLevel: 20}}
	if got := w.s.Grants("acme/platform/granted"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("grants = %v; want %v", got, want)
	}
}

func TestCreateRepositoryAccessUnknownCreatesNothing(t *testing.T) {
	w := newWorld(t, worldOptions{})
	if err := w.s.AddGroup("acme"); err != nil {
		t.Fatal(err)
	}
	for _, a := range []scm.Access{{Team: "acme/ghosts", Permission: scm.Read}, {User: "nobody", Permission: scm.Read}} {
		_, err := w.c.CreateRepository(t.Context(), w.ownerURL(t, "acme"), &scm.RepositorySpec{Name: "refused",
			Access: []scm.Access{a}}, adaptertest.CreateTree(1))
		if scm.Code(err) != scm.NotFound || !strings.Contains(err.Error(), "before creating anything") &&
			!strings.Contains(err.Error(), "nothing was created") {
			t.Errorf("CreateRepository granting %+v = %v; want NotFound saying nothing was created", a, err)
		}
		if _, err := w.s.Files("acme/refused", "main"); err == nil {
			t.Errorf("acme/refused was created for %+v", a)
		}
	}
}

func TestCreateRepositoryAccessFailure(t *testing.T) {
	w := newWorld(t, worldOptions{})
	if err := w.s.AddGroup("acme/sre"); err != nil {
		t.Fatal(err)
	}
	// alice maintains acme: GitLab refuses a lower direct membership.
	if err := w.s.AddGroupMember("acme", fakegitlab.Member{Username: "alice", AccessLevel: 40}); err != nil {
		t.Fatal(err)
	}
	w.s.AddOrgUser(fakegitlab.Member{Username: "bob"})
	spec := &scm.RepositorySpec{Name: "half", Access: []scm.Access{
		{Team: "acme/sre", Permission: scm.Write}, {User: "alice", Permission: scm.Read}, {User: "bob", Permission: scm.Read}}}
	_, err := w.c.CreateRepository(t.Context(), w.ownerURL(t, "acme"), spec, adaptertest.CreateTree(1))
	msg := fmt.Sprint(err)
	for _, want := range []string{"acme/half was created with its initial commit", "[user alice: read user bob: read] are missing",
		"done: [team acme/sre: write]", "inherited membership"} {
		if !strings.Contains(msg, want) {
			t.Errorf("CreateRepository with a refused membership = %v; want it to say %q", err, want)
		}
	}
	if scm.Code(err) != scm.InvalidArgument {
		t.Errorf("code = %v; want InvalidArgument (GitLab's 400)", scm.Code(err))
	}
	if _, err := w.s.Files("acme/half", "main"); err != nil {
		t.Errorf("the initial commit is missing: %v", err)
	}
	want := []fakegitlab.Grant{{Group: "acme/sre", AccessLevel: 30}}
	if got := w.s.Grants("acme/half"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("grants = %v; want %v", got, want)
	}
}

func BenchmarkGitLabCreateRepositoryAccess(b *testing.B) {
	w := newWorld(b, worldOptions{})
	if err := w.s.AddGroup("acme/platform"); err != nil {
		b.Fatal(err)
	}
	if err := w.s.AddGroup("acme/sre"); err != nil {
		b.Fatal(err)
	}
	w.s.AddOrgUser(fakegitlab.Member{Username: "alice"})
	u := w.ownerURL(b, "acme/platform")
	fsys := adaptertest.CreateTree(50)
	access := []scm.Access{{Team: "acme/sre", Permission: scm.Write}, {User: "alice", Permission: scm.Admin}}
	// The first creation looks acme/platform up; the ones measured do not.
	if _, err := w.c.CreateRepository(b.Context(), u, &scm.RepositorySpec{Name: "first", Access: access}, fsys); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	before := w.requests()
	i := 0
	for b.Loop() {
		if _, err := w.c.CreateRepository(b.Context(), u, &scm.RepositorySpec{Name: fmt.Sprintf("svc-%d", i), Access: access}, fsys); err != nil {
			b.Fatal(err)
		}
		i++
	}
	report(b, w, before)
}

func TestCreateRepositoryRemembersNamespaceRefused(t *testing.T) {
	w := newWorld(t, worldOptions{})
	if err := w.s.AddGroup("acme"); err != nil {
		t.Fatal(err)
	}
	u := w.ownerURL(t, "acme")
	if _, err := w.c.CreateRepository(t.Context(), u, &scm.RepositorySpec{Name: "first"}, adaptertest.CreateTree(1)); err != nil {
		t.Fatal(err)
	}
	// GitLab refuses the creation with the remembered id: the driver looks
	// the namespace up again and, finding the same id, answers as it would
	// have without the memory.
	w.s.Inject(fake.Fault{Kind: fake.FaultNotFound, Method: "POST", Path: "/api/v4/projects", Times: 1})
	n := len(w.s.Requests())
	_, err := w.c.CreateRepository(t.Context(), u, &scm.RepositorySpec{Name: "second"}, adaptertest.CreateTree(1))
	if scm.Code(err) != scm.NotFound {
		t.Errorf("CreateRepository refused = %v; want NotFound", err)
	}
	if got, want := createdPaths(w, n), []string{"POST /api/v4/projects", "GET /api/v4/namespaces/acme"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("refused creation sent %v; want %v", got, want)
	}
	// The id was looked up again, so it is remembered again.
	n = len(w.s.Requests())
	if _, err := w.c.CreateRepository(t.Context(), u, &scm.RepositorySpec{Name: "third"}, adaptertest.CreateTree(1)); err != nil {
		t.Fatal(err)
	}
	if got := len(w.s.Requests()) - n; got != 2 {
		t.Errorf("creation after the refusal made %d requests; want 2", got)
	}
}

// namespaceSwap is a transport that, once armed, sends every POST
// /projects with the namespace_id it saw first: what GitLab would do with a
// remembered id whose group was renamed and another group took its path.
type namespaceSwap struct {
	base  http.RoundTripper
	mu    sync.Mutex
	first json.Number
	armed bool
}

func (s *namespaceSwap) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/v4/projects" || r.Body == nil {
		return s.base.RoundTrip(r)
	}
	var body map[string]any
	d := json.NewDecoder(r.Body)
	d.UseNumber()
	if err := d.Decode(&body); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.first == "" {
		s.first = body["namespace_id"].(json.Number)
	}
	if s.armed {
		body["namespace_id"] = s.first
	}
	s.mu.Unlock()
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	return s.base.RoundTrip(r)
}

func TestCreateRepositoryRemembersNamespaceMoved(t *testing.T) {
	swap := &namespaceSwap{base: http.DefaultTransport}
	w := newWorld(t, worldOptions{transport: swap})
	for _, g := range []string{"other", "acme"} {
		if err := w.s.AddGroup(g); err != nil {
			t.Fatal(err)
		}
		if _, err := w.c.CreateRepository(t.Context(), w.ownerURL(t, g), &scm.RepositorySpec{Name: "first"}, adaptertest.CreateTree(1)); err != nil {
			t.Fatal(err)
		}
	}
	swap.mu.Lock()
	swap.armed = true
	swap.mu.Unlock()
	n := len(w.s.Requests())
	_, err := w.c.CreateRepository(t.Context(), w.ownerURL(t, "acme"), &scm.RepositorySpec{Name: "moved"}, adaptertest.CreateTree(1))
	if scm.Code(err) != scm.Conflict || !strings.Contains(err.Error(), "other/moved was created under other, not under acme") ||
		!strings.Contains(err.Error(), "nothing was committed") || !strings.Contains(err.Error(), "empty project other/moved is left to delete") {
		t.Errorf("CreateRepository with a remembered id now naming another group = %v; want Conflict naming other/moved", err)
	}
	if got, want := createdPaths(w, n), []string{"POST /api/v4/projects"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sent %v; want %v (no commit)", got, want)
	}
	swap.mu.Lock()
	swap.armed = false
	swap.mu.Unlock()
	n = len(w.s.Requests())
	if _, err := w.c.CreateRepository(t.Context(), w.ownerURL(t, "acme"), &scm.RepositorySpec{Name: "later"}, adaptertest.CreateTree(1)); err != nil {
		t.Fatal(err)
	}
	if got := createdPaths(w, n); len(got) != 3 || got[0] != "GET /api/v4/namespaces/acme" {
		t.Errorf("the next creation sent %v; want the namespace looked up again first", got)
	}
}
