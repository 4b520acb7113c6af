package scm

import (
	"time"

	"github.com/scmkit/scmkit/scm/driver"
)

// File is a file's content and identity, as read by [Client.ReadFile].
type File struct {
	// URL is the URL the file was read from, as the caller gave it.
	URL string
	// Path is the file's repository-relative, slash-separated path ("" for
	// an anonymous read of a host without integration).
	Path    string
	Content []byte
	// ETag is an opaque validator to pass as ReadFileOptions.IfNoneMatch
	// on a later read; it may be empty.
	ETag string
	// BlobID is the git blob id, where the provider reports it.
	BlobID string
	// CommitID is the commit the file was read at, where the provider
	// reports it. When the client's FileCache answered (the provider said
	// the file is unchanged), it is the commit of the read that filled
	// the cache: a commit with the same content, though the branch may
	// have moved since.
	CommitID string
}

// ReadFileOptions controls [Client.ReadFile]. A nil *ReadFileOptions means
// the defaults.
type ReadFileOptions struct {
	// IfNoneMatch is an ETag from an earlier read: when the file is
	// unchanged, ReadFile returns an error with code NotModified (on
	// GitHub such a request does not count against the rate limit).
	IfNoneMatch string
	// MaxBytes caps the content size; a larger file fails with
	// InvalidArgument. 0 means Limits.MaxFileBytes of the client.
	MaxBytes int64
	// DirAsMissing makes a path that names a directory fail with
	// NotFound, as a missing file does, instead of InvalidArgument, for
	// a caller that treats both alike (a catalog re-reading its
	// locations). GitLab and Bitbucket Server answer a directory as they
	// answer a missing file, so without it a missing file costs a second
	// request there, to tell the two apart; with it, 1 request on every
	// provider.
	DirAsMissing bool
	// NotFoundMaxAge, when positive, lets ReadFile answer NotFound
	// without a request when the same file (host, repository, ref as the
	// URL names it, path) was answered NotFound to the same credential
	// less than NotFoundMaxAge ago, and makes it remember the NotFound it
	// gets. A file that appears is so seen at most NotFoundMaxAge late
	// by such reads (a read without NotFoundMaxAge always asks). The
	// answers are remembered in the client's FileCache (none with
	// NoCache), so a shared cache shares them between replicas; each is
	// keyed by a hash of the credential that asked (its token included),
	// so a NotFound answered to one credential never answers another,
	// which may see more. A file that was read before is asked again
	// (conditionally) rather than taken for missing. 0, the default,
	// remembers nothing. Ignored with IfNoneMatch.
	NotFoundMaxAge time.Duration
}

// TreeOptions controls [Client.ReadTree]. A nil *TreeOptions means the
// defaults.
type TreeOptions struct {
	// Filter, when set, keeps only the files for which it returns true;
	// p is relative to the requested directory, size is the file's size.
	// Directories are kept when they hold a kept file.
	Filter func(p string, size int64) bool
	// MaxFiles caps the number of files kept; more fail the read with
	// InvalidArgument. 0 means Limits.MaxTreeFiles.
	MaxFiles int
	// MaxBytes caps the total size of the files kept; more fail the read
	// with InvalidArgument. 0 means Limits.MaxTreeBytes.
	MaxBytes int64
	// MaxDepth caps the number of elements of a file's or directory's
	// path, relative to the requested directory ("a/b/c" has 3); a deeper
	// path fails the read with InvalidArgument. 0 means
	// DefaultMaxTreeDepth. (Paths are also limited to 4096 bytes.)
	MaxDepth int
	// IfNoneMatch is the ETag of an earlier read of the same directory
	// ([TreeETag]): when no commit has changed the directory since,
	// ReadTree fails with NotModified after one small request and
	// downloads nothing. See [Client.ReadTree] for the request budget.
	IfNoneMatch string
	// WithETag asks for the tree's ETag ([TreeETag]) on a read without
	// IfNoneMatch, at the cost of that one small request.
	WithETag bool
}

// SearchOptions controls [Client.Search]. A nil *SearchOptions means the
// defaults.
type SearchOptions struct {
	// MaxResults caps the number of results, the first ones in path
	// order; 0 means no cap. Nothing tells that the cap cut the list
	// short: the caller asked for at most that many (ask for one more to
	// learn whether there are more).
	MaxResults int
}

