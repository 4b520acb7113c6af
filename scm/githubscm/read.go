package githubscm

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-github/v66/github"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
)

// rawMediaType asks the contents API for the file's bytes instead of
// JSON; a directory is still answered as a JSON array. The v3 spelling is
// the one every GitHub Enterprise Server version accepts (and the one
// Backstage sends); github.com answers it as application/vnd.github.raw.
const rawMediaType = "application/vnd.github.v3.raw"

// ReadFile implements driver.Driver with one request: GET
// /repos/{o}/{r}/contents/{path}?ref= with the raw media type, conditional
// when r.IfNoneMatch is set (a 304 is NotModified). The ETag GitHub
// answers is returned as is; BlobID is the git blob id of the content.
//
// When r.Anonymous is set and the integration has a raw-content base URL
// (rawBaseUrl: https://raw.githubusercontent.com for github.com; none for
// GitHub Enterprise Server unless configured), the one request goes to the
// raw host instead: GET {raw}/{owner}/{repo}/{ref or HEAD}/{path}, which
// does not count against the API's rate limit (60 requests an hour without
// a credential). It is conditional in the same way: the raw host answers
// ETags and 304s. The raw host answers 404, hence NotFound, for a missing
// repository, ref or file and for a private repository, and also for a
// path that names a directory (where the contents API gives
// InvalidArgument); it serves a symbolic link as the link's target path.
// Redirects are followed only on the raw host: one to another host or
// scheme (a GitHub Enterprise Server in private mode sends anonymous
// readers to its sign-in page) is NotFound, and that host is not asked.
func (d *Driver) ReadFile(ctx context.Context, hc *http.Client, r *driver.ReadFileRequest) (*driver.File, error) {
	if err := checkRepo(r.Repo); err != nil {
		return nil, err
	}
	if (r.Anonymous || d.base == nil) && d.in.RawBaseURL != "" {
		return d.readRaw(ctx, hc, r)
	}
	gh := d.client(hc)
	u := repoPath(r.Repo) + "/contents/" + httpx.EscapePath(r.Path)
	if r.Ref != "" {
		u += "?ref=" + url.QueryEscape(r.Ref)
	}
	req, err := gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", rawMediaType)
	if r.IfNoneMatch != "" {
		req.Header.Set("If-None-Match", r.IfNoneMatch)
	}
	resp, err := gh.BareDo(ctx, req)
	if err != nil {
		return nil, redact(err)
	}
	defer resp.Body.Close()
	if isJSON(resp.Header.Get("Content-Type")) {
		// Not a file's bytes: a directory listing (an array), or an object
		// describing a submodule or a symlink that does not point at a file.
		br := bufio.NewReader(io.LimitReader(resp.Body, 64))
		what := "not a regular file (a submodule or a symbolic link out of the repository)"
		for {
			c, err := br.ReadByte()
			if err != nil || c == '{' {
				break
			}
			if c == '[' {
				what = "a directory"
				break
			}
		}
		code := errcode.InvalidArgument
		if what == "a directory" && r.DirAsMissing {
			code = errcode.NotFound
		}
		return nil, &errcode.Error{Code: code, Status: resp.StatusCode,
			Msg: fmt.Sprintf("%s in %s/%s is %s", r.Path, r.Repo.Owner, r.Repo.Name, what)}
	}
	return d.fileFrom(resp.Response, r)
}

