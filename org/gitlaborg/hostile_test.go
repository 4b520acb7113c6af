package gitlaborg_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org/gitlaborg"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// endlessPages makes GitLab's answers promise one more page forever: every
// GraphQL connection has a next page under the same cursor (graphql), or
// every REST page names page 2 as the next (rest).
type endlessPages struct {
	base          http.RoundTripper
	graphql, rest bool
}

var cursorRe = regexp.MustCompile(`"endCursor":\s*("[^"]*"|null)`)

func (t endlessPages) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	if t.rest && strings.HasSuffix(req.URL.Path, "/users") {
		resp.Header.Set("X-Next-Page", "2")
	}
	if t.graphql && strings.HasSuffix(req.URL.Path, "/graphql") {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		b = bytes.ReplaceAll(b, []byte(`"hasNextPage":false`), []byte(`"hasNextPage":true`))
		b = cursorRe.ReplaceAll(b, []byte(`"endCursor":"eyJpZCI6IjEifQ"`))
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Del("Content-Length")
	}
	return resp, nil
}

func TestRepeatedCursorEndsTheRead(t *testing.T) {
	for _, tt := range []struct {
		name          string
		graphql, rest bool
	}{{"graphql", true, false}, {"rest users", false, true}} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			seed(t, w.fake)
			for i := range 150 {
				w.fake.AddOrgUser(fakegitlab.Member{Username: fmt.Sprintf("user%d", i)})
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var n atomic.Int64
			snap, err := w.reader(t, gitlaborg.Config{Group: "acme"}, func(o *gitlaborg.Options) {
				o.Transport = countingRT{endlessPages{http.DefaultTransport, tt.graphql, tt.rest}, &n}
			}).Read(ctx)
			if snap != nil || errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "repeated a page cursor") {
				t.Fatalf("snap = %v, err = %v; want no snapshot and Unavailable naming the repeated cursor", snap != nil, err)
			}
			if n.Load() > 5 {
				t.Errorf("requests = %d, want at most 5", n.Load())
			}
		})
	}
}

type countingRT struct {
	base http.RoundTripper
	n    *atomic.Int64
}

func (c countingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(req)
}
