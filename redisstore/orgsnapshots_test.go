package redisstore_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/schedfloor"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/org/orgtest"
	"github.com/scmkit/scmkit/redisstore"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// orgFake is a fake GitHub with orgtest's acme organisation (6 users, 4
// teams: one GraphQL request a read).
func orgFake(t testing.TB) *fakegithub.Server {
	t.Helper()
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"ghp_org"}})
	t.Cleanup(fake.Close)
	if err := orgtest.SeedGitHub(fake, "acme"); err != nil {
		t.Fatal(err)
	}
	return fake
}

// orgReader is one replica's reader of acme on fake.
func orgReader(t testing.TB, fake *fakegithub.Server) org.Reader {
	t.Helper()
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: fake.Host(), APIBaseURL: fake.APIBaseURL(), Token: integrations.NewSecret("ghp_org")}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := githuborg.New(githuborg.Config{ID: "production", GitHubURL: "http://" + fake.Host(), Orgs: []string{"acme"}},
		&githuborg.Options{Registry: reg, Resolver: res})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// replica is one replica of a fleet running org.Run: what it published,
// and when.
type replica struct {
	hook  deliveryHook
	store *redisstore.Store
	mu    sync.Mutex
	pubs  []time.Time
	last  *org.Snapshot
}

func (r *replica) publish(_ context.Context, s *org.Snapshot) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pubs = append(r.pubs, time.Now())
	r.last = s
	return nil
}

func (r *replica) published() ([]time.Time, *org.Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.pubs...), r.last
}

