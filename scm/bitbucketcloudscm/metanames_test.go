package bitbucketcloudscm_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest"
)

// TestRootFilesNamedLikeCommitFields: POST /src takes the commit's
// metadata (message, branch, author, parents, files) and the files in one
// form, in one namespace. Bitbucket's documentation of the endpoint: for
// multipart/form-data "the Content-Disposition header will contain the
// filename parameter to distinguish between a file named "message" and
// the commit message field" (only the urlencoded form needs a leading "/"
// on such a path). Every file part carries filename, so root files with
// those names are committed as files, and the commit keeps its own
// message and branch (review29-integ2 #7, a suspicion this pins).
func TestRootFilesNamedLikeCommitFields(t *testing.T) {
	fk := newWorld(t, nil)
	defer fk.Close()
	cl, _ := clientFor(t, fk, integrations.BitbucketCloudConfig{Username: user, Token: integrations.NewSecret(goodToken)})
	before, _ := fk.Branch(workspace, scmtest.BasicRepo, scmtest.DefaultBranch)
	names := []string{"message", "branch", "author", "parents", "files"}
	spec := &scm.PullRequestSpec{RepoURL: fk.URL() + "/" + workspace + "/" + scmtest.BasicRepo, Branch: "topic/meta",
		Title: "Files named like the commit's fields", CommitMessage: "the commit's own message"}
	for _, n := range names {
		spec.Changes = append(spec.Changes, scm.Change{Path: n, Content: []byte("the file " + n + "\n")})
	}
	if _, err := cl.OpenPullRequest(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	files, err := fk.Files(workspace, scmtest.BasicRepo, spec.Branch)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range files {
		got[f.Path] = string(f.Content)
	}
	for _, n := range names {
		if got[n] != "the file "+n+"\n" {
			t.Errorf("file %q on %s = %q; want %q", n, spec.Branch, got[n], "the file "+n+"\n")
		}
	}
	if after, _ := fk.Branch(workspace, scmtest.BasicRepo, scmtest.DefaultBranch); after != before {
		t.Errorf("the main branch moved from %s to %s", before, after)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, fk.APIBaseURL()+"/repositories/"+workspace+"/"+scmtest.BasicRepo+
		"/commits/"+url.PathEscape(spec.Branch)+"?pagelen=1", nil)
	req.SetBasicAuth(user, goodToken)
	resp, err := fk.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Values []struct {
			Message string `json:"message"`
		} `json:"values"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || len(page.Values) == 0 {
		t.Fatalf("GET commits: %v, %d values (HTTP %d)", err, len(page.Values), resp.StatusCode)
	}
	if m := page.Values[0].Message; m != spec.CommitMessage {
		t.Errorf("the branch's head commit message = %q; want %q", m, spec.CommitMessage)
	}
}
