// Package driver defines the interface that scmkit adapters implement. It is
// for adapter authors; users of scmkit call the portable *scm.Client.
//
// The portable client validates input, resolves credentials, enforces
// limits, builds io/fs trees and wraps errors once; a driver only talks to
// its provider and returns raw provider errors, which it classifies in
// exactly one place, [Driver.ErrorInfo].
package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx"
)

// Opener makes a driver for one integration. The portable client calls it
// once per integration of the Opener's kind.
type Opener func(in *integrations.Integration) (Driver, error)

// Driver is what an adapter implements. Every method receives an
// *http.Client that attaches the right credential to requests for the
// integration's hosts (and never elsewhere) and retries per scmkit's
// policy; drivers must make all their requests with it and pass ctx to
// each. It must also honour
// [github.com/scmkit/scmkit/credentials.WithBasicUsername] on a request's
// context, as a credentials.Transport does (git over HTTPS, such as the
// GitHub driver's CreateRepository push, needs Basic). Request structs are
// never nil and have been validated: paths are fs.ValidPath-clean, owners
// and repos non-empty.
type Driver interface {
	// ReadFile returns a file's content at a ref. A missing repository,
	// ref or file must give an error that ErrorInfo classifies NotFound;
	// a path naming a directory, InvalidArgument. When r.IfNoneMatch is
	// set and the file is unchanged, it must return an error classified
	// NotModified (or *errcode.Error with that code).
	ReadFile(ctx context.Context, hc *http.Client, r *ReadFileRequest) (*File, error)

	// ReadTree returns the directory r.Dir at r.Ref, either as an archive
	// stream (preferred: one request) or as a list of files. A missing
	// directory must be classified NotFound, either here or (for an
	// archive) by yielding no entries under Dir.
	ReadTree(ctx context.Context, hc *http.Client, r *TreeRequest) (*Tree, error)

	// ListFiles lists the paths of all files (blobs) under r.Dir at r.Ref,
	// recursively. Truncated reports that the provider cut the list short;
	// the portable client then falls back to ReadTree. A missing Dir gives
	// an empty list, not an error; a missing repository or ref must be
	// classified NotFound.
	ListFiles(ctx context.Context, hc *http.Client, r *ListFilesRequest) (*FileList, error)

	// ListRepositories returns one page of the owner's repositories,
	// starting at r.Cursor ("" for the first page). Next is "" on the last
	// page.
	ListRepositories(ctx context.Context, hc *http.Client, r *ListRepositoriesRequest) (*RepositoryPage, error)

	// OpenPullRequest commits r.Changes as ONE commit on r.Branch (created
	// from r.Base when missing) and opens a pull request from r.Branch to
	// r.Base. If an open pull request from r.Branch to r.Base exists, it
	// returns that pull request with Existing set and, unless
	// r.UpdateExisting, changes nothing; with r.UpdateExisting it commits
	// the changes on the branch first. An r.Branch that is the base (r.Base,
	// or the default branch when r.Base is empty), or that is the default
	// branch whatever r.Base, is InvalidArgument, returned before any write
	// (the conformance suite checks it); a driver that must spend a request
	// to learn the default branch may first return, as it is, an open pull
	// request from r.Branch into r.Base (which writes nothing).
	OpenPullRequest(ctx context.Context, hc *http.Client, r *PullRequestRequest) (*PullRequest, error)

	// ErrorInfo classifies an error returned by this driver's methods. It
	// is the one place where provider errors map to codes.
	ErrorInfo(err error) ErrorInfo
}

// FileFinder is an optional capability: finding one file path in every
// repository of an owner without fetching each repository separately
// (GitHub GraphQL, GitLab search). The portable client falls back to
// ListRepositories plus one ReadFile per repository.
type FileFinder interface {
	FindFiles(ctx context.Context, hc *http.Client, r *FindFilesRequest) (*FoundPage, error)
}

// ErrorInfo is a driver's classification of an error.
type ErrorInfo struct {
	Code    errcode.Code
	Status  int       // HTTP status, 0 if none
	RetryAt time.Time // for RateLimited, zero if unknown
}

