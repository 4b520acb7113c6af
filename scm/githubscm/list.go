package githubscm

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/go-github/v66/github"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
)

// ListRepositories implements driver.Driver: one request per page, GET
// /orgs/{owner}/repos (every repository the credential can see), or, for
// an owner that is a user (the organization endpoint answers 404), GET
// /users/{owner}/repos, which lists the user's public repositories only,
// whoever asks. So the first page of a user asks GET /user first (one more
// request): when the credential is that user's own, the listing is GET
// /user/repos?affiliation=owner, her repositories public and private. A
// GitHub App installation token (GET /user answers 403) lists GET
// /installation/repositories, the repositories the installation covers,
// private ones included, when they are the owner's (an installation
// belongs to one account; with selected repositories, the user's other
// public ones are not listed); when they are another account's (a
// public-access app's installation), or for an anonymous caller (401),
// the listing is the public one. The cursor records which of the four
// listings it is and the next page, from GitHub's Link header. A user's
// first page also reports the listing as RepositoryPage.Kind: the
// portable client hands it back with the next listing of that owner by
// the same credential, which then costs one request, not three (a
// stale "self", whose first page is another login's or empty, is found
// out again, for one request more than without the kind; an owner that
// turned from a user into an organization lists its public repositories
// until the client forgets the kind). A page that lists a repository of
// another owner, or with a name GitHub does not allow, or that is not a
// list, fails (Unknown).
//
// Conditional: GitHub answers each page with an ETag (varying with the
// token) and a matching If-None-Match with 304, which does not count
// against the primary rate limit; with scm.Options.PageCache, the portable
// client re-validates each page so, and this driver parses the cached page
// (Link header included) as if it had been sent again.
func (d *Driver) ListRepositories(ctx context.Context, hc *http.Client, r *driver.ListRepositoriesRequest) (*driver.RepositoryPage, error) {
	if err := checkOwner(r.Owner); err != nil {
		return nil, err
	}
	if err := d.needAPI(); err != nil {
		return nil, err
	}
	kind, page := "", 1
	if r.Cursor != "" {
		k, p, ok := strings.Cut(r.Cursor, ":")
		n, err := strconv.Atoi(p)
		if !ok || err != nil || n < 1 || (k != "org" && k != "user" && k != "self" && k != "app") {
			return nil, errcode.Newf(errcode.InvalidArgument, "", "bad repository cursor %q", r.Cursor)
		}
		kind, page = k, n
	} else if r.Kind == "self" || r.Kind == "user" || r.Kind == "app" {
		kind = r.Kind // a user's listing found before: no probes
	}
	per := r.PageSize
	if per <= 0 || per > 100 {
		per = 100
	}
	gh := d.client(hc)
	lo := github.ListOptions{Page: page, PerPage: per}
	// Oldest first: a repository created meanwhile joins the last page
	// instead of shifting every page (GitHub's default for organizations
	// is newest first, for users by name), so the other pages stay
	// unchanged, re-validated with 304s, and none is listed twice.
	const sort, dir = "created", "asc"
	var (
		repos []*github.Repository
		resp  *github.Response
		err   error
	)
	if kind == "" || kind == "org" {
		repos, resp, err = gh.Repositories.ListByOrg(ctx, r.Owner, &github.RepositoryListByOrgOptions{Sort: sort, Direction: dir, ListOptions: lo})
		if kind == "" && statusOf(err) == http.StatusNotFound {
			if kind, err = d.userListing(ctx, gh, r.Owner); err != nil {
				return nil, redact(err)
			}
		} else {
			kind = "org"
		}
	}
	if kind == "app" {
		var lr *github.ListRepositories
		lr, resp, err = gh.Apps.ListRepos(ctx, &lo)
		if lr != nil {
			repos = lr.Repositories
		}
		if err == nil && r.Cursor == "" && !ownedBy(repos, r.Owner) {
			kind = "user" // another account's installation: the public listing
		}
	}
	switch kind {
	case "user":
		repos, resp, err = gh.Repositories.ListByUser(ctx, r.Owner, &github.RepositoryListByUserOptions{Sort: sort, Direction: dir, ListOptions: lo})
	case "self":
		repos, resp, err = gh.Repositories.ListByAuthenticatedUser(ctx,
			&github.RepositoryListByAuthenticatedUserOptions{Affiliation: "owner", Sort: sort, Direction: dir, ListOptions: lo})
	}
	if err != nil {
		return nil, redact(err)
	}
	if repos == nil {
		// An empty answer, or null, which go-github takes for an empty
		// page: not a listing, and not the end of one.
		return nil, errcode.Newf(errcode.Unknown, "", "GitHub answered no list of %s's repositories", r.Owner)
	}
	if r.Cursor == "" && r.Kind == "self" && kind == "self" && !ownedBy(repos, r.Owner) {
		// A stale kind (the token's user is no longer the owner's login,
		// or no longer owns a repository, which is never reported as
		// "self"): find out again.
		return d.ListRepositories(ctx, hc, &driver.ListRepositoriesRequest{Owner: r.Owner, PageSize: r.PageSize})
	}
	out := &driver.RepositoryPage{Repositories: make([]driver.Repository, 0, len(repos))}
	if r.Cursor == "" && kind != "org" && (kind != "self" || len(repos) > 0) {
		out.Kind = kind
	}
	for _, x := range repos {
		// The owner's repositories only, each with a name GitHub allows:
		// anything else is not the listing asked for, and its names would
		// send the next calls, with the credential, elsewhere.
		if !strings.EqualFold(x.GetOwner().GetLogin(), r.Owner) || !validName(x.GetName()) {
			return nil, errcode.Newf(errcode.Unknown, "", "GitHub listed %s among the repositories of %s",
				strconv.QuoteToASCII(abbrevName(x.GetOwner().GetLogin()+"/"+x.GetName())), r.Owner)
		}
		out.Repositories = append(out.Repositories, driver.Repository{
			Owner: x.GetOwner().GetLogin(), Name: x.GetName(), DefaultBranch: x.GetDefaultBranch(),
			WebURL: x.GetHTMLURL(), CloneURL: x.GetCloneURL(),
			Private: x.GetPrivate(), Archived: x.GetArchived(), Fork: x.GetFork(),
		})
	}
	if resp != nil && resp.NextPage > 0 {
		if resp.NextPage <= page {
			// A Link that goes back (or stays): a listing in a circle.
			return nil, errcode.Newf(errcode.Unknown, "", "GitHub's next page of %s's repositories is page %d, after page %d", r.Owner, resp.NextPage, page)
		}
		out.Next = kind + ":" + strconv.Itoa(resp.NextPage)
	}
	return out, nil
}

