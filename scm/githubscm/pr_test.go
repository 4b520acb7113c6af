package githubscm_test

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestOpenPullRequestDraftAndBase: Draft reaches GitHub, and an empty Base
// is the repository's default branch ("trunk" here, with a "main" branch
// beside it that must not be used), from which the new branch starts.
func TestOpenPullRequestDraftAndBase(t *testing.T) {
	both(t, func(t *testing.T, ghe bool) {
		e := newEnv(t, ghe, nil)
		trunk := e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc", DefaultBranch: "trunk",
			Files: []fakegithub.File{{Path: "README.md", Content: []byte("trunk\n")}}})
		mainHead, err := e.s.Commit("acme", "svc", "main", fakegithub.Commit{Message: "a main branch",
			Files: []fakegithub.File{{Path: "README.md", Content: []byte("main\n")}}})
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name       string
			base       string
			draft      bool
			wantBase   string
			wantParent string
		}{
			{"draft, default base", "", true, "trunk", trunk},
			{"ready, default base", "", false, "trunk", trunk},
			{"draft, base given", "main", true, "main", mainHead},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				branch := "change-" + string(rune('a'+i))
				n := e.count(func() {
					pr, err := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.web("acme/svc"), Base: tt.base,
						Branch: branch, Title: tt.name, Draft: tt.draft, Changes: textChanges(1)})
					if err != nil {
						t.Fatal(err)
					}
					if pr.Base != tt.wantBase || pr.Branch != branch || pr.Existing {
						t.Errorf("pull request %+v; want base %q, branch %q, not existing", pr, tt.wantBase, branch)
					}
				})
				if n != 2 {
					t.Errorf("API requests = %d; want 2", n)
				}
				pulls := e.s.Pulls("acme", "svc")
				k := slices.IndexFunc(pulls, func(p fakegithub.Pull) bool { return p.Head == branch })
				if k < 0 {
					t.Fatalf("no pull request from %s in %+v", branch, pulls)
				}
				type view struct {
					Base  string
					Draft bool
				}
				if diff := cmp.Diff(view{tt.wantBase, tt.draft}, view{pulls[k].Base, pulls[k].Draft}); diff != "" {
					t.Errorf("pull request recorded by GitHub differs (-want +got):\n%s", diff)
				}
				info, _ := e.s.GetCommit("acme", "svc", branch)
				if !slices.Equal(info.Parents, []string{tt.wantParent}) {
					t.Errorf("branch commit parents = %v; want [%s] (the head of %s)", info.Parents, tt.wantParent, tt.wantBase)
				}
			})
		}
	})
}

// hookTransport calls before ahead of each GraphQL mutation it forwards
// (n counts them from 1), or answers the mutation itself with answer's
// body when answer is set.
type hookTransport struct {
	base   http.RoundTripper
	n      *atomic.Int32
	before func(n int)
	answer string
}

func (h hookTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/graphql") || req.Body == nil {
		return h.base.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	if !bytes.Contains(body, []byte(`"mutation `)) {
		return h.base.RoundTrip(req)
	}
	n := int(h.n.Add(1))
	if h.answer != "" {
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}},
			Body: io.NopCloser(strings.NewReader(h.answer)), Request: req}, nil
	}
	if h.before != nil {
		h.before(n)
	}
	return h.base.RoundTrip(req)
}

// hooked returns a client for the driver whose GraphQL mutations go
// through a hookTransport, and the count of those mutations.
func (e *env) hooked(before func(n int), answer string) (*http.Client, *atomic.Int32) {
	n := new(atomic.Int32)
	return &http.Client{Transport: tokenTransport{host: e.s.Host(), token: goodToken,
		base: hookTransport{base: http.DefaultTransport, n: n, before: before, answer: answer}}}, n
}

// svcWithModes is a repository with a plain file, an executable file and
// a symlink.
func svcWithModes(t *testing.T, e *env) {
	t.Helper()
	e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc", Files: []fakegithub.File{
		{Path: "README.md", Content: []byte("# svc\n")},
		{Path: "run.sh", Content: []byte("#!/bin/sh\n"), Executable: true},
		{Path: "link", Content: []byte("README.md"), Symlink: true},
	}})
}

type fileView struct {
	Content          string
	Executable, Link bool
}

func branchFiles(t *testing.T, e *env, branch string) map[string]fileView {
	t.Helper()
	files, err := e.s.Files("acme", "svc", branch)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]fileView{}
	for _, f := range files {
		out[f.Path] = fileView{string(f.Content), f.Executable, f.Symlink}
	}
	return out
}

