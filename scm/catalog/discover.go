// Package catalog finds Backstage catalog files across an owner's
// repositories and parses the entities they hold.
//
// [Discover] lists where an owner's catalog-info.yaml files are, without
// fetching each repository separately where the provider allows it (on
// GitHub one GraphQL query per 100 repositories, asking only for the blob
// id). [Parse] reads the YAML documents of one file into [Entity] values,
// reporting every problem at once.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm"
)

// DefaultPath is the catalog file Discover looks for by default.
const DefaultPath = "catalog-info.yaml"

// DiscoverOptions controls [Discover]. A nil *DiscoverOptions means the
// defaults.
type DiscoverOptions struct {
	// Path is the file to look for, relative to each repository's root;
	// "" means DefaultPath. A leading "/" is ignored (Backstage writes
	// "/catalog-info.yaml").
	Path string
	// SkipArchived leaves out archived repositories.
	SkipArchived bool
	// SkipForks leaves out forks.
	SkipForks bool
	// NotFoundMaxAge matters where discovery reads the file in each
	// repository (providers without an owner-wide search, see
	// [scm.FoundByReadFile]): a repository whose file was answered
	// NotFound to the same credential less than NotFoundMaxAge ago is
	// not asked again, and the NotFounds are remembered in the client's
	// FileCache (none with [scm.NoCache]), so that a discovery re-run
	// costs no request for the repositories without a catalog file. A
	// file added to such a repository is so found at most NotFoundMaxAge
	// late. 0, the default, asks every repository every time (see
	// [scm.FindFilesOptions]).
	NotFoundMaxAge time.Duration
}

// Location is where a catalog file was found.
type Location struct {
	// FileURL is the web URL of the file on the default branch, the
	// target of a Backstage Location entity. When the provider's listing
	// does not name the default branch (Bitbucket Server before Data
	// Center 9), it names no ref, which means the default branch
	// (.../browse/catalog-info.yaml without at=).
	FileURL string
	// Repo is the repository holding it.
	Repo *scm.Repository
	// DefaultBranch is the repository's default branch; "" when the
	// provider's listing does not name it (see FileURL).
	DefaultBranch string
	// BlobID is the file's git blob id where the provider reports it; it
	// changes exactly when the content does.
	BlobID string
	// File is the file itself when discovery had to read it to find it
	// (providers without an owner-wide search, see scm.FoundByReadFile),
	// so that callers need not read it again; nil otherwise.
	File *scm.File
}

// Discover returns the location of the catalog file of every repository
// of the owner at ownerURL (e.g. https://github.com/acme) that has one, in
// the provider's order, using client.FindFiles. Empty repositories are
// left out (they hold no file), and so are repositories where the path
// names a directory.
//
// When some repositories could not be searched, Discover returns the
// locations it found together with an error naming them; an error about
// the owner itself (a missing owner, a bad credential, cancellation) is
// returned as is, with the locations found before it. A rate limit ends
// the search the same way (see scm.Client.FindFiles): Discover returns
// the locations found before it with an error whose code is RateLimited
// (and its RetryAt, when the provider gave one), even when other
// repositories failed before it, so that the caller knows to wait before
// discovering again.
func Discover(ctx context.Context, client *scm.Client, ownerURL string, opts *DiscoverOptions) ([]Location, error) {
	const op = "catalog.Discover"
	var o DiscoverOptions
	if opts != nil {
		o = *opts
	}
	p := strings.TrimPrefix(o.Path, "/")
	if p == "" {
		p = DefaultPath
	}
	if !fs.ValidPath(p) || p == "." {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "invalid catalog path %q", o.Path)
	}
	if client == nil {
		return nil, errcode.New(errcode.InvalidArgument, op, "nil *scm.Client")
	}
	var (
		out  []Location
		errs []error
	)
	for f, err := range client.FindFilesWith(ctx, ownerURL, p, &scm.FindFilesOptions{NotFoundMaxAge: o.NotFoundMaxAge}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r := f.Repository
		if r == nil || (o.SkipArchived && r.Archived) || (o.SkipForks && r.Fork) {
			continue
		}
		if f.URL == "" {
			// Found, but with no URL to name it by: the provider named no
			// default branch and its URLs cannot leave the ref out. No
			// provider lists a repository holding files that way, so say
			// so rather than drop the file without a word.
			errs = append(errs, &errcode.Error{Code: errcode.Unknown, Op: op,
				Msg: fmt.Sprintf("%s found in %s/%s, but the provider named no default branch to write its URL with", p, r.Owner, r.Name)})
			continue
		}
		out = append(out, Location{FileURL: f.URL, Repo: r, DefaultBranch: r.DefaultBranch, BlobID: f.BlobID, File: f.File})
	}
	switch len(errs) {
	case 0:
		return out, nil
	case 1:
		return out, errs[0]
	}
	// Several errors: keep the first's code, wrap them all. A rate limit
	// (FindFiles' last error, as it ends the search) gives its code and
	// RetryAt instead: what the caller must act on is the wait.
	e := &errcode.Error{Code: errcode.CodeOf(errs[0]), Op: op,
		Msg: fmt.Sprintf("%d searches failed", len(errs)), Err: errors.Join(errs...)}
	if last := errs[len(errs)-1]; errcode.CodeOf(last) == errcode.RateLimited {
		e.Code, e.Msg = errcode.RateLimited, fmt.Sprintf("%d searches failed, the last at a rate limit, which stopped the search", len(errs))
		e.RetryAt, _ = errcode.RetryAt(last)
	}
	return out, e
}
