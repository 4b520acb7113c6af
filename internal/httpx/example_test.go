package httpx_test

import (
	"context"
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

// ExampleTransport_SetRateLimits: under GitHub's rules, re-reads answered
// 304 cost nothing from a budget held at half of a limit of 10, where
// GitHub counted only the first read; the budget is kept per resource.
func ExampleTransport_SetRateLimits() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("X-RateLimit-Limit", "10")
		w.Header().Set("X-RateLimit-Remaining", "9")
		w.Header().Set("X-RateLimit-Reset", "1900000000")
		w.Header().Set("X-RateLimit-Resource", "core")
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
		}
	}))
	defer srv.Close()
	now := func() time.Time { return time.Unix(1_900_000_000-3600, 0) }
	budget := &httpx.MemoryBudget{Now: now}
	tr := httpx.NewTransport(&httpx.Options{Now: now})
	tr.SetBudget(budget, "github.com app 1", 0.5)
	tr.SetRateLimits(httpx.GitHubLimits)
	c := &http.Client{Transport: tr}

	notModified := 0
	for i := range 21 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/repos/acme/svc/contents/catalog-info.yaml", nil)
		if i > 0 {
			req.Header.Set("If-None-Match", `"v1"`)
		}
		resp, err := c.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotModified {
			notModified++
		}
	}
	left, _, _ := budget.Peek(context.Background(), "github.com app 1 core", 0.5)
	fmt.Println(notModified, "re-reads answered 304; share left:", left)
	// Output: 20 re-reads answered 304; share left: true
}

// ExampleTransport_SetAPIBase: with the integration's API base known, a
// file whose path holds "api/v3/search/code" is read on core's budget
// while code search's share is spent, and a code search is refused.
func ExampleTransport_SetAPIBase() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	now := func() time.Time { return time.Unix(1_900_000_000-3600, 0) }
	budget := &httpx.MemoryBudget{Now: now}
	budget.Record(context.Background(), "ghe app code_search", 10, 5, time.Unix(1_900_000_000, 0)) // half of 10 left
	tr := httpx.NewTransport(&httpx.Options{Now: now, MaxRateLimitWait: time.Millisecond})
	tr.SetBudget(budget, "ghe app", 0.5)
	tr.SetRateLimits(httpx.GitHubLimits)
	tr.SetAPIBase(srv.URL + "/ghe/api/v3")
	c := &http.Client{Transport: tr}

	for _, path := range []string{"/repos/acme/docs/contents/api/v3/search/code", "/search/code?q=x"} {
		resp, err := c.Get(srv.URL + "/ghe/api/v3" + path)
		if err != nil {
			fmt.Println(errcode.CodeOf(err))
			continue
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// 200
	// RateLimited
}
