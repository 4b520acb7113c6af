package org_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/schedfloor"
	"github.com/scmkit/scmkit/org"
)

// fakeReader answers each Read with its next result: a snapshot of one
// user (named after the read's number) or, where fail says so, an error;
// block makes a read wait for its context.
type fakeReader struct {
	mu    sync.Mutex
	reads []time.Time
	fail  func(n int) error
	block func(n int) bool
	user  string // the user's name prefix
}

func (f *fakeReader) Read(ctx context.Context) (*org.Snapshot, error) {
	f.mu.Lock()
	f.reads = append(f.reads, time.Now())
	n := len(f.reads)
	f.mu.Unlock()
	if f.block != nil && f.block(n) {
		<-ctx.Done()
		return nil, errcode.FromContext(ctx, "fake.Read")
	}
	if f.fail != nil {
		if err := f.fail(n); err != nil {
			return nil, err
		}
	}
	return &org.Snapshot{
		Users:  []org.User{{Metadata: org.Metadata{Name: f.user}, Spec: org.UserSpec{MemberOf: []string{"team"}}}},
		Groups: []org.Group{{Metadata: org.Metadata{Name: "team"}, Spec: org.GroupSpec{Type: "team", Members: []string{f.user}}}},
	}, nil
}

func (f *fakeReader) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reads)
}

func (f *fakeReader) times() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.reads...)
}

// published collects what Run publishes.
type published struct {
	mu    sync.Mutex
	snaps []*org.Snapshot
}

func (p *published) publish(_ context.Context, s *org.Snapshot) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.snaps = append(p.snaps, s)
	return nil
}

func (p *published) all() []*org.Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*org.Snapshot(nil), p.snaps...)
}

// testCtx lowers Run's floor on frequencies and backoffs to a
// millisecond, for tests that run many periods in a second.
func testCtx() context.Context {
	return schedfloor.With(context.Background(), time.Millisecond)
}

