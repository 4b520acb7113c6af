package scm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
)

// MaxCachedFileBytes is the size above which [Client.ReadFile] does not put
// a file in the [FileCache].
const MaxCachedFileBytes = 1 << 20

// CachedFile is what a [FileCache] keeps of a file read by
// [Client.ReadFile]: its content and the validators to re-read it
// conditionally.
type CachedFile struct {
	ETag     string `json:"etag"`
	BlobID   string `json:"blob,omitempty"`
	CommitID string `json:"commit,omitempty"`
	Content  []byte `json:"content"`
	// NotFoundAt, when set, makes the entry a remembered NotFound, with
	// no ETag and no content: the provider answered the credential that
	// the entry's key names (never another) that the file was not found,
	// at that time. [Client.ReadFile] writes and reads such entries only
	// for a read with ReadFileOptions.NotFoundMaxAge.
	NotFoundAt time.Time `json:"notFoundAt,omitzero"`
	// MaybeDir marks a remembered NotFound answered to a read that took
	// a directory for a missing file (ReadFileOptions.DirAsMissing): the
	// path may be a directory, so it answers only such reads.
	MaybeDir bool `json:"maybeDir,omitempty"`
	// Cred is a fingerprint (a hash, never the secret) of the credential
	// ETag belongs to, for GitHub, whose ETags differ by token; "" when
	// unknown. A GitHub read with another credential revalidates the
	// entry with LastModified instead (see [FileCache]).
	Cred string `json:"cred,omitempty"`
	// LastModified is the Last-Modified of the answer that gave Content,
	// when the client may revalidate the entry by date with it (GitHub,
	// and a date old enough when it was read); zero otherwise.
	LastModified time.Time `json:"lastModified,omitzero"`
	// ReadAt is when Content was last read in full or confirmed; a
	// GitHub entry is revalidated by date for a limited time after it.
	ReadAt time.Time `json:"readAt,omitzero"`
}

// FileCache keeps the content and ETag of files read by [Client.ReadFile],
// so that a file read once (by this process or, with a shared cache such as
// redisstore's, by any replica) is re-validated, not re-fetched: the next
// read sends If-None-Match with the cached ETag and, on 304 Not Modified,
// returns the cached content. Every read still goes to the provider with
// the caller's own credential, so the cache never shows a file to a caller
// the provider would refuse.
//
// Keys are opaque: a hash of where the file is (integration host,
// repository, ref as the URL names it, path), so that the spellings of one
// file's URL (blob/ or tree/, a ref in the path or in ?at=, HEAD or no
// ref) share an entry. A cache that fails (down, slow) should return the
// error: ReadFile then reads as if there were no cache. Set it with
// [Options.FileCache].
//
// On GitHub, an ETag belongs to the token that read the answer: a read
// with another token (a GitHub App's installation token is renewed every
// hour) would be answered in full, counted, with the old one. A GitHub
// entry therefore also remembers a fingerprint of its ETag's credential
// and the file's Last-Modified; a read with another credential sends
// If-Modified-Since with that date instead of If-None-Match, which GitHub
// answers 304 whoever asks, free, and the entry takes the ETag the 304
// carries. A date is a weaker validator than an ETag (one-second
// granularity; the date of a commit, which the committer's clock sets):
// it is used only when it was a few seconds old when read, and for at
// most 12 hours after the entry's content was last read in full, so that
// a change that kept or moved back the file's date (a branch reset to an
// older commit) is seen within that time. See CachedFile.Cred.
//
// With ReadFileOptions.NotFoundMaxAge, the cache also keeps remembered
// NotFound answers (entries with NotFoundAt set, under keys that also hash
// the credential that asked): a cache should store them like any entry;
// one that drops them only loses that saving.
type FileCache interface {
	// GetFile returns the entry stored under key, if any.
	GetFile(ctx context.Context, key string) (*CachedFile, bool, error)
	// PutFile stores f under key, replacing any entry.
	PutFile(ctx context.Context, key string, f *CachedFile) error
}

