package httpx_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
)

func ExampleNewClient() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway) // retried: GET is idempotent
			return
		}
		fmt.Fprint(w, `{"name":"scmkit"}`)
	}))
	defer srv.Close()

	c := httpx.NewClient(&httpx.Options{MinWait: time.Millisecond})
	resp, err := c.Get(srv.URL + "/repos/acme/scmkit")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, err := httpx.ReadBody(resp, 1<<20)
	fmt.Println(resp.StatusCode, string(body), err, calls.Load())
	// Output: 200 {"name":"scmkit"} <nil> 2
}

func ExampleNewClient_rateLimited() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", "1900000000")
		w.WriteHeader(http.StatusForbidden)
	}))
	defer srv.Close()

	c := httpx.NewClient(&httpx.Options{
		MaxRateLimitWait: time.Minute,
		Now:              func() time.Time { return time.Unix(1_900_000_000-3600, 0) },
	})
	_, err := c.Get(srv.URL + "/repos/acme/scmkit")
	at, _ := errcode.RetryAt(err)
	fmt.Println(errcode.CodeOf(err), at.UTC().Format(time.RFC3339))
	// Output: RateLimited 2030-03-17T17:46:40Z
}

func ExampleRateLimitInfo() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	resp := &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"120"}}}
	at, limited := httpx.RateLimitInfo(resp, now)
	fmt.Println(limited, at.Format(time.Kitchen))
	// Output: true 12:02PM
}