// CommonErrorInfo classifies the errors that mean the same to every
// driver, for the first case of a driver's ErrorInfo: nil is OK; an
// *errcode.Error in err's chain (from the HTTP layer, the credentials or
// the driver itself) keeps its code, status and RetryAt; the end of the
// call's context is Canceled or DeadlineExceeded. ok is false for any
// other error, which the driver classifies itself.
func CommonErrorInfo(err error) (info ErrorInfo, ok bool) {
	var ce *errcode.Error
	switch {
	case err == nil:
		return ErrorInfo{Code: errcode.OK}, true
	case errors.As(err, &ce):
		return ErrorInfo{Code: ce.Code, Status: ce.Status, RetryAt: ce.RetryAt}, true
	case errors.Is(err, context.Canceled):
		return ErrorInfo{Code: errcode.Canceled}, true
	case errors.Is(err, context.DeadlineExceeded):
		return ErrorInfo{Code: errcode.DeadlineExceeded}, true
	}
	return ErrorInfo{}, false
}

// FailureInfo classifies a call that failed without an answer to
// classify, for the last case of a driver's ErrorInfo, as every driver
// of scmkit does: the context's end is Canceled or
// DeadlineExceeded; a broken connection, a timeout or an answer cut short
// Unavailable; anything else Unknown.
func FailureInfo(err error) ErrorInfo {
	code, _ := httpx.ClassifyFailure(err)
	return ErrorInfo{Code: code}
}

// Wrap returns the error of a step that failed with err, classified as
// info, with msg saying what the failure leaves behind ("repository a/b
// was created, but its initial commit is missing"): an *errcode.Error
// with info's code, status and RetryAt, msg, and err as its cause.
func (info ErrorInfo) Wrap(msg string, err error) *errcode.Error {
	return &errcode.Error{Code: info.Code, Status: info.Status, RetryAt: info.RetryAt, Msg: msg, Err: err}
}

// Repo names a repository on the driver's integration.
type Repo struct {
	Owner string // org, user, group path ("a/b/c"), workspace or project key
	Name  string
}

// ReadFileRequest asks for one file.
type ReadFileRequest struct {
	Repo        Repo
	Ref         string // "" = default branch
	Path        string
	IfNoneMatch string // an ETag from an earlier File, or ""
	MaxBytes    int64  // the portable client's cap on the content size (> 0)
	// Anonymous is true when no credential will be sent with the call's
	// requests (the resolver found none, or the client has no resolver):
	// drivers may then use a public, unauthenticated endpoint, such as
	// GitHub's raw-content host, instead of the API.
	Anonymous bool
	// DirAsMissing is true when the caller treats a directory at Path as
	// it treats a missing file (FindFiles skips both, and reports every
	// other error): the driver must then answer NotFound for a directory,
	// not InvalidArgument, and a driver whose answer for a missing path
	// does not say which it is need not make the request that tells them
	// apart. InvalidArgument stays the answer for other problems (a file
	// over MaxBytes, a submodule).
	DirAsMissing bool
}

// File is a file's content and identity.
type File struct {
	Path     string
	Content  []byte
	ETag     string // opaque validator for IfNoneMatch; may be ""
	BlobID   string // git blob id where known
	CommitID string // commit id where known
}

