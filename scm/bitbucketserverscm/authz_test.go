package bitbucketserverscm_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/scmtest"
)

// unauthorized answers every request with Bitbucket Data Center's 401 and
// body.
type unauthorized struct{ body, user string }

func (u unauthorized) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusUnauthorized, Status: "401 Unauthorized", Request: r,
		Header: http.Header{"Content-Type": {"application/json;charset=UTF-8"}, "X-Ausername": {u.user}},
		Body:   io.NopCloser(strings.NewReader(u.body)), ContentLength: int64(len(u.body))}, nil
}

// TestInsufficientPermissionIsPermissionDenied: Bitbucket Data Center
// answers a good credential that lacks REPO_READ with 401 and an
// AuthorisationException ("The currently authenticated user has
// insufficient permissions to view the repository", its REST
// description): that is PermissionDenied, as a 403 is on GitHub and
// GitLab, not Unauthorized, which says the credential itself is bad. A
// refused password or token stays Unauthorized.
func TestInsufficientPermissionIsPermissionDenied(t *testing.T) {
	fake := newWorld(t, "")
	defer fake.Close()
	const notPermitted = `{"errors":[{"context":null,"message":"You are not permitted to access this resource","exceptionName":"com.atlassian.bitbucket.AuthorisationException"}]}`
	for _, tc := range []struct {
		name, body, user string
		want             errcode.Code
	}{
		{"not permitted", notPermitted, "alice", errcode.PermissionDenied},
		// The same answer to an anonymous request (no credential, or one
		// an instance with anonymous access took for none) names no user.
		{"anonymous", notPermitted, "", errcode.Unauthorized},
		{"bad password", `{"errors":[{"context":null,"message":"Authentication failed. Please check your credentials and try again.","exceptionName":"com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"}]}`,
			"", errcode.Unauthorized},
		{"no body", ``, "", errcode.Unauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, hc := driverFor(t, fake, nil)
			hc.Transport = unauthorized{tc.body, tc.user}
			_, err := d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: driver.Repo{Owner: project, Name: scmtest.BasicRepo},
				Ref: "main", Path: "README.md"})
			if info := d.ErrorInfo(err); info.Code != tc.want || info.Status != http.StatusUnauthorized {
				t.Errorf("ErrorInfo = %+v (%v); want %v, HTTP 401", info, err, tc.want)
			}
		})
	}
}

// filesPage answers GET .../files with one page holding names.
type filesPage struct{ names []string }

func (f filesPage) RoundTrip(r *http.Request) (*http.Response, error) {
	values, err := json.Marshal(f.names)
	if err != nil {
		return nil, err
	}
	body := `{"size":` + strconv.Itoa(len(f.names)) + `,"limit":1000,"isLastPage":true,"start":0,"values":` + string(values) + `}`
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Request: r,
		Header: http.Header{"Content-Type": {"application/json;charset=UTF-8"}},
		Body:   io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}, nil
}

// TestListFilesRefusesPathsOutsideDir: a files page (from a hostile or
// broken server) naming a path that, joined to the directory listed,
// leaves it or is not a valid path fails ListFiles with InvalidArgument,
// as such an archive entry refuses a tree, instead of handing the caller
// (scm.Client.Search) a path outside the directory.
func TestListFilesRefusesPathsOutsideDir(t *testing.T) {
	fake := newWorld(t, "")
	defer fake.Close()
	for _, tc := range []struct {
		names []string
		dir   string
		want  errcode.Code
	}{
		{[]string{"a.txt", "sub/b.txt"}, "tpl", errcode.OK},
		{[]string{"a.txt", "../secret.txt"}, "tpl", errcode.InvalidArgument},
		{[]string{"a.txt", "/abs"}, "tpl", errcode.InvalidArgument},
		{[]string{"a.txt", "x/./y"}, "tpl", errcode.InvalidArgument},
		{[]string{"nul\x00"}, "tpl", errcode.InvalidArgument},
		{[]string{"../x"}, "", errcode.InvalidArgument},
		{[]string{""}, "", errcode.InvalidArgument},
	} {
		t.Run(strings.Join(tc.names, ","), func(t *testing.T) {
			d, hc := driverFor(t, fake, nil)
			hc.Transport = filesPage{tc.names}
			l, err := d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: driver.Repo{Owner: project, Name: scmtest.BasicRepo},
				Ref: "main", Dir: tc.dir})
			if got := d.ErrorInfo(err).Code; got != tc.want {
				t.Errorf("ListFiles = %+v, %v (%v); want %v", l, got, err, tc.want)
			}
		})
	}
}