// userListing says which listing gives the repositories of owner, a user:
// "self" when the credential is hers (GET /user names her), "app" (her
// installation's) when it is an installation token (GET /user answers
// 403), or "user" (her public repositories) when it is another user's or
// none (401).
func (d *Driver) userListing(ctx context.Context, gh *github.Client, owner string) (string, error) {
	me, _, err := gh.Users.Get(ctx, "")
	switch s := statusOf(err); {
	case s == http.StatusUnauthorized:
		return "user", nil
	case s == http.StatusForbidden && d.ErrorInfo(err).Code != errcode.RateLimited:
		return "app", nil
	case err != nil:
		return "", err
	case strings.EqualFold(me.GetLogin(), owner):
		return "self", nil
	}
	return "user", nil
}

// ownedBy reports whether the first of repos, an installation's
// listing (all of one account), belongs to owner.
func ownedBy(repos []*github.Repository, owner string) bool {
	return len(repos) > 0 && strings.EqualFold(repos[0].GetOwner().GetLogin(), owner)
}

// findFilesQuery asks, per page of 100 repositories of an owner, for the
// blob id (never the text) at an expression such as
// "HEAD:catalog-info.yaml". The owner's own repositories only
// (ownerAffiliations: OWNER): GitHub's default adds, for a user, those of
// other owners she collaborates on. It is validated against GitHub's
// schema in the tests.
const findFilesQuery = `query FindFiles($owner: String!, $cursor: String, $expression: String!) {
  repositoryOwner(login: $owner) {
    login
    repositories(first: 100, after: $cursor, ownerAffiliations: [OWNER]) {
      nodes {
        name
        url
        isArchived
        isFork
        isPrivate
        owner { login }
        defaultBranchRef { name }
        object(expression: $expression) {
          __typename
          ... on Blob { oid }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}`

