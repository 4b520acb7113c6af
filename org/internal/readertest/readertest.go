// Package readertest holds what the tests of the org readers share. It is
// imported by tests only.
package readertest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/org"
)

// Counter is what Budget needs of a fake: its request count and a reset.
type Counter struct {
	// Reset sets the fake's request count to zero.
	Reset func()
	// Requests returns the requests counted since the last Reset.
	Requests func() int
}

// Budget proves a request budget: every iteration of b reads r once from
// a reset count, checks that the snapshot has users users and groups
// groups, and the requests of the last read are reported as requests/op;
// more than budget fails the benchmark.
func Budget(b *testing.B, r org.Reader, c Counter, users, groups, budget int) {
	b.Helper()
	var reqs int
	for b.Loop() {
		c.Reset()
		snap, err := r.Read(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.Users) != users || len(snap.Groups) != groups {
			b.Fatalf("%d users, %d groups; want %d and %d", len(snap.Users), len(snap.Groups), users, groups)
		}
		reqs = c.Requests()
	}
	b.ReportMetric(float64(reqs), "requests/op")
	if reqs > budget {
		b.Errorf("requests = %d, budget %d", reqs, budget)
	}
}

// YAML returns snap as the catalog file it writes, to compare snapshots.
func YAML(t testing.TB, snap *org.Snapshot) string {
	t.Helper()
	var b bytes.Buffer
	if err := snap.WriteYAML(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Rewrite is an http.RoundTripper that answers as a buggy or hostile
// server could: the body of every answer to a request whose path ends with
// Path ("" for every request) goes through Edit, which may change the
// answer's header too, and the reader gets what Edit returns.
type Rewrite struct {
	Base http.RoundTripper // nil means http.DefaultTransport
	Path string
	Edit func(resp *http.Response, body []byte) []byte
}

// RoundTrip sends req and rewrites its answer.
func (t Rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil || resp.Body == nil || !strings.HasSuffix(req.URL.Path, t.Path) {
		return resp, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Request = req
	b = t.Edit(resp, b)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

var endCursorRe = regexp.MustCompile(`"endCursor":\s*("[^"]*"|null)`)

// EndlessGraphQL is an Edit for GraphQL answers: every connection claims
// one more page, always under cursor, as a server that would have the
// reader loop forever.
func EndlessGraphQL(cursor string) func(*http.Response, []byte) []byte {
	return func(_ *http.Response, b []byte) []byte {
		b = bytes.ReplaceAll(b, []byte(`"hasNextPage":false`), []byte(`"hasNextPage":true`))
		return endCursorRe.ReplaceAll(b, []byte(`"endCursor":"`+cursor+`"`))
	}
}