// TestOpenPullRequestGraphQLOrREST: plain files (text or binary, created,
// updated or deleted) take the query and one mutation; what
// createCommitOnBranch cannot write (an executable bit, a change to an
// executable file or a symlink, a chosen commit author) takes today's
// REST Git Data path, with the same result on the branch.
func TestOpenPullRequestGraphQLOrREST(t *testing.T) {
	rest := map[string]int{"POST /graphql": 1, "POST /repos/{owner}/{repo}/git/trees": 1, "POST /repos/{owner}/{repo}/git/commits": 1,
		"POST /repos/{owner}/{repo}/git/refs": 1, "POST /repos/{owner}/{repo}/pulls": 1}
	unchanged := map[string]fileView{"README.md": {"# svc\n", false, false}, "run.sh": {"#!/bin/sh\n", true, false}, "link": {"README.md", false, true}}
	with := func(changes map[string]*fileView) map[string]fileView {
		out := maps.Clone(unchanged)
		for p, f := range changes {
			if f == nil {
				delete(out, p)
			} else {
				out[p] = *f
			}
		}
		return out
	}
	tests := []struct {
		name    string
		author  bool
		changes []scm.Change
		routes  map[string]int
		want    map[string]fileView
	}{
		{"plain files: GraphQL", false, []scm.Change{
			{Path: "a/new.txt", Action: scm.Create, Content: []byte("new\n")},
			{Path: "blob.bin", Content: []byte{0, 1, 0xff}},
			{Path: "README.md", Action: scm.Update, Content: []byte("# changed\n")},
			{Path: "link", Action: scm.Delete},
		}, map[string]int{"POST /graphql": 2}, with(map[string]*fileView{
			"a/new.txt": {"new\n", false, false}, "blob.bin": {"\x00\x01\xff", false, false}, "README.md": {"# changed\n", false, false}, "link": nil,
		})},
		{"an executable file: REST", false, []scm.Change{{Path: "tool.sh", Content: []byte("#!/bin/sh\n"), Executable: true}},
			rest, with(map[string]*fileView{"tool.sh": {"#!/bin/sh\n", true, false}})},
		{"an executable file made plain: REST", false, []scm.Change{{Path: "run.sh", Action: scm.Update, Content: []byte("echo\n")}},
			rest, with(map[string]*fileView{"run.sh": {"echo\n", false, false}})},
		{"a symlink replaced by a file: REST", false, []scm.Change{{Path: "link", Content: []byte("a file\n")}},
			rest, with(map[string]*fileView{"link": {"a file\n", false, false}})},
		{"a commit author: REST", true, []scm.Change{{Path: "a.txt", Content: []byte("a\n")}},
			rest, with(map[string]*fileView{"a.txt": {"a\n", false, false}})},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts *githubscm.Options
			if tt.author {
				opts = &githubscm.Options{CommitAuthor: &githubscm.Signature{Name: "Portal", Email: "portal@example.com"}}
			}
			e := newEnv(t, i%2 == 1, opts)
			svcWithModes(t, e)
			branch := fmt.Sprintf("change-%d", i)
			before := e.s.Stats()
			pr, err := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.web("acme/svc"), Branch: branch, Title: tt.name, Changes: tt.changes})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.routes, diffRoutes(before.Routes, e.s.Stats().Routes)); diff != "" {
				t.Errorf("requests by route (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, branchFiles(t, e, branch)); diff != "" {
				t.Errorf("files on the branch (-want +got):\n%s", diff)
			}
			info, _ := e.s.GetCommit("acme", "svc", branch)
			main, _ := e.s.Ref("acme", "svc", "main")
			if pr.Existing || pr.Number != 1 || pr.CommitID != info.SHA || !slices.Equal(info.Parents, []string{main}) {
				t.Errorf("pull request %+v, branch commit %+v; want #1 opened on one new commit on main", pr, info)
			}
		})
	}
}

