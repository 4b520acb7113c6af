package bitbucketcloudscm_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/driver"
)

// loopingSrc is a broken (or malicious) Bitbucket: the archive download
// refuses the credential, so that ReadTree lists the tree through the
// API, and every /src page names one directory and a next page: the same
// one again (same), or one more (otherwise). It stops answering after
// giveUp requests, so that a client without a bound ends too.
type loopingSrc struct {
	same     bool
	giveUp   int64
	requests atomic.Int64
}

func (l *loopingSrc) RoundTrip(req *http.Request) (*http.Response, error) {
	n := l.requests.Add(1)
	if n > l.giveUp {
		return nil, fmt.Errorf("the test's server gave up after %d requests", l.giveUp)
	}
	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Request: req}
	var body string
	switch {
	case strings.HasSuffix(req.URL.Path, ".tar.gz"):
		resp.StatusCode = http.StatusForbidden
		body = `{"type":"error","error":{"message":"Access denied"}}`
	default:
		next := "https://api.bitbucket.org/2.0/repositories/acme/svc/src/main/tpl/?page=loop"
		if !l.same {
			next = fmt.Sprintf("https://api.bitbucket.org/2.0/repositories/acme/svc/src/main/tpl/?page=%d", n+1)
		}
		body = fmt.Sprintf(`{"pagelen":100,"values":[{"type":"commit_directory","path":"tpl/d%d"}],"next":%q}`, n, next)
	}
	resp.Body = io.NopCloser(strings.NewReader(body))
	return resp, nil
}

// TestListingLoops: a /src listing that pages in a circle, or on and on
// without a file, ends with an error after a bounded number of requests,
// where ReadTree's fallback asked up to 1<<20 pages.
func TestListingLoops(t *testing.T) {
	d, err := bitbucketcloudscm.New(&integrations.Integration{Kind: integrations.BitbucketCloud, Host: "bitbucket.org",
		APIBaseURL: "https://api.bitbucket.org/2.0", BaseURL: "https://bitbucket.org"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		same bool
		max  int64 // requests at most: the archive, then the pages
	}{
		{"same next link", true, 1 + 2},
		{"ever more pages without a file", false, 1 + 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &loopingSrc{same: tc.same, giveUp: 5000}
			_, err := d.ReadTree(t.Context(), &http.Client{Transport: srv}, &driver.TreeRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Ref: "main", Dir: "tpl"})
			if n := srv.requests.Load(); n > tc.max {
				t.Errorf("ReadTree made %d requests to a looping listing; want at most %d", n, tc.max)
			}
			if err == nil || strings.Contains(err.Error(), "gave up") {
				t.Fatalf("ReadTree = %v; want the listing's own error", err)
			}
			if got := d.ErrorInfo(err).Code; got != errcode.Unknown {
				t.Errorf("code %v (%v); want Unknown", got, err)
			}
		})
	}
}
