package scm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/listpage"
)

// MaxCachedPageBytes is the size above which a listing page is not put in
// the [PageCache] (a GitHub page of 100 repositories is about 600 KiB).
const MaxCachedPageBytes = 2 << 20

// CachedPage is what a [PageCache] keeps of one listing page: its ETag, its
// body, and the response headers the drivers read to page on.
type CachedPage struct {
	ETag string `json:"etag"`
	// Header holds the paging headers of the answer (Link, X-Next-Page,
	// X-Page, X-Per-Page, X-Prev-Page, X-Total, X-Total-Pages) and its
	// Content-Type.
	Header http.Header `json:"header,omitempty"`
	Body   []byte      `json:"body"`
}

// PageCache keeps the listing pages (repository listings) read by
// [Client.ListRepositories] and by the listings behind [Client.FindFiles]
// and catalog discovery, so that a refresh of an unchanged owner is
// re-validated, not re-fetched: each page but the last is requested with
// If-None-Match and, on 304 Not Modified, the cached page is handed to the
// driver as if it had been sent again (with the live answer's paging
// headers where it sent any). A last page that is full is read in full: a
// new repository may start a new page while that page's body, and so its
// ETag, stays the same. A last page with room left (fewer items than the
// page size the request asked for, at most 100) is revalidated too: any
// change of the listing changes its body. So an owner whose repositories
// fit in one page, most owners, is answered 304 on a refresh. On GitHub a
// 304 to an authorised conditional request does not count against the
// primary rate limit.
//
// Conditional listing requests are sent only to the providers that answer
// listing pages with an ETag and honour If-None-Match:
//
//   - GitHub and GitHub Enterprise: yes. "Most endpoints return an etag
//     header ... If the data has not changed, you will receive a 304 Not
//     Modified response. Making a conditional request does not count
//     against your primary rate limit if a 304 response is returned and
//     the request was made while correctly authorized" (REST API best
//     practices, "Use conditional requests if appropriate"). ETags vary by
//     token (Vary: Accept, Authorization): a GitHub App's installation
//     token, renewed hourly, starts a new set of entries.
//   - GitLab: yes, with less to gain. API answers carry the weak ETag
//     Rails computes from the body, and Rails' conditional-GET middleware
//     answers a matching If-None-Match with 304; the server still builds
//     the page, and a 304 counts against GitLab's rate limits like any
//     request, so it saves the page's bytes, not the request. (An instance
//     that ignores If-None-Match, as reported in gitlab-org/gitlab#14357,
//     answers 200 and the page is read as without a cache.)
//   - Bitbucket Cloud: no. Its REST documentation gives an ETag to file
//     contents (/src) only, not to paginated listings.
//   - Bitbucket Data Center: no. Its REST API documents no ETag.
//
// Keys are opaque: a hash of the page's URL, its Accept header and the
// credential that asks (never the credential itself), so that one caller
// never receives a page cached for another, and a shared cache (such as
// redisstore's) does not show which owners were listed. Every page still
// goes to the provider with the caller's own credential. A cache that
// fails should return the error: the request then goes out
// unconditionally. Set it with [Options.PageCache].
type PageCache interface {
	// GetPage returns the page stored under key, if any.
	GetPage(ctx context.Context, key string) (*CachedPage, bool, error)
	// PutPage stores p under key, replacing any entry.
	PutPage(ctx context.Context, key string, p *CachedPage) error
}

// pagedHeaders are the response headers a cached page keeps: those the
// drivers read to find the next page, and the media type.
var pagedHeaders = []string{"Content-Type", "Link", "X-Next-Page", "X-Page", "X-Per-Page", "X-Prev-Page", "X-Total", "X-Total-Pages"}

// hasNextPage reports whether a page's headers name a next page: a Link
// with rel="next" (GitHub, GitLab) or an X-Next-Page (GitLab).
func hasNextPage(h http.Header) bool {
	if h.Get("X-Next-Page") != "" {
		return true
	}
	for _, l := range h.Values("Link") {
		for _, part := range strings.Split(l, ",") {
			if strings.Contains(part, `rel="next"`) {
				return true
			}
		}
	}
	return false
}

// shortLastPage reports whether p, the cached answer to req, is a last
// page with room left, which is revalidated like the other pages (see
// package listpage for why that is safe, and how the page size and items
// are read); a full last page, or one whose size or shape is not known, is
// read in full.
func shortLastPage(req *http.Request, p *CachedPage) bool {
	n, ok := listpage.Items(p.Body)
	return ok && listpage.RoomLeft(req.URL, p.Header, n)
}

// conditionalListings reports whether the provider of kind answers listing
// pages with an ETag and honours If-None-Match (see [PageCache]).
func conditionalListings(kind integrations.Kind) bool {
	return kind == integrations.GitHub || kind == integrations.GitLab
}

// listingKey marks a context whose GET requests are listing pages.
type listingKey struct{}

// asListing returns ctx marked so that the page cache layer of the call,
// if any, sends its GET requests conditionally.
func asListing(ctx context.Context) context.Context {
	return context.WithValue(ctx, listingKey{}, true)
}

// revalidateKey marks a context whose GET requests read one small answer
// that is worth revalidating whole (a directory's newest commit, for a
// conditional ReadTree): unlike a listing's last page, it cannot grow a
// page of its own.
type revalidateKey struct{}

