package redisstore_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/internal/testsvc/testlog"
	"github.com/scmkit/scmkit/redisstore"
	"github.com/scmkit/scmkit/scm"
)

// TestOOMCacheWriteLeavesSessionReadsServed: the shared Redis is full
// (maxmemory under the default noeviction policy; the 24-hour file and
// page caches share it with sessions) and refuses a file-cache write with
// OOM. That is an answer from a Redis that is up: it fails that one write
// and says why, and the store keeps asking Redis, so that a replica that
// does not mirror a signed-in user's session still reads it (before, the
// refusal opened the circuit breaker and every operation failed
// Unavailable for the pause: users were signed out on and off for as long
// as Redis stayed full).
func TestOOMCacheWriteLeavesSessionReadsServed(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	ctx := context.Background()
	opts := &redisstore.Options{Prefix: "oom:", Timeout: time.Second, RetryAfter: 2 * time.Second}
	r1 := openStore(t, r, opts) // the replica that signed her in
	if _, err := r1.Sessions(nil).Put(ctx, "alice", []byte("sealed-session"), time.Hour); err != nil {
		t.Fatal(err)
	}
	r2 := openStore(t, r, opts) // another replica, which never read her session
	ss2 := r2.Sessions(nil)
	if err := raw.ConfigSet(ctx, "maxmemory", "1mb").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.ConfigSet(context.Background(), "maxmemory", "0") })
	// Fill what is left with cached files until Redis refuses one.
	files := r2.Files(0)
	big := bytes.Repeat([]byte("x"), 64<<10)
	var putErr error
	for i := 0; i < 200 && putErr == nil; i++ {
		putErr = files.PutFile(ctx, "f"+strconv.Itoa(i), &scm.CachedFile{ETag: "e", Content: big})
	}
	if putErr == nil {
		t.Fatal("Redis never refused a write: 200 files of 64 KiB fit under maxmemory 1mb")
	}
	t.Logf("file cache write refused: %v", putErr)
	if c := errcode.CodeOf(putErr); c != errcode.Unavailable {
		t.Errorf("refused write: code %v; want Unavailable (try later, work without the cache)", c)
	}
	for _, want := range []string{"Redis refused", "OOM", "maxmemory-policy"} {
		if !bytes.Contains([]byte(putErr.Error()), []byte(want)) {
			t.Errorf("refused write %q does not say %q", putErr, want)
		}
	}
	// Redis is up and answers reads.
	if n, err := raw.Exists(ctx, "oom:s:alice").Result(); err != nil || n != 1 {
		t.Fatalf("raw read of the session: %v, %v", n, err)
	}
	rec, err := ss2.Get(ctx, "alice")
	if err != nil || string(rec.Data) != "sealed-session" {
		t.Errorf("a session read that Redis answers, after an unrelated cache write was refused (OOM): %q, %v", rec.Data, err)
	}
	// And so do cache reads.
	if _, _, err := files.GetFile(ctx, "f0"); err != nil {
		t.Errorf("a cache read after the refusal: %v", err)
	}
}

// TestReadonlyWriteLeavesSessionReadsServed: the same during a failover:
// the node a replica talks to was demoted and answers writes READONLY
// while it still serves reads (replica-serve-stale-data). A refused write
// (here a webhook delivery id) fails with Unavailable, so that the
// receiver answers the provider an error and it redelivers, and session
// reads go on being answered by the node.
func TestReadonlyWriteLeavesSessionReadsServed(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	ctx := context.Background()
	opts := &redisstore.Options{Prefix: "ro:", Timeout: time.Second, RetryAfter: 2 * time.Second}
	r1 := openStore(t, r, opts)
	if _, err := r1.Sessions(nil).Put(ctx, "alice", []byte("sealed-session"), time.Hour); err != nil {
		t.Fatal(err)
	}
	r2 := openStore(t, r, opts)
	ss2 := r2.Sessions(nil)
	if err := raw.ReplicaOf(ctx, "127.0.0.1", "1").Err(); err != nil { // demoted: to a primary that is not there
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.ReplicaOf(context.Background(), "NO", "ONE") })
	_, werr := r2.Deliveries().Seen(ctx, "delivery-1", time.Hour)
	t.Logf("write: %v", werr)
	if werr == nil {
		t.Fatal("a demoted node accepted a write")
	}
	if c := errcode.CodeOf(werr); c != errcode.Unavailable {
		t.Errorf("refused write: code %v; want Unavailable (the provider redelivers)", c)
	}
	for _, want := range []string{"Redis refused", "READONLY"} {
		if !bytes.Contains([]byte(werr.Error()), []byte(want)) {
			t.Errorf("refused write %q does not say %q", werr, want)
		}
	}
	if n, err := raw.Exists(ctx, "ro:s:alice").Result(); err != nil || n != 1 {
		t.Fatalf("raw read of the session: %v, %v", n, err)
	}
	rec, err := ss2.Get(ctx, "alice")
	if err != nil || string(rec.Data) != "sealed-session" {
		t.Errorf("a session read that the node answers, after a write was refused READONLY: %q, %v", rec.Data, err)
	}
}

