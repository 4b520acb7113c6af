package gitlabscm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
)

// maxPageSize is GitLab's maximum page size, REST and GraphQL alike.
const maxPageSize = 100

// Cursor prefixes of ListRepositories: which listing the next page
// continues.
const (
	groupCursor = "g:"
	userCursor  = "u:"
)

// ListRepositories implements driver.Driver: GET groups/:owner/projects
// with include_subgroups=true, with_shared=false (the group's own projects,
// not those of other namespaces shared with it, which GitLab adds by
// default) and keyset pagination by id (a 404 falls back to
// users/:owner/projects; the first page then reports RepositoryPage.Kind
// "user", and the next listing of that owner by the same credential starts
// there, one request instead of two). The cursor is the listing and the query of
// GitLab's Link rel="next" (or its X-Next-Page), applied to the same
// endpoint, so a Link can never send the driver to another URL. A page
// that lists a project outside the group (and its subgroups) or with a
// path GitLab does not allow fails (Unknown): a Link can still change the
// listing's query (with_shared=true, say), but not what it returns.
//
// Conditional: GitLab answers each page with Rails' weak ETag of the body
// and a matching If-None-Match with 304; with scm.Options.PageCache the
// portable client re-validates each page so (Link and X-Next-Page are kept
// with the cached page). A 304 still counts against GitLab's rate limits:
// it saves the page's bytes, not the request.
func (d *Driver) ListRepositories(ctx context.Context, hc *http.Client, r *driver.ListRepositoriesRequest) (*driver.RepositoryPage, error) {
	if err := checkOwner(r.Owner); err != nil {
		return nil, err
	}
	gl := d.gl
	ctx = d.bind(ctx, hc)
	per := int64(maxPageSize)
	if r.PageSize > 0 && r.PageSize < maxPageSize {
		per = int64(r.PageSize)
	}
	list := gitlab.ListOptions{Pagination: "keyset", PerPage: per}
	kind, next := groupCursor, ""
	if r.Cursor != "" {
		switch {
		case strings.HasPrefix(r.Cursor, groupCursor), strings.HasPrefix(r.Cursor, userCursor):
			kind, next = r.Cursor[:2], r.Cursor[2:]
		default:
			return nil, errcode.Newf(errcode.InvalidArgument, "", "invalid page cursor %q", r.Cursor)
		}
	} else if r.Kind == "user" {
		kind = userCursor // a user found before: no group request
	}
	opts := []gitlab.RequestOptionFunc{gitlab.WithContext(ctx)}
	if next != "" {
		opts = append(opts, gitlab.WithKeysetPaginationParameters("?"+next))
	}
	var (
		projects []*gitlab.Project
		resp     *gitlab.Response
		err      error
	)
	if kind == groupCursor {
		projects, resp, err = gl.Groups.ListGroupProjects(r.Owner, &gitlab.ListGroupProjectsOptions{ListOptions: list,
			IncludeSubGroups: gitlab.Ptr(true), WithShared: gitlab.Ptr(false), OrderBy: gitlab.Ptr("id"), Sort: gitlab.Ptr("asc")}, opts...)
		if errors.Is(err, gitlab.ErrNotFound) && r.Cursor == "" {
			kind = userCursor
		}
	}
	if kind == userCursor {
		projects, resp, err = gl.Projects.ListUserProjects(r.Owner, &gitlab.ListProjectsOptions{ListOptions: list,
			OrderBy: gitlab.Ptr("id"), Sort: gitlab.Ptr("asc")}, opts...)
		if errors.Is(err, gitlab.ErrNotFound) && r.Cursor == "" && r.Kind != "" {
			// A stale kind: the path is no user's now; find out again.
			return d.ListRepositories(ctx, hc, &driver.ListRepositoriesRequest{Owner: r.Owner, PageSize: r.PageSize})
		}
	}
	if err != nil {
		return nil, err
	}
	if projects == nil {
		// An answer of null, which client-go takes for an empty page: not
		// a listing, and not the end of one.
		return nil, errcode.Newf(errcode.Unknown, "", "GitLab answered no list of %s's projects", r.Owner)
	}
	page := &driver.RepositoryPage{Repositories: make([]driver.Repository, 0, len(projects))}
	if r.Cursor == "" && kind == userCursor {
		page.Kind = "user"
	}
	for _, p := range projects {
		// The group's projects (its subgroups' included) only, each with
		// a path GitLab allows: anything else is not the listing asked
		// for, and its names would send the next calls, with the
		// credential, to other projects.
		repo := repository(p)
		if !validSegment(repo.Name) || !cleanPath(repo.Owner) || (!strings.EqualFold(repo.Owner, r.Owner) && !hasPrefixFold(repo.Owner, r.Owner+"/")) {
			return nil, errcode.Newf(errcode.Unknown, "", "GitLab listed %s among the projects of %s",
				strconv.QuoteToASCII(limitLen(repo.Owner+"/"+repo.Name)), r.Owner)
		}
		page.Repositories = append(page.Repositories, repo)
	}
	switch {
	case resp.NextLink != "":
		u, err := url.Parse(resp.NextLink)
		if err != nil {
			return nil, errcode.Newf(errcode.Unknown, "", "GitLab sent an unparsable Link rel=\"next\"")
		}
		page.Next = kind + u.RawQuery
	case resp.NextPage > 0:
		page.Next = kind + "page=" + strconv.FormatInt(resp.NextPage, 10)
	}
	return page, nil
}

