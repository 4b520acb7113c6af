package msgraph_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/internal/errcode"
	"github.com/scmkit/scmkit/org/msgraph"
	"github.com/scmkit/scmkit/org/orgtest/fakegraph"
)

// selfLinks makes every @odata.nextLink point back at the page it came
// in: a server that would have the reader loop forever.
type selfLinks struct{ base http.RoundTripper }

var nextLinkRe = regexp.MustCompile(`"@odata.nextLink":\s*"[^"]*"`)

func (t selfLinks) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b = nextLinkRe.ReplaceAll(b, []byte(`"@odata.nextLink":`+strconv.Quote(req.URL.String())))
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func TestRepeatedNextLinkEndsTheRead(t *testing.T) {
	for _, mode := range []string{"delta", "queries"} {
		t.Run(mode, func(t *testing.T) {
			f := fakegraph.New(nil)
			defer f.Close()
			for i := range 1200 {
				f.PutUser(fakegraph.User{DisplayName: fmt.Sprint("u", i), Mail: fmt.Sprintf("u%d@contoso.com", i), AccountEnabled: true})
			}
			c := cfgFor(f)
			if mode == "queries" {
				c.User.Filter = "accountEnabled eq true"
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			snap, err := newReader(t, c, func(o *msgraph.Options) { o.Transport = selfLinks{http.DefaultTransport} }).Read(ctx)
			if snap != nil || errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "repeated a page cursor") {
				t.Fatalf("snap = %v, err = %v; want no snapshot and Unavailable naming the repeated link", snap != nil, err)
			}
			if n := len(f.Requests()); n > 6 {
				t.Errorf("requests = %d, want at most 6", n)
			}
		})
	}
}
