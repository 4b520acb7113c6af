package bitbucketserverscm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/bbapi"
)

var _ driver.AccessGranter = (*Driver)(nil)

// GrantsAccess implements driver.AccessGranter: CreateRepository applies
// the request's access grants.
func (d *Driver) GrantsAccess() bool { return true }

// CreateRepository implements driver.RepositoryCreator in 1 + N requests
// for N files: POST /projects/{key}/repos (name, scmId git, description,
// defaultBranch, public), then one PUT browse/{path} per file on the
// default branch; the first one, on the empty repository, creates the
// branch. Bitbucket Server's REST API has no multi-file commit, so the
// initial history is N commits of one file each, not one commit, and it
// cannot set the executable bit: a tree with an executable file is
// refused with Unimplemented before the repository is created, as are
// topics and internal visibility (by the portable client). A repository
// of that name in the project (409) is AlreadyExists. When a PUT fails,
// the error names the repository and the files not written.
//
// Each access grant costs one request after the files: PUT
// .../repos/{slug}/permissions/groups or .../permissions/users with the
// query permission=REPO_READ|REPO_WRITE|REPO_ADMIN and name= (204).
func (d *Driver) CreateRepository(ctx context.Context, hc *http.Client, r *driver.CreateRepositoryRequest) (*driver.CreatedRepository, error) {
	if err := checkChanges(r.Files); err != nil {
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
	err := d.doJSON(ctx, hc, &call{method: http.MethodPost, path: "/projects/" + url.PathEscape(projectKey(r.Owner)) + "/repos",
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
	rp := repoPath(repo)
	req := &driver.PullRequestRequest{Repo: repo, Branch: branch, CommitMessage: r.CommitMessage}
	head := ""
	for i, ch := range r.Files {
		ch.Action = driver.Create
		id, skipped, err := d.commitFile(ctx, hc, rp, req, ch, head)
		if err != nil {
			return nil, d.ErrorInfo(err).Wrap(fmt.Sprintf("repository %s/%s was created, but %d of its %d files are missing, from %s on (branch %s)",
				out.Owner, out.Name, len(r.Files)-i, len(r.Files), ch.Path, branch), err)
		}
		if !skipped {
			head = id
		}
	}
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

// serverPermission maps the portable permissions to Bitbucket Server's
// repository permissions.
var serverPermission = map[string]string{"read": "REPO_READ", "write": "REPO_WRITE", "admin": "REPO_ADMIN"}
