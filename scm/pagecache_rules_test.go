package scm

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/scmkit/scmkit/integrations"
)

// pageMap is a PageCache in a map.
type pageMap struct {
	mu sync.Mutex
	m  map[string]*CachedPage
}

func (c *pageMap) GetPage(_ context.Context, key string) (*CachedPage, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[key]
	return p, ok, nil
}

func (c *pageMap) PutPage(_ context.Context, key string, p *CachedPage) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = p
	return nil
}

// answerFunc is a RoundTripper that records the requests it receives.
type answerFunc struct {
	fn   func(*http.Request) *http.Response
	seen []*http.Request
}

func (a *answerFunc) RoundTrip(r *http.Request) (*http.Response, error) {
	a.seen = append(a.seen, r)
	return a.fn(r), nil
}

func answer(status int, etag, body string) func(*http.Request) *http.Response {
	return func(r *http.Request) *http.Response {
		h := http.Header{"Content-Type": {"application/json"}, "Link": {`<https://api.example/x?page=2>; rel="next"`},
			"X-Ratelimit-Remaining": {"4999"}}
		if etag != "" {
			h.Set("ETag", etag)
		}
		if status == http.StatusOK && etag != "" && r.Header.Get("If-None-Match") == etag {
			status, body = http.StatusNotModified, ""
			h.Del("Link")                          // as some servers do: the cached page's Link is used
			h.Set("X-Ratelimit-Remaining", "4998") // the live figure, not the cached one
			h.Set("Content-Encoding", "gzip")      // describes no body: must not reach the driver
		}
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: r}
	}
}

// TestPageTransportRules checks what is cached and what is not: only a GET
// of a listing context answered 200 with an ETag and a body within
// MaxCachedPageBytes; its 304 is handed on as a 200 with the cached body
// and paging headers and the live rate-limit headers.
func TestPageTransportRules(t *testing.T) {
	big := strings.Repeat("x", MaxCachedPageBytes+1)
	tests := []struct {
		name      string
		method    string
		listing   bool
		auth      string // second request's Authorization ("" = same)
		fn        func(*http.Request) *http.Response
		body      string
		wantINM   bool // the second request carries If-None-Match
		wantCache int
	}{
		{"listing GET with ETag", http.MethodGet, true, "", answer(200, `"v1"`, `[1]`), `[1]`, true, 1},
		{"not a listing", http.MethodGet, false, "", answer(200, `"v1"`, `[1]`), `[1]`, false, 0},
		{"POST", http.MethodPost, true, "", answer(200, `"v1"`, `{}`), `{}`, false, 0},
		{"no ETag", http.MethodGet, true, "", answer(200, "", `[1]`), `[1]`, false, 0},
		{"error answer", http.MethodGet, true, "", answer(404, `"v1"`, `{"message":"Not Found"}`), `{"message":"Not Found"}`, false, 0},
		{"server error", http.MethodGet, true, "", answer(502, `"v1"`, `bad gateway`), `bad gateway`, false, 0},
		{"too large", http.MethodGet, true, "", answer(200, `"v1"`, big), big, false, 0},
		{"other credential", http.MethodGet, true, "Bearer other", answer(200, `"v1"`, `[1]`), `[1]`, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc := &pageMap{m: map[string]*CachedPage{}}
			base := &answerFunc{fn: tt.fn}
			rt := &pageTransport{base: base, cache: pc}
			send := func(auth string) *http.Response {
				ctx := t.Context()
				if tt.listing {
					ctx = asListing(ctx)
				}
				req, err := http.NewRequestWithContext(ctx, tt.method, "https://api.example/orgs/acme/repos?page=1", nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", auth)
				resp, err := rt.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				return resp
			}
			for i, auth := range []string{"Bearer one", cmp.Or(tt.auth, "Bearer one")} {
				resp := send(auth)
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(got) != tt.body {
					t.Errorf("request %d: body %.40q, %v; want %.40q", i, got, err, tt.body)
				}
				if resp.StatusCode == http.StatusOK && resp.Header.Get("Link") == "" {
					t.Errorf("request %d: the Link header is lost", i)
				}
			}
			if inm := base.seen[1].Header.Get("If-None-Match"); (inm != "") != tt.wantINM || base.seen[0].Header.Get("If-None-Match") != "" {
				t.Errorf("If-None-Match of the requests: %q, %q; want the second only: %v", base.seen[0].Header.Get("If-None-Match"), inm, tt.wantINM)
			}
			if len(pc.m) != tt.wantCache {
				t.Errorf("%d entries cached; want %d", len(pc.m), tt.wantCache)
			}
			for _, p := range pc.m {
				if bytes.Contains([]byte(strings.Join(p.Header.Values("Authorization"), "")), []byte("Bearer")) {
					t.Errorf("a cached page keeps the Authorization header")
				}
			}
		})
	}
}

