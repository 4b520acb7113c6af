package httpx_test

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/internal/testsvc/testlog"
)

// A rate limit longer than MaxRateLimitWait refuses every call at once;
// during it, the Info record saying so comes once a minute per host, not
// once per call, with a count of the records left out.
func TestRefusalsLoggedOnceAMinute(t *testing.T) {
	t.Parallel()
	s := &script{steps: []step{{status: 429, header: map[string]string{"Retry-After": "3600"}}}}
	srv, base := newServer(t, s)
	srv2, _ := newServer(t, s)
	var buf testlog.Buffer
	var mu sync.Mutex
	now := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	opts := fast(base)
	opts.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	opts.Now = clock
	tr := httpx.NewTransport(opts)
	c := &http.Client{Transport: tr}
	get := func(u string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "GET", u+"/repos/o/r", nil)
		resp, err := c.Do(req)
		if resp != nil {
			httpx.DrainClose(resp)
		}
		if errcode.CodeOf(err) != errcode.RateLimited {
			t.Fatalf("got %v; want RateLimited", err)
		}
	}
	for range 50 {
		get(srv.URL)
	}
	get(srv2.URL) // another host: its own record
	const msg = "not waiting for the server"
	if n := strings.Count(buf.String(), msg); n != 2 {
		t.Fatalf("51 refusals on 2 hosts logged %d records; want 2 (one per host):\n%s", n, buf.String())
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	get(srv.URL)
	out := buf.String()
	if n := strings.Count(out, msg); n != 3 {
		t.Fatalf("a refusal a minute later logged %d records in all; want 3:\n%s", n, out)
	}
	if !strings.Contains(out, "left_out=49") {
		t.Errorf("the record a minute later does not count the 49 left out:\n%s", out)
	}
}
