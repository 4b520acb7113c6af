package httpx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/scmkit/scmkit/internal/httpx/httpxtest"
)

func TestQuotaOf(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name          string
		hdr           map[string]string
		limit, remain int
		reset         time.Time
		ok            bool
	}{
		{"github", map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999", "X-RateLimit-Reset": "1700003600"}, 5000, 4999, time.Unix(1700003600, 0), true},
		{"gitlab epoch", map[string]string{"RateLimit-Limit": "600", "RateLimit-Remaining": "10", "RateLimit-Reset": "1700000060"}, 600, 10, time.Unix(1700000060, 0), true},
		{"gitlab delta", map[string]string{"RateLimit-Limit": "600", "RateLimit-Remaining": "10", "RateLimit-Reset": "60"}, 600, 10, now.Add(time.Minute), true},
		{"none", map[string]string{}, 0, 0, time.Time{}, false},
		{"garbage", map[string]string{"X-RateLimit-Limit": "lots", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "1"}, 0, 0, time.Time{}, false},
		{"no reset", map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "1"}, 0, 0, time.Time{}, false},
		{"negative", map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "-1", "X-RateLimit-Reset": "1700003600"}, 0, 0, time.Time{}, false},
		{"remaining above limit", map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "99", "X-RateLimit-Reset": "1700003600"}, 10, 10, time.Unix(1700003600, 0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.hdr {
				h.Set(k, v)
			}
			l, r, reset, ok := QuotaOf(h, now)
			if ok != tt.ok || l != tt.limit || r != tt.remain || !reset.Equal(tt.reset) {
				t.Errorf("QuotaOf = %d, %d, %v, %v; want %d, %d, %v, %v", l, r, reset, ok, tt.limit, tt.remain, tt.reset, tt.ok)
			}
		})
	}
}

func FuzzQuotaOf(f *testing.F) {
	f.Add("5000", "4999", "1700003600", "X-RateLimit-")
	f.Add("600", "0", "60", "RateLimit-")
	f.Fuzz(func(t *testing.T, limit, remaining, reset, prefix string) {
		h := http.Header{}
		h.Set(prefix+"Limit", limit)
		h.Set(prefix+"Remaining", remaining)
		h.Set(prefix+"Reset", reset)
		l, r, _, ok := QuotaOf(h, time.Unix(1_700_000_000, 0))
		if ok && (l <= 0 || r < 0 || r > l) {
			t.Fatalf("QuotaOf = %d, %d for %q %q", l, r, limit, remaining)
		}
	})
}

func TestMemoryBudget(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	b := &MemoryBudget{Now: func() time.Time { return now }}
	if ok, _, _ := b.Take(ctx, "k", 0.5); !ok {
		t.Fatal("an unknown budget refused a request")
	}
	reset := now.Add(time.Hour)
	b.Record(ctx, "k", 100, 52, reset)
	for i := range 2 {
		if ok, _, _ := b.Take(ctx, "k", 0.5); !ok {
			t.Fatalf("request %d refused with remaining above half", i)
		}
	}
	if ok, at, _ := b.Take(ctx, "k", 0.5); ok || !at.Equal(reset) {
		t.Fatalf("Take at half the limit = %v, %v; want refused until %v", ok, at, reset)
	}
	// A late answer from the same window does not raise remaining.
	b.Record(ctx, "k", 100, 90, reset)
	if ok, _, _ := b.Take(ctx, "k", 0.5); ok {
		t.Fatal("a stale answer raised the budget")
	}
	// An answer from an older window is ignored; a newer window resets.
	b.Record(ctx, "k", 100, 100, reset.Add(-time.Hour))
	if ok, _, _ := b.Take(ctx, "k", 0.5); ok {
		t.Fatal("an older window's answer was taken")
	}
	b.Record(ctx, "k", 100, 100, reset.Add(time.Hour))
	if ok, _, _ := b.Take(ctx, "k", 0.5); !ok {
		t.Fatal("a new window did not reset the budget")
	}
	// Past the reset, requests go.
	now = reset.Add(2 * time.Hour)
	if ok, _, _ := b.Take(ctx, "other", 0.5); !ok {
		t.Fatal("refused after the reset")
	}
}

// TestTransportBudget: two transports sharing one budget at share 0.5
// stop at half the limit: a reset beyond the cap fails at once with
// RateLimited and RetryAt, without a request.
func TestTransportBudget(t *testing.T) {
	srv, hits, reset := httpxtest.LimitedServer(t)
	b := &MemoryBudget{}
	var clients []*http.Client
	for range 2 {
		tr := NewTransport(&Options{MaxRateLimitWait: time.Second})
		tr.SetBudget(b, "github.com integrations.github[0].token", 0.5)
		clients = append(clients, &http.Client{Transport: tr})
	}
	refused := httpxtest.SendAll(t, clients, srv.URL, 10, reset)
	if n := hits.Load(); n != 5 {
		t.Errorf("requests sent = %d; want 5 (half of 10)", n)
	}
	if refused != 5 {
		t.Errorf("refused = %d; want 5", refused)
	}
}

// TestTransportBudgetWaits: a reset within the cap is waited for.
func TestTransportBudgetWaits(t *testing.T) {
	b := &MemoryBudget{}
	b.Record(context.Background(), "k", 10, 0, time.Now().Add(300*time.Millisecond))
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	tr := NewTransport(nil)
	tr.SetBudget(b, "k", 0.9)
	start := time.Now()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if took := time.Since(start); took < 250*time.Millisecond || took > 3*time.Second {
		t.Errorf("took %v; want about the 300ms to the reset", took)
	}
}
