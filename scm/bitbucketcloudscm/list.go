package bitbucketcloudscm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/bbapi"
)

type repoJSON struct {
	Slug       string `json:"slug"`
	FullName   string `json:"full_name"`
	IsPrivate  bool   `json:"is_private"`
	Mainbranch *struct {
		Name string `json:"name"`
	} `json:"mainbranch"`
	Parent *json.RawMessage `json:"parent"`
	Links  struct {
		HTML struct {
			Href string `json:"href"`
		} `json:"html"`
		Clone []struct {
			Name string `json:"name"`
			Href string `json:"href"`
		} `json:"clone"`
	} `json:"links"`
}

// slugOf is v's slug: its slug field, else the name in its full name.
func slugOf(v *repoJSON) string {
	if v.Slug != "" {
		return v.Slug
	}
	_, slug, _ := strings.Cut(v.FullName, "/")
	return slug
}

func (d *Driver) repository(v *repoJSON) driver.Repository {
	owner, _, _ := strings.Cut(v.FullName, "/")
	slug := slugOf(v)
	r := driver.Repository{Owner: owner, Name: slug, WebURL: v.Links.HTML.Href, Private: v.IsPrivate, Fork: v.Parent != nil}
	if r.WebURL == "" {
		r.WebURL = d.web + "/" + url.PathEscape(owner) + "/" + url.PathEscape(slug)
	}
	if v.Mainbranch != nil {
		r.DefaultBranch = v.Mainbranch.Name
		d.rememberMainBranch(owner, slug, r.DefaultBranch)
	}
	for _, c := range v.Links.Clone {
		if c.Name == "https" {
			if u, err := url.Parse(c.Href); err == nil {
				u.User = nil // Bitbucket puts the caller's username there
				r.CloneURL = u.String()
			}
		}
	}
	return r
}

// ListRepositories returns one page of GET /repositories/{ws}; the cursor
// is Bitbucket's next link.
//
// Not conditional: Bitbucket Cloud's REST documentation gives an ETag to
// file contents (/src) only, not to paginated listings, so
// scm.Options.PageCache is not used for it; discovery's per-repository
// file reads are re-validated through scm.Options.FileCache instead.
func (d *Driver) ListRepositories(ctx context.Context, hc *http.Client, r *driver.ListRepositoriesRequest) (*driver.RepositoryPage, error) {
	n := r.PageSize
	if n <= 0 || n > pageLen {
		n = pageLen
	}
	u, err := d.pageURL(r.Cursor, d.api+"/repositories/"+url.PathEscape(bbapi.Slug(r.Owner))+"?pagelen="+strconv.Itoa(n))
	if err != nil {
		return nil, err
	}
	var page struct {
		Values []repoJSON `json:"values"`
		Next   string     `json:"next"`
	}
	if err := d.getJSON(ctx, hc, u, &page); err != nil {
		return nil, err
	}
	if page.Values == nil {
		// JSON, but not a page (null, or an object without values): not
		// the end of the listing.
		return nil, errcode.Newf(errcode.Unknown, "", "Bitbucket's answer for %s's repositories is not a page (it has no values)", r.Owner)
	}
	out := &driver.RepositoryPage{Repositories: make([]driver.Repository, 0, len(page.Values)), Next: page.Next}
	for i := range page.Values {
		// The workspace's repositories only, each named by one segment:
		// anything else is not the listing asked for, and its names would
		// send the next calls, with the credential, to other
		// repositories.
		v := &page.Values[i]
		ws, _, _ := strings.Cut(v.FullName, "/")
		if n := slugOf(v); !sameName(ws, r.Owner) || !oneSegment(n) {
			return nil, errcode.Newf(errcode.Unknown, "", "Bitbucket listed %s among the repositories of the workspace %s",
				strconv.QuoteToASCII(limitLen(v.FullName)), r.Owner)
		}
		out.Repositories = append(out.Repositories, d.repository(v))
	}
	if page.Next != "" && !d.sameResource(page.Next, u, false) {
		return nil, errcode.Newf(errcode.Unknown, "", "Bitbucket's next page of %s's repositories (%s) is not that listing on the API host",
			r.Owner, bbapi.PathOf(page.Next))
	}
	return out, nil
}

