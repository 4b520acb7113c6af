package bitbucketcloudscm_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

// manyForkPulls stands in for Bitbucket Cloud with n open pull requests
// from forks' branches named like the listed source branch, into main,
// all newer than the repository's own (listed first, as Bitbucket lists
// the newest first). It pages the whole listing as Bitbucket does:
// pagelen entries (at most 50) from page, with a next link while more
// are left. Fork pull requests are shaped as in fork_pr_test.go; each
// listing is one request to the fake (for the repository's own), and
// every request through it is counted.
type manyForkPulls struct {
	base http.RoundTripper

	mu       sync.Mutex
	n        int
	requests int
	// racePost: the first POST of a pull request is preceded by the
	// same POST, as a concurrent run would send it (see forkPRTransport).
	racePost bool
}

func (f *manyForkPulls) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.requests++
	pulls := strings.HasSuffix(strings.TrimSuffix(req.URL.Path, "/"), "/pullrequests")
	n, race := f.n, f.racePost && pulls && req.Method == http.MethodPost
	if race {
		f.racePost = false
	}
	f.mu.Unlock()
	if race && req.GetBody != nil {
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
	if req.Method != http.MethodGet || !pulls || n == 0 {
		return f.base.RoundTrip(req)
	}
	// The repository's own pull requests: all of them (few) on one page.
	q := req.URL.Query()
	page, pagelen := 1, 10
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	if v, err := strconv.Atoi(q.Get("pagelen")); err == nil && v > 0 {
		pagelen = min(v, 50)
	}
	all := req.Clone(req.Context())
	aq := req.URL.Query()
	aq.Del("page")
	aq.Set("pagelen", "50")
	all.URL.RawQuery = aq.Encode()
	resp, err := f.base.RoundTrip(all)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var doc struct {
		Values []any `json:"values"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	qs := q.Get("q")
	branch := qs[strings.Index(qs, `"`)+1 : strings.Index(qs, `" AND`)]
	var list []any
	for i := range n {
		fork := map[string]any{"type": "repository", "full_name": "mallory" + strconv.Itoa(i) + "/basic", "name": "basic",
			"uuid": "{62dbf0d6-95bb-44da-82ca-" + strconv.Itoa(100000000000+i) + "}"}
		target := map[string]any{"type": "repository", "full_name": workspace + "/" + scmtest.BasicRepo, "name": scmtest.BasicRepo,
			"uuid": "{0f0e9a55-0000-4000-8000-000000000001}"}
		list = append(list, map[string]any{"type": "pullrequest", "id": 1000 + n - i, "state": "OPEN", "title": "Add catalog-info.yaml",
			"source": map[string]any{"branch": map[string]any{"name": branch},
				"commit": map[string]any{"type": "commit", "hash": "046d9a3c1532"}, "repository": fork},
			"destination": map[string]any{"branch": map[string]any{"name": "main"},
				"commit": map[string]any{"type": "commit", "hash": "174561d625c9"}, "repository": target},
			"links": map[string]any{"html": map[string]any{"href": "https://bitbucket.org/mallory/basic/pull-requests/" + strconv.Itoa(1000+n-i)}}})
	}
	list = append(list, doc.Values...)
	start := min((page-1)*pagelen, len(list))
	end := min(start+pagelen, len(list))
	out := map[string]any{"pagelen": pagelen, "size": len(list), "page": page, "values": list[start:end]}
	if end < len(list) {
		q.Set("page", strconv.Itoa(page+1))
		u := *req.URL
		u.RawQuery = q.Encode()
		out["next"] = u.String()
	}
	if b, err = json.Marshal(out); err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func (f *manyForkPulls) set(n int) (requests int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n = n
	return f.requests
}

// manyForksEnv is a fake with the conformance world, a client through tr,
// and our open pull request from add-catalog-info into main (opened
// before tr adds forks' ones).
func manyForksEnv(t *testing.T, tr *manyForkPulls) (*fakebitbucketcloud.Server, *scm.Client, *scm.PullRequestSpec, *scm.PullRequest) {
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
	spec := &scm.PullRequestSpec{RepoURL: fk.URL() + "/" + workspace + "/" + scmtest.BasicRepo, Base: "main",
		Branch: "add-catalog-info", Title: "Add catalog-info.yaml", Changes: []scm.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}
	first, err := cl.OpenPullRequest(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	spec.Changes = []scm.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component # second run\n")}}
	return fk, cl, spec, first
}

// TestOpenPullRequestManyForkPullsDoNotHideOurs: forks' open pull
// requests from branches named like ours, into the same base and newer
// than ours, fill the first page of 50. OpenPullRequest without
// UpdateExisting must still find ours and return it, committing nothing:
// it reads the next page only when the one before held none of ours and
// Bitbucket links one. findPull read one page of 50: with 50 forks the
// run committed on our branch, then failed with "There is already an open
// pull request" (seen failing on the old code for 50 and 120; 0 and 49
// passed).
func TestOpenPullRequestManyForkPullsDoNotHideOurs(t *testing.T) {
	// requests: the branches query, the listing's pages (1 per 50).
	for _, tc := range []struct{ forks, requests int }{{0, 2}, {49, 2}, {50, 3}, {120, 4}} {
		t.Run(strconv.Itoa(tc.forks), func(t *testing.T) {
			tr := &manyForkPulls{}
			fk, cl, spec, first := manyForksEnv(t, tr)
			before, _ := fk.Branch(workspace, scmtest.BasicRepo, "add-catalog-info")
			reqs := tr.set(tc.forks)
			again, err := cl.OpenPullRequest(t.Context(), spec)
			if err != nil {
				t.Fatal(err)
			}
			if n := tr.set(tc.forks) - reqs; n != tc.requests {
				t.Errorf("%d requests; want %d", n, tc.requests)
			}
			if again.Number != first.Number || !again.Existing {
				t.Errorf("again = %+v; want our #%d, Existing", *again, first.Number)
			}
			if after, _ := fk.Branch(workspace, scmtest.BasicRepo, "add-catalog-info"); after != before {
				t.Errorf("UpdateExisting false, our #%d open: the branch moved %s -> %s", first.Number, before, after)
			}
		})
	}
}

// TestOpenPullRequestTooManyForkPullsRefused: past the bound of the pages
// read (20 pages of 50) without finding ours, OpenPullRequest cannot tell
// whether ours is open: it refuses (Conflict) before any write, rather
// than commit on a branch that may carry our open pull request.
func TestOpenPullRequestTooManyForkPullsRefused(t *testing.T) {
	tr := &manyForkPulls{}
	fk, cl, spec, _ := manyForksEnv(t, tr)
	before, _ := fk.Branch(workspace, scmtest.BasicRepo, "add-catalog-info")
	reqs := tr.set(1000)
	_, err := cl.OpenPullRequest(t.Context(), spec)
	if errcode.CodeOf(err) != errcode.Conflict || !strings.Contains(err.Error(), "nothing was written") {
		t.Errorf("err = %v; want Conflict, nothing written", err)
	}
	if n := tr.set(1000) - reqs; n != 21 {
		t.Errorf("%d requests; want 21 (the branches and 20 pages)", n)
	}
	if after, _ := fk.Branch(workspace, scmtest.BasicRepo, "add-catalog-info"); after != before {
		t.Errorf("the branch moved %s -> %s", before, after)
	}
}

// TestOpenPullRequestAlreadyOpenFindsOursPastForks: when Bitbucket answers
// "There is already an open pull request" (ours opened meanwhile by a
// concurrent run) and 120 forks' pull requests from branches of the same
// name are newer than ours, the look-up reads on past its first page and
// returns ours. It read one page of 50 and failed (seen failing on the old
// code).
func TestOpenPullRequestAlreadyOpenFindsOursPastForks(t *testing.T) {
	fk := newWorld(t, nil)
	t.Cleanup(fk.Close)
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	tr := &manyForkPulls{base: base, n: 120, racePost: true}
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
	spec := &scm.PullRequestSpec{RepoURL: fk.URL() + "/" + workspace + "/" + scmtest.BasicRepo, Base: "main",
		Branch: "add-catalog-info", Title: "Add catalog-info.yaml", Changes: []scm.Change{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}
	pr, err := cl.OpenPullRequest(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	pulls := fk.PullRequests(workspace, scmtest.BasicRepo)
	if len(pulls) != 1 || pr.Number != pulls[0].ID || !pr.Existing {
		t.Errorf("pr = %+v; pull requests in acme/basic: %+v; want the one opened meanwhile, Existing", *pr, pulls)
	}
}