// SearchResult is one file matched by [Client.Search]. Content is not
// fetched (the listing costs one or two requests whatever the number of
// matches); call [Client.ReadFile] with URL for the files you need.
type SearchResult struct {
	// URL is the canonical web URL of the file at the search URL's ref.
	URL string
	// Path is the file's repository-relative path.
	Path string
}

// Repository describes a repository.
type Repository struct {
	// Owner is the org, user, group path ("a/b/c"), workspace or
	// project key.
	Owner string
	Name  string
	// DefaultBranch is the default branch's name; "" for an empty
	// repository, and where the provider's listing does not name it
	// (Bitbucket Server before Data Center 9).
	DefaultBranch string
	WebURL        string
	CloneURL      string
	Private       bool
	Archived      bool
	Fork          bool
}

// ListRepositoriesOptions controls [Client.ListRepositories]. A nil
// *ListRepositoriesOptions means the defaults.
type ListRepositoriesOptions struct {
	// PageSize is a hint for the number of repositories per request; 0
	// lets the driver use the provider's maximum.
	PageSize int
}

// FindMethod says how [Client.FindFiles] found a file.
type FindMethod int

const (
	// FoundByFinder: the driver's owner-wide search (GitHub GraphQL,
	// GitLab search) reported the file; content was not fetched.
	FoundByFinder FindMethod = iota + 1
	// FoundByReadFile: the driver has no owner-wide search, so the client
	// listed the repositories and read the file in each; content is set.
	FoundByReadFile
)

// String returns "finder" or "readFile".
func (m FindMethod) String() string {
	switch m {
	case FoundByFinder:
		return "finder"
	case FoundByReadFile:
		return "readFile"
	}
	return "FindMethod(?)"
}

// FoundFile is one file found by [Client.FindFiles].
type FoundFile struct {
	Repository *Repository
	// Path is the path that was looked for.
	Path string
	// URL is the web URL of the file on the repository's default branch.
	// When the provider did not report the default branch's name
	// (Bitbucket Server before Data Center 9), it is a URL that names no
	// ref, which means the default branch ([Client.ReadFile] reads it
	// there); "" when the provider's URLs cannot leave the ref out.
	URL string
	// BlobID is the git blob id where known.
	BlobID string
	// File holds the content when Method is FoundByReadFile; nil
	// otherwise.
	File *File
	// Method says how the file was found.
	Method FindMethod
}

// ChangeAction says what a [Change] does. It is the driver's type, so
// that a change reaches the driver as it is.
type ChangeAction = driver.ChangeAction

// The change actions.
const (
	// Upsert writes the file, creating or replacing it.
	Upsert = driver.Upsert
	// Create writes a file that must not exist yet.
	Create = driver.Create
	// Update replaces a file that must exist.
	Update = driver.Update
	// Delete removes a file that must exist.
	Delete = driver.Delete
)

// Change is one file change of a pull request's commit.
type Change struct {
	// Path is repository-relative and slash-separated, valid per
	// fs.ValidPath (no "..", no leading "/").
	Path   string
	Action ChangeAction
	// Content is the new content, text or binary; ignored for Delete.
	Content []byte
	// Executable gives the file mode 100755 instead of 100644.
	Executable bool
}

// PullRequestSpec describes a pull request to open by
// [Client.OpenPullRequest].
type PullRequestSpec struct {
	// RepoURL is the web URL of the repository (any URL inside it).
	RepoURL string
	// Base is the target branch; "" means the repository's default
	// branch.
	Base string
	// Branch is the source branch, created from Base when missing. It
	// must be a valid branch name (git check-ref-format).
	Branch string
	// Title must not be empty.
	Title string
	Body  string
	Draft bool
	// CommitMessage is the message of the one commit holding Changes;
	// "" means Title.
	CommitMessage string
	// Changes are committed atomically as one commit; at least one, each
	// path at most once.
	Changes []Change
	// UpdateExisting, when an open pull request from Branch to Base
	// exists (from this repository's Branch, not a fork's), commits
	// Changes on Branch and returns that pull request;
	// otherwise the existing one is returned unchanged. Either way
	// PullRequest.Existing is set and no second pull request is opened.
	UpdateExisting bool
}

// PullRequest is an opened (or found) pull or merge request.
type PullRequest struct {
	Number int
	// URL is the pull request's web URL.
	URL    string
	Base   string
	Branch string
	// CommitID is the commit holding the changes, where known.
	CommitID string
	// Existing is true when an open pull request from Branch to Base was
	// found instead of opened.
	Existing bool
}
