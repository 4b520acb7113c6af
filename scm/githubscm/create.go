package githubscm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v66/github"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/gitpush"
)

var _ driver.AccessGranter = (*Driver)(nil)

// GrantsAccess implements driver.AccessGranter: CreateRepository applies
// the request's access grants.
func (d *Driver) GrantsAccess() bool { return true }

// CreateRepository implements driver.RepositoryCreator: the REST API
// creates the repository empty, and git's smart HTTP protocol pushes the
// initial commit, as Backstage's publish:github does:
//
//  1. POST /orgs/{org}/repos without auto_init (POST /user/repos when the
//     owner is the authenticated user: a 404 from the organization
//     endpoint costs GET /user and that second POST);
//  2. GET https://HOST/{owner}/{repo}.git/info/refs?service=git-receive-pack,
//     on the integration's web host (github.com, or the GitHub Enterprise
//     Server's host): the capabilities, and proof the repository is still
//     empty;
//  3. POST https://HOST/{owner}/{repo}.git/git-receive-pack: the command
//     "0{40} <commit> refs/heads/<branch>" and one packfile with every
//     blob, tree and the root commit, built before step 1 (a path git's
//     fsck refuses, as GitHub runs it on every push, is InvalidArgument
//     before any request: an empty, "." or ".." element, ".git" in any
//     form NTFS or HFS+ reads as .git, such as ".GIT.", "git~1" or
//     ".g\u200cit", a .gitmodules or .gitattributes that is a directory).
//
// That is 3 requests for a tree of any size up to the client's limits,
// binary and executable files included (the REST Git Data path cost 4,
// plus one POST /git/blobs per binary file: the Git database API answers
// 409 on an empty repository, so it needed auto_init and a forced ref
// update). GitHub makes the first branch pushed to an empty repository its
// default, so a DefaultBranch other than the owner's default costs
// nothing more. Topics cost one more request (PUT /topics), and so does
// a push whose answer is lost (see below).
//
// Git's endpoints refuse Bearer: both requests go through hc with
// [credentials.WithBasicUsername](ctx, "x-access-token"), so that the
// credentials transport attaches the token as Basic, to the integration's
// hosts only. hc must honour it (a [credentials.Transport] does, and so
// does the client *scm.Client passes): with a client that always sends
// Bearer, the repository is created and the push refused (Unauthorized).
// The commit's author and committer are Options.CommitAuthor, or
// "scmkit <scmkit@scmkit.invalid>" (a pushed commit must name one, and
// the token's identity would cost a request), dated by Options.Now.
//
// A push GitHub refuses is an error naming the repository and the missing
// initial commit, with GitHub's reason: Conflict when the branch appeared
// meanwhile ("fetch first", "stale info"), PermissionDenied when a rule,
// protected branch or hook declined it (GitHub's remote message, such as
// "GH013: Repository rule violations found", is quoted), Unauthorized,
// PermissionDenied or NotFound for a 401, 403 or 404 of the git endpoints.
// The POST git-receive-pack follows no redirect: a 3xx answer is an
// Unknown error naming where it pointed (as git, which does not follow a
// redirect of a push either), and the pack goes nowhere else.
// When the push's answer is lost (no answer after the pack was sent, a
// 5xx, an unreadable report), one more GET info/refs (not made once ctx
// is done) tells: the branch holds the pushed commit, and CreateRepository
// goes on; it does not, and the error says the initial commit is missing;
// the check fails too, and the error says it may be missing.
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
	pack, err := d.initialPack(r.Files, r.CommitMessage, d.now())
	if err != nil {
		return nil, err
	}
	gh := d.client(hc)
	private := r.Visibility != "public"
	spec := &github.Repository{Name: &r.Name, Private: &private}
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
		return d.afterCreation(owner, name, missing+" is missing", err)
	}
	branch := r.DefaultBranch
	if branch == "" {
		branch = repo.GetDefaultBranch()
	}
	if branch == "" {
		branch = "main"
	}
	if err := d.pushInitialCommit(ctx, hc, owner, name, branch, pack); err != nil {
		var unsure *gitpush.Unsure
		if errors.As(err, &unsure) {
			return nil, d.afterCreation(owner, name, "the initial commit may be missing ("+unsure.Why+")", unsure.Err)
		}
		return nil, after("the initial commit", err)
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
			return nil, d.ErrorInfo(err).Wrap(fmt.Sprintf("repository %s/%s was created with its initial commit, but %s: %v failed", owner, name,
				driver.AccessProgress(r.Access, i), g), redact(err))
		}
	}
	return &driver.CreatedRepository{Repository: driver.Repository{Owner: owner, Name: name,
		DefaultBranch: branch, WebURL: repo.GetHTMLURL(), CloneURL: repo.GetCloneURL(), Private: repo.GetPrivate()},
		CommitID: pack.Commit.String()}, nil
}

// afterCreation is the error of a step after the repository owner/name
// was created: "repository owner/name was created, but <state>", with
// err's code, and err's own message once (an *errcode.Error's code is
// not repeated).
func (d *Driver) afterCreation(owner, name, state string, err error) error {
	out := d.ErrorInfo(err).Wrap(fmt.Sprintf("repository %s/%s was created, but %s", owner, name, state), redact(err))
	if ce, ok := err.(*errcode.Error); ok {
		var where []string
		for _, w := range []string{ce.Op, ce.Provider, ce.Host} {
			if w != "" {
				where = append(where, w)
			}
		}
		switch text := strings.Join(where, " "); {
		case text != "" && ce.Msg != "":
			out.Msg += ": " + text + ": " + ce.Msg
		case text+ce.Msg != "":
			out.Msg += ": " + text + ce.Msg
		}
		out.Err = ce.Err
	}
	return out
}

// githubPermission maps the portable permissions to GitHub's.
var githubPermission = map[string]string{"read": "pull", "write": "push", "admin": "admin"}
