package githuborg_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/internal/errcode"
	"github.com/scmkit/scmkit/org/githuborg"
)

// endlessPages makes every GraphQL page claim one more page, always with
// the same cursor: a server that would have the reader loop forever.
type endlessPages struct{ base http.RoundTripper }

var cursorRe = regexp.MustCompile(`"endCursor":\s*("[^"]*"|null)`)

func (t endlessPages) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.Body == nil || !strings.HasSuffix(req.URL.Path, "/graphql") {
		return resp, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b = bytes.ReplaceAll(b, []byte(`"hasNextPage":false`), []byte(`"hasNextPage":true`))
	b = cursorRe.ReplaceAll(b, []byte(`"endCursor":"Y3Vyc29yOnYyOpHOAAAAAQ=="`))
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func TestRepeatedCursorEndsTheRead(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snap, err := w.reader(t, githuborg.Config{Orgs: []string{"acme"}, PageSizes: githuborg.PageSizes{OrganizationMembers: 2, Teams: 2, TeamMembers: 1}},
		func(o *githuborg.Options) { o.Transport = endlessPages{http.DefaultTransport} }).Read(ctx)
	if snap != nil || errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "repeated a page cursor") {
		t.Fatalf("snap = %v, err = %v; want no snapshot and Unavailable naming the repeated cursor", snap != nil, err)
	}
	if n := w.fake.Stats().API; n > 3 {
		t.Errorf("requests = %d, want at most 3 (the repeat seen on the second page)", n)
	}
}
