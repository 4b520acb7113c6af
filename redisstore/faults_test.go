package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/internal/testsvc/testlog"
	"github.com/scmkit/scmkit/redisstore"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// faultTimeout bounds each command of the fault tests' store.
const faultTimeout = time.Second

// faultEnv is three replicas' Apps sharing one Store (one logger) on a
// Redis the test stops, restarts, pauses and flushes, against one fake
// GitHub, on one injected clock.
type faultEnv struct {
	r    *testsvc.Redis
	fake *fakegithub.Server
	clk  *testclock.Clock
	logs *testlog.Buffer
	apps []*githubapp.App
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	e := &faultEnv{r: testsvc.StartRedis(t), clk: newClock(), logs: &testlog.Buffer{}}
	e.fake = fakeWithApp(t, e.clk.Now)
	if _, err := e.fake.AddRepo(fakegithub.Repo{Owner: "beta", Name: "gadgets", Files: []fakegithub.File{{Path: "a", Content: []byte("a")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.AddInstallation(fakegithub.Installation{AppID: appID, Account: "beta"}); err != nil {
		t.Fatal(err)
	}
	// The store's pause after a failure runs on the injected clock: the
	// store stops asking a failed Redis until the test moves the clock.
	// The timeout is generous: the race detector on a loaded two-core
	// machine made commands to a healthy Redis take more than 400ms,
	// and the replicas then minted one token each where they share one.
	s := openStore(t, e.r, &redisstore.Options{Now: e.clk.Now, Timeout: faultTimeout, Logger: e.logs.Logger()})
	e.apps = replicaApps(t, e.fake, 3, func(int) githubapp.SharedStore { return s }, e.clk.Now, time.Second)
	return e
}

// call has every replica ask for owner's token, 10 callers each, and
// fails the test on any error or on callers of one replica disagreeing.
func (e *faultEnv) call(t *testing.T, owner, repo string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	tokens := map[string]int{}
	for _, a := range e.apps {
		for range 10 {
			tok, err := a.Token(ctx, owner, repo)
			if err != nil {
				t.Fatalf("Token(%s): %v", owner, err)
			}
			if exp, ok := e.fake.InstallationTokenExpiry(tok.Token); !ok || !exp.After(e.clk.Now()) {
				t.Fatalf("Token(%s) is not a live token of the fake", owner)
			}
			tokens[tok.Token]++
		}
	}
	return tokens
}

func (e *faultEnv) mints() int { _, m := appRequests(e.fake); return m }

// TestRedisDownAtStart: Redis is down when the replicas start. They work
// from GitHub (each replica mints its own), the store logs once, and when
// Redis comes up they share again.
func TestRedisDownAtStart(t *testing.T) {
	e := newFaultEnv(t)
	e.r.Stop()
	e.call(t, "acme", "widgets")
	if m := e.mints(); m < 1 || m > len(e.apps) {
		t.Errorf("mints with Redis down = %d; want 1 to %d (one per replica at most)", m, len(e.apps))
	}
	e.call(t, "acme", "widgets")
	if n := e.logs.Count("Redis is unreachable"); n != 1 {
		t.Errorf("outage logged %d times; want 1:\n%s", n, e.logs)
	}
	e.r.Start()
	e.clk.Advance(time.Minute) // past the store's pause
	before := e.mints()
	if tokens := e.call(t, "beta", "gadgets"); len(tokens) != 1 {
		t.Errorf("after Redis came up, replicas got %d tokens for a new owner; want 1 shared", len(tokens))
	}
	if m := e.mints() - before; m != 1 {
		t.Errorf("mints for a new owner after recovery = %d; want 1", m)
	}
	if n := e.logs.Count("reachable again"); n != 1 {
		t.Errorf("recovery logged %d times; want 1:\n%s", n, e.logs)
	}
}

// TestRedisDownMidRun: Redis dies after the replicas shared a token; at
// renewal each replica mints its own, nothing fails; after Redis is back
// the next renewal is shared again.
func TestRedisDownMidRun(t *testing.T) {
	e := newFaultEnv(t)
	if tokens := e.call(t, "acme", "widgets"); len(tokens) != 1 || e.mints() != 1 {
		t.Fatalf("warm-up: %d tokens, %d mints", len(tokens), e.mints())
	}
	e.r.Stop()
	e.clk.Advance(56 * time.Minute) // due for renewal
	e.call(t, "acme", "widgets")
	if m := e.mints(); m < 2 || m > 1+len(e.apps) {
		t.Errorf("mints after renewal with Redis down = %d; want 2 to %d", m, 1+len(e.apps))
	}
	if n := e.logs.Count("Redis is unreachable"); n != 1 {
		t.Errorf("outage logged %d times; want 1", n)
	}
	e.r.Start()
	e.clk.Advance(56 * time.Minute)
	before := e.mints()
	if tokens := e.call(t, "acme", "widgets"); len(tokens) != 1 {
		t.Errorf("renewal after recovery: %d tokens; want 1", len(tokens))
	}
	if m := e.mints() - before; m != 1 {
		t.Errorf("mints at the renewal after recovery = %d; want 1", m)
	}
}

// TestRedisSlow: Redis stops answering for twenty seconds (CLIENT
// PAUSE). Callers do not wait for it: after the first command times out
// (faultTimeout), the store stops asking and they are served from GitHub.
// The 30 calls would take the whole pause if each waited for its timeout.
func TestRedisSlow(t *testing.T) {
	e := newFaultEnv(t)
	raw := rawClient(t, e.r)
	if err := raw.Ping(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	const pause = 20 * time.Second
	if err := raw.Do(t.Context(), "CLIENT", "PAUSE", pause.Milliseconds(), "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	tokens := e.call(t, "acme", "widgets")
	if took := time.Since(start); took > 5*faultTimeout {
		t.Errorf("callers took %v with Redis paused; want about one command's timeout (%v), well under the %v pause", took, faultTimeout, pause)
	}
	if len(tokens) == 0 {
		t.Fatal("no token")
	}
	if n := e.logs.Count("Redis is unreachable"); n != 1 {
		t.Errorf("slowness logged %d times; want 1", n)
	}
}

// TestRedisFlushed: FLUSHALL after the replicas shared a token. Their
// local caches keep working; at renewal one replica mints for all.
func TestRedisFlushed(t *testing.T) {
	e := newFaultEnv(t)
	first := e.call(t, "acme", "widgets")
	if err := rawClient(t, e.r).FlushAll(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	if again := e.call(t, "acme", "widgets"); len(again) != 1 || e.mints() != 1 {
		t.Errorf("after FLUSHALL, before renewal: %d tokens, %d mints; want the cached one", len(again), e.mints())
	} else {
		for tok := range again {
			if first[tok] == 0 {
				t.Error("the token changed without a renewal")
			}
		}
	}
	e.clk.Advance(56 * time.Minute)
	if tokens := e.call(t, "acme", "widgets"); len(tokens) != 1 {
		t.Errorf("renewal after FLUSHALL: %d tokens; want 1", len(tokens))
	}
	if m := e.mints(); m != 2 {
		t.Errorf("mints = %d; want 2", m)
	}
	if e.logs.Count("unreachable") != 0 {
		t.Errorf("a flush is not an outage; logged:\n%s", e.logs)
	}
}