// A 304 is handed on as a 200 with the cached page, the cached paging
// headers and the live answer's other headers.
func TestPageTransportNotModified(t *testing.T) {
	pc := &pageMap{m: map[string]*CachedPage{}}
	base := &answerFunc{fn: answer(200, `"v1"`, `[1,2]`)}
	rt := &pageTransport{base: base, cache: pc}
	var last *http.Response
	for range 2 {
		req, _ := http.NewRequestWithContext(asListing(t.Context()), http.MethodGet, "https://api.example/orgs/acme/repos", nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		last = resp
	}
	body, _ := io.ReadAll(last.Body)
	if last.StatusCode != 200 || string(body) != "[1,2]" || last.ContentLength != 5 ||
		!strings.Contains(last.Header.Get("Link"), `rel="next"`) || last.Header.Get("X-Ratelimit-Remaining") != "4998" ||
		last.Header.Get("ETag") != `"v1"` || last.Header.Get("Content-Encoding") != "" {
		t.Errorf("answer to the 304: %d %q, length %d, headers %v", last.StatusCode, body, last.ContentLength, last.Header)
	}
}

// pageLayer is only put under the clients of providers that honour
// conditional listings, and only when a cache is set.
func TestPageLayerProviders(t *testing.T) {
	base := &answerFunc{fn: answer(200, "", "")}
	with := &Client{s: &shared{pages: &pageMap{}}}
	without := &Client{s: &shared{}}
	for _, tt := range []struct {
		kind integrations.Kind
		want bool
	}{{integrations.GitHub, true}, {integrations.GitLab, true}, {integrations.BitbucketCloud, false}, {integrations.BitbucketServer, false}} {
		_, got := with.pageLayer(&integrations.Integration{Kind: tt.kind}, base).(*pageTransport)
		if got != tt.want {
			t.Errorf("%s: page layer %v; want %v", tt.kind, got, tt.want)
		}
		if _, got := without.pageLayer(&integrations.Integration{Kind: tt.kind}, base).(*pageTransport); got {
			t.Errorf("%s without a cache: page layer installed", tt.kind)
		}
	}
}

// A body that fails after the size bound is read is handed on with its
// error, not cached.
func TestPageTransportBodyError(t *testing.T) {
	pc := &pageMap{m: map[string]*CachedPage{}}
	boom := errors.New("connection reset")
	rt := &pageTransport{cache: pc, base: &answerFunc{fn: func(r *http.Request) *http.Response {
		return &http.Response{StatusCode: 200, Header: http.Header{"Etag": {`"v1"`}},
			Body: io.NopCloser(io.MultiReader(strings.NewReader("[1,"), errAfter{boom})), Request: r}
	}}}
	req, _ := http.NewRequestWithContext(asListing(t.Context()), http.MethodGet, "https://api.example/x", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	if string(got) != "[1," || !errors.Is(err, boom) || len(pc.m) != 0 {
		t.Errorf("body %q, %v, %d cached; want [1, and the read error, nothing cached", got, err, len(pc.m))
	}
}

type errAfter struct{ err error }

func (e errAfter) Read([]byte) (int, error) { return 0, e.err }
