package redisstore_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// BenchmarkColdOwner10Replicas1000Callers: ten replicas (each its own
// App and caches, each its own Store) and 1,000 concurrent callers in all
// ask for the token of an owner nobody has seen (Redis flushed, new Apps
// every iteration). Budget: 2 requests to GitHub (lookup + mint).
func BenchmarkColdOwner10Replicas1000Callers(b *testing.B) {
	r := testsvc.StartRedis(b)
	fake := fakeWithApp(b, nil)
	stores := make([]*redisstore.Store, 10)
	for i := range stores {
		stores[i] = openStore(b, r, nil)
	}
	raw := rawClient(b, r)
	var failures int
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		if err := raw.FlushAll(b.Context()).Err(); err != nil {
			b.Fatal(err)
		}
		apps := replicaApps(b, fake, 10, func(i int) githubapp.SharedStore { return stores[i] }, nil, 0)
		b.StartTimer()
		ctx, cancel := context.WithTimeout(b.Context(), 10*time.Second)
		_, errs := callAll(ctx, apps, 1000)
		cancel()
		failures += len(errs)
	}
	l, m := appRequests(fake)
	b.ReportMetric(float64(l+m)/float64(b.N), "requests/op")
	b.ReportMetric(float64(failures)/float64(b.N), "failures/op")
}

// BenchmarkRefresh10Replicas50Requests: ten auth.Handler replicas on one
// Redis; one signed-in user sends 50 concurrent requests when her token
// is due; the provider rotates refresh tokens strictly. Budget: exactly 1
// refresh, 0 failures.
func BenchmarkRefresh10Replicas50Requests(b *testing.B) {
	r := testsvc.StartRedis(b)
	f := newAuthFleet(b, r, 10)
	var failed int
	before := f.p.Refreshes.Load()
	for b.Loop() {
		b.StopTimer()
		c := f.signIn(b)
		f.clk.Advance(8*time.Hour - time.Minute)
		b.StartTimer()
		seen, n := f.burst(b, c, 50)
		failed += n
		if len(seen) != 1 {
			b.Errorf("one burst saw %d tokens", len(seen))
		}
	}
	b.ReportMetric(float64(f.p.Refreshes.Load()-before)/float64(b.N), "requests/op")
	b.ReportMetric(float64(failed)/float64(b.N), "failures/op")
}

// BenchmarkFileRead10Replicas: a file committed for the iteration is read
// by replica 1, then by replicas 2-10. Budget: 1 full read and at most 9
// requests answered 304 (requests/op counts both; full/op and 304/op
// split them).
func BenchmarkFileRead10Replicas(b *testing.B) {
	r := testsvc.StartRedis(b)
	f := newFleet(b, r, 10, true)
	ctx := b.Context()
	// Warm the credentials so that only file reads are counted.
	if _, err := f.clients[0].ReadFile(ctx, f.fileURL, nil); err != nil {
		b.Fatal(err)
	}
	var full, notModified, bytesRead int
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		path := "docs/f" + strconv.Itoa(i) + ".md"
		if _, err := f.fake.Commit("acme", "widgets", "main", fakegithub.Commit{Message: "add",
			Files: []fakegithub.File{{Path: path, Content: []byte(strings.Repeat("x", 4096))}}}); err != nil {
			b.Fatal(err)
		}
		u := strings.Replace(f.fileURL, "catalog-info.yaml", path, 1)
		st0 := f.fake.Stats()
		b.StartTimer()
		for _, c := range f.clients {
			file, err := c.ReadFile(ctx, u, nil)
			if err != nil {
				b.Fatal(err)
			}
			bytesRead += len(file.Content)
		}
		b.StopTimer()
		st := f.fake.Stats()
		notModified += st.NotModified - st0.NotModified
		full += (st.API + st.Raw) - (st0.API + st0.Raw) - (st.NotModified - st0.NotModified)
		b.StartTimer()
	}
	b.ReportMetric(float64(full+notModified)/float64(b.N), "requests/op")
	b.ReportMetric(float64(full)/float64(b.N), "full/op")
	b.ReportMetric(float64(notModified)/float64(b.N), "304/op")
}

