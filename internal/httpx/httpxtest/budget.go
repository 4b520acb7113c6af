package httpxtest

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// LimitedServer starts a server, closed when tb ends, that answers every
// request with GitHub's rate-limit headers for a limit of 10 requests an
// hour, and counts the requests in hits. reset is the end of the hour, in
// Unix seconds.
func LimitedServer(tb testing.TB) (srv *httptest.Server, hits *atomic.Int64, reset int64) {
	hits = new(atomic.Int64)
	reset = time.Now().Add(time.Hour).Unix()
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		w.Header().Set("X-RateLimit-Limit", "10")
		w.Header().Set("X-RateLimit-Remaining", strconv.FormatInt(max(10-n, 0), 10))
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
	}))
	tb.Cleanup(srv.Close)
	return srv, hits, reset
}

// SendAll sends n GET requests to url, in turn through each of clients,
// and returns how many were refused. A refusal must be RateLimited with
// RetryAt at reset (Unix seconds); any other error fails the test.
func SendAll(tb testing.TB, clients []*http.Client, url string, n int, reset int64) (refused int) {
	tb.Helper()
	for i := range n {
		resp, err := clients[i%len(clients)].Get(url)
		if err != nil {
			if errcode.CodeOf(err) != errcode.RateLimited {
				tb.Fatalf("request %d: %v; want RateLimited", i, err)
			}
			if at, ok := errcode.RetryAt(err); !ok || at.Unix() != reset {
				tb.Fatalf("RetryAt = %v, %v; want the reset", at, ok)
			}
			refused++
			continue
		}
		resp.Body.Close()
	}
	return refused
}
