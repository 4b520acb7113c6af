package tokencache

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

func newCache(clk *testclock.Clock, margin time.Duration) *Cache[string, *string] {
	return New[string, *string]("test", clk.Now, margin, func(k string) string { return k })
}

func value(s string) *string { return &s }

func TestRememberedErrorsLapse(t *testing.T) {
	clk := testclock.New(time.Unix(1e9, 0))
	c := newCache(clk, 0)
	var calls atomic.Int64
	notThere := errors.New("not installed")
	fetch := func(context.Context) (*string, time.Time, error) {
		if calls.Add(1) == 1 {
			return nil, time.Time{}, Remember(notThere, clk.Now().Add(time.Minute))
		}
		return value("found"), time.Time{}, nil
	}
	for range 3 {
		if _, err := c.Get(t.Context(), "k", fetch); err != notThere {
			t.Fatalf("Get = %v; want the remembered error itself", err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("fetches = %d; want 1", n)
	}
	clk.Advance(time.Minute)
	if v, err := c.Get(t.Context(), "k", fetch); err != nil || *v != "found" {
		t.Errorf("Get after the error lapsed = %v, %v", v, err)
	}
}

func TestSetAndSeedMargins(t *testing.T) {
	clk := testclock.New(time.Unix(1e9, 0))
	c := newCache(clk, 10*time.Minute)
	now := clk.Now()
	tests := []struct {
		name     string
		store    func(key string)
		freshFor time.Duration // fresh just before, stale at
	}{
		{"Set, long-lived: the margin", func(k string) { c.Set(k, value(k), now.Add(time.Hour)) }, 50 * time.Minute},
		{"Set, short-lived: half its life", func(k string) { c.Set(k, value(k), now.Add(8*time.Minute)) }, 4 * time.Minute},
		{"Seed, short-lived: the full margin", func(k string) { c.Seed(k, value(k), now.Add(15*time.Minute)) }, 5 * time.Minute},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := strconv.Itoa(i)
			tt.store(key)
			if _, _, ok := c.PeekAt(key, now.Add(tt.freshFor-time.Second)); !ok {
				t.Errorf("stale %v after storing; want fresh", tt.freshFor-time.Second)
			}
			if _, _, ok := c.PeekAt(key, now.Add(tt.freshFor)); ok {
				t.Errorf("fresh %v after storing; want stale", tt.freshFor)
			}
		})
	}
}

func TestStaleEntriesAreSwept(t *testing.T) {
	clk := testclock.New(time.Unix(1e9, 0))
	c := newCache(clk, 0)
	for i := range 1000 {
		c.Set(strconv.Itoa(i), value("v"), clk.Now().Add(time.Minute))
	}
	clk.Advance(time.Hour)
	for i := range 1000 {
		c.Set("new"+strconv.Itoa(i), value("v"), clk.Now().Add(time.Minute))
	}
	c.mu.Lock()
	n := len(c.m)
	c.mu.Unlock()
	if n > 1100 {
		t.Errorf("%d entries after 1000 expired and 1000 new ones; want the expired ones swept", n)
	}
}

