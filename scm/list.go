package scm

import (
	"context"
	"fmt"
	"io/fs"
	"iter"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/driver"
)

// ListRepositories returns the repositories of the owner at ownerURL (an
// org, user, group, workspace or project web URL, e.g.
// https://github.com/acme). It pages lazily: nothing is requested until
// the sequence is iterated, each page is requested when the previous one
// is used up, and nothing more once the loop stops. An error is yielded
// once, as the last pair.
func (c *Client) ListRepositories(ctx context.Context, ownerURL string, opts *ListRepositoriesOptions) iter.Seq2[*Repository, error] {
	const op = "scm.ListRepositories"
	var o ListRepositoriesOptions
	if opts != nil {
		o = *opts
	}
	return auditSeq(c, ctx, op, ownerURL, func(ctx context.Context, t *target, yield func(*Repository, error) bool) {
		cl, err := c.begin(ctx, op, t, false, false)
		if err != nil {
			yield(nil, err)
			return
		}
		for r, err := range c.repoPages(ctx, cl, o.PageSize) {
			if !yield(r, err) || err != nil {
				return
			}
		}
	})
}

// repoPages pages through the owner of cl.
//
// A provider that pages in a circle (a cursor seen before), answers
// maxEmptyPages empty pages in a row, each pointing at a next one, or
// pages on past maxPages pages ends the listing with an error instead of
// spending the rate limit on it.
func (c *Client) repoPages(ctx context.Context, cl *call, pageSize int) iter.Seq2[*Repository, error] {
	return func(yield func(*Repository, error) bool) {
		cursor := ""
		seen := map[string]bool{"": true}
		empty := 0
		for {
			if err := errcode.FromContext(ctx, cl.op); err != nil {
				yield(nil, err)
				return
			}
			req := &driver.ListRepositoriesRequest{Owner: cl.loc.Owner, Cursor: cursor, PageSize: pageSize}
			if cursor == "" {
				req.Kind = c.s.kinds.get(cl.kindKey)
			}
			page, err := cl.d.ListRepositories(asListing(ctx), cl.hc, req)
			if err != nil {
				if cursor == "" && req.Kind != "" {
					c.s.kinds.put(cl.kindKey, "") // found out afresh next time
				}
				yield(nil, c.wrap(ctx, cl, err))
				return
			}
			if cursor == "" && page.Kind != req.Kind {
				c.s.kinds.put(cl.kindKey, page.Kind)
			}
			for i := range page.Repositories {
				if !yield(convRepo(&page.Repositories[i]), nil) {
					return
				}
			}
			if page.Next == "" {
				return
			}
			if len(page.Repositories) == 0 {
				empty++
			} else {
				empty = 0
			}
			if err := c.checkNext(cl, seen, page.Next, empty); err != nil {
				yield(nil, err)
				return
			}
			cursor = page.Next
		}
	}
}

// maxPages is how many pages a listing or search reads at most: a
// million repositories at GitHub's 100 a page. A provider paging on past
// it (new cursors without end, each page with something) ends the
// listing with an error.
const maxPages = 10_000

// maxEmptyPages is how many empty pages in a row, each naming a next
// page, end a listing with an error.
const maxEmptyPages = 10

// checkNext refuses a next page cursor already in seen (the provider pages
// in a circle), a next page after empty empty pages in a row (it pages on
// without ever answering), or one past maxPages pages (seen holds the
// cursor of every page read); otherwise it adds next to seen.
func (c *Client) checkNext(cl *call, seen map[string]bool, next string, empty int) error {
	msg := ""
	switch {
	case len(seen) >= maxPages:
		msg = fmt.Sprintf("the provider sent %d pages, each with a next one; listing stopped", maxPages)
	case seen[next]:
		msg = "the provider sent a page cursor it had sent before (its paging goes round in a circle); listing stopped"
	case empty >= maxEmptyPages:
		msg = fmt.Sprintf("the provider sent %d empty pages in a row, each with a next page; listing stopped", empty)
	default:
		seen[next] = true
		return nil
	}
	return &errcode.Error{Code: errcode.Unknown, Op: cl.op, Provider: string(cl.in.Kind), Host: cl.in.Host, Msg: msg}
}

