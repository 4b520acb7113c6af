package scm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx"
)

// maxAnonymousRedirects is the number of redirects an anonymous read
// follows, each re-checked against backend.reading.allow.
const maxAnonymousRedirects = 5

// ReadFile reads the file at rawURL, a web URL of a file on an integration
// host (e.g. https://github.com/acme/svc/blob/main/catalog-info.yaml).
// opts may be nil.
//
// With opts.IfNoneMatch set to the ETag of an earlier read and the file
// unchanged, it fails with NotModified. A missing repository, ref or file is
// NotFound, a URL naming a directory InvalidArgument (NotFound with
// opts.DirAsMissing, which saves GitLab and Bitbucket Server a request
// per missing file), a file larger than the limit InvalidArgument. With
// opts.NotFoundMaxAge, a NotFound is remembered for the credential and
// answered again without a request within that age. A tree URL (GitHub's /tree/REF/PATH, which
// [integrations.Registry.ResolveURL] makes of GitHub's relative references)
// is read like a file URL when PATH is a file. A URL at ref HEAD
// (integrations.DefaultBranchRef, what [integrations.Registry.FileURL]
// writes for a repository URL) is read at the default branch. When no credential is to be sent, the driver
// may read from a public endpoint instead of the API (GitHub's raw-content
// host, which answers 404, so NotFound, for a directory too).
//
// A URL on a host without integration is read with a plain anonymous GET
// when backend.reading.allow (integrations.Config.ReadingAllow) allows it,
// following at most 5 redirects that each must be allowed too; otherwise it
// is refused with PermissionDenied.
func (c *Client) ReadFile(ctx context.Context, rawURL string, opts *ReadFileOptions) (_ *File, err error) {
	const op = "scm.ReadFile"
	t := c.lookup(rawURL)
	ctx, done := c.auditStart(ctx, op, t, false)
	defer func() { done(err) }()
	var o ReadFileOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = c.s.limits.MaxFileBytes
	}
	if err := errcode.FromContext(ctx, op); err != nil {
		return nil, err
	}
	if t.Integration == nil && t.Anonymous {
		return c.readAnonymous(ctx, op, t, &o)
	}
	cl, err := c.begin(ctx, op, t, false, true)
	if err != nil {
		return nil, err
	}
	// A tree URL with a path may name a file: GitHub's web UI redirects
	// /tree/REF/FILE to /blob/REF/FILE, Backstage's readers read both,
	// and ResolveURL makes GitHub's relative references tree URLs. The
	// driver finds out (a directory is InvalidArgument); only the
	// repository root is known to be no file.
	if cl.loc.Path == "" {
		what := "a repository"
		if cl.loc.Repo == "" {
			what = "an owner"
		}
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Provider: string(cl.in.Kind), Host: cl.in.Host,
			Msg: fmt.Sprintf("URL %s names %s, not a file", t.redacted(), what)}
	}
	f, err := c.readDriver(ctx, cl, rawURL, &o)
	if err != nil {
		return nil, c.wrap(ctx, cl, err)
	}
	if int64(len(f.Content)) > o.MaxBytes {
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Provider: string(cl.in.Kind), Host: cl.in.Host,
			Msg: fmt.Sprintf("%s is larger than the %d-byte limit", cl.loc.Path, o.MaxBytes)}
	}
	return &File{URL: rawURL, Path: cl.loc.Path, Content: f.Content, ETag: f.ETag, BlobID: f.BlobID, CommitID: f.CommitID}, nil
}