// fileCacheKey names a file's entry: a hash of where it is, the
// integration host and r's repository, ref and path, as the client routed
// the call (so every spelling of one file's URL gives the same key), and
// never the URL itself, so that a shared cache does not show which
// repositories and paths were read.
func fileCacheKey(host string, r *driver.ReadFileRequest) string {
	return hashParts("scm file v2", host, r.Repo.Owner, r.Repo.Name, r.Ref, r.Path)
}

// hashParts hashes parts, each prefixed with its length so that no two
// lists give the same input.
func hashParts(parts ...string) string {
	h := sha256.New()
	for _, s := range parts {
		io.WriteString(h, strconv.Itoa(len(s))+":"+s) //nolint:errcheck // hash writes do not fail
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readDriver is the driver's ReadFile for a call, through the FileCache
// when the client has one and the caller did not ask for a conditional
// read itself.
func (c *Client) readDriver(ctx context.Context, cl *call, rawURL string, o *ReadFileOptions) (*driver.File, error) {
	return c.readCachedFor(ctx, cl, rawURL, &driver.ReadFileRequest{Repo: cl.repo(), Ref: cl.loc.Ref, Path: cl.loc.Path,
		IfNoneMatch: o.IfNoneMatch, MaxBytes: o.MaxBytes, Anonymous: cl.anonymous, DirAsMissing: o.DirAsMissing}, o.NotFoundMaxAge)
}

// readCachedFor reads req, the file at rawURL, through the FileCache when
// the client has one and req is not conditional already: with the cached
// ETag as If-None-Match, and the cached content on 304 (FindFiles'
// per-repository reads go through it too, so that a re-run of a discovery
// is answered 304 where the provider gives files an ETag). With
// notFoundMaxAge > 0 it also answers NotFound without a request when the
// FileCache remembers one younger than that for the call's credential,
// and remembers the NotFound it gets (see ReadFileOptions.NotFoundMaxAge).
// A remembered NotFound is looked for only when the cache has no content
// for the file: a file read before is asked again (conditionally), and its
// entry is dropped when the answer is NotFound (unless it is known to be
// another credential's), so that the next read finds the remembered
// NotFound.
func (c *Client) readCachedFor(ctx context.Context, cl *call, rawURL string, req *driver.ReadFileRequest, notFoundMaxAge time.Duration) (*driver.File, error) {
	fc := c.s.files
	if fc == nil || req.IfNoneMatch != "" || rawURL == "" {
		return cl.d.ReadFile(ctx, cl.hc, req)
	}
	key := fileCacheKey(cl.in.Host, req)
	cached, ok, err := fc.GetFile(ctx, key)
	if err != nil || !ok || cached == nil || cached.ETag == "" || int64(len(cached.Content)) > req.MaxBytes {
		cached = nil
	} else {
		req.IfNoneMatch = cached.ETag
	}
	missKey := ""
	if notFoundMaxAge > 0 && cl.who != "" {
		missKey = notFoundKey(cl.in.Host, req, cl.who)
		if cached == nil {
			if err := rememberedNotFound(ctx, fc, missKey, req, notFoundMaxAge, time.Now()); err != nil {
				return nil, err
			}
		}
	}
	rctx, probe := c.withFileProbe(ctx, cl, cached)
	f, err := cl.d.ReadFile(rctx, cl.hc, req)
	if cached != nil && notModified(cl, err) {
		if probe != nil {
			if e := probe.revalidated(cached, c.s.now()); e != nil {
				fc.PutFile(ctx, key, e) //nolint:errcheck // a failed put costs a date check, or a full read, later
			}
		}
		etag := cached.ETag
		if probe != nil && probe.bySince && probe.header.Get("ETag") != "" {
			etag = probe.header.Get("ETag") // the credential's own, to pass as IfNoneMatch
		}
		return &driver.File{Content: append([]byte(nil), cached.Content...), ETag: etag, BlobID: cached.BlobID, CommitID: cached.CommitID}, nil
	}
	if err == nil && f != nil && f.ETag != "" && len(f.Content) <= MaxCachedFileBytes {
		e := &CachedFile{ETag: f.ETag, BlobID: f.BlobID, CommitID: f.CommitID, Content: f.Content}
		if probe != nil {
			probe.stamp(e, c.s.now())
		}
		fc.PutFile(ctx, key, e) //nolint:errcheck // a failed put costs a full read later
	}
	if missKey != "" && answeredNotFound(cl, err) {
		if cached != nil && (probe == nil || cached.Cred == "" || probe.sent == cached.Cred) {
			// The file is gone (or hidden from this credential): an
			// entry without ETag is a miss, so later reads look for the
			// remembered NotFound instead of asking again. Not when the
			// entry is known to be another credential's (GitHub's
			// entries say whose): the file may be hidden from this one
			// only, and dropping it would cost the other a full,
			// counted read where a free 304 was due.
			fc.PutFile(ctx, key, &CachedFile{}) //nolint:errcheck // a failed put costs one request more later
		}
		fc.PutFile(ctx, missKey, &CachedFile{NotFoundAt: time.Now(), MaybeDir: req.DirAsMissing}) //nolint:errcheck // likewise
	}
	return f, err
}

// notModified reports whether the driver's err is a 304.
func notModified(cl *call, err error) bool {
	if err == nil {
		return false
	}
	var e *errcode.Error
	if errors.As(err, &e) {
		return e.Code == errcode.NotModified
	}
	return cl.d.ErrorInfo(err).Code == errcode.NotModified
}

// RateBudget is a rate-limit budget per credential shared by clients (and,
// with redisstore's, by every replica): each client records the limits the
// providers' answers announce (X-RateLimit-* on GitHub, RateLimit-* on
// GitLab) and, with [Options.RateShare] set, asks before each request, so
// that the fleet stays under that share of each limit instead of each
// replica discovering the limit by hitting it. A request that finds the
// share spent waits for the reset when that is within
// RetryOptions.MaxRateLimitWait and its deadline, and fails with
// RateLimited and RetryAt otherwise. Credentials are told apart by host and
// credential source (never the secret); on GitHub, whose REST, GraphQL
// and search limits are separate, also by the resource
// (X-RateLimit-Resource). A budget that fails lets the request go.
//
// GitHub does not count a conditional request it answers 304: a budget
// that also has the methods
//
//	Peek(ctx context.Context, key string, share float64) (ok bool, reset time.Time, err error)
//	Refund(ctx context.Context, key string, reset time.Time) error
//
// (Peek: what Take would report, without counting; Refund: give back one
// request Take counted in the window that resets at reset) has GitHub's
// conditional requests checked against the share without being counted,
// and those counted before they were made conditional given back after a
// 304, so that a catalog re-reading unchanged files does not spend its
// share on free answers. redisstore's Budget has both; a budget without
// them counts every request.
type RateBudget interface {
	// Take asks for one request on key's budget. It reports false, with
	// the time the budget resets, when the recorded remaining requests
	// are at or below (1-share) of the recorded limit in a window that
	// has not reset yet; otherwise it counts the request (remaining - 1)
	// and reports true. A key with nothing recorded is always allowed.
	Take(ctx context.Context, key string, share float64) (ok bool, reset time.Time, err error)
	// Record notes a provider's answer for key.
	Record(ctx context.Context, key string, limit, remaining int, reset time.Time) error
}

// spend makes the call's HTTP client spend the budget of key.
func (c *Client) spend(cl *call, key string) {
	if c.s.budget == nil || key == "" {
		return
	}
	if t, ok := cl.hc.Transport.(*httpx.Transport); ok {
		t.SetBudget(c.s.budget, key, c.s.share)
	}
}
