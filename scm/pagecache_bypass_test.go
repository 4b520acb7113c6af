package scm

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestPageKeyNamesEveryCredentialHeader: two requests that differ only in
// who asks (Authorization, GitLab's Private-Token, a cookie) never share
// a cached page.
func TestPageKeyNamesEveryCredentialHeader(t *testing.T) {
	req := func(h, v string) *http.Request {
		r, err := http.NewRequest(http.MethodGet, "https://gitlab.example.com/api/v4/groups/acme/projects?page=1", nil)
		if err != nil {
			t.Fatal(err)
		}
		if h != "" {
			r.Header.Set(h, v)
		}
		return r
	}
	seen := map[string]string{}
	for _, tc := range []struct{ h, v string }{
		{"", ""},
		{"Authorization", "Bearer one"}, {"Authorization", "Bearer two"},
		{"Private-Token", "glpat-one"}, {"Private-Token", "glpat-two"},
		{"Cookie", "_gitlab_session=one"}, {"Cookie", "_gitlab_session=two"},
	} {
		k := pageKey(req(tc.h, tc.v))
		if other, dup := seen[k]; dup {
			t.Errorf("%s %q has the page key of %s", tc.h, tc.v, other)
		}
		seen[k] = tc.h + " " + tc.v
	}
}

// TestPageTransportLeavesRangeRequestsAndOversizedEntriesAlone: a Range
// request is sent as it is (a 304 for part of a page would be answered
// with the whole cached page), and an entry over MaxCachedPageBytes that a
// PageCache returns anyway is not used.
func TestPageTransportLeavesRangeRequestsAndOversizedEntriesAlone(t *testing.T) {
	const u = "https://api.example/orgs/acme/repos?page=1"
	for _, tc := range []struct {
		name   string
		rng    string
		cached *CachedPage
	}{
		{"range request", "bytes=0-99", &CachedPage{ETag: `"v1"`, Body: []byte(`[1]`), Header: http.Header{"Link": {`<https://api.example/x?page=2>; rel="next"`}}}},
		{"oversized entry", "", &CachedPage{ETag: `"v1"`, Body: []byte(strings.Repeat("x", MaxCachedPageBytes+1)), Header: http.Header{"Link": {`<https://api.example/x?page=2>; rel="next"`}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			probe, _ := http.NewRequest(http.MethodGet, u, nil)
			probe.Header.Set("Authorization", "Bearer one")
			if tc.rng != "" {
				probe.Header.Set("Range", tc.rng)
			}
			pc := &pageMap{m: map[string]*CachedPage{pageKey(probe): tc.cached}}
			base := &answerFunc{fn: answer(200, `"v1"`, `[1]`)}
			rt := &pageTransport{base: base, cache: pc}
			req, _ := http.NewRequestWithContext(asListing(t.Context()), http.MethodGet, u, nil)
			req.Header = probe.Header.Clone()
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if inm := base.seen[0].Header.Get("If-None-Match"); inm != "" {
				t.Errorf("If-None-Match %q sent; want none", inm)
			}
		})
	}
}