// refuse is the error for a URL whose host has no integration. Its advice
// fits the operation: reads may be allowed by backend.reading.allow,
// other operations need an integration.
func (c *Client) refuse(op string, t *target) error {
	u := t.URL
	if u == nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errcode.Newf(errcode.InvalidArgument, op, "not an absolute http(s) URL: %s", t.redacted())
	}
	if e, ok := c.s.reg.Unsupported(u.Host); ok {
		return &errcode.Error{Code: errcode.Unimplemented, Op: op, Host: u.Host, Msg: integrations.UnsupportedMessage(integrations.NormalizeHost(u.Host), e)}
	}
	switch op {
	case "scm.ReadFile", "scm.ReadTree", "scm.Search", "scm.FindFiles", "scm.ListRepositories":
	default:
		return &errcode.Error{Code: errcode.PermissionDenied, Op: op, Host: u.Host,
			Msg: fmt.Sprintf("host %s has no integration: configure one for it under integrations (github, gitlab, bitbucketCloud or bitbucketServer) to use %s", u.Host, t.redacted())}
	}
	if t.Anonymous {
		return &errcode.Error{Code: errcode.Unimplemented, Op: op, Host: u.Host,
			Msg: fmt.Sprintf("host %s has no integration: backend.reading.allow permits anonymous ReadFile only; configure an integration for it", u.Host)}
	}
	return &errcode.Error{Code: errcode.PermissionDenied, Op: op, Host: u.Host,
		Msg: fmt.Sprintf("reading %s is not allowed: configure an integration for host %s, or add it to backend.reading.allow", t.redacted(), u.Host)}
}

// readAnonymous reads an allow-listed URL with a plain GET and no
// credential.
func (c *Client) readAnonymous(ctx context.Context, op string, t *target, o *ReadFileOptions) (*File, error) {
	rawURL, u := t.raw, t.URL
	if u == nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "not an absolute http(s) URL: %s", t.redacted())
	}
	host := u.Host
	auditCall(ctx, nil, integrations.Location{}, nil)
	hc := c.httpClient(c.s.base)
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > maxAnonymousRedirects {
			return &errcode.Error{Code: errcode.PermissionDenied, Op: op, Host: host,
				Msg: fmt.Sprintf("too many redirects (more than %d) reading %s", maxAnonymousRedirects, t.redacted())}
		}
		if _, isIntegration := c.s.reg.ByHost(req.URL.Host); isIntegration || !c.s.reg.AllowsAnonymous(req.URL.String()) {
			return &errcode.Error{Code: errcode.PermissionDenied, Op: op, Host: host,
				Msg: fmt.Sprintf("redirect to %s is not allowed by backend.reading.allow", redactedURL(req.URL))}
		}
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Host: host, Msg: "bad URL " + t.redacted()}
	}
	if o.IfNoneMatch != "" {
		req.Header.Set("If-None-Match", o.IfNoneMatch)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, anonymousError(ctx, op, host, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &errcode.Error{Code: statusCode(resp.StatusCode), Op: op, Host: host, Status: resp.StatusCode,
			Msg: "GET " + t.redacted()}
		// Before the body is drained: a 403 may name its rate limit only
		// in the body (GitHub's "API rate limit exceeded", or a
		// secondary limit without headers).
		if t, limited := httpx.RateLimitInfo(resp, time.Now()); limited {
			e.Code, e.RetryAt = errcode.RateLimited, t
		}
		httpx.DrainClose(resp)
		return nil, e
	}
	body, err := httpx.ReadBody(resp, o.MaxBytes)
	if err != nil {
		return nil, anonymousError(ctx, op, host, err)
	}
	return &File{URL: rawURL, Content: body, ETag: resp.Header.Get("ETag")}, nil
}

// anonymousError wraps a transport or body error of an anonymous read.
func anonymousError(ctx context.Context, op, host string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its message repeats the URL, query included
	}
	var ce *errcode.Error
	if errors.As(err, &ce) && ce == err {
		e := *ce
		e.Op = op
		if e.Host == "" {
			e.Host = host
		}
		return &e
	}
	if cerr := errcode.FromContext(ctx, op); cerr != nil {
		return cerr
	}
	return &errcode.Error{Code: errcode.Unavailable, Op: op, Host: host, Err: err}
}

// statusCode classifies an HTTP status for anonymous reads.
func statusCode(status int) errcode.Code {
	switch {
	case status == http.StatusNotModified:
		return errcode.NotModified
	case status == http.StatusUnauthorized:
		return errcode.Unauthorized
	case status == http.StatusForbidden:
		return errcode.PermissionDenied
	case status == http.StatusNotFound || status == http.StatusGone:
		return errcode.NotFound
	case status == http.StatusTooManyRequests:
		return errcode.RateLimited
	case status == http.StatusConflict || status == http.StatusPreconditionFailed:
		return errcode.Conflict
	case status >= 500:
		return errcode.Unavailable
	case status >= 400:
		return errcode.InvalidArgument
	}
	return errcode.Unknown
}
