package credentials

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// countingSource hands out credentials "tok-1", "tok-2", … that expire
// after lifetime on clk, counting calls.
type countingSource struct {
	clk      *testclock.Clock
	lifetime time.Duration
	calls    atomic.Int64
	gate     chan struct{} // if set, each call waits for it (or ctx)
	err      error
}

func (s *countingSource) Credential(ctx context.Context) (*Credential, error) {
	n := s.calls.Add(1)
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if s.err != nil {
		return nil, s.err
	}
	c := &Credential{Kind: KindApp, Token: "tok-" + strconv.FormatInt(n, 10), Source: "test"}
	if s.lifetime > 0 {
		c.Expiry = s.clk.Now().Add(s.lifetime)
	}
	return c, nil
}

func TestCachedRenewsAtTheMargin(t *testing.T) {
	clk := newClock()
	src := &countingSource{clk: clk, lifetime: time.Hour}
	c := Cached(src, &CacheOptions{Margin: 10 * time.Minute, Now: clk.Now})
	first, err := c.Credential(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(50*time.Minute - time.Second)
	if got, _ := c.Credential(t.Context()); got != first {
		t.Errorf("renewed with more than the margin left")
	}
	clk.Advance(time.Second)
	second, err := c.Credential(t.Context())
	if err != nil || second == first {
		t.Fatalf("Credential at the margin = %v, %v; want a renewed credential", second, err)
	}
	if got := src.calls.Load(); got != 2 {
		t.Errorf("source calls = %d; want 2", got)
	}
}

func TestCachedExpiredIsNeverServed(t *testing.T) {
	clk := newClock()
	src := &countingSource{clk: clk, lifetime: time.Hour}
	c := Cached(src, &CacheOptions{Margin: time.Minute, Now: clk.Now})
	first, _ := c.Credential(t.Context())
	clk.Advance(2 * time.Hour) // long past expiry
	src.err = errcode.New(errcode.Unavailable, "test", "token endpoint down")
	got, err := c.Credential(t.Context())
	if err == nil || got != nil {
		t.Fatalf("Credential after expiry with a failing source = %v, %v; want the error, not the expired %v", got, err, first)
	}
	// Errors are not cached: the next call asks again.
	src.err = nil
	if got, err := c.Credential(t.Context()); err != nil || got == first {
		t.Errorf("Credential after the source recovered = %v, %v", got, err)
	}
	if n := src.calls.Load(); n != 3 {
		t.Errorf("source calls = %d; want 3", n)
	}
}

func TestCachedNoExpiryIsKept(t *testing.T) {
	clk := newClock()
	src := &countingSource{clk: clk}
	c := Cached(src, &CacheOptions{Now: clk.Now})
	first, _ := c.Credential(t.Context())
	clk.Advance(1000 * time.Hour)
	if got, _ := c.Credential(t.Context()); got != first {
		t.Errorf("a credential without expiry was renewed")
	}
}

func TestCachedInvalidate(t *testing.T) {
	clk := newClock()
	src := &countingSource{clk: clk, lifetime: time.Hour}
	c := Cached(src, &CacheOptions{Now: clk.Now})
	first, _ := c.Credential(t.Context())
	if c.Invalidate(&Credential{Token: "someone-else"}) {
		t.Errorf("Invalidate(another credential) = true; want false")
	}
	if !c.Invalidate(first) {
		t.Fatalf("Invalidate(cached) = false; want true")
	}
	if got, _ := c.Credential(t.Context()); got == first {
		t.Errorf("Credential after Invalidate returned the rejected credential")
	}
	var _ Invalidator = c
}

func TestCachedDoesNotWrapTwice(t *testing.T) {
	clk := newClock()
	src := &countingSource{clk: clk, lifetime: time.Hour}
	inner := Cached(src, nil)
	outer := Cached(inner, &CacheOptions{Now: clk.Now})
	if outer.src != Source(src) {
		t.Errorf("Cached(Cached(src)) wraps %T; want the original source", outer.src)
	}
}

func TestCachedConcurrentCallersShareOneFetch(t *testing.T) {
	clk := newClock()
	src := &countingSource{clk: clk, lifetime: time.Hour, gate: make(chan struct{})}
	c := Cached(src, &CacheOptions{Now: clk.Now})
	const n = 500
	got := make([]*Credential, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], _ = c.Credential(t.Context()) })
	}
	for src.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others queue up behind the fetch
	close(src.gate)
	wg.Wait()
	for i := range n {
		if got[i] == nil || got[i] != got[0] {
			t.Fatalf("caller %d got %v; want the shared credential", i, got[i])
		}
	}
	if calls := src.calls.Load(); calls != 1 {
		t.Errorf("source calls = %d; want 1", calls)
	}
}