// TestOpenPullRequestConcurrentPush: a push to the branch between the
// query and the mutation fails createCommitOnBranch (expectedHeadOid):
// the flow starts again once from the query and commits on top of the
// push, then opens the pull request (on an existing branch it waits for
// the commit: a failed commit must not leave a pull request without the
// changes). A second push in between is Conflict.
func TestOpenPullRequestConcurrentPush(t *testing.T) {
	e := newEnv(t, false, nil)
	svcWithModes(t, e)
	if _, err := e.s.Commit("acme", "svc", "feature", fakegithub.Commit{Message: "start",
		Files: []fakegithub.File{{Path: "start.txt", Content: []byte("start\n")}}}); err != nil {
		t.Fatal(err)
	}
	push := func(n int) {
		if _, err := e.s.Commit("acme", "svc", "feature", fakegithub.Commit{Message: "concurrent",
			Files: []fakegithub.File{{Path: fmt.Sprintf("pushed%d.txt", n), Content: []byte("pushed\n")}}}); err != nil {
			t.Error(err)
		}
	}
	hc, mutations := e.hooked(func(n int) {
		if n == 1 {
			push(n)
		}
	}, "")
	req := &driver.PullRequestRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Branch: "feature", Title: "t",
		Changes: []driver.Change{{Path: "ours.txt", Content: []byte("ours\n")}}}
	var pr *driver.PullRequest
	n := e.count(func() {
		var err error
		if pr, err = e.d.OpenPullRequest(t.Context(), hc, req); err != nil {
			t.Fatal(err)
		}
	})
	if n != 5 || mutations.Load() != 3 {
		t.Errorf("%d requests, %d mutations; want 5 (query, commit, query, commit, pull request) and 3", n, mutations.Load())
	}
	info, _ := e.s.GetCommit("acme", "svc", "feature")
	pushed, _ := e.s.GetCommit("acme", "svc", info.Parents[0])
	if pr.Existing || pr.Number != 1 || pr.CommitID != info.SHA || pushed.Message != "concurrent" {
		t.Errorf("pull request %+v on %+v (parent %q); want #1 opened, on our commit on top of the push", pr, info, pushed.Message)
	}
	files := branchFiles(t, e, "feature")
	if files["ours.txt"].Content != "ours\n" || files["pushed1.txt"].Content != "pushed\n" {
		t.Errorf("branch files %v; want ours.txt and pushed1.txt", files)
	}
	if len(e.s.Pulls("acme", "svc")) != 1 {
		t.Errorf("pull requests %+v; want 1", e.s.Pulls("acme", "svc"))
	}

	// A push before every mutation: Conflict after the one restart.
	hc, mutations = e.hooked(push, "")
	req.Changes = []driver.Change{{Path: "ours2.txt", Content: []byte("ours\n")}}
	req.UpdateExisting = true
	_, err := e.d.OpenPullRequest(t.Context(), hc, req)
	if got := e.d.ErrorInfo(err).Code; got != errcode.Conflict || mutations.Load() != 2 {
		t.Errorf("pushed to before each mutation: %v (%v) after %d mutations; want Conflict after 2", got, err, mutations.Load())
	}
}

// TestOpenPullRequestOpenedMeanwhile: a pull request opened between the
// query and the mutation ("A pull request already exists") is found and
// returned as Existing, on the commit the mutation made.
func TestOpenPullRequestOpenedMeanwhile(t *testing.T) {
	e := newEnv(t, false, nil)
	svcWithModes(t, e)
	if _, err := e.s.Commit("acme", "svc", "feature", fakegithub.Commit{Files: []fakegithub.File{{Path: "start.txt", Content: []byte("s")}}}); err != nil {
		t.Fatal(err)
	}
	hc, _ := e.hooked(func(n int) {
		if n != 2 { // before the mutation that opens the pull request
			return
		}
		resp, err := e.hc.Post(e.s.APIBaseURL()+"/repos/acme/svc/pulls", "application/json",
			strings.NewReader(`{"title":"theirs","head":"feature","base":"main"}`))
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Errorf("opening the concurrent pull request: %v %v", resp, err)
		}
		if resp != nil {
			resp.Body.Close()
		}
	}, "")
	pr, err := e.d.OpenPullRequest(t.Context(), hc, &driver.PullRequestRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"},
		Branch: "feature", Title: "t", Changes: []driver.Change{{Path: "ours.txt", Content: []byte("ours\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	tip, _ := e.s.Ref("acme", "svc", "feature")
	if !pr.Existing || pr.Number != 1 || pr.CommitID != tip || branchFiles(t, e, "feature")["ours.txt"].Content != "ours\n" {
		t.Errorf("pull request %+v (branch at %s); want #1, Existing, on the branch's new commit holding ours.txt", pr, tip)
	}
}

// mutationLog records the GraphQL mutation documents sent.
type mutationLog struct {
	base http.RoundTripper
	docs []string
}

func (m *mutationLog) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/graphql") && req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		if bytes.Contains(b, []byte("mutation")) {
			m.docs = append(m.docs, string(b))
		}
	}
	return m.base.RoundTrip(req)
}

