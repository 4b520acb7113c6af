package redisstore_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

func TestLeaseAndFencedSave(t *testing.T) {
	ctx := t.Context()
	r := testsvc.StartRedis(t)
	s := openStore(t, r, nil)

	f1, err := s.Lease(ctx, "k", time.Minute)
	if err != nil || f1 <= 0 {
		t.Fatalf("Lease = %d, %v; want a fence", f1, err)
	}
	if f, err := s.Lease(ctx, "k", time.Minute); err != nil || f != 0 {
		t.Fatalf("second Lease while held = %d, %v; want 0", f, err)
	}
	if err := s.Release(ctx, "k", f1); err != nil {
		t.Fatal(err)
	}
	f2, err := s.Lease(ctx, "k", time.Minute)
	if err != nil || f2 <= f1 {
		t.Fatalf("Lease after Release = %d, %v; want a fence > %d", f2, err, f1)
	}
	// The newer holder writes; the older one, back late, cannot overwrite.
	if ok, err := s.Save(ctx, "k", []byte("new"), time.Minute, f2, false); err != nil || !ok {
		t.Fatalf("Save(f2) = %v, %v", ok, err)
	}
	if ok, err := s.Save(ctx, "k", []byte("old"), time.Minute, f1, false); err != nil || ok {
		t.Fatalf("Save(f1) after Save(f2) = %v, %v; want refused", ok, err)
	}
	if v, ok, err := s.Load(ctx, "k"); err != nil || !ok || string(v) != "new" {
		t.Fatalf("Load = %q, %v, %v; want new", v, ok, err)
	}
	// Save released the lease.
	if f, err := s.Lease(ctx, "k", 150*time.Millisecond); err != nil || f <= f2 {
		t.Fatalf("Lease after Save = %d, %v; want > %d", f, err, f2)
	}
	// An abandoned lease lapses on its own.
	time.Sleep(200 * time.Millisecond)
	if f, err := s.Lease(ctx, "k", time.Minute); err != nil || f == 0 {
		t.Fatalf("Lease after the holder's lapsed = %d, %v; want a fence", f, err)
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Load(ctx, "k"); err != nil || ok {
		t.Fatalf("Load after Delete = %v, %v", ok, err)
	}
}

func TestFencesIncreaseAcrossFlush(t *testing.T) {
	ctx := t.Context()
	r := testsvc.StartRedis(t)
	s := openStore(t, r, nil)
	f1, err := s.Lease(ctx, "k", time.Minute)
	if err != nil || f1 == 0 {
		t.Fatal(f1, err)
	}
	if err := rawClient(t, r).FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	f2, err := s.Lease(ctx, "k", time.Minute)
	if err != nil || f2 <= f1 {
		t.Fatalf("fence after FLUSHALL = %d, %v; want > %d", f2, err, f1)
	}
}

func TestSecretsAreSealedAtRest(t *testing.T) {
	ctx := t.Context()
	r := testsvc.StartRedis(t)
	s := openStore(t, r, nil)
	raw := rawClient(t, r)
	const secret = "ghs_THISISASECRETTOKEN"
	f, _ := s.Lease(ctx, "tok", time.Minute)
	if ok, err := s.Save(ctx, "tok", []byte(secret), time.Minute, f, true); err != nil || !ok {
		t.Fatalf("Save = %v, %v", ok, err)
	}
	all, err := raw.HGetAll(ctx, "scmkit:c:tok").Result()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(all["v"], secret) || all["v"] == "" {
		t.Fatalf("Redis holds %q; want ciphertext", all["v"])
	}
	if v, ok, err := s.Load(ctx, "tok"); err != nil || !ok || string(v) != secret {
		t.Fatalf("Load = %q, %v, %v", v, ok, err)
	}

	// A sealed value moved to another key does not open there.
	if err := raw.HSet(ctx, "scmkit:c:other", "f", "1", "v", all["v"]).Err(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Load(ctx, "other"); err != nil || ok {
		t.Fatalf("Load of a value moved from another key = %v, %v; want missing", ok, err)
	}
	// Nor does a tampered one, nor one read with another key.
	b := []byte(all["v"])
	b[len(b)-1] ^= 1
	raw.HSet(ctx, "scmkit:c:tok", "v", string(b))
	if _, ok, _ := s.Load(ctx, "tok"); ok {
		t.Fatal("a tampered value opened")
	}
	other := openStore(t, r, &redisstore.Options{EncryptionKey: bytes.Repeat([]byte{9}, 32)})
	raw.HSet(ctx, "scmkit:c:tok", "v", all["v"])
	if _, ok, _ := other.Load(ctx, "tok"); ok {
		t.Fatal("a value opened with another encryption key")
	}

	// Without a key, secrets are refused, plain values are not.
	nokey, err := redisstore.Open(r.URL(0), &redisstore.Options{Prefix: "nokey:"})
	if err != nil {
		t.Fatal(err)
	}
	defer nokey.Close()
	f, _ = nokey.Lease(ctx, "tok", time.Minute)
	if _, err := nokey.Save(ctx, "tok", []byte(secret), time.Minute, f, true); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Fatalf("Save of a secret without a key = %v; want InvalidArgument", err)
	}
	f, _ = nokey.Lease(ctx, "plain", time.Minute)
	if ok, err := nokey.Save(ctx, "plain", []byte("42"), time.Minute, f, false); err != nil || !ok {
		t.Fatalf("Save of a plain value without a key = %v, %v", ok, err)
	}
}

// TestGitHubAppTenReplicasColdOwner: ten replicas, each with its own App
// and caches, 1,000 concurrent callers for a cold owner: one lookup and
// one mint in all, and every caller gets the same token.
func TestGitHubAppTenReplicasColdOwner(t *testing.T) {
	r := testsvc.StartRedis(t)
	fake := fakeWithApp(t, nil)
	stores := make([]*redisstore.Store, 10)
	for i := range stores {
		stores[i] = openStore(t, r, nil)
	}
	apps := replicaApps(t, fake, 10, func(i int) githubapp.SharedStore { return stores[i] }, nil, 0)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	tokens, errs := callAll(ctx, apps, 1000)
	if len(errs) > 0 {
		t.Fatalf("%d callers failed, first: %v", len(errs), errs[0])
	}
	if len(tokens) != 1 {
		t.Errorf("callers got %d distinct tokens; want 1", len(tokens))
	}
	if l, m := appRequests(fake); l != 1 || m != 1 {
		t.Errorf("requests to GitHub: %d lookups, %d mints; want 1 and 1", l, m)
	}
	// The token in Redis is sealed.
	keys, _ := rawClient(t, r).Keys(ctx, "scmkit:c:githubapp:*:token:*").Result()
	if len(keys) != 1 {
		t.Fatalf("token keys in Redis: %v", keys)
	}
	v, _ := rawClient(t, r).HGet(ctx, keys[0], "v").Result()
	for tok := range tokens {
		if strings.Contains(v, tok) {
			t.Error("Redis holds the installation token in clear")
		}
	}
}

// TestAbandonedLease: a replica took the lease on the cold owner and died.
// The others wait no longer than the lease, then one of them looks the
// owner up.
func TestAbandonedLease(t *testing.T) {
	r := testsvc.StartRedis(t)
	fake := fakeWithApp(t, nil)
	s := openStore(t, r, nil)
	const lease = 400 * time.Millisecond
	apps := replicaApps(t, fake, 5, func(int) githubapp.SharedStore { return s }, nil, lease)

	// The dead replica: it takes the installation's lease and never
	// writes or releases it. The key is the one githubapp uses.
	host := strings.TrimPrefix(fake.APIBaseURL(), "http://")
	// Timed from before the lease is taken: the lease lapses no earlier
	// than lease after start, however long taking it took on a loaded
	// machine (timed from after, the wait could look shorter than lease).
	start := time.Now()
	if f, err := s.Lease(t.Context(), "githubapp:"+host+":4242:installation:acme", lease); err != nil || f == 0 {
		t.Fatalf("taking the lease: %d, %v", f, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	tokens, errs := callAll(ctx, apps, 50)
	took := time.Since(start)
	if len(errs) > 0 {
		t.Fatalf("%d callers failed, first: %v", len(errs), errs[0])
	}
	if len(tokens) != 1 {
		t.Errorf("%d distinct tokens; want 1", len(tokens))
	}
	if took < lease-50*time.Millisecond || took > lease+2*time.Second {
		t.Errorf("callers waited %v; want about the lease (%v), no more", took, lease)
	}
	if l, m := appRequests(fake); l != 1 || m != 1 {
		t.Errorf("requests: %d lookups, %d mints; want 1 and 1", l, m)
	}
}

// TestRenewedByOneReplica: when the token is due for renewal, ten replicas
// asking at once cause one mint.
func TestRenewedByOneReplica(t *testing.T) {
	r := testsvc.StartRedis(t)
	clk := newClock()
	fake := fakeWithApp(t, clk.Now)
	s := openStore(t, r, &redisstore.Options{Now: clk.Now})
	apps := replicaApps(t, fake, 10, func(int) githubapp.SharedStore { return s }, clk.Now, 0)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	first, errs := callAll(ctx, apps, 100)
	if len(errs) > 0 || len(first) != 1 {
		t.Fatalf("cold: %d tokens, errors %v", len(first), errs)
	}
	// 56 minutes later the one-hour token is within the 5-minute margin.
	clk.Advance(56 * time.Minute)
	second, errs := callAll(ctx, apps, 100)
	if len(errs) > 0 || len(second) != 1 {
		t.Fatalf("renewal: %d tokens, errors %v", len(second), errs)
	}
	for tok := range second {
		if first[tok] > 0 {
			t.Error("the token was not renewed")
		}
	}
	if _, m := appRequests(fake); m != 2 {
		t.Errorf("mints = %d; want 2 (one cold, one renewal by one replica)", m)
	}
}
