package bitbucketserverscm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/bbapi"
	"github.com/scmkit/scmkit/scm/internal/gitpush"
)

var _ driver.AccessGranter = (*Driver)(nil)

// GrantsAccess implements driver.AccessGranter: CreateRepository applies
// the request's access grants.
func (d *Driver) GrantsAccess() bool { return true }

// CreateRepository implements driver.RepositoryCreator in 3 requests for
// a tree of any size: POST /projects/{key}/repos (name, scmId git,
// description, defaultBranch, public), then git's smart HTTP push of one
// root commit holding every file, with its mode (100755 for an executable
// file, 100644 otherwise), to the repository's HTTP clone URL
// {web}/scm/{project}/{slug}.git: GET info/refs?service=git-receive-pack
// (proof the repository is still empty) and POST git-receive-pack (the
// pack, built before the first request: a path git refuses is
// InvalidArgument before anything is created). A lost push answer costs
// one more GET info/refs to learn whether the branch holds the commit.
// The commit's author and committer are "scmkit <scmkit@scmkit.invalid>",
// dated by Options.Now.
//
// The push goes through hc with the REST API's credential, as it is: Data
// Center takes an HTTP access token as Bearer (project and repository
// tokens only so) and a username and password as Basic for Git over
// HTTPS, as for its REST API. Topics and internal visibility are refused
// by the portable client. A repository of that name in the project (409)
// is AlreadyExists. A push that fails leaves the repository created and
// empty, and the error says so: an instance whose administrator turned
// off Git over HTTP(S) answers the ref advertisement 200 with git's ERR
// packet ("SCM access over HTTP(S) has been disabled"), which is
// PermissionDenied quoting it; the REST API's one file per commit is not
// used instead, as it would make a commit per file and drop the modes.
//
// Each access grant costs one request after the push: PUT
// .../repos/{slug}/permissions/groups or .../permissions/users with the
// query permission=REPO_READ|REPO_WRITE|REPO_ADMIN and name= (204).
func (d *Driver) CreateRepository(ctx context.Context, hc *http.Client, r *driver.CreateRepositoryRequest) (*driver.CreatedRepository, error) {
	pack, err := gitpush.Build(r.Files, r.CommitMessage, gitpush.DefaultAuthor, d.now())
	if err != nil {
		return nil, err
	}
	repo := driver.Repo{Owner: r.Owner, Name: r.Name}
	branch := r.DefaultBranch
	if branch == "" {
		branch = "main"
	}
	body := map[string]any{"name": r.Name, "scmId": "git", "defaultBranch": branch, "public": r.Visibility == "public"}
	if r.Description != "" {
		body["description"] = r.Description
	}
	var v repoJSON
	err = d.doJSON(ctx, hc, &call{method: http.MethodPost, path: "/projects/" + url.PathEscape(projectKey(r.Owner)) + "/repos",
		ctype: "application/json", body: mustJSON(body)}, &v)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusConflict {
			return nil, &errcode.Error{Code: errcode.AlreadyExists, Status: ae.Status,
				Msg: fmt.Sprintf("repository %s/%s already exists", projectKey(r.Owner), bbapi.Slug(r.Name)), Err: err}
		}
		return nil, err
	}
	out := d.repository(&v)
	if out.Name == "" {
		out.Owner, out.Name = projectKey(r.Owner), bbapi.Slug(r.Name)
	}
	// The push and the grants go to the slug Data Center gave the new
	// repository, when it is one (the derived one otherwise).
	if isSlug(v.Slug) {
		repo.Name = v.Slug
	}
	rp := repoPath(repo)
	pusher := &gitpush.Pusher{Vendor: "Bitbucket", Now: d.now}
	if err := pusher.Push(ctx, hc, d.gitURL(repo), branch, pack); err != nil {
		state := "its initial commit is missing (branch " + branch + ")"
		var unsure *gitpush.Unsure
		if errors.As(err, &unsure) {
			state, err = "its initial commit may be missing (branch "+branch+"; "+unsure.Why+")", unsure.Err
		}
		return nil, d.ErrorInfo(err).Wrap(fmt.Sprintf("repository %s/%s was created, but %s", out.Owner, out.Name, state), err)
	}
	head := pack.Commit.String()
	for i, g := range r.Access {
		kind, name := "groups", g.Team
		if g.User != "" {
			kind, name = "users", g.User
		}
		resp, err := d.send(ctx, hc, &call{method: http.MethodPut, path: rp + "/permissions/" + kind,
			query: url.Values{"permission": {serverPermission[g.Permission]}, "name": {name}}})
		if err == nil {
			_, err = httpx.ReadBody(resp, bbapi.MaxJSONBody)
		}
		if err != nil {
			return nil, d.ErrorInfo(err).Wrap(fmt.Sprintf("repository %s/%s was created with its files, but %s: %v failed", out.Owner, out.Name,
				driver.AccessProgress(r.Access, i), g), err)
		}
	}
	out.DefaultBranch = branch
	return &driver.CreatedRepository{Repository: out, CommitID: head}, nil
}

// isSlug reports whether s can be a repository slug: ASCII letters,
// digits, ".", "_" and "-", not "." or "..", at most 128 bytes (the
// answer is untrusted: it must not move the path elsewhere).
func isSlug(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// serverPermission maps the portable permissions to Bitbucket Server's
// repository permissions.
var serverPermission = map[string]string{"read": "REPO_READ", "write": "REPO_WRITE", "admin": "REPO_ADMIN"}

// gitURL is the HTTP clone URL of repo, where git's smart HTTP endpoints
// are: {web}/scm/{project}/{slug}.git, the project key in lower case as
// Bitbucket writes it in its clone links (a personal project "~user" as
// it is). It is built from the integration's web base URL, not taken from
// the answer's clone link, which names the user and could name another
// host.
func (d *Driver) gitURL(repo driver.Repo) string {
	return d.web + "/scm/" + url.PathEscape(strings.ToLower(projectKey(repo.Owner))) + "/" + url.PathEscape(bbapi.Slug(repo.Name)) + ".git"
}
