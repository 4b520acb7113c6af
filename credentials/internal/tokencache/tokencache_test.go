package tokencache

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/internal/errcode"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newCache(clk *clock, margin time.Duration) *Cache[string, *string] {
	return New[string, *string]("test", clk.Now, margin, func(k string) string { return k })
}

func value(s string) *string { return &s }

func TestRememberedErrorsLapse(t *testing.T) {
	clk := &clock{t: time.Unix(1e9, 0)}
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
	clk := &clock{t: time.Unix(1e9, 0)}
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
	clk := &clock{t: time.Unix(1e9, 0)}
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
	clk := &clock{t: time.Unix(1e9, 0)}
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