type findFilesData struct {
	RepositoryOwner *struct {
		Login        string `json:"login"`
		Repositories struct {
			Nodes []struct {
				Name       string `json:"name"`
				URL        string `json:"url"`
				IsArchived bool   `json:"isArchived"`
				IsFork     bool   `json:"isFork"`
				IsPrivate  bool   `json:"isPrivate"`
				Owner      struct {
					Login string `json:"login"`
				} `json:"owner"`
				DefaultBranchRef *struct {
					Name string `json:"name"`
				} `json:"defaultBranchRef"`
				Object *struct {
					Typename string `json:"__typename"`
					OID      string `json:"oid"`
				} `json:"object"`
			} `json:"nodes"`
			PageInfo struct {
				HasNextPage bool    `json:"hasNextPage"`
				EndCursor   *string `json:"endCursor"`
			} `json:"pageInfo"`
		} `json:"repositories"`
	} `json:"repositoryOwner"`
}

// FindFiles implements driver.FileFinder with one GraphQL query per 100
// repositories: for each repository of r.Owner, whether r.Path exists on
// its default branch, and its blob id. An empty repository (no default
// branch) is reported with Found false.
func (d *Driver) FindFiles(ctx context.Context, hc *http.Client, r *driver.FindFilesRequest) (*driver.FoundPage, error) {
	if err := checkOwner(r.Owner); err != nil {
		return nil, err
	}
	if err := d.needAPI(); err != nil {
		return nil, err
	}
	vars := map[string]any{"owner": r.Owner, "expression": "HEAD:" + strings.TrimPrefix(r.Path, "/"), "cursor": nil}
	if r.Cursor != "" {
		vars["cursor"] = r.Cursor
	}
	var data findFilesData
	if err := d.graphql(ctx, d.client(hc), findFilesQuery, vars, &data); err != nil {
		return nil, err
	}
	if data.RepositoryOwner == nil {
		return nil, &errcode.Error{Code: errcode.NotFound,
			Msg: "owner " + r.Owner + " not found (or not visible to the credential)"}
	}
	conn := data.RepositoryOwner.Repositories
	out := &driver.FoundPage{Results: make([]driver.Found, 0, len(conn.Nodes))}
	for _, n := range conn.Nodes {
		// Only the owner's repositories, with names a repository can
		// have: an answer naming another owner's is not taken for one of
		// this owner's.
		if !strings.EqualFold(n.Owner.Login, r.Owner) || !validName(n.Name) {
			continue
		}
		f := driver.Found{Repository: driver.Repository{
			Owner: n.Owner.Login, Name: n.Name, WebURL: n.URL, CloneURL: n.URL + ".git",
			Private: n.IsPrivate, Archived: n.IsArchived, Fork: n.IsFork,
		}}
		if n.DefaultBranchRef != nil {
			f.Repository.DefaultBranch = n.DefaultBranchRef.Name
		}
		if n.Object != nil && n.Object.Typename == "Blob" {
			f.Found, f.BlobID = true, n.Object.OID
		}
		out.Results = append(out.Results, f)
	}
	if conn.PageInfo.HasNextPage && conn.PageInfo.EndCursor != nil {
		out.Next = *conn.PageInfo.EndCursor
	}
	return out, nil
}