// findQuery lists a namespace's projects (subgroups included) with the
// blob of each path on each project's default branch, and whether each
// is a fork (Project.isForked, GitLab 16.9 and later).
const findQuery = `query($fullPath: ID!, $paths: [String!]!, $first: Int!, $after: String) {
  namespace(fullPath: $fullPath) {
    projects(includeSubgroups: true, first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        fullPath path webUrl httpUrlToRepo visibility archived isForked
        repository { rootRef blobs(paths: $paths) { nodes { path oid } } }
      }
    }
  }
}`

// findQueryNoFork is findQuery for an instance older than Project.isForked:
// its projects are not known to be forks.
var findQueryNoFork = strings.Replace(findQuery, " isForked\n", "\n", 1)

// noIsForked reports whether err is GitLab refusing the isForked field
// (an instance older than 16.9): "Field 'isForked' doesn't exist on type
// 'Project'".
func noIsForked(err error) bool {
	var ge *GraphQLError
	return errors.As(err, &ge) && ge.mentions("isforked")
}

type findResult struct {
	Namespace *struct {
		Projects struct {
			PageInfo struct {
				HasNextPage bool   `json:"hasNextPage"`
				EndCursor   string `json:"endCursor"`
			} `json:"pageInfo"`
			Nodes []struct {
				FullPath      string `json:"fullPath"`
				Path          string `json:"path"`
				WebURL        string `json:"webUrl"`
				HTTPURLToRepo string `json:"httpUrlToRepo"`
				Visibility    string `json:"visibility"`
				Archived      bool   `json:"archived"`
				IsForked      bool   `json:"isForked"`
				Repository    *struct {
					RootRef *string `json:"rootRef"`
					Blobs   struct {
						Nodes []struct {
							Path string `json:"path"`
							OID  string `json:"oid"`
						} `json:"nodes"`
					} `json:"blobs"`
				} `json:"repository"`
			} `json:"nodes"`
		} `json:"projects"`
	} `json:"namespace"`
}