func runFor(t *testing.T, d time.Duration, opts org.RunOptions) {
	t.Helper()
	ctx, cancel := context.WithTimeout(testCtx(), d)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- org.Run(ctx, opts) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(d + 5*time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// Alone, Run waits the initial delay, then reads every frequency and
// publishes each snapshot; it returns when its context ends, leaving no
// goroutine (TestMain's goleak).
func TestRunReadsOnSchedule(t *testing.T) {
	r := &fakeReader{user: "alice"}
	var p published
	start := time.Now()
	runFor(t, 560*time.Millisecond, org.RunOptions{
		Sources: []org.Source{{Name: "fake", Reader: r,
			Schedule: &org.Schedule{Frequency: 100 * time.Millisecond, Timeout: time.Second, InitialDelay: 150 * time.Millisecond}}},
		Publish: p.publish,
	})
	reads := r.times()
	if len(reads) < 3 || len(reads) > 5 {
		t.Fatalf("%d reads in 560ms at 100ms (+10%% jitter) after 150ms; want 3 to 5", len(reads))
	}
	if d := reads[0].Sub(start); d < 150*time.Millisecond {
		t.Errorf("first read %v after start, before the initial delay", d)
	}
	for i := 1; i < len(reads); i++ {
		if d := reads[i].Sub(reads[i-1]); d < 100*time.Millisecond {
			t.Errorf("reads %d and %d %v apart, under the frequency", i-1, i, d)
		}
	}
	if got := len(p.all()); got != len(reads) {
		t.Errorf("%d snapshots published for %d reads", got, len(reads))
	}
}

// A failed read keeps the last good snapshot (nothing is published) and
// is retried after MinBackoff, doubling; a read that hangs is cut at the
// schedule's timeout.
func TestRunFailureKeepsLastGoodAndBacksOff(t *testing.T) {
	r := &fakeReader{user: "alice",
		fail: func(n int) error {
			return map[bool]error{true: errcode.New(errcode.Unavailable, "fake", "down")}[n >= 2 && n <= 4]
		},
		block: func(n int) bool { return n == 2 },
	}
	var p published
	runFor(t, 900*time.Millisecond, org.RunOptions{
		Sources: []org.Source{{Name: "fake", Reader: r,
			Schedule: &org.Schedule{Frequency: 200 * time.Millisecond, Timeout: 50 * time.Millisecond}}},
		Publish:    p.publish,
		MinBackoff: 40 * time.Millisecond,
		MaxBackoff: time.Second,
	})
	reads := r.times()
	if len(reads) < 5 {
		t.Fatalf("%d reads; want the good one, three failures retried, and a good one", len(reads))
	}
	// Read 2 hung: it was cut at 50ms; then backoff 40ms, 80ms, 160ms
	// (each up to a tenth more) before reads 3, 4 and 5.
	for i, want := range []time.Duration{40, 80, 160} {
		gap := reads[i+2].Sub(reads[i+1])
		if i == 0 {
			gap -= 50 * time.Millisecond // the hung read's timeout
		}
		if gap < want*time.Millisecond || gap > want*time.Millisecond*13/10+60*time.Millisecond {
			t.Errorf("wait before read %d: %v; want about %dms", i+3, gap, want)
		}
	}
	snaps := p.all()
	if len(snaps) != len(reads)-3 {
		t.Errorf("%d snapshots published for %d reads of which 3 failed", len(snaps), len(reads))
	}
}

// A rate-limited read is retried no earlier than the time it was told.
func TestRunBackoffHonoursRetryAt(t *testing.T) {
	r := &fakeReader{user: "alice", fail: func(n int) error {
		if n == 1 {
			return &errcode.Error{Code: errcode.RateLimited, Op: "fake", Msg: "slow down", RetryAt: time.Now().Add(300 * time.Millisecond)}
		}
		return nil
	}}
	var p published
	runFor(t, 500*time.Millisecond, org.RunOptions{
		Sources:    []org.Source{{Name: "fake", Reader: r, Schedule: &org.Schedule{Frequency: time.Hour, Timeout: time.Second}}},
		Publish:    p.publish,
		MinBackoff: 10 * time.Millisecond,
	})
	reads := r.times()
	if len(reads) != 2 || reads[1].Sub(reads[0]) < 290*time.Millisecond {
		t.Fatalf("reads at %v; want a retry 300ms after the rate-limited one", reads)
	}
}

// Several sources are merged in their order, and nothing is published
// before every source has been read once: the second source alone would
// otherwise own the first's names for a while.
func TestRunMergesAndWaitsForEverySource(t *testing.T) {
	trusted := &fakeReader{user: "alice"}
	other := &fakeReader{user: "alice"}
	var p published
	var early atomic.Int32 // snapshots published before the trusted source was read
	runFor(t, 400*time.Millisecond, org.RunOptions{
		Sources: []org.Source{
			{Name: "trusted", Reader: trusted, Schedule: &org.Schedule{Frequency: time.Hour, Timeout: time.Second, InitialDelay: 200 * time.Millisecond}},
			{Name: "other", Reader: other, Schedule: &org.Schedule{Frequency: 50 * time.Millisecond, Timeout: time.Second}},
		},
		Publish: func(ctx context.Context, s *org.Snapshot) error {
			if trusted.count() == 0 {
				early.Add(1)
			}
			return p.publish(ctx, s)
		},
	})
	snaps := p.all()
	if other.count() < 2 || trusted.count() != 1 || len(snaps) == 0 {
		t.Fatalf("reads: trusted %d, other %d; %d published", trusted.count(), other.count(), len(snaps))
	}
	if first := other.times()[0]; !first.Before(trusted.times()[0]) {
		t.Fatalf("the other source was first read at %v, not before the trusted one (%v): the test shows nothing", first, trusted.times()[0])
	}
	if n := early.Load(); n > 0 {
		t.Errorf("%d snapshots of the other source alone were published before the trusted one was read", n)
	}
	for _, s := range snaps {
		if len(s.Users) != 1 || !strings.Contains(strings.Join(s.Warnings, "\n"), "kept from snapshot 0, left out of snapshot 1") {
			t.Errorf("published %+v; want the merge keeping the trusted source's alice", s)
		}
	}
}

// Run refuses what it cannot run before reading anything.
func TestRunRefusesBadOptions(t *testing.T) {
	r := &fakeReader{user: "a"}
	ok := &org.Schedule{Frequency: time.Minute, Timeout: time.Minute}
	pub := func(context.Context, *org.Snapshot) error { return nil }
	for want, o := range map[string]org.RunOptions{
		"Publish is required":    {Sources: []org.Source{{Name: "a", Reader: r, Schedule: ok}}},
		"Sources is empty":       {Publish: pub},
		"Name is required":       {Publish: pub, Sources: []org.Source{{Reader: r, Schedule: ok}}},
		`name "a" is used twice`: {Publish: pub, Sources: []org.Source{{Name: "a", Reader: r, Schedule: ok}, {Name: "a", Reader: r, Schedule: ok}}},
		"Reader is required":     {Publish: pub, Sources: []org.Source{{Name: "a", Schedule: ok}}},
		"{trigger: manual}":      {Publish: pub, Sources: []org.Source{{Name: "a", Reader: r, Schedule: &org.Schedule{Manual: true, Timeout: time.Minute}}}},
		"must be positive":       {Publish: pub, Sources: []org.Source{{Name: "a", Reader: r, Schedule: &org.Schedule{}}}},
		"has no schedule":        {Publish: pub, Sources: []org.Source{{Name: "a", Reader: r}}},
		"shorter than 1s":        {Publish: pub, Sources: []org.Source{{Name: "a", Reader: r, Schedule: &org.Schedule{Frequency: 999 * time.Millisecond, Timeout: time.Minute}}}},
		"MinBackoff 10ms":        {Publish: pub, Sources: []org.Source{{Name: "a", Reader: r, Schedule: ok}}, MinBackoff: 10 * time.Millisecond},
	} {
		err := org.Run(context.Background(), o)
		if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
	if r.count() != 0 {
		t.Error("a refused Run read")
	}
}

// memShared is an org.Shared in memory, for the runner's fleet logic
// without Redis; down makes every call fail as Redis down does.
type memShared struct {
	mu       sync.Mutex
	down     atomic.Bool
	tok      int64
	ver      int64
	snap     []byte
	next     time.Time
	fail     int
	holder   int64
	heldTill time.Time
	claims   atomic.Int64
}

func (m *memShared) Claim(ctx context.Context, name string, have int64, lease, maxDue time.Duration) (org.Claim, error) {
	m.claims.Add(1)
	if m.down.Load() {
		return org.Claim{}, errcode.New(errcode.Unavailable, "mem.Claim", "down")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	c := org.Claim{Name: name, Version: m.ver, Failures: m.fail, Due: max(m.next.Sub(now), 0)}
	if m.ver != have {
		c.Snapshot = m.snap
	}
	if m.holder != 0 && now.Before(m.heldTill) {
		c.Held = m.heldTill.Sub(now)
		return c, nil
	}
	if c.Due == 0 {
		m.tok++
		m.holder, m.heldTill = m.tok, now.Add(lease)
		c.Token = m.tok
	}
	return c, nil
}

func (m *memShared) Done(ctx context.Context, c org.Claim, snap []byte, next time.Duration, failures int) (int64, error) {
	if m.down.Load() {
		return 0, errcode.New(errcode.Unavailable, "mem.Done", "down")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.holder != c.Token {
		return 0, errcode.New(errcode.Conflict, "mem.Done", "lost")
	}
	if snap != nil {
		m.ver, m.snap = c.Token, snap
	}
	m.next, m.fail, m.holder = time.Now().Add(next), failures, 0
	return m.ver, nil
}

// Three replicas sharing one Shared read once per period between them,
// and each publishes every read; a replica whose Shared fails reads
// alone, and goes back to sharing when it is back.
func TestRunFleetReadsOncePerPeriod(t *testing.T) {
	shared := &memShared{}
	r := &fakeReader{user: "alice"}
	var pubs [3]published
	ctx, cancel := context.WithTimeout(testCtx(), 1050*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			if err := org.Run(ctx, org.RunOptions{
				Sources:      []org.Source{{Name: "fake", Reader: r, Schedule: &org.Schedule{Frequency: 200 * time.Millisecond, Timeout: time.Second}}},
				Publish:      pubs[i].publish,
				Shared:       shared,
				PollInterval: 20 * time.Millisecond,
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// 1050ms at 200ms (+ up to 10%): 5 or 6 periods.
	if n := r.count(); n < 5 || n > 6 {
		t.Errorf("%d reads by a fleet of 3 in 5 or 6 periods; want one a period", n)
	}
	for i := range pubs {
		if got := len(pubs[i].all()); got < r.count()-1 {
			t.Errorf("replica %d published %d snapshots of %d reads", i, got, r.count())
		}
	}
	// Shared down: each replica reads alone.
	shared.down.Store(true)
	r2 := &fakeReader{user: "bob"}
	ctx2, cancel2 := context.WithTimeout(testCtx(), 300*time.Millisecond)
	defer cancel2()
	for range 3 {
		wg.Go(func() {
			_ = org.Run(ctx2, org.RunOptions{
				Sources:      []org.Source{{Name: "fake", Reader: r2, Schedule: &org.Schedule{Frequency: 200 * time.Millisecond, Timeout: time.Second}}},
				Publish:      func(context.Context, *org.Snapshot) error { return nil },
				Shared:       shared,
				PollInterval: 20 * time.Millisecond,
			})
		})
	}
	wg.Wait()
	if n := r2.count(); n < 3 || n > 6 {
		t.Errorf("%d reads by 3 replicas without Shared in 300ms at 200ms; want each to read for itself", n)
	}
}

// scope: local reads on every replica, without asking Shared.
func TestRunScopeLocalReadsOnEveryReplica(t *testing.T) {
	shared := &memShared{}
	r := &fakeReader{user: "alice"}
	ctx, cancel := context.WithTimeout(testCtx(), 150*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			_ = org.Run(ctx, org.RunOptions{
				Sources: []org.Source{{Name: "fake", Reader: r,
					Schedule: &org.Schedule{Frequency: time.Hour, Timeout: time.Second, Scope: org.ScopeLocal}}},
				Publish: func(context.Context, *org.Snapshot) error { return nil },
				Shared:  shared,
			})
		})
	}
	wg.Wait()
	if r.count() != 3 || shared.claims.Load() != 0 {
		t.Errorf("%d reads, %d claims; want each replica to read once without claiming", r.count(), shared.claims.Load())
	}
}
