package gitlabscm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
)

var _ driver.AccessGranter = (*Driver)(nil)

// GrantsAccess implements driver.AccessGranter: CreateRepository applies
// the request's access grants.
func (d *Driver) GrantsAccess() bool { return true }

// CreateRepository implements driver.RepositoryCreator in 3 requests,
// whatever the number of files, and in 2 when the driver already knows the
// namespace's id:
//
//  1. GET /namespaces/:path: POST /projects takes the owner's numeric
//     namespace_id, not its path (a group, subgroup or the user's own
//     namespace). The driver remembers the id for Options.NamespaceTTL
//     (10 minutes by default), so that a scaffolder creating several
//     projects in one group pays this request once;
//  2. POST /projects with name, path, description, visibility, topics and
//     default_branch, and no README, so the repository is empty;
//  3. POST /projects/:id/repository/commits with one create action per
//     file (text as is, binary base64, the executable bit as
//     execute_filemode) on the default branch and no start_branch: on an
//     empty repository that creates the branch with the one commit.
//
// The project is addressed by the numeric id the creation returned. An
// existing project ("has already been taken") is AlreadyExists.
//
// A remembered id is never trusted blindly. When GitLab refuses the
// creation with it (400, 403 or 404: the caller may not create there, or
// the project exists), the id is forgotten and looked up again, and the
// creation retried only if the namespace's id changed; so a caller sees the
// same answer as without the memory, for one more request. The created
// project's namespace must be the owner asked for: when the remembered id
// has come to name another namespace (a group renamed or moved within
// the TTL), the project was made there, and CreateRepository writes
// nothing more and fails with Conflict naming where it is (the empty
// project is left for the caller to delete: scmkit never deletes a
// repository). One caller's refusal makes the driver forget the id for
// everyone, which costs the next caller the look-up again, never a
// different answer.
//
// Each access grant costs 2 requests: its look-up BEFORE the creation
// (GET /groups/:path for a group, GET /users?username= for a user, since
// the grants take numeric ids), so that an unknown group or user is
// NotFound with nothing created; then, after the initial commit, POST
// /projects/:id/share (group_id, group_access) or POST
// /projects/:id/members (user_id, access_level), with the levels
// Reporter (20), Developer (30) and Maintainer (40).
func (d *Driver) CreateRepository(ctx context.Context, hc *http.Client, r *driver.CreateRepositoryRequest) (*driver.CreatedRepository, error) {
	if err := checkRepo(driver.Repo{Owner: r.Owner, Name: r.Name}); err != nil {
		return nil, err
	}
	gl := d.gl
	ctx = d.bind(ctx, hc)
	key := strings.ToLower(r.Owner)
	nsID, remembered := d.namespaces.Get(key, d.now(), d.namespaceTTL)
	if !remembered {
		var err error
		if nsID, err = d.namespaceID(ctx, r.Owner); err != nil {
			return nil, err
		}
		d.namespaces.Put(key, nsID, d.now(), d.namespaceTTL)
	}
	ids, err := d.accessIDs(ctx, r.Access)
	if err != nil {
		return nil, err
	}
	branch := r.DefaultBranch
	if branch == "" {
		branch = "main"
	}
	opt := &gitlab.CreateProjectOptions{Name: gitlab.Ptr(r.Name), Path: gitlab.Ptr(r.Name), NamespaceID: gitlab.Ptr(nsID),
		DefaultBranch: gitlab.Ptr(branch), Visibility: gitlab.Ptr(gitlab.VisibilityValue(r.Visibility))}
	if r.Description != "" {
		opt.Description = gitlab.Ptr(r.Description)
	}
	if len(r.Topics) > 0 {
		opt.Topics = &r.Topics
	}
	p, _, err := gl.Projects.CreateProject(opt, gitlab.WithContext(ctx))
	if err != nil && remembered && refusal(d.ErrorInfo(err).Status) {
		// The remembered id may be stale: look it up as if it never was.
		d.namespaces.Forget(key)
		id, lerr := d.namespaceID(ctx, r.Owner)
		if lerr != nil {
			return nil, lerr
		}
		d.namespaces.Put(key, id, d.now(), d.namespaceTTL)
		if id != nsID {
			nsID, opt.NamespaceID = id, gitlab.Ptr(id)
			p, _, err = gl.Projects.CreateProject(opt, gitlab.WithContext(ctx))
		}
	}
	if err != nil {
		var er *gitlab.ErrorResponse
		if errors.As(err, &er) && strings.Contains(strings.ToLower(er.Message), "has already been taken") {
			return nil, &errcode.Error{Code: errcode.AlreadyExists, Status: statusOf(er),
				Msg: fmt.Sprintf("%s/%s already exists", r.Owner, r.Name), Err: err}
		}
		return nil, err
	}
	if got := namespaceOf(p); !strings.EqualFold(got, r.Owner) {
		d.namespaces.Forget(key)
		return nil, errcode.Newf(errcode.Conflict, "",
			"project %s was created under %s, not under %s: the namespace id %d looked up for %s names %s now (renamed or moved); nothing was committed, and the empty project %s is left to delete",
			p.PathWithNamespace, got, r.Owner, nsID, r.Owner, got, p.PathWithNamespace)
	}
	actions, err := d.actions(&driver.PullRequestRequest{Changes: r.Files}, &preflight{})
	if err != nil {
		return nil, err
	}
	copt := &gitlab.CreateCommitOptions{Branch: gitlab.Ptr(branch), CommitMessage: gitlab.Ptr(r.CommitMessage), Actions: actions}
	if d.author != nil {
		copt.AuthorName, copt.AuthorEmail = gitlab.Ptr(d.author.Name), gitlab.Ptr(d.author.Email)
	}
	commit, _, err := gl.Commits.CreateCommit(p.ID, copt, gitlab.WithContext(ctx))
	if err != nil {
		return nil, d.ErrorInfo(err).Wrap(fmt.Sprintf("project %s was created, but its initial commit is missing", p.PathWithNamespace), err)
	}
	for i, g := range r.Access {
		level := gitlab.Ptr(gitlabLevel[g.Permission])
		if g.Team != "" {
			_, err = gl.Projects.ShareProjectWithGroup(p.ID, &gitlab.ShareWithGroupOptions{GroupID: gitlab.Ptr(ids[i]),
				GroupAccess: level}, gitlab.WithContext(ctx))
		} else {
			_, _, err = gl.ProjectMembers.AddProjectMember(p.ID, &gitlab.AddProjectMemberOptions{UserID: ids[i],
				AccessLevel: level}, gitlab.WithContext(ctx))
		}
		if err != nil {
			return nil, d.ErrorInfo(err).Wrap(fmt.Sprintf("project %s was created with its initial commit, but %s: %v failed", p.PathWithNamespace,
				driver.AccessProgress(r.Access, i), g), err)
		}
	}
	out := repository(p)
	out.DefaultBranch = branch
	return &driver.CreatedRepository{Repository: out, CommitID: commit.ID}, nil
}