// sameName reports whether ws, a workspace a listing names, is owner (the
// name asked for, or its slug).
func sameName(ws, owner string) bool {
	return strings.EqualFold(ws, owner) || strings.EqualFold(ws, bbapi.Slug(owner))
}

// oneSegment reports whether n can name a repository: one path segment,
// not "." or "..".
func oneSegment(n string) bool {
	return n != "" && n != "." && n != ".." && !strings.ContainsAny(n, "/\\\x00")
}

// limitLen cuts s to 256 bytes, for an error message.
func limitLen(s string) string { return s[:min(len(s), 256)] }

// sameResource reports whether next, a next link Bitbucket gave for the
// listing at cur, is on the API base URL and names the same resource as
// cur (the same path, case aside), or, with under, a resource whose path
// starts with cur's: a next link must not carry the listing, and the
// credential, to another workspace or repository of the host.
func (d *Driver) sameResource(next, cur string, under bool) bool {
	if !d.ownsURL(next) {
		return false
	}
	nu, err1 := url.Parse(next)
	cu, err2 := url.Parse(cur)
	if err1 != nil || err2 != nil || nu.User != nil {
		return false
	}
	np, cp := strings.ToLower(nu.EscapedPath()), strings.ToLower(cu.EscapedPath())
	if under {
		return strings.HasPrefix(np, cp)
	}
	return np == cp
}

// FindFiles finds r.Path on the main branch of the workspace's
// repositories with Bitbucket's code search. A workspace without code
// search gives an error classified Unimplemented.
func (d *Driver) FindFiles(ctx context.Context, hc *http.Client, r *driver.FindFilesRequest) (*driver.FoundPage, error) {
	pathTerm := r.Path
	if strings.ContainsAny(pathTerm, " \"") {
		pathTerm = strconv.Quote(pathTerm)
	}
	q := url.Values{
		"search_query": {strconv.Quote(path.Base(r.Path)) + " path:" + pathTerm},
		"pagelen":      {strconv.Itoa(pageLen)},
		"fields":       {"+values.file.commit.repository.mainbranch.name,+values.file.commit.repository.is_private"},
	}
	u, err := d.pageURL(r.Cursor, d.api+"/workspaces/"+url.PathEscape(bbapi.Slug(r.Owner))+"/search/code?"+q.Encode())
	if err != nil {
		return nil, err
	}
	var page struct {
		Values []struct {
			File struct {
				Path   string `json:"path"`
				Commit struct {
					Hash       string   `json:"hash"`
					Repository repoJSON `json:"repository"`
				} `json:"commit"`
			} `json:"file"`
		} `json:"values"`
		Next string `json:"next"`
	}
	if err = d.getJSON(ctx, hc, u, &page); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound && ae.says("search is not enabled") {
			return nil, &searchDisabledError{err: ae}
		}
		return nil, err
	}
	if page.Next != "" && !d.sameResource(page.Next, u, false) {
		return nil, errcode.Newf(errcode.Unknown, "", "Bitbucket's next page of the code search of %s (%s) is not that search on the API host",
			r.Owner, bbapi.PathOf(page.Next))
	}
	out := &driver.FoundPage{Next: page.Next}
	seen := map[string]bool{}
	for _, v := range page.Values {
		if v.File.Path != r.Path {
			continue // a partial path match
		}
		// Only the workspace's repositories, with slugs a repository can
		// have: an answer naming another workspace's is not taken for
		// one of this workspace's (nor is its main branch remembered).
		rj := &v.File.Commit.Repository
		if ws, _, _ := strings.Cut(rj.FullName, "/"); !strings.EqualFold(ws, r.Owner) && !strings.EqualFold(ws, bbapi.Slug(r.Owner)) {
			continue
		}
		if n := slugOf(rj); n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\\") {
			continue
		}
		repo := d.repository(rj)
		if seen[repo.Owner+"/"+repo.Name] {
			continue
		}
		seen[repo.Owner+"/"+repo.Name] = true
		out.Results = append(out.Results, driver.Found{Repository: repo, Found: true})
	}
	return out, nil
}