// TestMissingBaseOnExistingBranchWritesNothing: when the branch exists
// (a rerun, or someone's branch) and the base named does not, the call
// fails with NotFound before any commit, as it does for a new branch
// (whose creation from the base fails) and on Bitbucket Cloud: bad input
// changes nothing.
func TestMissingBaseOnExistingBranchWritesNothing(t *testing.T) {
	e := newEnv(t, "")
	spec := &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Base: "main", Branch: "gen/base", Title: "Generated",
		Changes: tenChanges("gen")[:2]}
	if _, err := e.c.OpenPullRequest(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	before, _ := e.fake.Commits(project, scmtest.BasicRepo, spec.Branch)
	spec.Base, spec.Changes = "no-such-base", tenChanges("other")[:2]
	_, err := e.c.OpenPullRequest(t.Context(), spec)
	if got := scm.Code(err); got != scm.NotFound {
		t.Errorf("OpenPullRequest into a missing base: %v (%v); want NotFound", got, err)
	}
	if after, _ := e.fake.Commits(project, scmtest.BasicRepo, spec.Branch); len(after) != len(before) {
		t.Errorf("the branch went from %d to %d commits; want no commit", len(before), len(after))
	}
}

// TestUpdateOfMissingFileWritesNothing: an Update of a file that does not
// exist is found before anything is written: no branch is created and no
// other change is committed (it was checked in turn, after the branch and
// the changes before it had been written), for the same requests.
func TestUpdateOfMissingFileWritesNothing(t *testing.T) {
	e := newEnv(t, "")
	for _, tc := range []struct {
		name     string
		existing bool
	}{{"new branch", false}, {"existing branch", true}} {
		t.Run(tc.name, func(t *testing.T) {
			branch := "gen/update-" + strings.ReplaceAll(tc.name, " ", "-")
			spec := &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Branch: branch, Title: "Generated",
				Changes: tenChanges(branch)[:1]}
			if tc.existing {
				if _, err := e.c.OpenPullRequest(t.Context(), spec); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := e.fake.Commits(project, scmtest.BasicRepo, branch)
			spec.UpdateExisting = true // else the open pull request is returned, and nothing done
			spec.Changes = []scm.Change{{Path: "new.txt", Content: []byte("new\n")},
				{Path: "nope.txt", Action: scm.Update, Content: []byte("x\n")}}
			_, err := e.c.OpenPullRequest(t.Context(), spec)
			if got := scm.Code(err); got != scm.NotFound {
				t.Errorf("OpenPullRequest updating a missing file: %v (%v); want NotFound", got, err)
			}
			var pe *bitbucketserverscm.PartialCommitError
			if errors.As(err, &pe) {
				t.Errorf("error %v reports a partial commit; want nothing written", err)
			}
			after, _ := e.fake.Commits(project, scmtest.BasicRepo, branch) // none: no such branch
			if len(after) != len(before) {
				t.Errorf("the branch went from %d to %d commits; want no commit", len(before), len(after))
			}
		})
	}
}

// TestUpdateIntoMissingBase: an Update change on a new branch from a base
// that does not exist is NotFound, for the base (the file is not blamed),
// and nothing is written.
func TestUpdateIntoMissingBase(t *testing.T) {
	e := newEnv(t, "")
	spec := &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Base: "no-such-base", Branch: "gen/update-nobase",
		Title: "Generated", Changes: []scm.Change{{Path: "README.md", Action: scm.Update, Content: []byte("x\n")}}}
	_, err := e.c.OpenPullRequest(t.Context(), spec)
	if got := scm.Code(err); got != scm.NotFound || !strings.Contains(err.Error(), `base branch "no-such-base" not found`) {
		t.Errorf("OpenPullRequest: %v (%v); want NotFound saying the base is not found", got, err)
	}
	if after, _ := e.fake.Commits(project, scmtest.BasicRepo, spec.Branch); len(after) != 0 {
		t.Errorf("branch %s created with %d commits; want none", spec.Branch, len(after))
	}
}

// TestDotSegmentSlugRefused: a repository name whose slug is a dot segment
// ("!.." gives "..") would make .../repos/../raw/x, which dot-segment
// normalisation turns into another resource of the same host (the
// credential goes along): refused with InvalidArgument before any
// request.
func TestDotSegmentSlugRefused(t *testing.T) {
	fake := newWorld(t, "")
	defer fake.Close()
	d, hc := driverFor(t, fake, nil)
	for _, name := range []string{"!..", " .", "!!.."} {
		before := fake.Stats().Total
		_, err := d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: driver.Repo{Owner: project, Name: name}, Ref: "main", Path: "README.md"})
		if got := d.ErrorInfo(err).Code; got != errcode.InvalidArgument || fake.Stats().Total != before {
			t.Errorf("ReadFile of repository %q: %v (%v) after %d requests; want InvalidArgument after 0", name, got, err, fake.Stats().Total-before)
		}
	}
}
