package githubscm_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// sameOwnerForkPulls stands in for GitHub when acme owns a fork of
// acme/svc, acme/svc-fork, with a branch named like the run's and an open
// pull request from it into acme/svc: GET /repos/acme/svc/pulls?head=
// acme:feature lists it too (the head filter is user:ref-name or
// organization:ref-name, which does not name the repository). The fake has
// no forks: the transport puts first on each such listing a copy of the
// listing's first pull request whose head is acme/svc-fork (number 42,
// head.repo the fork, with its own id), as GitHub shapes a pull request
// from a fork.
type sameOwnerForkPulls struct {
	base  http.RoundTripper
	lists atomic.Int32
}

func (f *sameOwnerForkPulls) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := f.base.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, "/repos/acme/svc/pulls") ||
		req.URL.Query().Get("head") == "" || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	f.lists.Add(1)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var list []map[string]any
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, err
	}
	if len(list) > 0 {
		var again []map[string]any // a copy of list[0], decoded anew
		if err := json.Unmarshal(b, &again); err != nil {
			return nil, err
		}
		fork := again[0]
		head := fork["head"].(map[string]any)
		repo := head["repo"].(map[string]any)
		repo["id"], repo["node_id"], repo["name"], repo["full_name"], repo["fork"] = 987654, "R_fork", "svc-fork", "acme/svc-fork", true
		repo["html_url"] = strings.Replace(repo["html_url"].(string), "/acme/svc", "/acme/svc-fork", 1)
		fork["number"], fork["id"], fork["title"] = 42, 4242, "theirs, from acme/svc-fork"
		fork["html_url"] = strings.Replace(fork["html_url"].(string), "/pull/1", "/pull/42", 1)
		list = append([]map[string]any{fork}, list...)
	}
	if b, err = json.Marshal(list); err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// TestOpenPullRequestOpenedMeanwhileSkipsFork: after GitHub's "A pull
// request already exists" (opened between the query and the mutation),
// the REST lookup returns the repository's own pull request, not one from
// a fork under the same owner listed before it (head=acme:feature matches
// both). It used to return the fork's #42.
func TestOpenPullRequestOpenedMeanwhileSkipsFork(t *testing.T) {
	e := newEnv(t, false, nil)
	svcWithModes(t, e)
	if _, err := e.s.Commit("acme", "svc", "feature", fakegithub.Commit{Files: []fakegithub.File{{Path: "start.txt", Content: []byte("s")}}}); err != nil {
		t.Fatal(err)
	}
	forks := &sameOwnerForkPulls{base: http.DefaultTransport}
	hc := &http.Client{Transport: tokenTransport{host: e.s.Host(), token: goodToken, base: hookTransport{base: forks, n: new(atomic.Int32),
		before: func(n int) {
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
		}}}}
	pr, err := e.d.OpenPullRequest(t.Context(), hc, &driver.PullRequestRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"},
		Branch: "feature", Title: "t", Changes: []driver.Change{{Path: "ours.txt", Content: []byte("ours\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	if !pr.Existing || pr.Number != 1 || forks.lists.Load() != 1 {
		t.Errorf("pull request %+v after %d listings; want acme/svc's own #1, Existing, not acme/svc-fork's #42", pr, forks.lists.Load())
	}
}
