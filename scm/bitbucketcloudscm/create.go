package bitbucketcloudscm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/bbapi"
)

var (
	_ driver.AccessGranter = (*Driver)(nil)
	_ driver.AccessGranter = perRepository{}
)

// GrantsAccess implements driver.AccessGranter: CreateRepository applies
// the request's access grants.
func (d *Driver) GrantsAccess() bool { return true }

// GrantsAccess implements driver.AccessGranter.
func (p perRepository) GrantsAccess() bool { return true }

// CreateRepository implements driver.RepositoryCreator in 2 requests,
// whatever the number of files: POST /repositories/{workspace}/{slug}
// (scm git, is_private, description, mainbranch; in the workspace's
// default project), then one multipart POST /src on the empty repository
// that commits every file (executable bits included) and creates the
// branch. Bitbucket Cloud repositories have no topics and no internal
// visibility (the portable client refuses them before any request). A
// taken slug is AlreadyExists.
//
// Each access grant costs one request after the initial commit: PUT
// /repositories/{workspace}/{slug}/permissions-config/groups/{group_slug}
// or .../users/{selected_user_id} with {"permission": "read"|"write"|
// "admin"}. A user is named by her account id or {UUID}: the API takes
// no nickname.
func (d *Driver) CreateRepository(ctx context.Context, hc *http.Client, r *driver.CreateRepositoryRequest) (*driver.CreatedRepository, error) {
	for i, g := range r.Access {
		// Each name is a path segment of its grant's URL: "." and ".."
		// would name another resource once dot segments are removed.
		if name := cmpOr(g.User, g.Team); name == "." || name == ".." {
			return nil, errcode.Newf(errcode.InvalidArgument, "", "access grant %d: %q is neither a group slug nor an account id; nothing was created", i, name)
		}
	}
	if err := checkFieldNames(r.Files); err != nil {
		return nil, err
	}
	repo := driver.Repo{Owner: r.Owner, Name: r.Name}
	branch := cmpOr(r.DefaultBranch, "main")
	body := map[string]any{"scm": "git", "is_private": r.Visibility != "public",
		"mainbranch": map[string]any{"type": "branch", "name": branch}}
	if r.Description != "" {
		body["description"] = r.Description
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	resp, err := d.send(ctx, hc, &call{method: http.MethodPost, url: d.api + d.repoPath(repo), body: b,
		ctype: "application/json"})
	if err != nil {
		return nil, err
	}
	var v repoJSON
	raw, err := httpx.ReadBody(resp, bbapi.MaxJSONBody)
	if err == nil {
		err = json.Unmarshal(raw, &v)
	}
	if err != nil {
		return nil, errcode.Newf(errcode.Unavailable, "", "repository %s/%s was created, but its description could not be read: %v", r.Owner, r.Name, err)
	}
	out := d.repository(&v)
	if out.Owner == "" || out.Name == "" {
		out.Owner, out.Name = r.Owner, bbapi.Slug(r.Name)
	}
	id, err := d.commit(ctx, hc, &driver.PullRequestRequest{Repo: repo, Branch: branch, CommitMessage: r.CommitMessage,
		Changes: r.Files}, "")
	if err != nil {
		return nil, d.ErrorInfo(err).Wrap(fmt.Sprintf("repository %s/%s was created, but its initial commit is missing", out.Owner, out.Name), err)
	}
	for i, g := range r.Access {
		kind, name := "groups", g.Team
		if g.User != "" {
			kind, name = "users", g.User
		}
		resp, err := d.send(ctx, hc, &call{method: http.MethodPut, ctype: "application/json",
			url:  d.api + d.repoPath(driver.Repo{Owner: out.Owner, Name: out.Name}) + "/permissions-config/" + kind + "/" + url.PathEscape(name),
			body: []byte(`{"permission":"` + g.Permission + `"}`)})
		if err == nil {
			_, err = httpx.ReadBody(resp, bbapi.MaxJSONBody)
		}
		if err != nil {
			return nil, d.ErrorInfo(err).Wrap(fmt.Sprintf("repository %s/%s was created with its initial commit, but %s: %v failed", out.Owner, out.Name,
				driver.AccessProgress(r.Access, i), g), err)
		}
	}
	out.DefaultBranch = branch
	return &driver.CreatedRepository{Repository: out, CommitID: id}, nil
}

// CreateRepository implements driver.RepositoryCreator.
func (p perRepository) CreateRepository(ctx context.Context, hc *http.Client, r *driver.CreateRepositoryRequest) (*driver.CreatedRepository, error) {
	return p.d.CreateRepository(ctx, hc, r)
}