// FindFiles implements driver.FileFinder with one GraphQL query per 100
// projects of the namespace and its subgroups (see the package
// documentation).
func (d *Driver) FindFiles(ctx context.Context, hc *http.Client, r *driver.FindFilesRequest) (*driver.FoundPage, error) {
	if err := checkOwner(r.Owner); err != nil {
		return nil, err
	}
	gl := d.gl
	ctx = d.bind(ctx, hc)
	// The cursor is "<page size>:<endCursor>", so that a page size
	// halved for one page holds for the next ones.
	first := maxPageSize
	vars := map[string]any{"fullPath": r.Owner, "paths": []string{r.Path}}
	if r.Cursor != "" {
		n, after, ok := strings.Cut(r.Cursor, ":")
		size, err := strconv.Atoi(n)
		if !ok || err != nil || size <= 0 || size > maxPageSize || after == "" {
			return nil, errcode.Newf(errcode.InvalidArgument, "", "invalid page cursor %q", r.Cursor)
		}
		first, vars["after"] = size, after
	}
	var res findResult
	var err error
	for tries := 0; ; tries++ {
		vars["first"] = first
		query := findQuery
		if d.noIsForked.Load() {
			query = findQueryNoFork
		}
		err = d.graphql(ctx, gl, query, vars, &res)
		if query == findQuery && noIsForked(err) {
			// Remembered: the next pages and calls ask without it.
			d.noIsForked.Store(true)
			err = d.graphql(ctx, gl, findQueryNoFork, vars, &res)
		}
		var ge *GraphQLError
		if err == nil || !errors.As(err, &ge) || !ge.complexity() || tries == 3 || first == 1 {
			break
		}
		first = max(first/2, 1)
	}
	if err != nil {
		return nil, err
	}
	if res.Namespace == nil {
		return nil, errcode.Newf(errcode.NotFound, "", "no group or user %q is visible on %s", r.Owner, d.in.Host)
	}
	prj := res.Namespace.Projects
	page := &driver.FoundPage{Results: make([]driver.Found, 0, len(prj.Nodes))}
	for _, n := range prj.Nodes {
		// Only projects of the group asked for (or its subgroups), named
		// as their path says: an answer naming another group's project
		// is not taken for one of this group's.
		owner, name, ok := cutLast(n.FullPath)
		if !ok || !cleanPath(n.FullPath) || !strings.EqualFold(name, n.Path) ||
			(!strings.EqualFold(owner, r.Owner) && !hasPrefixFold(owner, r.Owner+"/")) {
			continue
		}
		repo := driver.Repository{Owner: owner, Name: n.Path, WebURL: n.WebURL, CloneURL: n.HTTPURLToRepo,
			Private: private(n.Visibility), Archived: n.Archived, Fork: n.IsForked}
		f := driver.Found{Repository: repo}
		if n.Repository != nil && n.Repository.RootRef != nil {
			repo.DefaultBranch = *n.Repository.RootRef
			f.Repository = repo
			for _, b := range n.Repository.Blobs.Nodes {
				if b.Path == r.Path {
					f.Found, f.BlobID = true, b.OID
				}
			}
		}
		page.Results = append(page.Results, f)
	}
	if prj.PageInfo.HasNextPage && prj.PageInfo.EndCursor != "" {
		page.Next = strconv.Itoa(first) + ":" + prj.PageInfo.EndCursor
	}
	return page, nil
}

// cutLast splits a full path at its last '/'.
func cutLast(fullPath string) (owner, name string, ok bool) {
	i := strings.LastIndex(fullPath, "/")
	if i <= 0 {
		return "", "", false
	}
	return fullPath[:i], fullPath[i+1:], true
}

// hasPrefixFold is strings.HasPrefix under Unicode case folding.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// graphql posts a query to d.graphqlURL (built here: client-go's
// GraphQL.Do drops a sub-path) and decodes its data into out. An answer
// with errors is a *GraphQLError. A query changes nothing, so the request
// is marked idempotent (an Idempotency-Key with no value, which net/http
// does not send): the retry policy retries it after a 5xx or a dropped
// connection as it retries a GET. Never call it with a mutation.
func (d *Driver) graphql(ctx context.Context, gl *gitlab.Client, query string, vars map[string]any, out any) error {
	u := *d.graphqlURL
	req, err := gl.NewRequestToURL(http.MethodPost, &u, gitlab.GraphQLQuery{Query: query, Variables: vars},
		[]gitlab.RequestOptionFunc{gitlab.WithContext(ctx)})
	if err != nil {
		return err
	}
	req.Header["Idempotency-Key"] = nil
	var env struct {
		Data   json.RawMessage    `json:"data"`
		Errors []GraphQLErrorItem `json:"errors"`
	}
	resp, err := gl.Do(req, &env)
	if err != nil {
		return err
	}
	if len(env.Errors) > 0 {
		return &GraphQLError{Status: resp.StatusCode, Errors: env.Errors}
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return &GraphQLError{Status: resp.StatusCode, Errors: []GraphQLErrorItem{{Message: "the answer has no data"}}}
	}
	return json.Unmarshal(env.Data, out)
}

// limitLen cuts s to 256 bytes, for an error message.
func limitLen(s string) string { return s[:min(len(s), 256)] }

// cleanPath reports whether a project's full path is made of segments a
// GitLab path can have: none empty, ".", ".." or with a backslash (so
// that a prefix check of its owner means what it says).
func cleanPath(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.Contains(seg, "\\") {
			return false
		}
	}
	return true
}
