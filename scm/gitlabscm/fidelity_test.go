package gitlabscm_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// GitLab refuses every write to an archived project (403 Forbidden):
// OpenPullRequest says so, as PermissionDenied, and writes nothing.
func TestOpenPullRequestArchivedProject(t *testing.T) {
	w := newWorld(t, worldOptions{})
	head, _, err := w.s.AddProject(fakegitlab.Project{Namespace: "acme", Path: "old", Archived: true,
		Files: []fakegitlab.File{{Path: "README.md", Content: []byte("hi\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: w.url(t, "acme", "old", "", "", false),
		Branch: "topic/one", Title: "One", Changes: textChanges("x", 2)})
	if scm.Code(err) != scm.PermissionDenied || !strings.Contains(err.Error(), "archived") || !strings.Contains(err.Error(), "acme/old") {
		t.Errorf("OpenPullRequest: %v (code %v); want PermissionDenied saying acme/old is archived", err, scm.Code(err))
	}
	for _, r := range w.s.Requests() {
		if r.Method != http.MethodGet && !strings.HasSuffix(r.Route, "/api/graphql") {
			t.Errorf("%s %s was sent to an archived project", r.Method, r.Path)
		}
	}
	if id, _ := w.s.Branch("acme/old", "main"); id != head {
		t.Errorf("main moved to %s; want %s", id, head)
	}
	if _, ok := w.s.Branch("acme/old", "topic/one"); ok {
		t.Error("branch topic/one was created")
	}
	if mrs := w.s.MergeRequests("acme/old"); len(mrs) != 0 {
		t.Errorf("%d merge requests; want none", len(mrs))
	}
}

// GitLab's answer to an anonymous request has no visibility field: a
// public project listed anonymously must not be reported private.
func TestAnonymousListingIsNotGuessedPrivate(t *testing.T) {
	w := newWorld(t, worldOptions{config: func(c *integrations.GitLabConfig) { c.Token = integrations.Secret{} }})
	for _, p := range []fakegitlab.Project{
		{Namespace: "fake-user", Path: "pub", Visibility: fakegitlab.Public},
		{Namespace: "fake-user", Path: "hidden"}, // private: an anonymous reader does not see it
	} {
		if _, _, err := w.s.AddProject(p); err != nil {
			t.Fatal(err)
		}
	}
	var got []*scm.Repository
	for r, err := range w.c.ListRepositories(t.Context(), w.ownerURL(t, "fake-user"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 1 || got[0].Name != "pub" || got[0].Private {
		t.Errorf("ListRepositories = %+v; want pub alone, not private", got)
	}
	for _, r := range w.s.Requests() {
		if r.Header.Get("Authorization") != "" || r.Header.Get("Private-Token") != "" {
			t.Fatalf("%s %s carries a credential; the test needs an anonymous client", r.Method, r.Path)
		}
	}
}

// A 429 that names only RateLimit-Reset (no Retry-After), as GitLab
// sometimes sends: the client waits until that reset, then succeeds.
func TestRateLimitResetOnlyWaitsForReset(t *testing.T) {
	w := newWorld(t, worldOptions{retry: scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond,
		MaxRateLimitWait: 5 * time.Second}})
	w.add(t, "acme", "svc", map[string]string{"README.md": "hi\n"})
	w.s.Inject(fake.Fault{Kind: fake.FaultRateLimitResetOnly, Times: 1, RetryAfter: time.Second})
	start := time.Now()
	f, err := w.c.ReadFile(t.Context(), w.fileURL(t, "acme", "svc", "", "README.md"), nil)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("ReadFile: %v; want it to wait for RateLimit-Reset and succeed", err)
	}
	if string(f.Content) != "hi\n" {
		t.Errorf("content %q", f.Content)
	}
	// The fake's reset is at least RetryAfter ahead (rounded up to the
	// second): a guessed backoff (MaxWait 5 ms) would come back sooner.
	if elapsed < 900*time.Millisecond {
		t.Errorf("answered after %v; want a wait until the reset, about 1 s", elapsed)
	}
	if n := w.requests(); n != 2 {
		t.Errorf("%d requests; want 2 (the refused one and the retry)", n)
	}
}
