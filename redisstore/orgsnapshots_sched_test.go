package redisstore_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/redisstore"
)

// The scheduling fields in Redis are not sealed; whoever can write there
// can make the fleet read sooner, but not stop it: a next read further
// away than maxDue is due now, and a claim key with no expiry, or with
// more left than the lease asked for, has lapsed.
func TestOrgClaimSchedulingFieldsCannotStopTheFleet(t *testing.T) {
	srv := testsvc.StartRedis(t)
	raw := rawClient(t, srv)
	rp := newReplica(t, srv, nil)
	s, err := rp.store.OrgSnapshots()
	if err != nil {
		t.Fatal(err)
	}
	state, claim := redisstore.DefaultPrefix+"org:src", redisstore.DefaultPrefix+"orgclaim:src"
	ctx := t.Context()
	for name, tamper := range map[string]func(){
		"next read 31 years away":   func() { raw.HSet(ctx, state, "next", time.Now().UnixMilli()+1e12) },
		"next read past int64's ns": func() { raw.HSet(ctx, state, "next", time.Now().UnixMilli()+1e16) },
		"claim without expiry":      func() { raw.Set(ctx, claim, "1", 0) },
		"claim for an hour":         func() { raw.Set(ctx, claim, "1", time.Hour) },
	} {
		t.Run(name, func(t *testing.T) {
			raw.Del(ctx, state, claim)
			tamper()
			c, err := s.Claim(ctx, "src", 0, time.Second, time.Hour)
			if err != nil || c.Token == 0 || c.Due != 0 || c.Held != 0 {
				t.Fatalf("Claim after the tampering: token %d, due %v, held %v, %v; want the claim", c.Token, c.Due, c.Held, err)
			}
			if ttl := raw.PTTL(ctx, claim).Val(); ttl <= 0 || ttl > time.Second {
				t.Errorf("the claim taken lasts %v; want the 1s lease", ttl)
			}
		})
	}
	// Due and Held are never more than maxDue and the lease.
	raw.Del(ctx, state, claim)
	raw.HSet(ctx, state, "next", time.Now().UnixMilli()+30_000)
	raw.Set(ctx, claim, "1", 800*time.Millisecond)
	c, err := s.Claim(ctx, "src", 0, time.Second, time.Minute)
	if err != nil || c.Token != 0 || c.Due <= 29*time.Second || c.Due > 30*time.Second || c.Held <= 0 || c.Held > 800*time.Millisecond {
		t.Errorf("Claim of an honest state: %+v %v; want due in 30s, held 800ms", c, err)
	}
}

// Through org.Run: after someone sets the next read 31 years away, a
// replica still reads on the frequency.
func TestOrgFleetReadsAfterNextIsTampered(t *testing.T) {
	srv := testsvc.StartRedis(t)
	fake := orgFake(t)
	raw := rawClient(t, srv)
	sch := org.Schedule{Frequency: 200 * time.Millisecond, Timeout: 2 * time.Second}
	leader := newReplica(t, srv, nil)
	runFleetUntil(t, fake, []*replica{leader}, sch, 50*time.Millisecond, 10*time.Second, true,
		func() bool { pubs, _ := leader.published(); return len(pubs) > 0 })
	raw.HSet(t.Context(), redisstore.DefaultPrefix+"org:githubOrg:production", "next", time.Now().UnixMilli()+1e12)
	before := fake.Stats().API
	rp := newReplica(t, srv, nil)
	runFleet(t, fake, []*replica{rp}, sch, 50*time.Millisecond, time.Second, true)
	if reads := fake.Stats().API - before; reads < 3 {
		t.Errorf("%d reads in 1s at a 200ms frequency after next was set 31 years away; want about 5", reads)
	}
}

// During a key rotation, a replica whose key cannot open the fleet's
// snapshot reads the source itself (logging at Error) instead of serving
// nothing until the fleet's next read; a replica that takes the fleet's
// snapshot keeps the source it was read from.
func TestOrgFleetKeyRotation(t *testing.T) {
	srv := testsvc.StartRedis(t)
	fake := orgFake(t)
	sch := org.Schedule{Frequency: time.Hour, Timeout: 2 * time.Second}
	leader := newReplica(t, srv, nil)
	runFleetUntil(t, fake, []*replica{leader}, sch, 50*time.Millisecond, 10*time.Second, true,
		func() bool { pubs, _ := leader.published(); return len(pubs) > 0 })
	joiner := newReplica(t, srv, nil)
	runFleetUntil(t, fake, []*replica{joiner}, sch, 50*time.Millisecond, 10*time.Second, true,
		func() bool { pubs, _ := joiner.published(); return len(pubs) > 0 })
	if _, last := joiner.published(); last == nil || last.Source != "githubOrg:production" {
		t.Errorf("the snapshot taken from Redis: %+v; want Source githubOrg:production", last)
	}

	var logs bytes.Buffer
	var mu sync.Mutex
	rotated := &replica{}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, DisableIdentity: true, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	st, err := redisstore.New(c, &redisstore.Options{EncryptionKey: bytes.Repeat([]byte{9}, 32), Timeout: 3 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rotated.store = st
	reqs := fake.Stats().API
	start := time.Now()
	runFleetUntil(t, fake, []*replica{rotated}, sch, 50*time.Millisecond, 10*time.Second, true,
		func() bool { pubs, _ := rotated.published(); return len(pubs) > 0 })
	pubs, last := rotated.published()
	if len(pubs) != 1 || last == nil || len(last.Users) != 6 || fake.Stats().API != reqs+1 {
		t.Fatalf("the replica with the new key published %d snapshots after %d requests; want its own read", len(pubs), fake.Stats().API-reqs)
	}
	if d := pubs[0].Sub(start); d > 2*time.Second {
		t.Errorf("published %v after starting; want at once", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("nothing logged at Error:\n%s", logs.String())
	}
}
