package gitlabscm_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/scm/catalog"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// seedForks adds acme/app and its fork acme/app-fork, each with a
// catalog-info.yaml.
func seedForks(t *testing.T, w *world) {
	t.Helper()
	files := []fakegitlab.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}
	for _, p := range []fakegitlab.Project{
		{Namespace: "acme", Path: "app", Files: files},
		{Namespace: "acme", Path: "app-fork", ForkedFrom: "acme/app", Files: files},
	} {
		if _, _, err := w.s.AddProject(p); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFindFilesReportsForks: discovery reports which projects are forks,
// as ListRepositories does and as the GitHub driver does, so that
// catalog.Discover's SkipForks leaves them out on GitLab too; still one
// query for the page.
func TestFindFilesReportsForks(t *testing.T) {
	w := newWorld(t, worldOptions{})
	seedForks(t, w)
	forks := map[string]bool{}
	before := w.requests()
	for f, err := range w.c.FindFiles(t.Context(), w.ownerURL(t, "acme"), "catalog-info.yaml") {
		if err != nil {
			t.Fatal(err)
		}
		forks[f.Repository.Name] = f.Repository.Fork
	}
	if n := w.requests() - before; n != 1 {
		t.Errorf("FindFiles: %d requests; want 1", n)
	}
	if diff := cmp.Diff(map[string]bool{"app": false, "app-fork": true}, forks); diff != "" {
		t.Errorf("FindFiles: Fork per project (-want +got):\n%s", diff)
	}
	listed := map[string]bool{}
	for r, err := range w.c.ListRepositories(t.Context(), w.ownerURL(t, "acme"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		listed[r.Name] = r.Fork
	}
	if diff := cmp.Diff(forks, listed); diff != "" {
		t.Errorf("ListRepositories and FindFiles disagree on forks (-FindFiles +ListRepositories):\n%s", diff)
	}
	locs, err := catalog.Discover(t.Context(), w.c, w.ownerURL(t, "acme"), &catalog.DiscoverOptions{SkipForks: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(locs) != 1 || locs[0].Repo.Name != "app" {
		t.Errorf("Discover with SkipForks: %d locations (%+v); want acme/app only", len(locs), locs)
	}
}

// oldGitLab answers a GraphQL query that asks for Project.isForked as a
// GitLab older than 16.9 does: a validation error, HTTP 200.
type oldGitLab struct {
	base  http.RoundTripper
	asked *int
}

func (o oldGitLab) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/api/graphql") && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		if bytes.Contains(body, []byte("isForked")) {
			*o.asked++
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(`{"errors":[{"message":"Field 'isForked' doesn't exist on type 'Project'",` +
					`"locations":[{"line":6,"column":62}],"path":["query","namespace","projects","nodes","isForked"],` +
					`"extensions":{"code":"undefinedField","typeName":"Project","fieldName":"isForked"}}]}`)),
				Request: req}, nil
		}
		r := req.Clone(req.Context())
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		req = r
	}
	return o.base.RoundTrip(req)
}

// TestFindFilesWithoutIsForked: an instance without Project.isForked is
// asked again without it, once: the driver remembers, so that later pages
// and calls cost what they cost before.
func TestFindFilesWithoutIsForked(t *testing.T) {
	asked := 0
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	w := newWorld(t, worldOptions{transport: oldGitLab{base: tr, asked: &asked}})
	seedForks(t, w)
	for range 2 {
		n := 0
		for _, err := range w.c.FindFiles(t.Context(), w.ownerURL(t, "acme"), "catalog-info.yaml") {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 2 {
			t.Errorf("FindFiles found %d; want 2", n)
		}
	}
	if asked != 1 {
		t.Errorf("isForked asked %d times; want once, then remembered", asked)
	}
}
