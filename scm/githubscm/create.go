package githubscm

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v66/github"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
)

var _ driver.AccessGranter = (*Driver)(nil)

// GrantsAccess implements driver.AccessGranter: CreateRepository applies
// the request's access grants.
func (d *Driver) GrantsAccess() bool { return true }

// CreateRepository implements driver.RepositoryCreator with the REST API:
//
//  1. POST /orgs/{org}/repos (POST /user/repos when the owner is the
//     authenticated user: a 404 from the organization endpoint costs GET
//     /user and that second POST), with auto_init so that the repository
//     has a branch;
//  2. POST /git/trees with every text file inline (a binary file costs one
//     POST /git/blobs first);
//  3. POST /git/commits: a root commit (no parent) holding the whole tree;
//  4. PATCH /git/refs/heads/{branch} with force, so that the branch holds
//     that one commit and nothing of auto_init's README commit.
//
// That is 4 requests for a text-only tree of any size, and not 3: the Git
// database API answers 409 "Git Repository is empty." on a repository
// created without auto_init, GraphQL's createCommitOnBranch needs an
// existing branch and its head oid (which the creation's answer does not
// give, so it costs a read), and the contents API writes one file per
// commit. A default branch other than the one auto_init made costs 2 more
// requests (POST /git/refs for it and PATCH /repos to make it the default,
// instead of the PATCH of step 4, plus DELETE of the auto_init branch),
// and topics one more (PUT /topics).
//
// Each access grant costs one request after that: PUT
// /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo} for a team (the owner
// must be an organization; a team grant for a user's repository is
// refused before the creation), PUT
// /repos/{owner}/{repo}/collaborators/{username} for a user, with
// permission pull, push or admin. A user who is not yet a collaborator
// gets an invitation (201): the access holds once accepted.
func (d *Driver) CreateRepository(ctx context.Context, hc *http.Client, r *driver.CreateRepositoryRequest) (*driver.CreatedRepository, error) {
	if err := d.needAPI(); err != nil {
		return nil, err
	}
	if err := checkRepo(driver.Repo{Owner: r.Owner, Name: r.Name}); err != nil {
		return nil, err
	}
	for _, g := range r.Access {
		if strings.Contains(g.Team, "/") || strings.Contains(g.User, "/") {
			return nil, errcode.Newf(errcode.InvalidArgument, "", "%v: a GitHub team slug or login has no '/'", g)
		}
	}
	gh := d.client(hc)
	autoInit, private := true, r.Visibility != "public"
	spec := &github.Repository{Name: &r.Name, Private: &private, AutoInit: &autoInit}
	if r.Description != "" {
		spec.Description = &r.Description
	}
	if r.Visibility == "internal" {
		spec.Visibility = &r.Visibility
	}
	repo, _, err := gh.Repositories.Create(ctx, r.Owner, spec)
	if statusOf(err) == http.StatusNotFound {
		// Not an organization: the authenticated user's own repository?
		me, _, uerr := gh.Users.Get(ctx, "")
		if uerr != nil || !strings.EqualFold(me.GetLogin(), r.Owner) {
			return nil, redact(err)
		}
		for _, g := range r.Access {
			if g.Team != "" {
				return nil, errcode.Newf(errcode.InvalidArgument, "", "%v: %s is a user, and teams exist only in organizations", g, r.Owner)
			}
		}
		repo, _, err = gh.Repositories.Create(ctx, "", spec)
	}
	if err != nil {
		return nil, redact(err)
	}
	owner, name := repo.GetOwner().GetLogin(), repo.GetName()
	if owner == "" || name == "" {
		owner, name = r.Owner, r.Name
	}
	after := func(missing string, err error) error {
		info := d.ErrorInfo(err)
		return &errcode.Error{Code: info.Code, Status: info.Status, RetryAt: info.RetryAt,
			Msg: fmt.Sprintf("repository %s/%s was created, but %s is missing", owner, name, missing), Err: redact(err)}
	}
	entries, err := d.treeEntries(ctx, gh, &driver.PullRequestRequest{Repo: driver.Repo{Owner: owner, Name: name}, Changes: r.Files})
	if err != nil {
		return nil, after("the initial commit", err)
	}
	tree, _, err := gh.Git.CreateTree(ctx, owner, name, "", entries)
	if err != nil {
		return nil, after("the initial commit", err)
	}
	commit, _, err := gh.Git.CreateCommit(ctx, owner, name, &github.Commit{Message: &r.CommitMessage,
		Tree: &github.Tree{SHA: tree.SHA}}, nil)
	if err != nil {
		return nil, after("the initial commit", err)
	}
	initBranch := repo.GetDefaultBranch()
	branch := r.DefaultBranch
	if branch == "" {
		branch = initBranch
	}
	ref := "refs/heads/" + branch
	if branch == initBranch {
		if _, _, err := gh.Git.UpdateRef(ctx, owner, name, &github.Reference{Ref: &ref,
			Object: &github.GitObject{SHA: commit.SHA}}, true); err != nil {
			return nil, after("the initial commit on "+branch, err)
		}
	} else {
		if _, _, err := gh.Git.CreateRef(ctx, owner, name, &github.Reference{Ref: &ref,
			Object: &github.GitObject{SHA: commit.SHA}}); err != nil {
			return nil, after("the branch "+branch+" with the initial commit", err)
		}
		edited, _, err := gh.Repositories.Edit(ctx, owner, name, &github.Repository{DefaultBranch: &branch})
		if err != nil {
			return nil, after("the default branch "+branch+" (it is "+initBranch+", with a README only)", err)
		}
		repo.DefaultBranch = edited.DefaultBranch
		if _, err := gh.Git.DeleteRef(ctx, owner, name, "heads/"+initBranch); err != nil {
			return nil, after("the deletion of the branch "+initBranch+" that auto_init made", err)
		}
	}
	if len(r.Topics) > 0 {
		if _, _, err := gh.Repositories.ReplaceAllTopics(ctx, owner, name, r.Topics); err != nil {
			return nil, after("the topics", err)
		}
	}
	for i, g := range r.Access {
		perm := githubPermission[g.Permission]
		var err error
		if g.Team != "" {
			_, err = gh.Teams.AddTeamRepoBySlug(ctx, owner, g.Team, owner, name, &github.TeamAddTeamRepoOptions{Permission: perm})
		} else {
			_, _, err = gh.Repositories.AddCollaborator(ctx, owner, name, g.User, &github.RepositoryAddCollaboratorOptions{Permission: perm})
		}
		if err != nil {
			info := d.ErrorInfo(err)
			return nil, &errcode.Error{Code: info.Code, Status: info.Status, RetryAt: info.RetryAt,
				Msg: fmt.Sprintf("repository %s/%s was created with its initial commit, but %s: %v failed", owner, name,
					driver.AccessProgress(r.Access, i), g), Err: redact(err)}
		}
	}
	return &driver.CreatedRepository{Repository: driver.Repository{Owner: owner, Name: name,
		DefaultBranch: branch, WebURL: repo.GetHTMLURL(), CloneURL: repo.GetCloneURL(), Private: repo.GetPrivate()},
		CommitID: commit.GetSHA()}, nil
}

// githubPermission maps the portable permissions to GitHub's.
var githubPermission = map[string]string{"read": "pull", "write": "push", "admin": "admin"}