// TreeRequest asks for a directory tree.
//
// MaxFiles, MaxBytes and Filter are the portable client's limits and the
// caller's filter, for drivers that return a Tree as Files: such a driver
// must skip the files Filter rejects before reading them (calling it with
// the size its listing gives), and must stop listing and reading, and
// return an error classified InvalidArgument (an *errcode.Error with that
// code will do), as soon as the files it keeps exceed MaxFiles in number
// or MaxBytes in total size, so that an oversized tree costs a bounded
// number of requests and bytes. Drivers that return an Archive can ignore
// them: the portable client applies them while it reads the stream. The
// portable client applies them again to every Tree, so Filter may be
// called more than once for a file.
type TreeRequest struct {
	Repo Repo
	Ref  string // "" = default branch
	Dir  string // "" = repository root

	// MaxFiles caps the number of files kept (> 0).
	MaxFiles int
	// MaxBytes caps the total size of the files kept, and so of each
	// file (> 0).
	MaxBytes int64
	// Filter, when non-nil, keeps only the files for which it returns
	// true; path is relative to Dir, size is the file's size in bytes.
	Filter func(path string, size int64) bool
	// Anonymous is true when no credential will be sent with the call's
	// requests: drivers may then skip an endpoint that needs one (such
	// as GitHub's GraphQL API) and go straight to a public one.
	Anonymous bool
	// CredentialKey is an opaque key (a hash, never the secret) naming
	// the credential the call resolved for Repo.Owner, the same for
	// every call of that credential and owner, or "" when unknown. A
	// driver may remember under it what the host answered that
	// credential (an endpoint that refuses it), never what it read.
	CredentialKey string
}

// Tree is a driver's answer to ReadTree: exactly one of Archive and Files
// is set.
type Tree struct {
	Archive *Archive
	Files   []TreeFile
	// CommitID is the commit the tree was read at, where known.
	CommitID string
	// Filtered counts the files a Files tree leaves out because
	// TreeRequest.Filter rejected them. With no Files, a non-zero
	// Filtered tells the portable client that Dir exists (every file in
	// it was filtered out) rather than that it is missing.
	Filtered int
}

// Archive is a gzip-compressed tar stream. The portable client drops
// StripComponents leading path components of every entry, then keeps only
// the entries under Dir, re-rooted at Dir. The client closes Body.
type Archive struct {
	Body            io.ReadCloser
	StripComponents int
	Dir             string
}

// TreeFile is one file of a Tree given as files.
type TreeFile struct {
	Path       string // relative to the requested Dir
	Content    []byte
	Executable bool
}

// ListFilesRequest asks for the paths under a directory.
type ListFilesRequest struct {
	Repo Repo
	Ref  string
	Dir  string
}

// FileList is the answer to ListFiles.
type FileList struct {
	Paths     []string // repo-relative, sorted
	Truncated bool
	CommitID  string
}

// ListRepositoriesRequest asks for one page of an owner's repositories.
type ListRepositoriesRequest struct {
	Owner    string
	Cursor   string
	PageSize int // a hint; drivers use the provider's maximum when 0
	// Kind, on a first page (Cursor empty), is the RepositoryPage.Kind
	// that an earlier first page of the same owner answered for the same
	// credential, or empty. A driver may take it instead of asking again
	// which listing suits the owner. Kind is a hint that may be stale
	// (the client forgets it after a while, and after an error): a driver
	// never lists another owner's repositories because of it.
	Kind string
}

// RepositoryPage is one page of repositories.
type RepositoryPage struct {
	Repositories []Repository
	Next         string
	// Kind, on a first page, names which listing the driver found suits
	// the owner when it took requests to find out (for example a GitHub
	// user rather than an organization); the portable client remembers it
	// for a while per owner and credential and hands it back as
	// ListRepositoriesRequest.Kind. Empty means there is nothing to
	// remember.
	Kind string
}

// Repository describes a repository.
type Repository struct {
	Owner string
	Name  string
	// DefaultBranch is "" for an empty repository, and where the
	// provider's answer does not name it (Bitbucket Server before Data
	// Center 9): the portable client then reads with Ref "" (the
	// default branch) and writes URLs without a ref where it can.
	DefaultBranch string
	WebURL        string
	CloneURL      string
	Private       bool
	Archived      bool
	Fork          bool
}

// ChangeAction says what a Change does.
type ChangeAction int

const (
	// Upsert writes the file, creating or replacing it.
	Upsert ChangeAction = iota
	// Create writes a file that must not exist yet.
	Create
	// Update replaces a file that must exist.
	Update
	// Delete removes a file that must exist.
	Delete
)

// String returns the action's name, e.g. "Delete".
func (a ChangeAction) String() string {
	switch a {
	case Upsert:
		return "Upsert"
	case Create:
		return "Create"
	case Update:
		return "Update"
	case Delete:
		return "Delete"
	}
	return "ChangeAction(?)"
}