// commands returns the number of commands Redis has processed.
func commands(b *testing.B, raw *redis.Client) int {
	info, err := raw.Info(b.Context(), "stats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_commands_processed:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	b.Fatal("no total_commands_processed in INFO")
	return 0
}

// BenchmarkCacheHitFromRedis: a replica whose own cache is cold reads a
// shared installation token from Redis: one round trip (HGET) and one
// AES-GCM open. roundtrips/op counts the commands Redis processed.
func BenchmarkCacheHitFromRedis(b *testing.B) {
	r := testsvc.StartRedis(b)
	s := openStore(b, r, nil)
	ctx := b.Context()
	f, _ := s.Lease(ctx, "githubapp:github.com:1:token:42", time.Minute)
	if _, err := s.Save(ctx, "githubapp:github.com:1:token:42", []byte(`{"token":"ghs_0123456789","expires_at":"2030-01-01T00:00:00Z"}`), time.Hour, f, true); err != nil {
		b.Fatal(err)
	}
	if _, ok, err := s.Load(ctx, "githubapp:github.com:1:token:42"); !ok || err != nil {
		b.Fatal(ok, err)
	}
	raw := rawClient(b, r)
	c0 := commands(b, raw)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := s.Load(ctx, "githubapp:github.com:1:token:42"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
	b.ReportMetric(float64(commands(b, raw)-c0-1)/float64(b.N), "roundtrips/op")
}

// BenchmarkCacheHitFromRedisRotated is BenchmarkCacheHitFromRedis during
// a key rotation, with the most previous keys kept: a value sealed under
// the current key (current) costs one copy of the value more than without
// previous keys (opening in place would lose it if the current key
// failed); a value sealed under the oldest previous key (stale) costs
// besides one failed AES-GCM open per key tried before it.
func BenchmarkCacheHitFromRedisRotated(b *testing.B) {
	r := testsvc.StartRedis(b)
	previous := make([][]byte, 4)
	for i := range previous {
		previous[i] = bytes.Repeat([]byte{byte(20 + i)}, 32)
	}
	ctx := b.Context()
	for _, tc := range []struct {
		name string
		key  []byte // the key the value is sealed under
	}{{"current", testKey}, {"stale", previous[3]}} {
		b.Run(tc.name, func(b *testing.B) {
			const k = "githubapp:github.com:1:token:42"
			w := openStore(b, r, &redisstore.Options{EncryptionKey: tc.key})
			f, _ := w.Lease(ctx, k, time.Minute)
			if _, err := w.Save(ctx, k, []byte(`{"token":"ghs_0123456789","expires_at":"2030-01-01T00:00:00Z"}`), time.Hour, f, true); err != nil {
				b.Fatal(err)
			}
			s := openStore(b, r, &redisstore.Options{PreviousEncryptionKeys: previous})
			if _, ok, err := s.Load(ctx, k); !ok || err != nil {
				b.Fatal(ok, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, ok, err := s.Load(ctx, k); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

// BenchmarkFileCacheHitFromRedis: GetFile of a cached 4 KiB file: one GET
// and one AES-GCM open.
func BenchmarkFileCacheHitFromRedis(b *testing.B) {
	r := testsvc.StartRedis(b)
	fc := openStore(b, r, nil).Files(0)
	ctx := b.Context()
	if err := fc.PutFile(ctx, "k", &scm.CachedFile{ETag: `"abc"`, Content: []byte(strings.Repeat("x", 4096))}); err != nil {
		b.Fatal(err)
	}
	raw := rawClient(b, r)
	c0 := commands(b, raw)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := fc.GetFile(ctx, "k"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
	b.ReportMetric(float64(commands(b, raw)-c0-1)/float64(b.N), "roundtrips/op")
}