// asRevalidated returns ctx marked so that the page cache layer of the
// call, if any, sends its GET requests with If-None-Match whenever it
// has an answer cached.
func asRevalidated(ctx context.Context) context.Context {
	return context.WithValue(ctx, revalidateKey{}, true)
}

// pageLayer returns rt under the page cache when the client has one and
// the provider of in honours conditional listings; rt otherwise. It goes
// below the credential transport, whose Authorization header is part of
// each key.
func (c *Client) pageLayer(in *integrations.Integration, rt http.RoundTripper) http.RoundTripper {
	if c.s.pages == nil || !conditionalListings(in.Kind) {
		return rt
	}
	return &pageTransport{base: rt, cache: c.s.pages}
}

// pageTransport sends the GET requests of a listing context with
// If-None-Match from its cache and answers a 304 with the cached page.
type pageTransport struct {
	base  http.RoundTripper
	cache PageCache
}

// pageKey names the entry of req: a hash of its URL, its Accept header and
// the headers that say who asks.
func pageKey(req *http.Request) string {
	h := sha256.New()
	for _, s := range []string{"scm page v1", req.URL.String(), req.Header.Get("Accept"),
		req.Header.Get("Authorization"), req.Header.Get("Private-Token"), req.Header.Get("Cookie")} {
		io.WriteString(h, strconv.Itoa(len(s))) //nolint:errcheck // hash writes do not fail
		io.WriteString(h, ":"+s)                //nolint:errcheck
	}
	return hex.EncodeToString(h.Sum(nil))
}

// RoundTrip implements http.RoundTripper.
func (t *pageTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	whole := req.Context().Value(revalidateKey{}) != nil
	if req.Method != http.MethodGet || (req.Context().Value(listingKey{}) == nil && !whole) ||
		req.Header.Get("If-None-Match") != "" || req.Header.Get("Range") != "" {
		return t.base.RoundTrip(req)
	}
	ctx := req.Context()
	key := pageKey(req)
	cached, ok, err := t.cache.GetPage(ctx, key)
	if err != nil || !ok || cached == nil || cached.ETag == "" || len(cached.Body) > MaxCachedPageBytes {
		cached = nil
	}
	out := req
	if cached != nil && (whole || hasNextPage(cached.Header) || shortLastPage(req, cached)) {
		// A full last page is read in full: a new repository may start
		// a new page while this one's body, and so its ETag, stays the
		// same; only its paging headers would say so, and a 304 need
		// not carry them. A last page with room left cannot stay the
		// same so (see shortLastPage).
		out = req.Clone(ctx)
		out.Header.Set("If-None-Match", cached.ETag)
	} else {
		cached = nil
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		return resp, err
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && cached != nil:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) //nolint:errcheck // a 304 has no body
		resp.Body.Close()
		return fromCache(req, resp, cached), nil
	case resp.StatusCode == http.StatusOK && resp.Header.Get("ETag") != "":
		return t.keep(ctx, key, resp), nil
	}
	return resp, nil
}

// fromCache is the 200 answer the driver sees for a 304: the live
// answer's headers (rate limits, request id) with the cached page's body
// and paging headers.
func fromCache(req *http.Request, live *http.Response, p *CachedPage) *http.Response {
	h := live.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	// A 304 describes no body: its encoding headers, if any, are not the
	// cached body's.
	h.Del("Content-Encoding")
	h.Del("Content-Range")
	// The live answer's paging headers, where it sent any (GitLab's 304
	// keeps them), are newer than the cached ones.
	livePaging := hasNextPage(h) || h.Get("Link") != "" || h.Get("X-Total-Pages") != ""
	for _, k := range pagedHeaders {
		if livePaging && k != "Content-Type" {
			continue
		}
		h.Del(k)
		if v := p.Header.Values(k); len(v) > 0 {
			h[k] = append([]string(nil), v...)
		}
	}
	h.Set("ETag", p.ETag)
	h.Set("Content-Length", strconv.Itoa(len(p.Body)))
	return &http.Response{Status: "200 OK", StatusCode: http.StatusOK, Proto: live.Proto, ProtoMajor: live.ProtoMajor,
		ProtoMinor: live.ProtoMinor, Header: h, Body: io.NopCloser(bytes.NewReader(p.Body)),
		ContentLength: int64(len(p.Body)), Request: req, TLS: live.TLS}
}

// keep reads a 200 page with an ETag and stores it, when it is at most
// MaxCachedPageBytes; the driver gets the same bytes either way. A failed
// read is left for the driver to see.
func (t *pageTransport) keep(ctx context.Context, key string, resp *http.Response) *http.Response {
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxCachedPageBytes+1))
	rest := resp.Body
	if err != nil || len(body) > MaxCachedPageBytes {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), errReader{err}, rest), rest}
		return resp
	}
	rest.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	p := &CachedPage{ETag: resp.Header.Get("ETag"), Header: http.Header{}, Body: body}
	for _, k := range pagedHeaders {
		if v := resp.Header.Values(k); len(v) > 0 {
			p.Header[k] = append([]string(nil), v...)
		}
	}
	t.cache.PutPage(ctx, key, p) //nolint:errcheck // a failed put costs a full page later
	return resp
}

// errReader returns err (io.EOF when nil) on every Read: the error a
// body read hit, passed on after the bytes read before it.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) {
	if r.err == nil {
		return 0, io.EOF
	}
	return 0, r.err
}