// readRaw is ReadFile's one anonymous request to the raw-content host.
//
// The request is sent through a copy of hc (same transport) that caps an
// error answer's body at maxErrorBytes, as the API path does; a
// successful answer's body is capped by fileFrom at r.MaxBytes. Redirects
// are followed only while they stay on the raw host's scheme and host: a
// GitHub Enterprise Server in private mode redirects anonymous raw reads
// to its sign-in page, whose HTML must not pass for the file. Such a
// redirect is NotFound, and the other host is never asked.
func (d *Driver) readRaw(ctx context.Context, hc *http.Client, r *driver.ReadFileRequest) (*driver.File, error) {
	u, err := d.in.RawURL(integrations.Location{Kind: integrations.GitHub, Host: d.in.Host,
		Owner: r.Repo.Owner, Repo: r.Repo.Name, Ref: r.Ref, Path: r.Path})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &errcode.Error{Code: errcode.InvalidArgument,
			Msg: fmt.Sprintf("%s: rawBaseUrl %q does not make a valid URL", d.in.ConfigPath, d.in.RawBaseURL)}
	}
	req.Header.Set("User-Agent", d.userAgent)
	if r.IfNoneMatch != "" {
		req.Header.Set("If-None-Match", r.IfNoneMatch)
	}
	// Successful bodies, JSON or not, are left to fileFrom's cap (a JSON
	// cap of 0 would mean an empty body, not no cap).
	rc := httpx.CapClient(hc, httpx.BodyCaps{JSON: math.MaxInt64, Error: maxErrorBytes})
	var offHost *url.URL // the redirect target refused, if any
	next := rc.CheckRedirect
	rc.CheckRedirect = func(nreq *http.Request, via []*http.Request) error {
		if first := via[0].URL; nreq.URL.Scheme != first.Scheme || !strings.EqualFold(nreq.URL.Host, first.Host) {
			offHost = nreq.URL
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(nreq, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	resp, err := rc.Do(req)
	if err != nil {
		return nil, redact(err)
	}
	defer resp.Body.Close()
	if offHost != nil {
		return nil, &errcode.Error{Code: errcode.NotFound, Status: resp.StatusCode,
			Msg: fmt.Sprintf("%s in %s/%s: the raw host %s redirected to %s://%s (sign-in?); configure a token or read through the API",
				r.Path, r.Repo.Owner, r.Repo.Name, req.URL.Host, offHost.Scheme, offHost.Host)}
	}
	if resp.StatusCode == http.StatusNotFound {
		ref := r.Ref
		if ref == "" {
			ref = "the default branch"
		}
		return nil, &errcode.Error{Code: errcode.NotFound, Status: resp.StatusCode,
			Msg: fmt.Sprintf("%s not found in %s/%s at %s on %s (anonymous read: the repository may also be private, or the path a directory)",
				r.Path, r.Repo.Owner, r.Repo.Name, ref, req.URL.Host)}
	}
	if err := github.CheckResponse(resp); err != nil {
		return nil, redact(err)
	}
	return d.fileFrom(resp, r)
}

// fileFrom reads a file's bytes from a successful answer, within
// r.MaxBytes.
func (d *Driver) fileFrom(resp *http.Response, r *driver.ReadFileRequest) (*driver.File, error) {
	max := r.MaxBytes
	if max <= 0 {
		max = d.maxBody
	}
	tooLarge := &errcode.Error{Code: errcode.InvalidArgument, Status: resp.StatusCode,
		Msg: fmt.Sprintf("%s in %s/%s is larger than the %d-byte limit", r.Path, r.Repo.Owner, r.Repo.Name, max)}
	if resp.ContentLength > max {
		return nil, tooLarge
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, redact(err)
	}
	if n > max {
		return nil, tooLarge
	}
	content := buf.Bytes()
	return &driver.File{Path: r.Path, Content: content, ETag: resp.Header.Get("ETag"), BlobID: driver.BlobID(content)}, nil
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json") && mt != "application/vnd.github.raw+json")
}

// ReadTree implements driver.Driver. A directory below the repository's
// root is read with one GraphQL query (POST /graphql): the commit of the
// ref, and the directory's entries four levels deep with the text of
// every file (Blob.text), so that the bytes received are about the
// folder's own, whatever the size of the rest of the repository; deeper
// levels cost one more query per four levels. A text is kept only when
// GitHub gives it whole and it is exactly the blob (its git blob id is
// the entry's oid); TreeRequest's Filter and limits are applied from the
// entries' sizes before any content is looked at, and an entry name
// holding "/" or a ".." component is refused as the archive reader
// refuses it (InvalidArgument). The tree's CommitID is the ref's commit.
//
// The tarball is read instead (the query's cost then comes on top; it is
// the tarball of the commit the query found, when it found one) when
// Dir is the repository's root; when the folder holds more than one
// binary file or file GitHub truncates (Blob.isTruncated: over 512,000
// bytes), or one over 1 MiB (one up to 1 MiB is read as its blob, GET
// git/blobs/{sha}, checked against its id: one request more); a
// symbolic link, a submodule or an entry of another mode; when it is very
// large: more than 1,000 files (after Filter), more than 4 MiB of
// GraphQL answers in all (reading stops there), more than 16 levels deep
// (4 queries) or more than 100 subtrees at a query's cut; when the ref is
// a tag or missing; and on any GraphQL refusal or failure (an anonymous
// caller, an instance without GraphQL, an error answer). A directory
// missing at an existing commit is answered without the tarball.
//
// The tarball is one API request: GET /repos/{o}/{r}/tarball/{ref},
// which GitHub answers with a redirect to a download host; the archive is
// then streamed from there through hc. A missing directory yields an
// archive with no entries under Dir.
//
// The redirect is followed under two rules. First, its scheme must be
// https, or http only when the API base URL itself is http (a test server,
// an internal instance): a downgrade from an https API to plain http is
// refused with Unknown, since the archive would travel unprotected.
// Second, the download request is sent as the redirect it is: its Response
// field is the API's redirect response, as http.Client sets it when it
// follows a redirect. The credential transports (credentials.Transport
// and the scm client's own) see the hop from the API host and attach a
// credential only when the download host belongs to the same integration
// as the API host, never one of another integration, so a Location that
// points at another configured integration's host goes out anonymously.
// The driver knows only its own integration, so it does not restrict the
// download host further: GitHub's real flows (api.github.com to
// codeload.github.com; GitHub Enterprise Server to codeload.HOST with
// subdomain isolation, or to HOST/_codeload without it) all pass.
func (d *Driver) ReadTree(ctx context.Context, hc *http.Client, r *driver.TreeRequest) (*driver.Tree, error) {
	if err := checkRepo(r.Repo); err != nil {
		return nil, err
	}
	if err := d.needAPI(); err != nil {
		return nil, err
	}
	t, commit, err := d.readTreeGraphQL(ctx, hc, r)
	if !errors.Is(err, errUseTarball) {
		return t, err
	}
	if commit == "" {
		return d.readTreeTarball(ctx, hc, r)
	}
	// The tarball of the commit the query saw: the same tree, whatever
	// the branch has become since.
	at := *r
	at.Ref = commit
	if t, err = d.readTreeTarball(ctx, hc, &at); err != nil {
		return nil, err
	}
	t.CommitID = commit
	return t, nil
}

// readTreeTarball is ReadTree's read of the tarball.
func (d *Driver) readTreeTarball(ctx context.Context, hc *http.Client, r *driver.TreeRequest) (*driver.Tree, error) {
	// The API call must not follow the redirect itself, so that the
	// download is a fresh request to the other host, made with hc.
	noFollow := d.capped(hc)
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	gh := d.client(hc)
	u := repoPath(r.Repo) + "/tarball"
	if r.Ref != "" {
		u += "/" + httpx.EscapePath(r.Ref)
	}
	req, err := gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := noFollow.Do(req.WithContext(ctx))
	if err != nil {
		return nil, redact(err)
	}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil || (loc.Scheme != "https" && loc.Scheme != "http") {
			return nil, &errcode.Error{Code: errcode.Unavailable, Status: resp.StatusCode,
				Msg: "the tarball redirect has no usable Location"}
		}
		if loc.Scheme == "http" && d.base.Scheme != "http" {
			return nil, &errcode.Error{Code: errcode.Unknown, Status: resp.StatusCode,
				Msg: fmt.Sprintf("the tarball request to %s redirected to plain http://%s; refusing to download the archive without TLS",
					d.base.Host, loc.Host)}
		}
		dreq, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
		if err != nil {
			return nil, redact(err)
		}
		dreq.Header.Set("User-Agent", d.userAgent)
		// The download is a redirect hop from the API request: say so, so
		// that hc's credential transport applies its redirect rule.
		dreq.Response = resp
		if hc == nil {
			hc = &http.Client{}
		}
		if resp, err = hc.Do(dreq); err != nil {
			return nil, redact(err)
		}
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		// Answered directly (a proxy followed the redirect).
	}
	if err := github.CheckResponse(resp); err != nil {
		resp.Body.Close()
		return nil, redact(err)
	}
	body := resp.Body
	return &driver.Tree{Archive: &driver.Archive{Body: body, StripComponents: 1, Dir: r.Dir}}, nil
}

// ListFiles implements driver.Driver with one request: GET
// /repos/{o}/{r}/git/trees/{ref}?recursive=1, where ref is the branch,
// tag or commit as given ("HEAD" for the default branch); GitHub resolves
// it to its tree. Truncated is GitHub's flag (over 100,000 entries or
// 7 MB). A tree that names a file under r.Dir with a path that is not a
// valid relative one ("..", a leading "/") is refused with
// InvalidArgument; an answer without a tree fails (Unknown).
func (d *Driver) ListFiles(ctx context.Context, hc *http.Client, r *driver.ListFilesRequest) (*driver.FileList, error) {
	if err := checkRepo(r.Repo); err != nil {
		return nil, err
	}
	if err := d.needAPI(); err != nil {
		return nil, err
	}
	gh := d.client(hc)
	ref := r.Ref
	if ref == "" {
		ref = "HEAD"
	}
	req, err := gh.NewRequest(http.MethodGet, repoPath(r.Repo)+"/git/trees/"+httpx.EscapePath(ref)+"?recursive=1", nil)
	if err != nil {
		return nil, err
	}
	var t github.Tree
	if _, err := gh.Do(ctx, req, &t); err != nil {
		return nil, redact(err)
	}
	if t.Entries == nil {
		// An empty answer, or one without "tree", which go-github takes
		// for an empty tree (an empty tree is "tree": []).
		return nil, errcode.Newf(errcode.Unknown, "", "GitHub answered no tree for %s/%s at %s", r.Repo.Owner, r.Repo.Name, ref)
	}
	out := &driver.FileList{Truncated: t.GetTruncated()}
	prefix := ""
	if r.Dir != "" {
		prefix = strings.TrimSuffix(r.Dir, "/") + "/"
	}
	for _, e := range t.Entries {
		if e.GetType() != "blob" || !strings.HasPrefix(e.GetPath(), prefix) {
			continue
		}
		// A path that is not a valid relative one would put the caller
		// outside r.Dir: refused, as such an archive entry refuses a tree.
		if p := e.GetPath(); !fs.ValidPath(p) || p == "." || strings.Contains(p, "\x00") {
			return nil, errcode.Newf(errcode.InvalidArgument, "", "the tree of %s/%s names %s, which is not a valid path",
				r.Repo.Owner, r.Repo.Name, strconv.QuoteToASCII(abbrevName(p)))
		}
		out.Paths = append(out.Paths, e.GetPath())
	}
	slices.Sort(out.Paths)
	return out, nil
}
