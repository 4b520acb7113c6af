package redisstore_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
	"github.com/scmkit/scmkit/scm"
)

// fillRedis fills Redis through cache writes until it refuses them (OOM,
// noeviction), as a real full Redis does, and returns the undo.
func fillRedis(t *testing.T, r *testsvc.Redis, raw *redis.Client) func() {
	t.Helper()
	ctx := context.Background()
	if err := raw.ConfigSet(ctx, "maxmemory", "1mb").Err(); err != nil {
		t.Fatal(err)
	}
	undo := func() { raw.ConfigSet(context.Background(), "maxmemory", "0") }
	t.Cleanup(undo)
	files := openStore(t, r, &redisstore.Options{Prefix: "fill:", Timeout: time.Second}).Files(0)
	big := bytes.Repeat([]byte("x"), 64<<10)
	for i := range 200 {
		err := files.PutFile(ctx, "f"+strconv.Itoa(i), &scm.CachedFile{ETag: "e", Content: big})
		if redis.IsOOMError(err) {
			return undo
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("Redis took 200 × 64 KiB under maxmemory 1mb")
	return nil
}

// TestSignOutUnderOOMEndsSessionEverywhere: a full Redis (OOM,
// noeviction) takes a sign-out, whose first write is the DEL: no replica
// reads the session any more, and the deletion leaves its tombstone and a
// raised version counter, as it does when Redis has room.
func TestSignOutUnderOOMEndsSessionEverywhere(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	ctx := context.Background()
	opts := &redisstore.Options{Prefix: "rv:", Timeout: time.Second, RetryAfter: 2 * time.Second}
	ss1 := openStore(t, r, opts).Sessions(nil)
	ss2 := openStore(t, r, opts).Sessions(nil)
	v1, err := ss1.Put(ctx, "alice", []byte("sealed-session"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ss2.Get(ctx, "alice"); err != nil { // mirrored there too
		t.Fatal(err)
	}
	fillRedis(t, r, raw)

	if err := ss1.Delete(ctx, "alice"); err != nil {
		t.Fatalf("Delete under OOM: %v", err)
	}
	if rec, err := ss2.Get(ctx, "alice"); errcode.CodeOf(err) != errcode.NotFound {
		t.Errorf("another replica after the sign-out: %q v%d, %v; want NotFound", rec.Data, rec.Version, err)
	}
	if rec, err := ss1.Get(ctx, "alice"); errcode.CodeOf(err) != errcode.NotFound {
		t.Errorf("the signing-out replica after the sign-out: %q v%d, %v; want NotFound", rec.Data, rec.Version, err)
	}
	h, err := raw.HGetAll(ctx, "rv:s:alice").Result()
	if err != nil || h["g"] != "1" || h["d"] != "" {
		t.Errorf("record after the sign-out: %v, %v; want a tombstone", h, err)
	}
	if tv, _ := strconv.ParseInt(h["v"], 10, 64); tv <= v1 {
		t.Errorf("tombstone version %d; want above the record's %d", tv, v1)
	}
	if c, err := raw.Get(ctx, "rv:sv").Result(); err != nil || c != h["v"] {
		t.Errorf("version counter %q, %v; want the tombstone's %q", c, err, h["v"])
	}
	if ttl, err := raw.PTTL(ctx, "rv:s:alice").Result(); err != nil || ttl <= 0 || ttl > time.Hour {
		t.Errorf("tombstone TTL %v, %v; want the record's remaining hour", ttl, err)
	}
	// The tombstone holds: a CompareAndSwap of the old version (a
	// refresh in flight on another replica) finds no session.
	if _, err := ss2.CompareAndSwap(ctx, "alice", v1, []byte("back"), time.Hour); errcode.CodeOf(err) != errcode.NotFound {
		t.Errorf("CompareAndSwap over the sign-out: %v; want NotFound", err)
	}
}

// TestSignOutRefusedFailsAndChangesNothing: a sign-out that Redis refuses
// while it answers reads (READONLY: a demoted primary) fails, Unavailable,
// and leaves no deletion behind to push later: every replica goes on
// reading what Redis holds, and the caller tells the user to try again.
// A full Redis (OOM) takes even the sign-out of a session it does not
// hold, tombstone included.
func TestSignOutRefusedFailsAndChangesNothing(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	ctx := context.Background()

	t.Run("READONLY", func(t *testing.T) {
		opts := &redisstore.Options{Prefix: "ro:", Timeout: time.Second, RetryAfter: 20 * time.Millisecond}
		ss1, ss2 := openStore(t, r, opts).Sessions(nil), openStore(t, r, opts).Sessions(nil)
		v, err := ss1.Put(ctx, "bob", []byte("sealed"), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		undo := refuseWrites(t, raw, "READONLY")
		err = ss1.Delete(ctx, "bob")
		if errcode.CodeOf(err) != errcode.Unavailable || !redis.IsReadOnlyError(err) {
			t.Fatalf("Delete refused by READONLY: %v; want Unavailable wrapping READONLY", err)
		}
		if rec, err := ss2.Get(ctx, "bob"); err != nil || rec.Version != v {
			t.Fatalf("another replica after the refused sign-out: v%d, %v; want v%d (the caller says it failed)", rec.Version, err, v)
		}
		undo()
		// A deletion kept to push would be pushed by this Get (the
		// mirror's dirty record is newer than Redis's).
		if rec, err := ss1.Get(ctx, "bob"); err != nil || rec.Version != v {
			t.Fatalf("once Redis takes writes, the refusing replica's Get: v%d, %v; want v%d, no deletion pushed", rec.Version, err, v)
		}
		if err := ss1.Delete(ctx, "bob"); err != nil {
			t.Fatalf("the retry: %v", err)
		}
		if _, err := ss2.Get(ctx, "bob"); errcode.CodeOf(err) != errcode.NotFound {
			t.Fatalf("after the retry: %v; want NotFound", err)
		}
	})

	t.Run("OOM with nothing to delete", func(t *testing.T) {
		// Not refused: Redis lets a script finish once it ran a write
		// command (the DEL), even one that deleted nothing.
		opts := &redisstore.Options{Prefix: "om:", Timeout: time.Second, RetryAfter: 20 * time.Millisecond}
		ss := openStore(t, r, opts).Sessions(nil)
		refuseWrites(t, raw, "OOM")
		if err := ss.Delete(ctx, "nobody"); err != nil {
			t.Fatalf("Delete of nothing under OOM: %v", err)
		}
		if g, err := raw.HGet(ctx, "om:s:nobody", "g").Result(); err != nil || g != "1" {
			t.Fatalf("tombstone: %q, %v", g, err)
		}
		if ttl, err := raw.PTTL(ctx, "om:s:nobody").Result(); err != nil || ttl <= redisstore.TombstoneTTL-time.Minute || ttl > redisstore.TombstoneTTL {
			t.Fatalf("tombstone TTL %v, %v; want TombstoneTTL", ttl, err)
		}
	})
}

// TestLogoutRefusedByRedisSaysTryAgain: through auth.Handler replicas
// sharing one Redis, a logout that Redis refuses (READONLY) answers 503
// "could not be ended" and keeps the cookie, and the session still works
// on every replica; a logout under OOM ends the session on every replica.
func TestLogoutRefusedByRedisSaysTryAgain(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	f := newAuthFleet(t, r, 2)
	logout := func(c *http.Client) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/auth/github/logout", nil)
		req.Header.Set("Origin", f.srv.URL)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// tokens asks every replica (round-robin) for the user's token with
	// the cookies the browser had.
	tokens := func(cookies []*http.Cookie) (ok int) {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		u, _ := url.Parse(f.srv.URL)
		jar.SetCookies(u, cookies)
		c := &http.Client{Jar: jar}
		for range 2 {
			resp, err := c.Get(f.srv.URL + "/token")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.HasPrefix(string(b), "ghu_") {
				ok++
			}
		}
		return ok
	}
	u, _ := url.Parse(f.srv.URL)

	c := f.signIn(t)
	cookies := c.Jar.Cookies(u)
	undo := refuseWrites(t, raw, "READONLY")
	if code, body := logout(c); code != http.StatusServiceUnavailable || !strings.Contains(body, "could not be ended") {
		t.Errorf("logout refused by READONLY: %d %q; want 503, could not be ended", code, body)
	}
	if n := tokens(c.Jar.Cookies(u)); n != 2 {
		t.Errorf("after the refused logout, %d of 2 replicas serve the session with the browser's cookie; want 2 (cookie kept, session live)", n)
	}
	undo()

	fillRedis(t, r, raw)
	if code, body := logout(c); code != http.StatusOK {
		t.Fatalf("logout under OOM: %d %q; want 200", code, body)
	}
	if n := tokens(cookies); n != 0 {
		t.Errorf("after the logout under OOM, %d of 2 replicas serve the session's old cookie; want none", n)
	}
}

// BenchmarkSignOutUnderOOM: Redis is full (OOM under noeviction). Each op
// signs a session out through one replica and reads it through another.
// Budget: 2 round trips (the delete script and the read), 0 sessions
// still readable after their sign-out (before the fix: every one).
func BenchmarkSignOutUnderOOM(b *testing.B) {
	r := testsvc.StartRedis(b)
	raw := rawClient(b, r)
	ctx := b.Context()
	opts := &redisstore.Options{Prefix: "bench:", RetryAfter: time.Minute}
	writer := openStore(b, r, opts).Sessions(nil)
	const n = 4096 // sessions written before Redis is full; b.N cycles over them
	for i := range n {
		if _, err := writer.Put(ctx, "u"+strconv.Itoa(i), []byte("sealed-session"), time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	s := openStore(b, r, opts)
	rt := &roundTrips{}
	s.Client().AddHook(rt)
	o := openStore(b, r, opts)
	o.Client().AddHook(rt)
	ss, other := s.Sessions(nil), o.Sessions(nil)
	if err := raw.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.ConfigSet(context.Background(), "maxmemory", "0") })
	live, i := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		key := "u" + strconv.Itoa(i%n)
		i++
		if err := ss.Delete(ctx, key); err != nil {
			b.Fatalf("Delete under OOM: %v", err)
		}
		if _, err := other.Get(ctx, key); errcode.CodeOf(err) != errcode.NotFound {
			live++
		}
	}
	b.ReportMetric(float64(rt.n.Load())/float64(b.N), "roundtrips/op")
	b.ReportMetric(float64(live)/float64(b.N), "live-after-signout/op")
	if live > 0 {
		b.Errorf("%d of %d sessions still readable after their sign-out", live, b.N)
	}
}