func TestCachedCallerReturnsWhenItsContextEnds(t *testing.T) {
	clk := newClock()
	src := &countingSource{clk: clk, lifetime: time.Hour, gate: make(chan struct{})}
	c := Cached(src, &CacheOptions{Now: clk.Now})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Credential(ctx)
	if errcode.CodeOf(err) != errcode.DeadlineExceeded {
		t.Errorf("Credential = %v; want DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("Credential returned after %v; want soon after its 30ms deadline", elapsed)
	}
	close(src.gate)
	// The next caller fetches again (the abandoned fetch stored nothing,
	// or stored a good credential; either way it gets one).
	if got, err := c.Credential(t.Context()); err != nil || got == nil {
		t.Errorf("Credential after an abandoned fetch = %v, %v", got, err)
	}
}

func TestCachedSourceReturningNil(t *testing.T) {
	c := Cached(SourceFunc(func(context.Context) (*Credential, error) { return nil, nil }), nil)
	if _, err := c.Credential(t.Context()); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Errorf("Credential = %v; want Unauthorized", err)
	}
}

func TestCredentialHelpers(t *testing.T) {
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		name       string
		c          *Credential
		valid      bool
		within5m   bool
		wantScheme string
	}{
		{"no expiry", &Credential{Kind: KindToken, Token: "t"}, true, false, "Bearer"},
		{"basic", &Credential{Kind: KindToken, Token: "t", Username: "u"}, true, false, "Basic"},
		{"expires later", &Credential{Kind: KindApp, Token: "t", Expiry: time.Now().Add(time.Hour)}, true, false, "Bearer"},
		{"expired", &Credential{Kind: KindApp, Token: "t", Expiry: time.Now().Add(-time.Second)}, false, true, "Bearer"},
		{"about to expire", &Credential{Kind: KindApp, Token: "t", Expiry: time.Now().Add(5 * time.Second)}, false, true, "Bearer"},
		{"anonymous", &Credential{Kind: KindAnonymous}, true, false, ""},
		{"empty token", &Credential{Kind: KindToken}, false, false, ""},
		{"nil", nil, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Valid(); got != tt.valid {
				t.Errorf("Valid() = %v; want %v", got, tt.valid)
			}
			if tt.c == nil {
				return
			}
			if got := tt.c.ExpiresWithin(time.Now(), 5*time.Minute); got != tt.within5m {
				t.Errorf("ExpiresWithin(now, 5m) = %v; want %v", got, tt.within5m)
			}
			if got := tt.c.Scheme(); got != tt.wantScheme {
				t.Errorf("Scheme() = %q; want %q", got, tt.wantScheme)
			}
		})
	}
	c := &Credential{Kind: KindApp, Token: "t", Expiry: now.Add(10 * time.Minute)}
	if c.ExpiresWithin(now, 9*time.Minute) || !c.ExpiresWithin(now, 11*time.Minute) {
		t.Errorf("ExpiresWithin with an injected now is wrong")
	}
}

func TestStatic(t *testing.T) {
	in := Credential{Kind: KindToken, Token: "t", Source: "s"}
	src := Static(in)
	in.Token = "changed"
	got, err := src.Credential(t.Context())
	if err != nil || got.Token != "t" || got.Source != "s" {
		t.Errorf("Static().Credential() = %v, %v; want its own copy", got, err)
	}
}
