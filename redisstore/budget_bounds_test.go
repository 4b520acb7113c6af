package redisstore_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// TestBudgetClampsReset: a record whose reset is fifty years ahead lives,
// and refuses requests, for httpx.MaxBudgetReset and a minute at most.
func TestBudgetClampsReset(t *testing.T) {
	r := testsvc.StartRedis(t)
	b := openStore(t, r, nil).Budget()
	raw := rawClient(t, r)
	if err := b.Record(t.Context(), "ghe.example.com app core", 10, 0, time.Now().AddDate(50, 0, 0)); err != nil {
		t.Fatal(err)
	}
	ttl, err := raw.TTL(t.Context(), "scmkit:rl:ghe.example.com app core").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > httpx.MaxBudgetReset+time.Minute {
		t.Errorf("the key lives %s; want at most %s", ttl, httpx.MaxBudgetReset+time.Minute)
	}
	ok, at, err := b.Take(t.Context(), "ghe.example.com app core", 0.5)
	if err != nil || ok || at.After(time.Now().Add(httpx.MaxBudgetReset)) {
		t.Errorf("Take = %v until %v (%v); want refused until %v at most", ok, at, err, time.Now().Add(httpx.MaxBudgetReset))
	}
}

// TestBudgetKeysFromResourceHeader: answers naming a new
// X-RateLimit-Resource each, and a reset fifty years ahead, make one key
// (the guessed core), living MaxBudgetReset and a minute at most.
func TestBudgetKeysFromResourceHeader(t *testing.T) {
	r := testsvc.StartRedis(t)
	s := openStore(t, r, nil)
	raw := rawClient(t, r)
	var n atomic.Int64
	farReset := strconv.FormatInt(time.Now().AddDate(50, 0, 0).Unix(), 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h := w.Header()
		h.Set("X-RateLimit-Limit", "5000")
		h.Set("X-RateLimit-Remaining", "4999")
		h.Set("X-RateLimit-Reset", farReset)
		h.Set("X-RateLimit-Resource", "r"+strconv.FormatInt(n.Add(1), 10))
	}))
	defer srv.Close()
	tr := httpx.NewTransport(nil)
	tr.SetBudget(s.Budget(), "ghe.example.com app", 0.5)
	tr.SetRateLimits(httpx.GitHubLimits)
	c := &http.Client{Transport: tr}
	for range 100 {
		resp, err := c.Get(srv.URL + "/repos/acme/svc")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	keys, err := raw.Keys(t.Context(), "scmkit:rl:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "scmkit:rl:ghe.example.com app core" {
		t.Fatalf("100 answers made %d keys (first %q); want core's only", len(keys), keys[:min(len(keys), 3)])
	}
	if ttl, _ := raw.TTL(t.Context(), keys[0]).Result(); ttl <= 0 || ttl > httpx.MaxBudgetReset+time.Minute {
		t.Errorf("the key lives %s; want at most %s", ttl, httpx.MaxBudgetReset+time.Minute)
	}
}

// TestFleetShareMismatchedResource: GitHub Enterprise 3.10 and older
// count /search/code under search. Three replicas, each request on a
// transport of its own (as scm makes one per call), at share 0.5 of
// search's limit of 10: the fleet sends 5 code searches, not 10.
func TestFleetShareMismatchedResource(t *testing.T) {
	r := testsvc.StartRedis(t)
	var counted atomic.Int64
	reset := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := counted.Add(1)
		h := w.Header()
		h.Set("X-RateLimit-Limit", "10")
		h.Set("X-RateLimit-Remaining", strconv.FormatInt(max(10-n, 0), 10))
		h.Set("X-RateLimit-Reset", reset)
		h.Set("X-RateLimit-Resource", "search")
	}))
	defer srv.Close()
	var budgets []*redisstore.Budget
	for range 3 {
		budgets = append(budgets, openStore(t, r, nil).Budget())
	}
	sent := 0
	for i := range 10 {
		tr := httpx.NewTransport(&httpx.Options{MaxRateLimitWait: time.Millisecond})
		tr.SetBudget(budgets[i%3], "ghe.example.com app", 0.5)
		tr.SetRateLimits(httpx.GitHubLimits)
		tr.SetAPIBase(srv.URL + "/api/v3")
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/api/v3/search/code?q=filename:catalog-info.yaml")
		if errcode.CodeOf(err) == errcode.RateLimited {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		sent++
	}
	if sent != 5 || counted.Load() != 5 {
		t.Errorf("the fleet sent %d code searches (GitHub counted %d); want 5", sent, counted.Load())
	}
}