func TestFollowerFetchesAgainWhenTheLeaderGivesUp(t *testing.T) {
	clk := testclock.New(time.Unix(1e9, 0))
	c := newCache(clk, 0)
	started := make(chan struct{})
	var calls atomic.Int64
	fetch := func(ctx context.Context) (*string, time.Time, error) {
		if calls.Add(1) == 1 {
			close(started)
			<-ctx.Done()
			return nil, time.Time{}, ctx.Err()
		}
		return value("second"), time.Time{}, nil
	}
	leaderCtx, cancel := context.WithCancel(t.Context())
	leader := make(chan error)
	go func() {
		_, err := c.Get(leaderCtx, "k", fetch)
		leader <- err
	}()
	<-started
	follower := make(chan *string)
	go func() {
		v, _ := c.Get(t.Context(), "k", fetch)
		follower <- v
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-leader; errcode.CodeOf(err) != errcode.Canceled {
		t.Errorf("leader: %v; want Canceled", err)
	}
	if v := <-follower; v == nil || *v != "second" {
		t.Errorf("follower got %v; want the value of a second fetch", v)
	}
}

// TestFailureAfterTheLeaderGaveUp: the caller that started a fetch gives
// up, a follower keeps waiting, and then the fetch fails on its own (not
// because of the leader's context). A cache whose fetches run under the
// leader's context lets the follower fetch again; a Detached one hands the
// follower the failure and never fetches twice.
func TestFailureAfterTheLeaderGaveUp(t *testing.T) {
	boom := errors.New("invalid_grant")
	tests := []struct {
		name        string
		detached    bool
		wantFetches int64
		wantValue   string // "" : want boom
		wantCtxDone bool   // the first fetch's context was done when it failed
	}{
		{name: "under the leader's context: the follower fetches again", wantFetches: 2, wantValue: "second", wantCtxDone: true},
		{name: "detached: the follower gets the failure", detached: true, wantFetches: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCache(testclock.New(time.Unix(1e9, 0)), 0)
				c.Detached = tt.detached
				started, release := make(chan struct{}), make(chan struct{})
				var calls atomic.Int64
				var ctxDone atomic.Bool
				fetch := func(ctx context.Context) (*string, time.Time, error) {
					if calls.Add(1) == 1 {
						close(started)
						<-release
						ctxDone.Store(ctx.Err() != nil)
						return nil, time.Time{}, boom
					}
					return value("second"), time.Time{}, nil
				}
				leaderCtx, cancel := context.WithCancel(t.Context())
				leader := make(chan error)
				go func() {
					_, err := c.Get(leaderCtx, "k", fetch)
					leader <- err
				}()
				<-started
				type result struct {
					v   *string
					err error
				}
				follower := make(chan result)
				go func() {
					v, err := c.Get(t.Context(), "k", fetch)
					follower <- result{v, err}
				}()
				synctest.Wait() // the follower has joined the flight and is waiting
				cancel()
				if err := <-leader; errcode.CodeOf(err) != errcode.Canceled {
					t.Errorf("leader: %v; want Canceled at once", err)
				}
				close(release)
				got := <-follower
				if tt.wantValue == "" {
					if got.err != boom {
						t.Errorf("follower got %v, %v; want the fetch's own error %v", got.v, got.err, boom)
					}
				} else if got.err != nil || got.v == nil || *got.v != tt.wantValue {
					t.Errorf("follower got %v, %v; want %q", got.v, got.err, tt.wantValue)
				}
				if n := calls.Load(); n != tt.wantFetches {
					t.Errorf("fetches = %d; want %d", n, tt.wantFetches)
				}
				if d := ctxDone.Load(); d != tt.wantCtxDone {
					t.Errorf("the first fetch's context done = %v; want %v", d, tt.wantCtxDone)
				}
			})
		})
	}
}

// TestDetachedWaitersReturnOnTheirOwnContext: in a Detached cache every
// caller still returns as soon as its own context ends, while the fetch
// runs on; a caller that comes later gets the fetch's value.
func TestDetachedWaitersReturnOnTheirOwnContext(t *testing.T) {
	c := newCache(testclock.New(time.Unix(1e9, 0)), 0)
	c.Detached = true
	started, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int64
	fetch := func(ctx context.Context) (*string, time.Time, error) {
		calls.Add(1)
		close(started)
		<-release
		if err := ctx.Err(); err != nil {
			return nil, time.Time{}, err
		}
		return value("fetched"), time.Time{}, nil
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := c.Get(ctx, "k", fetch)
			errs <- err
		}()
	}
	<-started
	for range 2 {
		if err := <-errs; errcode.CodeOf(err) != errcode.DeadlineExceeded {
			t.Errorf("waiter: %v; want DeadlineExceeded at once", err)
		}
	}
	close(release)
	if v, err := c.Get(t.Context(), "k", fetch); err != nil || *v != "fetched" {
		t.Errorf("Get afterwards = %v, %v; want the detached fetch's value", v, err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("fetches = %d; want 1", n)
	}
}

// TestDetachedTimeoutBoundsTheFetch: a Detached fetch runs on when its
// caller gives up, but no longer than Timeout; its failure then goes to
// the callers still waiting.
func TestDetachedTimeoutBoundsTheFetch(t *testing.T) {
	c := newCache(testclock.New(time.Unix(1e9, 0)), 0)
	c.Detached, c.Timeout = true, 50*time.Millisecond
	var calls atomic.Int64
	fetch := func(ctx context.Context) (*string, time.Time, error) {
		calls.Add(1)
		if _, ok := ctx.Deadline(); !ok {
			return nil, time.Time{}, errors.New("no deadline")
		}
		<-ctx.Done()
		return nil, time.Time{}, ctx.Err()
	}
	leader, cancel := context.WithCancel(t.Context())
	cancel() // gone before the fetch even starts waiting
	if _, err := c.Get(leader, "k", fetch); errcode.CodeOf(err) != errcode.Canceled {
		t.Errorf("leader: %v; want Canceled", err)
	}
	start := time.Now()
	_, err := c.Get(t.Context(), "k", fetch)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiter: %v; want the fetch's own deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("waited %v; want about the Timeout", d)
	}
	if n := calls.Load(); n > 2 {
		t.Errorf("fetches = %d", n)
	}
}
