package redisstore_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// limitedServer answers with GitHub's rate-limit headers for a limit of
// 10 an hour, counting requests.
func limitedServer(t *testing.T) (*httptest.Server, *atomic.Int64, int64) {
	var hits atomic.Int64
	reset := time.Now().Add(time.Hour).Unix()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		w.Header().Set("X-RateLimit-Limit", "10")
		w.Header().Set("X-RateLimit-Remaining", strconv.FormatInt(max(10-n, 0), 10))
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits, reset
}

// TestBudgetSharedByReplicas: three replicas, each with its own
// transport and Store, share one credential's budget at share 0.5 of a
// limit of 10: the fleet sends 5 requests, the rest fail at once with
// RateLimited and the reset as RetryAt.
func TestBudgetSharedByReplicas(t *testing.T) {
	r := testsvc.StartRedis(t)
	srv, hits, reset := limitedServer(t)
	var clients []*http.Client
	for range 3 {
		tr := httpx.NewTransport(&httpx.Options{MaxRateLimitWait: time.Second})
		tr.SetBudget(openStore(t, r, nil).Budget(), "github.com integrations.github[0].token", 0.5)
		clients = append(clients, &http.Client{Transport: tr})
	}
	refused := 0
	for i := range 12 {
		resp, err := clients[i%3].Get(srv.URL)
		if err != nil {
			if errcode.CodeOf(err) != errcode.RateLimited {
				t.Fatalf("request %d: %v", i, err)
			}
			if at, ok := errcode.RetryAt(err); !ok || at.Unix() != reset {
				t.Fatalf("RetryAt = %v, %v; want the reset", at, ok)
			}
			refused++
			continue
		}
		resp.Body.Close()
	}
	if n := hits.Load(); n != 5 {
		t.Errorf("the fleet sent %d requests; want 5 (half of the limit of 10)", n)
	}
	if refused != 7 {
		t.Errorf("refused %d; want 7", refused)
	}
	// The budget in Redis names the credential's source, never a token.
	keys, _ := rawClient(t, r).Keys(t.Context(), "scmkit:rl:*").Result()
	if len(keys) != 1 || !strings.Contains(keys[0], "integrations.github[0].token") {
		t.Errorf("budget keys: %v", keys)
	}
}

// TestBudgetRedisDown: with Redis down the budget lets requests go.
func TestBudgetRedisDown(t *testing.T) {
	r := testsvc.StartRedis(t)
	srv, hits, _ := limitedServer(t)
	tr := httpx.NewTransport(nil)
	tr.SetBudget(openStore(t, r, &redisstore.Options{Timeout: 100 * time.Millisecond}).Budget(), "k", 0.5)
	r.Stop()
	for range 8 {
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
		if err != nil {
			t.Fatalf("request with Redis down: %v", err)
		}
		resp.Body.Close()
	}
	if hits.Load() != 8 {
		t.Errorf("sent %d; want 8", hits.Load())
	}
}
