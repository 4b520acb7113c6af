package bitbucketserverscm_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

// upstreamPullID is the id of the pull request upstreamPRTransport adds.
const upstreamPullID = 77

// upstreamPRTransport stands in for a Bitbucket Server where ACME/basic
// is a fork of UPSTREAM/basic, and someone with push access opened a pull
// request from ACME/basic's branch into UPSTREAM/basic's main: GET
// .../pull-requests?at=refs/heads/B&direction=OUTGOING on ACME/basic lists
// it (it goes out of ACME/basic's branch B), with toRef's repository the
// upstream, as the recorded listing of cdancy-bitbucket-rest shows a fork's
// pull request (each ref with its repository: id, slug, project). The fake
// has no forks; the transport puts that pull request first on each
// listing of outgoing pull requests.
type upstreamPRTransport struct {
	base http.RoundTripper

	mu    sync.Mutex
	lists int
}

func (u *upstreamPRTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := u.base.RoundTrip(req)
	q := req.URL.Query()
	if err != nil || req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, "/pull-requests") ||
		q.Get("direction") != "OUTGOING" || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	u.mu.Lock()
	u.lists++
	u.mu.Unlock()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var page map[string]any
	if err := json.Unmarshal(b, &page); err != nil {
		return nil, err
	}
	own := u.repository(req)
	upstream := map[string]any{"id": 999, "slug": scmtest.BasicRepo, "name": scmtest.BasicRepo, "scmId": "git", "state": "AVAILABLE",
		"forkable": true, "public": false, "project": map[string]any{"key": "UPSTREAM", "id": 998, "name": "Upstream", "type": "NORMAL"}}
	at := strings.TrimPrefix(q.Get("at"), "refs/heads/")
	pull := map[string]any{"id": upstreamPullID, "version": 0, "title": "To upstream", "state": "OPEN", "open": true, "closed": false,
		"fromRef": map[string]any{"id": "refs/heads/" + at, "displayId": at, "latestCommit": "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef",
			"type": "BRANCH", "repository": own},
		"toRef": map[string]any{"id": "refs/heads/main", "displayId": "main", "latestCommit": "0123456789abcdef0123456789abcdef01234567",
			"type": "BRANCH", "repository": upstream},
		"links": map[string]any{"self": []any{map[string]any{"href": "https://bitbucket.example/projects/UPSTREAM/repos/basic/pull-requests/77"}}}}
	vals, _ := page["values"].([]any)
	page["values"] = append([]any{pull}, vals...)
	page["size"] = len(vals) + 1
	if b, err = json.Marshal(page); err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// repository reads the listed repository from the fake (GET
// .../repos/{slug}), as pull requests name it in their refs.
func (u *upstreamPRTransport) repository(list *http.Request) map[string]any {
	r, _ := http.NewRequestWithContext(list.Context(), http.MethodGet, strings.TrimSuffix(list.URL.String()[:strings.Index(list.URL.String(), "?")], "/pull-requests"), nil)
	r.Header = list.Header.Clone()
	resp, err := u.base.RoundTrip(r)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var repo map[string]any
	json.NewDecoder(resp.Body).Decode(&repo)
	return repo
}

// TestOpenPullRequestUpstreamPullIsNotOurs: a pull request from this
// repository's branch into ANOTHER repository (this one is a fork of it)
// is not the run's: the run opens its own into this repository. It used
// to return the upstream's #77 as Existing (only toRef's branch name was
// compared).
func TestOpenPullRequestUpstreamPullIsNotOurs(t *testing.T) {
	e := newEnv(t, "")
	d, hc := driverFor(t, e.fake, nil)
	tr := &upstreamPRTransport{base: hc.Transport}
	hc.Transport = tr
	// The branch exists (an earlier run, or the upstream pull request's).
	if _, err := e.fake.Commit(project, scmtest.BasicRepo, "add-catalog-info", fakebitbucketserver.Commit{Message: "earlier",
		Files: []fake.File{{Path: "docs/x.md", Content: []byte("x\n")}}}); err != nil {
		t.Fatal(err)
	}
	pr, err := d.OpenPullRequest(t.Context(), hc, &driver.PullRequestRequest{Repo: driver.Repo{Owner: project, Name: scmtest.BasicRepo},
		Base: "main", Branch: "add-catalog-info", Title: "Add catalog-info.yaml", CommitMessage: "Add catalog-info.yaml",
		Changes: []driver.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	pulls := e.fake.PullRequests(project, scmtest.BasicRepo)
	if pr.Number == upstreamPullID || pr.Existing || len(pulls) != 1 || pulls[0].ID != pr.Number || tr.lists == 0 {
		t.Fatalf("OpenPullRequest = %+v; pull requests in ACME/basic: %+v (%d listings); want its own new one, not UPSTREAM's #%d",
			*pr, pulls, tr.lists, upstreamPullID)
	}
	// Again: its own is found, the upstream one (listed first) passed over.
	again, err := d.OpenPullRequest(t.Context(), hc, &driver.PullRequestRequest{Repo: driver.Repo{Owner: project, Name: scmtest.BasicRepo},
		Base: "main", Branch: "add-catalog-info", Title: "Add catalog-info.yaml", CommitMessage: "Add catalog-info.yaml",
		Changes: []driver.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Existing || again.Number != pr.Number {
		t.Errorf("OpenPullRequest again = %+v; want the existing #%d", *again, pr.Number)
	}
}