// refuseWrites makes the server refuse writes as kind says ("OOM": a full
// memory under noeviction; "READONLY": demoted to a replica of a primary
// that is not there) and returns the undo.
func refuseWrites(t *testing.T, raw *redis.Client, kind string) func() {
	t.Helper()
	ctx := context.Background()
	var err error
	var undo func() error
	switch kind {
	case "OOM":
		err = raw.ConfigSet(ctx, "maxmemory", "1").Err() // any use is over it
		undo = func() error { return raw.ConfigSet(ctx, "maxmemory", "0").Err() }
	case "READONLY":
		err = raw.ReplicaOf(ctx, "127.0.0.1", "1").Err()
		undo = func() error { return raw.ReplicaOf(ctx, "NO", "ONE").Err() }
	}
	if err != nil {
		t.Fatal(err)
	}
	done := false
	restore := func() {
		if !done {
			done = true
			if err := undo(); err != nil {
				t.Errorf("undoing %s: %v", kind, err)
			}
		}
	}
	t.Cleanup(restore)
	return restore
}

// TestEveryWriteRefusedFailsAlone: while Redis refuses writes (OOM,
// READONLY), every write of every store the package offers fails alone,
// Unavailable, saying "Redis refused" and the reason, with Redis's own
// reply inside (redis.IsOOMError holds); and after each, the store still
// answers reads from Redis: nothing paused it.
func TestEveryWriteRefusedFailsAlone(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	ctx := context.Background()
	s := openStore(t, r, &redisstore.Options{Prefix: "w:", Timeout: time.Second, RetryAfter: time.Minute})
	fence, err := s.Lease(ctx, "seed", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Save(ctx, "seed", []byte("v"), time.Hour, fence, false); !ok || err != nil {
		t.Fatalf("seed: %v, %v", ok, err)
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	point, _ := priv.PublicKey.Bytes()
	enc := base64.RawURLEncoding
	jwk := identity.JWK{Kty: "EC", Crv: "P-256", X: enc.EncodeToString(point[1:33]), Y: enc.EncodeToString(point[33:]), Kid: "k1", Alg: "ES256", Use: "sig"}
	policy := ldapauth.BackoffPolicy{Free: 3, Base: time.Second, Max: time.Minute}

	writes := []struct {
		name string
		do   func(ctx context.Context) error
		// passes names the refusal Redis does not make for this write:
		// a script whose first write is a DEL (not refused for OOM) may
		// then write on, as Redis keeps scripts atomic.
		passes string
	}{
		{name: "Store.Lease", do: func(ctx context.Context) error { _, err := s.Lease(ctx, "k", time.Second); return err }},
		{name: "Store.Save", do: func(ctx context.Context) error {
			_, err := s.Save(ctx, "seed", []byte("v"), time.Hour, fence, false)
			return err
		}, passes: "OOM"},
		{name: "FileCache.PutFile", do: func(ctx context.Context) error {
			return s.Files(0).PutFile(ctx, "f", &scm.CachedFile{ETag: "e", Content: []byte("c")})
		}},
		{name: "PageCache.PutPage", do: func(ctx context.Context) error {
			return s.Pages(0).PutPage(ctx, "p", &scm.CachedPage{ETag: "e"})
		}},
		{name: "Budget.Record", do: func(ctx context.Context) error {
			return s.Budget().Record(ctx, "b", 5000, 4000, time.Now().Add(time.Hour))
		}},
		{name: "Deliveries.Seen", do: func(ctx context.Context) error { _, err := s.Deliveries().Seen(ctx, "d1", time.Hour); return err }},
		{name: "Deliveries.SeenAny", do: func(ctx context.Context) error {
			_, err := s.Deliveries().SeenAny(ctx, []string{"d2", "d3"}, time.Hour)
			return err
		}},
		{name: "IssuerKeyStore.AddKey", do: func(ctx context.Context) error {
			return s.IssuerKeys().AddKey(ctx, identity.StoredKey{Key: jwk, Created: time.Now()})
		}},
		{name: "LDAPAttempts.Begin", do: func(ctx context.Context) error {
			_, _, err := s.LDAPAttempts().Begin(ctx, "ldap://dc\x00u", "a1", time.Now(), policy)
			return err
		}, passes: "OOM"}, // its first write is an HDEL
	}
	for _, kind := range []string{"OOM", "READONLY"} {
		t.Run(kind, func(t *testing.T) {
			undo := refuseWrites(t, raw, kind)
			defer undo()
			for _, w := range writes {
				err := w.do(ctx)
				switch {
				case err == nil && w.passes == kind:
				case err == nil:
					t.Errorf("%s: no error while Redis refuses writes (%s)", w.name, kind)
				case errcode.CodeOf(err) != errcode.Unavailable:
					t.Errorf("%s: %v; want Unavailable", w.name, err)
				case !strings.Contains(err.Error(), "Redis refused: "+kind):
					t.Errorf("%s: %q does not say %q", w.name, err, "Redis refused: "+kind)
				case kind == "OOM" && !redis.IsOOMError(err), kind == "READONLY" && !redis.IsReadOnlyError(err):
					t.Errorf("%s: %q does not wrap Redis's reply", w.name, err)
				}
				if v, ok, err := s.Load(ctx, "seed"); err != nil || !ok || string(v) != "v" {
					t.Fatalf("after %s was refused (%s), a read: %q, %v, %v; want the seed", w.name, kind, v, ok, err)
				}
			}
		})
	}
}

// TestSessionWrittenWhileRedisRefusesIsPushedLater: a session write that
// Redis refuses (OOM, READONLY) goes to the replica's mirror, as during
// an outage, so that the user signing in is served by that replica; once
// Redis takes writes again, it is pushed there and every replica sees it.
func TestSessionWrittenWhileRedisRefusesIsPushedLater(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	ctx := context.Background()
	for _, kind := range []string{"OOM", "READONLY"} {
		t.Run(kind, func(t *testing.T) {
			opts := &redisstore.Options{Prefix: kind + ":", Timeout: time.Second, RetryAfter: 20 * time.Millisecond}
			ss1, ss2 := openStore(t, r, opts).Sessions(nil), openStore(t, r, opts).Sessions(nil)
			undo := refuseWrites(t, raw, kind)
			if _, err := ss1.Put(ctx, "bob", []byte("sealed"), time.Hour); err != nil {
				t.Fatalf("Put while Redis refuses writes: %v; want it kept in the mirror", err)
			}
			if rec, err := ss1.Get(ctx, "bob"); err != nil || string(rec.Data) != "sealed" {
				t.Fatalf("the writing replica's Get: %q, %v", rec.Data, err)
			}
			if _, err := ss2.Get(ctx, "bob"); errcode.CodeOf(err) != errcode.NotFound {
				t.Fatalf("another replica's Get before the push: %v; want NotFound", err)
			}
			undo()
			deadline := time.Now().Add(10 * time.Second)
			for {
				rec, err := ss2.Get(ctx, "bob")
				if err == nil && string(rec.Data) == "sealed" {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("10s after Redis takes writes again, another replica's Get: %q, %v", rec.Data, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestRefusalsOfOneCommandOnARealServer: a key of another type under the
// prefix (WRONGTYPE) and a command the ACL user may not run (NOPERM) fail
// that command with Unknown and PermissionDenied, and leave the store
// answering the rest; a wrong password (WRONGPASS) and a server that is
// down pause the store. No error and no log line shows the URL's
// password.
func TestRefusalsOfOneCommandOnARealServer(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	ctx := context.Background()
	const pw = "pw-Zq8vX3-never-shown"
	if err := raw.Do(ctx, "ACL", "SETUSER", "app", "on", ">"+pw, "~x:*", "+@all", "-@scripting").Err(); err != nil {
		t.Fatal(err)
	}
	if err := raw.Set(ctx, "x:s:alice", "not a session hash", 0).Err(); err != nil {
		t.Fatal(err)
	}
	logs := &testlog.Buffer{}
	open := func(password string) *redisstore.Store {
		s, err := redisstore.Open("redis://app:"+password+"@"+r.Addr+"/0",
			&redisstore.Options{Prefix: "x:", EncryptionKey: testKey, Timeout: time.Second, RetryAfter: time.Minute, Logger: logs.Logger()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	var seen []error
	check := func(name string, err error, code errcode.Code, says string) {
		t.Helper()
		seen = append(seen, err)
		if errcode.CodeOf(err) != code || !strings.Contains(fmt.Sprint(err), says) {
			t.Errorf("%s: %v; want %v saying %q", name, err, code, says)
		}
	}
	s := open(pw)
	readable := func(after string) {
		t.Helper()
		if err := s.Files(0).PutFile(ctx, "f", &scm.CachedFile{ETag: "e", Content: []byte("c")}); err != nil {
			t.Fatalf("after %s, a plain write: %v", after, err)
		}
	}
	_, err := s.Sessions(nil).Get(ctx, "alice")
	check("Get of a key of another type", err, errcode.Unknown, "Redis refused: WRONGTYPE")
	readable("WRONGTYPE")
	_, err = s.Sessions(nil).Put(ctx, "bob", []byte("sealed"), time.Hour)
	check("a script the ACL forbids", err, errcode.PermissionDenied, "Redis refused: NOPERM")
	readable("NOPERM")

	bad := open("wrong-" + pw)
	err = bad.Files(0).PutFile(ctx, "f", &scm.CachedFile{ETag: "e", Content: []byte("c")})
	check("a wrong password", err, errcode.Unavailable, "Redis refused: NOAUTH or WRONGPASS")
	_, _, err = bad.Files(0).GetFile(ctx, "f")
	check("right after a wrong password", err, errcode.Unavailable, "retrying shortly")

	r.Stop()
	_, _, err = s.Files(0).GetFile(ctx, "f")
	check("Redis down", err, errcode.Unavailable, "did not answer")

	for _, err := range seen {
		for _, text := range []string{fmt.Sprint(err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if strings.Contains(text, pw) {
				t.Errorf("an error shows the password: %s", text)
			}
		}
	}
	if strings.Contains(logs.String(), pw) {
		t.Errorf("the log shows the password:\n%s", logs)
	}
	if logs.Count("Redis refused") == 0 || logs.Count("unreachable") == 0 {
		t.Errorf("want refusals and the outage logged:\n%s", logs)
	}
}

// roundTrips counts the commands a client sends (pipelines as one).
type roundTrips struct{ n atomic.Int64 }

func (c *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.n.Add(1); return next(ctx, cmd) }
}
func (c *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { c.n.Add(1); return next(ctx, cmds) }
}

// BenchmarkSessionReadWhileCacheWritesRefused: Redis is full (OOM under
// noeviction). Each op is a file-cache write, which Redis refuses, and a
// read of a session another replica wrote. Budget: 2 round trips, 0
// failed session reads (before, the first refusal paused the store and
// every read in the pause failed Unavailable without asking Redis).
func BenchmarkSessionReadWhileCacheWritesRefused(b *testing.B) {
	r := testsvc.StartRedis(b)
	raw := rawClient(b, r)
	ctx := b.Context()
	opts := &redisstore.Options{Prefix: "bench:", RetryAfter: time.Minute}
	if _, err := openStore(b, r, opts).Sessions(nil).Put(ctx, "alice", []byte("sealed-session"), time.Hour); err != nil {
		b.Fatal(err)
	}
	s := openStore(b, r, opts)
	rt := &roundTrips{}
	s.Client().AddHook(rt)
	files := s.Files(0)
	if err := raw.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.ConfigSet(context.Background(), "maxmemory", "0") })
	f := &scm.CachedFile{ETag: "e", Content: bytes.Repeat([]byte("x"), 1024)}
	failed := 0
	b.ReportAllocs()
	for b.Loop() {
		ss := s.Sessions(nil) // a replica that has not mirrored her session
		if err := files.PutFile(ctx, "f", f); !redis.IsOOMError(err) {
			b.Fatalf("PutFile: %v; want refused (OOM)", err)
		}
		if _, err := ss.Get(ctx, "alice"); err != nil {
			failed++
		}
	}
	b.ReportMetric(float64(rt.n.Load())/float64(b.N), "roundtrips/op")
	b.ReportMetric(float64(failed)/float64(b.N), "failed-reads/op")
	if failed > 0 {
		b.Errorf("%d of %d session reads failed while Redis refused cache writes", failed, b.N)
	}
}