// namespaceID looks up the numeric id of the namespace at path (1
// request); a namespace answered under another path is NotFound.
func (d *Driver) namespaceID(ctx context.Context, path string) (int64, error) {
	ns, _, err := d.gl.Namespaces.GetNamespace(path, gitlab.WithContext(ctx))
	if err != nil {
		return 0, err
	}
	if !strings.EqualFold(ns.FullPath, path) {
		return 0, errcode.Newf(errcode.NotFound, "", "namespace %s not found (the server answered %s)", path, ns.FullPath)
	}
	return ns.ID, nil
}

// namespaceOf returns the full path of the namespace p was created in.
func namespaceOf(p *gitlab.Project) string {
	if p.Namespace != nil && p.Namespace.FullPath != "" {
		return p.Namespace.FullPath
	}
	return path.Dir(p.PathWithNamespace)
}

// refusal reports whether status is an answer after which a remembered
// namespace id is looked up again: 400 (taken, or an invalid namespace),
// 403 and 404.
func refusal(status int) bool {
	return status == http.StatusBadRequest || status == http.StatusForbidden || status == http.StatusNotFound
}

// maxNamespaceIDs bounds the namespace ids a driver remembers.
const maxNamespaceIDs = 1024

func statusOf(er *gitlab.ErrorResponse) int {
	if er.Response == nil {
		return 0
	}
	return er.Response.StatusCode
}

// gitlabLevel maps the portable permissions to GitLab's access levels.
var gitlabLevel = map[string]gitlab.AccessLevelValue{"read": gitlab.ReporterPermissions,
	"write": gitlab.DeveloperPermissions, "admin": gitlab.MaintainerPermissions}

// accessIDs looks up the numeric id of each grant's group or user, one
// request each; an unknown one is NotFound.
func (d *Driver) accessIDs(ctx context.Context, grants []driver.AccessGrant) ([]int64, error) {
	ids := make([]int64, len(grants))
	for i, g := range grants {
		if g.Team != "" {
			//lint:ignore SA1019 with_projects=false keeps the group answer small; GitLab still lists projects by default in API v4
			grp, _, err := d.gl.Groups.GetGroup(g.Team, &gitlab.GetGroupOptions{WithProjects: gitlab.Ptr(false)}, gitlab.WithContext(ctx))
			if err != nil {
				return nil, lookupError(g, err)
			}
			ids[i] = grp.ID
			continue
		}
		users, _, err := d.gl.Users.ListUsers(&gitlab.ListUsersOptions{Username: gitlab.Ptr(g.User)}, gitlab.WithContext(ctx))
		if err != nil {
			return nil, lookupError(g, err)
		}
		found := false
		for _, u := range users {
			if strings.EqualFold(u.Username, g.User) {
				ids[i], found = u.ID, true
				break
			}
		}
		if !found {
			return nil, errcode.Newf(errcode.NotFound, "", "%v: no user %s; nothing was created", g, g.User)
		}
	}
	return ids, nil
}

// lookupError names the grant whose look-up failed.
func lookupError(g driver.AccessGrant, err error) error {
	what := "user"
	if g.Team != "" {
		what = "group"
	}
	return fmt.Errorf("%v: looking up the %s, before creating anything: %w", g, what, err)
}