func convRepo(r *driver.Repository) *Repository {
	return &Repository{Owner: r.Owner, Name: r.Name, DefaultBranch: r.DefaultBranch, WebURL: r.WebURL,
		CloneURL: r.CloneURL, Private: r.Private, Archived: r.Archived, Fork: r.Fork}
}

// FindFiles finds the file p (a repository-relative path, e.g.
// "catalog-info.yaml") on the default branch of every repository of the
// owner at ownerURL, and yields one FoundFile per repository that has it.
//
// When the driver can search the whole owner at once (GitHub GraphQL,
// GitLab search), that costs about one request per 100 repositories and
// FoundFile.Method is FoundByFinder (content not fetched). Otherwise it
// lists the repositories and reads the file in each (one request per
// repository, plus the listing); Method is FoundByReadFile and File holds
// the content.
//
// A repository without the file, or where p names a directory, is
// skipped. Like ListRepositories, it is lazy. An error about one
// repository (when reading it: a file over Limits.MaxFileBytes, an answer
// refusing the read) is yielded and the search goes on if the loop
// continues; an error about the owner (listing, credentials,
// cancellation) ends it, after the files found before it were yielded.
// A rate limit met reading a repository is about the owner too (the limit
// is the credential's, and every read after it would be refused): it is
// yielded once, naming the repository the search stopped at, with its
// RetryAt when the provider gave one, and the search ends there.
func (c *Client) FindFiles(ctx context.Context, ownerURL, p string) iter.Seq2[*FoundFile, error] {
	return c.FindFilesWith(ctx, ownerURL, p, nil)
}

// FindFilesOptions controls [Client.FindFilesWith]. A nil
// *FindFilesOptions means the defaults, those of [Client.FindFiles].
type FindFilesOptions struct {
	// NotFoundMaxAge is [ReadFileOptions.NotFoundMaxAge] for the
	// per-repository reads (providers without an owner-wide search): a
	// repository whose file was answered NotFound to the same credential
	// less than NotFoundMaxAge ago is skipped without a request, and the
	// NotFounds the reads get are remembered in the client's FileCache.
	// A file added to such a repository is so found at most
	// NotFoundMaxAge late. 0, the default, asks every repository every
	// time. The owner-wide searches are not affected.
	NotFoundMaxAge time.Duration
}