func newReplica(t testing.TB, srv *testsvc.Redis, logger *slog.Logger) *replica {
	t.Helper()
	rp := &replica{}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, DisableIdentity: true, ContextTimeoutEnabled: true})
	c.AddHook(&rp.hook)
	t.Cleanup(func() { c.Close() })
	st, err := redisstore.New(c, &redisstore.Options{EncryptionKey: testKey, Timeout: 3 * time.Second, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	rp.store = st
	return rp
}

// fastCtx lowers org.Run's floor on frequencies to a millisecond, for
// fleets run through many periods in a second.
func fastCtx() context.Context {
	return schedfloor.With(context.Background(), time.Millisecond)
}

// runFleet runs org.Run on each replica, each with its own reader of
// fake, for d; shared says whether they share through Redis.
func runFleet(t testing.TB, fake *fakegithub.Server, reps []*replica, sch org.Schedule, poll, d time.Duration, shared bool) {
	t.Helper()
	runFleetUntil(t, fake, reps, sch, poll, d, shared, nil)
}

// runFleetUntil is runFleet, stopping early once until (when set)
// reports true.
func runFleetUntil(t testing.TB, fake *fakegithub.Server, reps []*replica, sch org.Schedule, poll, d time.Duration, shared bool, until func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(fastCtx(), d)
	defer cancel()
	if until != nil {
		go func() {
			for ctx.Err() == nil && !until() {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
		}()
	}
	var wg sync.WaitGroup
	for _, rp := range reps {
		opts := org.RunOptions{
			Sources:      []org.Source{{Name: "githubOrg:production", Reader: orgReader(t, fake), Schedule: &sch}},
			Publish:      rp.publish,
			PollInterval: poll,
		}
		if shared {
			s, err := rp.store.OrgSnapshots()
			if err != nil {
				t.Fatal(err)
			}
			opts.Shared = s
		}
		wg.Go(func() {
			if err := org.Run(ctx, opts); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// A fleet of three replicas reads the organisation once per period
// between them (one GraphQL request, not three), and every replica
// publishes each snapshot within the poll interval of the leader's.
func TestOrgFleetReadsOncePerPeriod(t *testing.T) {
	srv := testsvc.StartRedis(t)
	fake := orgFake(t)
	reps := []*replica{newReplica(t, srv, nil), newReplica(t, srv, nil), newReplica(t, srv, nil)}
	const freq, poll = 300 * time.Millisecond, 40 * time.Millisecond
	runFleet(t, fake, reps, org.Schedule{Frequency: freq, Timeout: 2 * time.Second}, poll, 1550*time.Millisecond, true)
	// 1550ms at 300ms (+ up to 10%): 5 or 6 periods, one request each.
	reqs := fake.Stats().API
	if reqs < 4 || reqs > 6 {
		t.Errorf("%d GitHub requests by 3 replicas in 5 or 6 periods; want one a period", reqs)
	}
	for i, rp := range reps {
		pubs, last := rp.published()
		if last == nil || len(last.Users) != 6 || len(last.Groups) != 4 {
			t.Fatalf("replica %d published %+v; want acme's 6 users and 4 groups", i, last)
		}
		if len(pubs) < reqs-1 {
			t.Errorf("replica %d published %d snapshots of %d reads", i, len(pubs), reqs)
		}
		t.Logf("replica %d: %d Redis round trips, %d publications", i, rp.hook.n.Load(), len(pubs))
	}
	// Every replica publishes the first snapshot within a poll interval
	// (plus scheduling slack) of the first replica to publish it.
	var earliest, latest time.Time
	for _, rp := range reps {
		pubs, _ := rp.published()
		if earliest.IsZero() || pubs[0].Before(earliest) {
			earliest = pubs[0]
		}
		if pubs[0].After(latest) {
			latest = pubs[0]
		}
	}
	if d := latest.Sub(earliest); d > poll+100*time.Millisecond {
		t.Errorf("the last replica published the first snapshot %v after the first; want within the poll interval %v", d, poll)
	}
}

// A replica that dies holding the claim delays the read by the claim's
// lease at most: another replica takes it over when it lapses, and the
// dead one's late Done stores nothing.
func TestOrgFleetTakesOverFromADeadReplica(t *testing.T) {
	srv := testsvc.StartRedis(t)
	fake := orgFake(t)
	dead := newReplica(t, srv, nil)
	ds, err := dead.store.OrgSnapshots()
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	// The dead replica's claim lasts Timeout + 15s in Run; here 400ms.
	c, err := ds.Claim(ctx, "githubOrg:production", 0, 400*time.Millisecond, time.Hour)
	if err != nil || c.Token == 0 {
		t.Fatalf("Claim: %+v %v", c, err)
	}
	start := time.Now()
	live := newReplica(t, srv, nil)
	runFleet(t, fake, []*replica{live}, org.Schedule{Frequency: time.Hour, Timeout: 2 * time.Second}, 50*time.Millisecond, 700*time.Millisecond, true)
	pubs, last := live.published()
	if len(pubs) != 1 || last == nil || len(last.Users) != 6 {
		t.Fatalf("the live replica published %d snapshots (%+v); want one", len(pubs), last)
	}
	if d := pubs[0].Sub(start); d < 400*time.Millisecond || d > 400*time.Millisecond+50*time.Millisecond+500*time.Millisecond {
		t.Errorf("published %v after the dead replica's claim; want just after its 400ms lease", d)
	}
	if _, err := ds.Done(ctx, c, []byte(`{"users":[]}`), time.Hour, 0); errcode.CodeOf(err) != errcode.Conflict {
		t.Errorf("the dead replica's late Done: %v; want Conflict, storing nothing", err)
	}
	c2, err := ds.Claim(ctx, "githubOrg:production", 0, time.Second, 2*time.Hour)
	if err != nil || c2.Token != 0 || !bytes.Contains(c2.Snapshot, []byte(`"name":"alice"`)) {
		t.Errorf("after the late Done: %+v %v; want the live replica's snapshot, not due", c2, err)
	}
}

// A replica that starts takes the fleet's snapshot from Redis without
// reading; but one that was not sealed under the fleet's key (planted by
// someone who can write to Redis), or that was sealed for another version
// or source, is not published: the replica logs it and, holding nothing
// else, reads the source itself and publishes that.
func TestOrgSnapshotTamperedIsRefused(t *testing.T) {
	srv := testsvc.StartRedis(t)
	fake := orgFake(t)
	raw := rawClient(t, srv)
	leader := newReplica(t, srv, nil)
	runFleetUntil(t, fake, []*replica{leader}, org.Schedule{Frequency: time.Hour, Timeout: 2 * time.Second}, 50*time.Millisecond, 10*time.Second, true,
		func() bool { pubs, _ := leader.published(); return len(pubs) > 0 })
	if pubs, _ := leader.published(); len(pubs) != 1 {
		t.Fatalf("the leader published %d snapshots; want 1", len(pubs))
	}
	// A replica that starts now takes the leader's snapshot from Redis,
	// without reading.
	reqs := fake.Stats().API
	joiner := newReplica(t, srv, nil)
	runFleetUntil(t, fake, []*replica{joiner}, org.Schedule{Frequency: time.Hour, Timeout: 2 * time.Second}, 50*time.Millisecond, 10*time.Second, true,
		func() bool { pubs, _ := joiner.published(); return len(pubs) > 0 })
	if _, last := joiner.published(); last == nil || len(last.Users) != 6 || fake.Stats().API != reqs {
		t.Fatalf("a new replica published %+v after %d requests; want the leader's snapshot and no request", last, fake.Stats().API-reqs)
	}
	key := redisstore.DefaultPrefix + "org:githubOrg:production"
	good, err := raw.HGet(t.Context(), key, "snap").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	ver, _ := raw.HGet(t.Context(), key, "ver").Int64()
	planted := `P{"readAt":"2999-01-01T00:00:00Z","users":[{"metadata":{"name":"mallory"},"spec":{"memberOf":["team:admins"]}}],"groups":[]}`
	for name, tamper := range map[string]func(){
		"plain JSON":             func() { raw.HSet(t.Context(), key, "snap", planted) },
		"moved to a new version": func() { raw.HSet(t.Context(), key, "snap", good, "ver", ver+1) },
		"flipped bit": func() {
			b := bytes.Clone(good)
			b[len(b)-1] ^= 1
			raw.HSet(t.Context(), key, "snap", b, "ver", ver+2)
		},
	} {
		t.Run(name, func(t *testing.T) {
			tamper()
			var logs bytes.Buffer
			var mu sync.Mutex
			follower := newReplica(t, srv, slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil)))
			logged := func() bool { mu.Lock(); defer mu.Unlock(); return strings.Contains(logs.String(), "does not open") }
			reqs := fake.Stats().API
			runFleetUntil(t, fake, []*replica{follower}, org.Schedule{Frequency: time.Hour, Timeout: 2 * time.Second}, 50*time.Millisecond, 10*time.Second, true,
				func() bool { pubs, _ := follower.published(); return logged() && len(pubs) > 0 })
			pubs, last := follower.published()
			if len(pubs) != 1 || last == nil || len(last.Users) != 6 || fake.Stats().API != reqs+1 {
				t.Fatalf("the follower published %d snapshots after %d requests; want its own read of acme, once", len(pubs), fake.Stats().API-reqs)
			}
			for _, u := range last.Users {
				if u.Metadata.Name == "mallory" {
					t.Error("the follower published the planted user")
				}
			}
			if !logged() {
				t.Error("no refusal logged")
			}
		})
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Without an encryption key a store does not share org snapshots.
func TestOrgSnapshotsNeedAnEncryptionKey(t *testing.T) {
	srv := testsvc.StartRedis(t)
	st, err := redisstore.Open(srv.URL(0), &redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.OrgSnapshots(); errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "encryptionKey") {
		t.Errorf("OrgSnapshots without a key: %v", err)
	}
	var nilStore *redisstore.Store
	if _, err := nilStore.OrgSnapshots(); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("OrgSnapshots of a nil Store: %v", err)
	}
}

// BenchmarkOrgFleetPeriod runs a fleet of three replicas reading acme
// every 100ms, alone (each reads: the old way, an embedder's ticker on
// each replica) and shared through Redis, and reports GitHub requests per
// period for the fleet and Redis round trips per period per replica.
func BenchmarkOrgFleetPeriod(b *testing.B) {
	srv := testsvc.StartRedis(b)
	for _, shared := range []bool{false, true} {
		name := map[bool]string{false: "alone", true: "shared"}[shared]
		b.Run(name, func(b *testing.B) {
			fake := orgFake(b)
			raw := rawClient(b, srv)
			raw.FlushAll(b.Context())
			reps := []*replica{newReplica(b, srv, nil), newReplica(b, srv, nil), newReplica(b, srv, nil)}
			const freq = 100 * time.Millisecond
			periods := max(b.N, 3)
			b.ResetTimer()
			// Run stops half a period after the last one starts.
			runFleet(b, fake, reps, org.Schedule{Frequency: freq, Timeout: time.Second}, 20*time.Millisecond,
				time.Duration(periods)*freq*21/20+freq/2, shared)
			b.StopTimer()
			var rt int64
			for _, rp := range reps {
				rt += rp.hook.n.Load()
			}
			b.ReportMetric(float64(fake.Stats().API)/float64(periods), "requests/op")
			b.ReportMetric(float64(rt)/float64(len(reps))/float64(periods), "redis-roundtrips/op/replica")
		})
	}
}

// slowReader makes each read of r take d more.
type slowReader struct {
	r org.Reader
	d time.Duration
}

func (s slowReader) Read(ctx context.Context) (*org.Snapshot, error) {
	select {
	case <-time.After(s.d):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.r.Read(ctx)
}

// While one replica's read takes 300ms, the others ask Redis every poll
// interval, and publish its snapshot within one of its storing, without
// reading: a bounded pickup time.
func TestOrgFleetPicksUpASlowRead(t *testing.T) {
	srv := testsvc.StartRedis(t)
	fake := orgFake(t)
	reps := []*replica{newReplica(t, srv, nil), newReplica(t, srv, nil), newReplica(t, srv, nil)}
	const poll = 50 * time.Millisecond
	ctx, cancel := context.WithTimeout(fastCtx(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, rp := range reps {
		s, err := rp.store.OrgSnapshots()
		if err != nil {
			t.Fatal(err)
		}
		opts := org.RunOptions{
			Sources: []org.Source{{Name: "githubOrg:production", Reader: slowReader{orgReader(t, fake), 300 * time.Millisecond},
				Schedule: &org.Schedule{Frequency: time.Hour, Timeout: 2 * time.Second}}},
			Publish: rp.publish, Shared: s, PollInterval: poll,
		}
		wg.Go(func() { _ = org.Run(ctx, opts) })
	}
	all := func() bool {
		for _, rp := range reps {
			if pubs, _ := rp.published(); len(pubs) == 0 {
				return false
			}
		}
		return true
	}
	for ctx.Err() == nil && !all() {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if !all() {
		t.Fatal("not every replica published")
	}
	var first, last time.Time
	for i, rp := range reps {
		pubs, _ := rp.published()
		if first.IsZero() || pubs[0].Before(first) {
			first = pubs[0]
		}
		if pubs[0].After(last) {
			last = pubs[0]
		}
		t.Logf("replica %d: %d Redis round trips", i, rp.hook.n.Load())
	}
	if n := fake.Stats().API; n != 1 {
		t.Errorf("%d GitHub requests; want the one read", n)
	}
	if d := last.Sub(first); d > poll+100*time.Millisecond {
		t.Errorf("the last replica published %v after the reader; want within the poll interval %v", d, poll)
	}
}

// While Redis is down each replica reads alone (more requests, the same
// answers), and when it is back they share again.
func TestOrgFleetReadsAloneWhileRedisIsDown(t *testing.T) {
	srv := testsvc.StartRedis(t)
	fake := orgFake(t)
	var reps []*replica
	for range 2 {
		rp := &replica{}
		st, err := redisstore.Open(srv.URL(0), &redisstore.Options{EncryptionKey: testKey, Timeout: time.Second, RetryAfter: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		rp.store = st
		reps = append(reps, rp)
	}
	const freq = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(fastCtx())
	defer cancel()
	var wg sync.WaitGroup
	for _, rp := range reps {
		s, err := rp.store.OrgSnapshots()
		if err != nil {
			t.Fatal(err)
		}
		opts := org.RunOptions{
			Sources: []org.Source{{Name: "githubOrg:production", Reader: orgReader(t, fake), Schedule: &org.Schedule{Frequency: freq, Timeout: time.Second}}},
			Publish: rp.publish, Shared: s, PollInterval: 20 * time.Millisecond,
		}
		wg.Go(func() { _ = org.Run(ctx, opts) })
	}
	phase := func(d time.Duration) int {
		before := fake.Stats().API
		time.Sleep(d)
		return fake.Stats().API - before
	}
	shared1 := phase(5 * freq)
	srv.Stop()
	down := phase(5 * freq)
	srv.Start()
	// Reconnect, and the first shared read after the restart: the
	// restarted Redis has lost the claims, and a replica whose breaker
	// is still open reads alone meanwhile (3 periods: under the race
	// detector on 2 busy cores, one was not always enough: shared again
	// 8 in a CI run).
	time.Sleep(3 * freq)
	shared2 := phase(5 * freq)
	cancel()
	wg.Wait()
	t.Logf("GitHub requests in 5 periods: shared %d, Redis down %d, shared again %d", shared1, down, shared2)
	if shared1 > 7 || shared2 > 7 {
		t.Errorf("shared: %d and %d requests in 5 periods; want about 5", shared1, shared2)
	}
	if down < 8 {
		t.Errorf("Redis down: %d requests in 5 periods by 2 replicas; want each to read (about 10)", down)
	}
	for i, rp := range reps {
		if pubs, last := rp.published(); len(pubs) < 12 || last == nil || len(last.Users) != 6 {
			t.Errorf("replica %d published %d snapshots", i, len(pubs))
		}
	}
}
