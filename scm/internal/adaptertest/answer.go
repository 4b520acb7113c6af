package adaptertest

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Answer is an http.RoundTripper that answers every request 200 with the
// same body and headers, without a network, and records the URLs asked
// for: a driver's decoding of an untrusted answer is fuzzed through it.
// Make one with [NewAnswer].
type Answer struct {
	body   string
	header http.Header
	mu     sync.Mutex
	urls   []string
}

// NewAnswer returns an Answer with body, as application/json unless the
// header pairs (name, value, …) say otherwise; a pair with an empty value
// is left out.
func NewAnswer(body string, header ...string) *Answer {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] != "" {
			h.Set(header[i], header[i+1])
		}
	}
	return &Answer{body: body, header: h}
}

// RoundTrip answers req.
func (a *Answer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	a.mu.Lock()
	a.urls = append(a.urls, req.URL.String())
	a.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Header: a.header.Clone(), Body: io.NopCloser(strings.NewReader(a.body)), Request: req}, nil
}

// Asked fails t when a request went anywhere but under prefix.
func (a *Answer) Asked(t testing.TB, prefix string) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, u := range a.urls {
		if !strings.HasPrefix(u, prefix) {
			t.Fatalf("asked %s, outside %s", u, prefix)
		}
	}
}

// LeadingJSON reports whether body starts with a JSON value other than
// null: the vendors' client libraries decode that value and ignore what
// follows it (a leniency the adapters keep).
func LeadingJSON(body string) bool {
	var v json.RawMessage
	return json.NewDecoder(strings.NewReader(body)).Decode(&v) == nil && string(v) != "null"
}

// CheckListed fails t when a path a driver listed under dir ("" for the
// repository root) is not a valid repository path under it.
func CheckListed(t testing.TB, dir string, paths []string) {
	t.Helper()
	for _, p := range paths {
		if !fs.ValidPath(p) || p == "." || strings.Contains(p, "\x00") || (dir != "" && !strings.HasPrefix(p, dir+"/")) {
			t.Fatalf("ListFiles(%q) listed %q", dir, p)
		}
	}
}
