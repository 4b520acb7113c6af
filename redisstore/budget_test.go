package redisstore_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/internal/httpx/httpxtest"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// TestBudgetSharedByReplicas: three replicas, each with its own
// transport and Store, share one credential's budget at share 0.5 of a
// limit of 10: the fleet sends 5 requests, the rest fail at once with
// RateLimited and the reset as RetryAt.
func TestBudgetSharedByReplicas(t *testing.T) {
	r := testsvc.StartRedis(t)
	srv, hits, reset := httpxtest.LimitedServer(t)
	var clients []*http.Client
	for range 3 {
		tr := httpx.NewTransport(&httpx.Options{MaxRateLimitWait: time.Second})
		tr.SetBudget(openStore(t, r, nil).Budget(), "github.com integrations.github[0].token", 0.5)
		clients = append(clients, &http.Client{Transport: tr})
	}
	refused := httpxtest.SendAll(t, clients, srv.URL, 12, reset)
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
	srv, hits, _ := httpxtest.LimitedServer(t)
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