// TestOpenPullRequestWaitsForTheCommit: on an existing branch the pull
// request is not in the document that commits. GraphQL runs a document's
// later fields even when one fails, so a refused commit would leave a
// pull request without the changes, and a rerun would return it as
// Existing. On a new branch one document does all (GitHub refuses a pull
// request with no commits, so a failed commit opens nothing there).
func TestOpenPullRequestWaitsForTheCommit(t *testing.T) {
	e := newEnv(t, false, nil)
	svcWithModes(t, e)
	if _, err := e.s.Commit("acme", "svc", "feature", fakegithub.Commit{Message: "start",
		Files: []fakegithub.File{{Path: "start.txt", Content: []byte("start\n")}}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		branch string
		want   [][]string // per mutation, the fields it holds
	}{
		{"feature", [][]string{{"createCommitOnBranch"}, {"createPullRequest"}}},
		{"fresh", [][]string{{"createRef", "createCommitOnBranch", "createPullRequest"}}},
	} {
		log := &mutationLog{base: http.DefaultTransport}
		hc := &http.Client{Transport: tokenTransport{host: e.s.Host(), token: goodToken, base: log}}
		pr, err := e.d.OpenPullRequest(t.Context(), hc, &driver.PullRequestRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"},
			Branch: tc.branch, Title: "t", Changes: []driver.Change{{Path: "ours.txt", Content: []byte("ours\n")}}})
		if err != nil || pr.Existing {
			t.Fatalf("%s: %+v, %v", tc.branch, pr, err)
		}
		if len(log.docs) != len(tc.want) {
			t.Fatalf("%s: %d mutations; want %d", tc.branch, len(log.docs), len(tc.want))
		}
		for i, fields := range tc.want {
			for _, f := range []string{"createRef", "createCommitOnBranch", "createPullRequest"} {
				if got, want := strings.Contains(log.docs[i], f+"("), slices.Contains(fields, f); got != want {
					t.Errorf("%s: mutation %d holds %s: %v; want %v", tc.branch, i+1, f, got, want)
				}
			}
		}
	}
}

// TestCommitHeadline: the headline is the first non-blank line.
func TestCommitHeadline(t *testing.T) {
	for _, tc := range []struct{ msg, title, headline, body string }{
		{"Add docs\n\nbecause", "t", "Add docs", "because"},
		{"\nbody only", "t", "body only", ""},
		{"  \r\n Fix it \r\nmore", "t", "Fix it", "more"},
		{"", "Title", "Title", ""},
		{"\n\n", "Title", "Title", ""},
	} {
		h, b := githubscm.CommitHeadline(tc.msg, tc.title)
		if h != tc.headline || b != tc.body {
			t.Errorf("commitHeadline(%q, %q) = %q, %q; want %q, %q", tc.msg, tc.title, h, b, tc.headline, tc.body)
		}
	}
}

// TestOpenPullRequestMutationRefused: GitHub's refusals of the mutation
// document. FORBIDDEN is PermissionDenied, with nothing more sent; a
// schema error (a GitHub Enterprise Server without the mutations) falls
// back to REST, once.
func TestOpenPullRequestMutationRefused(t *testing.T) {
	tests := []struct {
		name      string
		answer    string
		want      errcode.Code
		wantCount int // requests the fake answered
	}{
		{"no permission", `{"data":{"branch":null,"commit":null,"pullRequest":null},"errors":[` +
			`{"type":"FORBIDDEN","path":["branch"],"message":"Resource not accessible by integration"},` +
			`{"type":"FORBIDDEN","path":["commit"],"message":"Resource not accessible by integration"},` +
			`{"type":"FORBIDDEN","path":["pullRequest"],"message":"Resource not accessible by integration"}]}`, errcode.PermissionDenied, 1},
		{"no such mutation", `{"errors":[{"path":["mutation OpenPullRequest","commit"],"extensions":{"code":"undefinedField","typeName":"Mutation","fieldName":"createCommitOnBranch"},` +
			`"locations":[{"line":3,"column":3}],"message":"Field 'createCommitOnBranch' doesn't exist on type 'Mutation'"}]}`, errcode.OK, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, true, nil)
			svcWithModes(t, e)
			hc, mutations := e.hooked(nil, tt.answer)
			var pr *driver.PullRequest
			var err error
			n := e.count(func() {
				pr, err = e.d.OpenPullRequest(t.Context(), hc, &driver.PullRequestRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"},
					Branch: "feature", Title: "t", Changes: []driver.Change{{Path: "a.txt", Content: []byte("a\n")}}})
			})
			if got := e.d.ErrorInfo(err).Code; got != tt.want {
				t.Fatalf("OpenPullRequest: %v (%v); want %v", got, err, tt.want)
			}
			if n != tt.wantCount || mutations.Load() != 1 {
				t.Errorf("%d requests to the fake, %d mutations; want %d and 1", n, mutations.Load(), tt.wantCount)
			}
			if err == nil && (pr.Number != 1 || branchFiles(t, e, "feature")["a.txt"].Content != "a\n") {
				t.Errorf("pull request %+v; want #1 with a.txt on the branch", pr)
			}
		})
	}
}
