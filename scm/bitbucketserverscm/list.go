package bitbucketserverscm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/bbapi"
)

type linkJSON struct {
	Href string `json:"href"`
	Name string `json:"name"`
}

type repoJSON struct {
	Slug          string `json:"slug"`
	Name          string `json:"name"`
	Public        bool   `json:"public"`
	Archived      bool   `json:"archived"`
	DefaultBranch string `json:"defaultBranch"`
	Project       struct {
		Key string `json:"key"`
	} `json:"project"`
	Origin *json.RawMessage `json:"origin"`
	Links  struct {
		Clone []linkJSON `json:"clone"`
		Self  []linkJSON `json:"self"`
	} `json:"links"`
}

// ListRepositories returns one page of GET projects/{key}/repos. A page
// that is not the last but names no later nextPageStart is an error
// (Unknown), not the end of the listing.
//
// A page that lists a repository of another project, or with a slug that
// is not one path segment, fails (Unknown).
//
// Not conditional: Bitbucket Data Center's REST API documents no ETag on
// its pages, so scm.Options.PageCache is not used for it; discovery's
// per-repository file reads (without code search) go through
// scm.Options.FileCache instead, re-validated where the server gives the
// raw file an ETag.
func (d *Driver) ListRepositories(ctx context.Context, hc *http.Client, r *driver.ListRepositoriesRequest) (*driver.RepositoryPage, error) {
	limit := r.PageSize
	if limit <= 0 || limit > DefaultReposPageSize {
		limit = DefaultReposPageSize
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if r.Cursor != "" {
		if n, err := strconv.Atoi(r.Cursor); err != nil || n < 0 {
			return nil, errcode.Newf(errcode.InvalidArgument, "", "invalid page cursor %q", r.Cursor)
		}
		q.Set("start", r.Cursor)
	}
	var page pageJSON[repoJSON]
	if err := d.getJSON(ctx, hc, "/projects/"+url.PathEscape(projectKey(r.Owner))+"/repos", q, &page); err != nil {
		return nil, err
	}
	out := &driver.RepositoryPage{Repositories: make([]driver.Repository, 0, len(page.Values))}
	for _, v := range page.Values {
		// The project's repositories only, each with a slug that is one
		// path segment: anything else is not the listing asked for, and
		// its names would send the next calls, with the credential, to
		// other repositories.
		if !strings.EqualFold(v.Project.Key, projectKey(r.Owner)) || !oneSegment(v.Slug) {
			name := v.Project.Key + "/" + v.Slug
			return nil, errcode.Newf(errcode.Unknown, "", "Bitbucket listed %s among the repositories of the project %s",
				strconv.QuoteToASCII(name[:min(len(name), 256)]), projectKey(r.Owner))
		}
		out.Repositories = append(out.Repositories, d.repository(&v))
	}
	if page.IsLastPage {
		return out, nil
	}
	start, _ := strconv.Atoi(r.Cursor)
	if page.NextPageStart == nil || *page.NextPageStart <= start {
		// More to come, but no way forward: say so rather than end a
		// listing cut short (or go round in a circle).
		return nil, errcode.Newf(errcode.Unknown, "", "Bitbucket answered a page of %s's repositories at start %d that is not the last without a later nextPageStart",
			r.Owner, start)
	}
	out.Next = strconv.Itoa(*page.NextPageStart)
	return out, nil
}

// oneSegment reports whether slug can name a repository: one path
// segment, not "." or "..".
func oneSegment(slug string) bool {
	return slug != "" && slug != "." && slug != ".." && !strings.ContainsAny(slug, "/\\\x00")
}

func (d *Driver) repository(v *repoJSON) driver.Repository {
	repo := driver.Repository{Owner: v.Project.Key, Name: v.Slug, DefaultBranch: v.DefaultBranch, Private: !v.Public,
		Archived: v.Archived, Fork: v.Origin != nil,
		WebURL: d.web + "/projects/" + url.PathEscape(v.Project.Key) + "/repos/" + url.PathEscape(v.Slug)}
	if strings.HasPrefix(v.Project.Key, "~") {
		repo.WebURL = d.web + "/users/" + url.PathEscape(strings.TrimPrefix(v.Project.Key, "~")) + "/repos/" + url.PathEscape(v.Slug)
	}
	if len(v.Links.Self) > 0 {
		repo.WebURL = strings.TrimSuffix(v.Links.Self[0].Href, "/browse")
	}
	for _, l := range v.Links.Clone {
		if l.Name == "http" || l.Name == "https" {
			repo.CloneURL = l.Href
			if u, err := url.Parse(l.Href); err == nil {
				u.User = nil // Bitbucket puts the caller's username there
				repo.CloneURL = u.String()
			}
		}
	}
	return repo
}

// DefaultSearchRecheck is how long a driver remembers that its server has
// no usable code search, when [Options].SearchRecheck is 0.
const DefaultSearchRecheck = time.Hour

// searchPageSize is the limit of one search request.
const searchPageSize = 100

var _ driver.FileFinder = (*Driver)(nil)

// searchMemo remembers, for the driver's host, that code search is
// unavailable and until when.
type searchMemo struct {
	mu    sync.Mutex
	until time.Time // zero: not known to be unavailable
}

func (d *Driver) now() time.Time {
	if d.opts.Now != nil {
		return d.opts.Now()
	}
	return time.Now()
}

// searchOff reports whether search is off for this driver: by option, or
// because the server answered that it has none less than SearchRecheck ago.
func (d *Driver) searchOff() bool {
	if d.opts.NoCodeSearch {
		return true
	}
	d.search.mu.Lock()
	defer d.search.mu.Unlock()
	return !d.search.until.IsZero() && d.now().Before(d.search.until)
}

func (d *Driver) markSearchOff() {
	wait := d.opts.SearchRecheck
	if wait <= 0 {
		wait = DefaultSearchRecheck
	}
	d.search.mu.Lock()
	d.search.until = d.now().Add(wait)
	d.search.mu.Unlock()
}

// searchURL is the code search endpoint, beside the REST API 1.0:
// {web}/rest/search/latest/search.
func (d *Driver) searchURL() string { return d.web + "/rest/search/latest/search" }

// searchQuery is the query for file p in project key: the project, the
// extension, and the file's base name without it as a quoted term. Hits
// are filtered to the exact path afterwards, so the query only needs to
// find every file of that name.
func searchQuery(key, p string) string {
	base := path.Base(p)
	ext := path.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	var b strings.Builder
	b.WriteString("project:")
	b.WriteString(key)
	if ext != "" && stem != "" && isWord(ext[1:]) {
		b.WriteString(" ext:")
		b.WriteString(ext[1:])
	} else {
		stem = base
	}
	b.WriteString(" ")
	b.WriteString(strconv.Quote(stem))
	return b.String()
}

// isWord reports whether s is non-empty and only ASCII letters and digits.
func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// searchAnswer is the answer of POST rest/search/latest/search.
type searchAnswer struct {
	Code *struct {
		IsLastPage bool `json:"isLastPage"`
		Count      int  `json:"count"`
		Start      int  `json:"start"`
		NextStart  *int `json:"nextStart"`
		Values     []struct {
			Repository repoJSON `json:"repository"`
			File       string   `json:"file"`
		} `json:"values"`
	} `json:"code"`
}

// FindFiles implements driver.FileFinder with Bitbucket Data Center's code
// search (POST rest/search/latest/search), 100 hits per request, keeping
// only hits whose path is exactly r.Path. The search server indexes only
// default branches, which is what the per-repository fallback reads.
//
// When the server has no usable search (the endpoint answers 404, 405 or
// 501, the search server fails with 5xx, or the answer holds no code
// results), it returns an error classified Unimplemented, and the driver
// remembers it for Options.SearchRecheck, answering Unimplemented with no
// request meanwhile: the portable client then lists the repositories and
// reads the file in each (scm.FoundByReadFile). A query the server refuses
// (400) is Unimplemented too, but not remembered.
func (d *Driver) FindFiles(ctx context.Context, hc *http.Client, r *driver.FindFilesRequest) (*driver.FoundPage, error) {
	if d.searchOff() {
		return nil, &errcode.Error{Code: errcode.Unimplemented, Msg: "code search is not available on this server"}
	}
	start := 0
	if r.Cursor != "" {
		n, err := strconv.Atoi(r.Cursor)
		if err != nil || n < 0 {
			return nil, errcode.Newf(errcode.InvalidArgument, "", "invalid page cursor %q", r.Cursor)
		}
		start = n
	}
	key := projectKey(r.Owner)
	body := mustJSON(map[string]any{
		"query":    searchQuery(key, r.Path),
		"entities": map[string]any{"code": map[string]int{"start": start, "limit": searchPageSize}},
	})
	c := &call{method: http.MethodPost, path: "/rest/search/latest/search", body: body, ctype: "application/json"}
	var ans searchAnswer
	err := d.rest.JSON(ctx, hc, c.request(d.searchURL()), &ans)
	var de *bbapi.DecodeError
	if errors.As(err, &de) && r.Cursor == "" {
		d.markSearchOff() // not the search API's JSON: a proxy page, or no search
		return nil, &errcode.Error{Code: errcode.Unimplemented, Msg: "code search is not available on this server: " + de.Error()}
	}
	if err != nil {
		var ae *APIError
		if !errors.As(err, &ae) || r.Cursor != "" {
			return nil, err
		}
		switch s := ae.Status; {
		case s == http.StatusNotFound, s == http.StatusMethodNotAllowed, s == http.StatusNotImplemented,
			s >= 500 && !ae.RateLimited:
			d.markSearchOff()
			return nil, &errcode.Error{Code: errcode.Unimplemented, Status: s,
				Msg: "code search is not available on this server: " + ae.Error()}
		case s == http.StatusBadRequest:
			return nil, &errcode.Error{Code: errcode.Unimplemented, Status: s,
				Msg: "code search refused the query: " + ae.Error()}
		}
		return nil, err
	}
	if ans.Code == nil {
		if r.Cursor != "" {
			return nil, errcode.Newf(errcode.Unavailable, "", "code search answered page %d without code results", start)
		}
		d.markSearchOff()
		return nil, &errcode.Error{Code: errcode.Unimplemented, Msg: "code search answered without code results"}
	}
	out := &driver.FoundPage{}
	for i := range ans.Code.Values {
		v := &ans.Code.Values[i]
		if v.File != r.Path || !strings.EqualFold(v.Repository.Project.Key, key) || !oneSegment(v.Repository.Slug) {
			continue // another file matching the terms, another project, or no slug a repository can have
		}
		v.Repository.Project.Key = key
		out.Results = append(out.Results, driver.Found{Repository: d.repository(&v.Repository), Found: true})
	}
	if !ans.Code.IsLastPage && ans.Code.NextStart != nil && *ans.Code.NextStart > start {
		out.Next = strconv.Itoa(*ans.Code.NextStart)
	}
	return out, nil
}
