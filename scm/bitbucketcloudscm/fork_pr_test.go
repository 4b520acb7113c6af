package bitbucketcloudscm_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/scmtest"
	fakekit "github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

// forkPullID is the id of the fork's pull request forkPRTransport adds.
const forkPullID = 99

// forkPRTransport stands in for Bitbucket Cloud, whose
// /repositories/{ws}/{repo}/pullrequests lists every pull request INTO the
// repository, those from forks included, which the fake does not model.
// It puts first on each listing of acme/basic's pull requests one from
// mallory/basic's branch of the same name, shaped as Bitbucket lists a
// fork's pull request (see the recorded listing in the fixtures of
// jenkins-bitbucket-branch-source: source.repository is the fork, with its
// own full_name and uuid; destination.repository the listed repository).
// With racePost, the first POST of a pull request is preceded by the same
// POST, as a concurrent run would send it, so that Bitbucket answers "There
// is already an open pull request" and the driver looks it up.
type forkPRTransport struct {
	base     http.RoundTripper
	racePost bool

	mu     sync.Mutex
	posted bool
	lists  int // listings of pull requests answered
}

func (f *forkPRTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	pulls := strings.HasSuffix(strings.TrimSuffix(req.URL.Path, "/"), "/pullrequests")
	if f.racePost && req.Method == http.MethodPost && pulls {
		f.mu.Lock()
		first := !f.posted
		f.posted = true
		f.mu.Unlock()
		if first && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			dup := req.Clone(req.Context())
			dup.Body = body
			resp, err := f.base.RoundTrip(dup)
			if err != nil {
				return nil, err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	resp, err := f.base.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || !pulls ||
		resp.StatusCode != http.StatusOK {
		return resp, err
	}
	f.mu.Lock()
	f.lists++
	f.mu.Unlock()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	vals, _ := doc["values"].([]any)
	q := req.URL.Query().Get("q")
	branch := q[strings.Index(q, `"`)+1 : strings.Index(q, `" AND`)]
	fork := map[string]any{"type": "repository", "full_name": "mallory/basic", "name": "basic",
		"uuid": "{62dbf0d6-95bb-44da-82ca-70d162135379}"}
	target := map[string]any{"type": "repository", "full_name": workspace + "/" + scmtest.BasicRepo, "name": scmtest.BasicRepo,
		"uuid": f.targetUUID(req)}
	doc["values"] = append([]any{map[string]any{"type": "pullrequest", "id": forkPullID, "state": "OPEN",
		"title": "Add catalog-info.yaml",
		"source": map[string]any{"branch": map[string]any{"name": branch},
			"commit": map[string]any{"type": "commit", "hash": "046d9a3c1532"}, "repository": fork},
		"destination": map[string]any{"branch": map[string]any{"name": "main"},
			"commit": map[string]any{"type": "commit", "hash": "174561d625c9"}, "repository": target},
		"links": map[string]any{"html": map[string]any{"href": "https://bitbucket.org/acme/basic/pull-requests/99"}}}}, vals...)
	doc["size"] = len(doc["values"].([]any))
	if b, err = json.Marshal(doc); err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// targetUUID reads the listed repository's uuid from the fake (the
// destination.repository of every pull request listed on it).
func (f *forkPRTransport) targetUUID(list *http.Request) string {
	u := *list.URL
	u.Path, u.RawQuery = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/pullrequests"), ""
	u.RawPath = ""
	req, _ := http.NewRequestWithContext(list.Context(), http.MethodGet, u.String(), nil)
	req.Header = list.Header.Clone()
	resp, err := f.base.RoundTrip(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var repo struct {
		UUID string `json:"uuid"`
	}
	json.NewDecoder(resp.Body).Decode(&repo)
	return repo.UUID
}

// forkEnv is a fake with the conformance world and a client whose
// transport is tr (on top of a plain one).
func forkEnv(t *testing.T, tr *forkPRTransport) (*fakebitbucketcloud.Server, *scm.Client) {
	t.Helper()
	fk := newWorld(t, nil)
	t.Cleanup(fk.Close)
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	tr.base = base
	c := integrations.BitbucketCloudConfig{Host: fk.Host(), APIBaseURL: fk.APIBaseURL(), Username: user, Token: integrations.NewSecret(goodToken)}
	reg, err := integrations.NewRegistry(integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{c}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := scm.NewClient(reg, res, &scm.Options{
		Drivers:   map[integrations.Kind]driver.Opener{integrations.BitbucketCloud: bitbucketcloudscm.Opener(nil)},
		Transport: tr,
		Retry:     scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRateLimitWait: time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	return fk, cl
}

// TestOpenPullRequestForkPullIsNotOurs: on a re-run (the branch holds an
// earlier run's commit, its pull request failed), a fork's open pull
// request from a branch of the same name is someone else's: the run opens
// its own, in the same requests. It used to return the fork's #99 as
// Existing.
func TestOpenPullRequestForkPullIsNotOurs(t *testing.T) {
	tr := &forkPRTransport{}
	fk, cl := forkEnv(t, tr)
	content := []byte("kind: Component\n")
	if _, err := fk.Commit(workspace, scmtest.BasicRepo, "add-catalog-info", fakebitbucketcloud.Commit{Message: "earlier",
		Files: []fakekit.File{{Path: "catalog-info.yaml", Content: content}}}); err != nil {
		t.Fatal(err)
	}
	spec := &scm.PullRequestSpec{RepoURL: fk.URL() + "/" + workspace + "/" + scmtest.BasicRepo, Base: "main",
		Branch: "add-catalog-info", Title: "Add catalog-info.yaml", Changes: []scm.Change{{Path: "catalog-info.yaml", Content: content}}}
	pr, err := cl.OpenPullRequest(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	pulls := fk.PullRequests(workspace, scmtest.BasicRepo)
	if pr.Number == forkPullID || pr.Existing || len(pulls) != 1 || pulls[0].ID != pr.Number || tr.lists != 1 {
		t.Fatalf("OpenPullRequest = %+v; pull requests in acme/basic: %+v; %d listings; want its own new pull request, not mallory/basic's #%d",
			*pr, pulls, tr.lists, forkPullID)
	}
	// Again: its own is found, the fork's (listed first) passed over.
	again, err := cl.OpenPullRequest(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Existing || again.Number != pr.Number {
		t.Errorf("OpenPullRequest again = %+v; want the existing #%d", *again, pr.Number)
	}
	// With UpdateExisting and new content: committed, and its own
	// returned.
	spec.UpdateExisting, spec.Changes = true, []scm.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component # 2\n")}}
	upd, err := cl.OpenPullRequest(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := fk.Branch(workspace, scmtest.BasicRepo, "add-catalog-info")
	if !upd.Existing || upd.Number != pr.Number || upd.CommitID != head {
		t.Errorf("OpenPullRequest(UpdateExisting) = %+v; want #%d at the new commit %s", *upd, pr.Number, head)
	}
}

// TestOpenPullRequestRaceSkipsForkPull: when Bitbucket answers "There is
// already an open pull request" (a concurrent run opened it), the lookup
// that follows returns that one, not a fork's listed before it. It used
// to return the fork's.
func TestOpenPullRequestRaceSkipsForkPull(t *testing.T) {
	tr := &forkPRTransport{racePost: true}
	fk, cl := forkEnv(t, tr)
	pr, err := cl.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: fk.URL() + "/" + workspace + "/" + scmtest.BasicRepo,
		Base: "main", Branch: "add-catalog-info", Title: "Add catalog-info.yaml",
		Changes: []scm.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	pulls := fk.PullRequests(workspace, scmtest.BasicRepo)
	if len(pulls) != 1 || !pr.Existing || pr.Number != pulls[0].ID {
		t.Errorf("OpenPullRequest = %+v; pull requests in acme/basic: %+v; want the concurrent run's, Existing", *pr, pulls)
	}
}