// FindFilesWith is [Client.FindFiles] with options.
func (c *Client) FindFilesWith(ctx context.Context, ownerURL, p string, opts *FindFilesOptions) iter.Seq2[*FoundFile, error] {
	const op = "scm.FindFiles"
	var o FindFilesOptions
	if opts != nil {
		o = *opts
	}
	return auditSeq(c, ctx, op, ownerURL, func(ctx context.Context, t *target, yield func(*FoundFile, error) bool) {
		if !fs.ValidPath(p) || p == "." {
			yield(nil, errcode.Newf(errcode.InvalidArgument, op, "invalid path %q", p))
			return
		}
		cl, err := c.begin(ctx, op, t, false, false)
		if err != nil {
			yield(nil, err)
			return
		}
		if finder, ok := cl.d.(driver.FileFinder); ok {
			if c.findWithFinder(ctx, cl, finder, p, yield) {
				return
			}
			// The provider cannot search for this owner (Bitbucket Cloud
			// workspaces without code search): read each repository.
		}
		for r, err := range c.repoPages(ctx, cl, 0) {
			if err != nil {
				yield(nil, err)
				return
			}
			u := c.fileURL(cl, r, p)
			f, err := c.readCachedFor(ctx, cl, u, &driver.ReadFileRequest{Repo: driver.Repo{Owner: r.Owner, Name: r.Name},
				Ref: r.DefaultBranch, Path: p, MaxBytes: c.s.limits.MaxFileBytes, DirAsMissing: true}, o.NotFoundMaxAge)
			if err == nil && int64(len(f.Content)) > c.s.limits.MaxFileBytes {
				err = &errcode.Error{Code: errcode.InvalidArgument,
					Msg: fmt.Sprintf("%s is larger than the %d-byte limit", p, c.s.limits.MaxFileBytes)}
			}
			if err != nil {
				werr := c.wrap(ctx, cl, err)
				switch errcode.CodeOf(werr) {
				case errcode.NotFound:
					// No such file, or a directory of that name: with
					// DirAsMissing, drivers answer NotFound for both.
					// Anything else (a file over Limits.MaxFileBytes, a
					// 400 or 422 answer) is yielded below.
					continue
				case errcode.Canceled, errcode.DeadlineExceeded:
					yield(nil, werr)
					return
				case errcode.RateLimited:
					// The limit is the credential's, not this
					// repository's: every read after it would be
					// refused too (and retried), spending the wait
					// the provider asked for. Stop here; RetryAt,
					// when known, says when to search again.
					if e, ok := werr.(*errcode.Error); ok {
						e.Msg = joinMsg("search stopped at repository "+r.Owner+"/"+r.Name+
							": the credential is rate limited (the repositories after it were not read)", e.Msg)
					}
					yield(nil, werr)
					return
				}
				if e, ok := werr.(*errcode.Error); ok {
					e.Msg = joinMsg("repository "+r.Owner+"/"+r.Name, e.Msg)
				}
				if !yield(nil, werr) {
					return
				}
				continue
			}
			file := &File{URL: u, Path: p, Content: f.Content, ETag: f.ETag, BlobID: f.BlobID, CommitID: f.CommitID}
			if !yield(&FoundFile{Repository: r, Path: p, URL: u, BlobID: f.BlobID, File: file, Method: FoundByReadFile}, nil) {
				return
			}
		}
	})
}

// findWithFinder yields what the driver's FileFinder finds. It returns
// false, having yielded nothing, when the finder's first page answers
// Unimplemented, so that the caller can fall back to reading each
// repository; true otherwise.
func (c *Client) findWithFinder(ctx context.Context, cl *call, finder driver.FileFinder, p string, yield func(*FoundFile, error) bool) bool {
	cursor := ""
	seen := map[string]bool{"": true}
	for {
		if err := errcode.FromContext(ctx, cl.op); err != nil {
			yield(nil, err)
			return true
		}
		page, err := finder.FindFiles(ctx, cl.hc, &driver.FindFilesRequest{Owner: cl.loc.Owner, Path: p, Cursor: cursor})
		if err != nil {
			werr := c.wrap(ctx, cl, err)
			if cursor == "" && errcode.CodeOf(werr) == errcode.Unimplemented {
				return false
			}
			yield(nil, werr)
			return true
		}
		for i := range page.Results {
			res := &page.Results[i]
			if !res.Found {
				continue
			}
			r := convRepo(&res.Repository)
			if !yield(&FoundFile{Repository: r, Path: p, URL: c.fileURL(cl, r, p), BlobID: res.BlobID, Method: FoundByFinder}, nil) {
				return true
			}
		}
		if page.Next == "" {
			return true
		}
		// A page of a search may rightly find nothing: only circles count.
		if err := c.checkNext(cl, seen, page.Next, 0); err != nil {
			yield(nil, err)
			return true
		}
		cursor = page.Next
	}
}

// joinMsg joins two message parts with ": ", either may be empty.
func joinMsg(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + ": " + b
}

// fileURL is the web URL of p on r's default branch, or "" if it cannot be
// built. When the listing named no default branch (Bitbucket Server before
// Data Center 9), it is a URL that names no ref, which means the default
// branch, where the provider's URLs can say so (Bitbucket Server's browse
// URL without at=); "" elsewhere.
func (c *Client) fileURL(cl *call, r *Repository, p string) string {
	u, err := c.s.reg.URL(integrations.Location{Kind: cl.in.Kind, Host: cl.in.Host, Owner: r.Owner, Repo: r.Name,
		Ref: r.DefaultBranch, Path: p})
	if err != nil {
		return ""
	}
	return u
}