// Change is one file change in a commit.
type Change struct {
	Path       string
	Action     ChangeAction
	Content    []byte // ignored for Delete
	Executable bool   // the file mode is 100755 instead of 100644
}

// PullRequestRequest asks for a commit and a pull request.
type PullRequestRequest struct {
	Repo           Repo
	Base           string // "" = the repository's default branch
	Branch         string // the source branch, created from Base when missing
	Title          string
	Body           string
	Draft          bool
	CommitMessage  string
	Changes        []Change // at least one
	UpdateExisting bool
}

// PullRequest is an opened (or found) pull or merge request.
type PullRequest struct {
	Number   int
	URL      string // web URL
	Base     string
	Branch   string
	CommitID string // the commit holding the changes, where known
	// Existing is true when an open pull request was found instead of
	// opened.
	Existing bool
}

// FindFilesRequest asks, for every repository of Owner, whether Path
// exists on its default branch.
type FindFilesRequest struct {
	Owner  string
	Path   string
	Cursor string
}

// FoundPage is one page of FindFiles results: one entry per repository
// visited; Found reports whether the file exists there.
type FoundPage struct {
	Results []Found
	Next    string
}

// Found is FindFiles' answer for one repository.
type Found struct {
	Repository Repository
	Found      bool
	BlobID     string
}

// RepositoryCreator is an optional capability: creating a repository with
// an initial commit. The portable client answers Unimplemented for drivers
// without it.
type RepositoryCreator interface {
	// CreateRepository creates r.Name under r.Owner and commits r.Files
	// as ONE commit on its default branch. An existing repository must
	// give an error classified AlreadyExists, with nothing written. An
	// error after the repository was created must name the repository and
	// what is missing.
	CreateRepository(ctx context.Context, hc *http.Client, r *CreateRepositoryRequest) (*CreatedRepository, error)
}

// AccessGranter is implemented by a RepositoryCreator that applies
// CreateRepositoryRequest.Access. The portable client refuses a request
// with grants (Unimplemented, before any request) for a driver without
// it, so that no grant is silently dropped.
type AccessGranter interface {
	RepositoryCreator
	// GrantsAccess reports whether the driver applies the grants.
	GrantsAccess() bool
}

// CreateRepositoryRequest asks for a new repository. The portable client
// has checked Name against the provider's rules and Files against its
// limits; Files holds at least one file, each path given once.
type CreateRepositoryRequest struct {
	Owner         string
	Name          string
	Description   string
	Visibility    string // "private", "internal" or "public"
	DefaultBranch string // "" = the provider's default
	Topics        []string
	CommitMessage string
	Files         []Change // Upsert actions
	// Access lists the grants to apply after the creation, one request
	// (plus any look-up the driver documents) per grant, in order. The
	// portable client has checked each: exactly one of Team and User,
	// a Permission of "read", "write" or "admin".
	Access []AccessGrant
}

// AccessGrant gives a team (a group on GitLab and Bitbucket) or a user a
// permission on a new repository.
type AccessGrant struct {
	Team       string // the team's slug or the group's path or name
	User       string // the user's login (an account id on Bitbucket Cloud)
	Permission string // "read", "write" or "admin"
}

// String names the grant in errors: "team platform: write".
func (g AccessGrant) String() string {
	if g.Team != "" {
		return "team " + g.Team + ": " + g.Permission
	}
	return "user " + g.User + ": " + g.Permission
}

// AccessProgress describes, for the error of a grant that failed after
// the creation, which of grants were applied (the first done) and which
// were not: "the access grants [team b: read, user c: admin] are missing
// (done: [team a: write])".
func AccessProgress(grants []AccessGrant, done int) string {
	msg := fmt.Sprintf("the access grants %v are missing", grants[done:])
	if done > 0 {
		msg += fmt.Sprintf(" (done: %v)", grants[:done])
	} else {
		msg += " (none done)"
	}
	return msg
}

// CreatedRepository is a driver's answer to CreateRepository.
type CreatedRepository struct {
	Repository Repository
	CommitID   string // the initial commit, where known
}
