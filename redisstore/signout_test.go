package redisstore_test

import (
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// cutProxy forwards loopback connections to a Redis until Cut, which
// drops them and refuses new ones until Restore: one replica loses Redis
// while Redis keeps its data and the other replicas keep using it.
type cutProxy struct {
	ln net.Listener
	to string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
}

func startProxy(t *testing.T, to string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, to: to, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.Cut()
	})
	return p
}

func (p *cutProxy) URL() string { return "redis://" + p.ln.Addr().String() + "/0" }

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.mu.Unlock()
		up, err := net.Dial("tcp", p.to)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go func() { io.Copy(up, c); up.Close() }() //nolint:errcheck // ends with either side
		go func() { io.Copy(c, up); c.Close() }()  //nolint:errcheck // ends with either side
	}
}

// Cut drops every connection and refuses new ones until Restore.
func (p *cutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore accepts connections again.
func (p *cutProxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// TestSignOutStaysAfterRedisLosesData: replica a signs the user in and
// out, replica b had read the session; Redis then loses its data
// (FLUSHALL, as a restart without persistence or a failover to an empty
// replica would). Neither b (which only read it) nor a (which wrote it)
// writes the session back: a mirror is never a source of truth.
func TestSignOutStaysAfterRedisLosesData(t *testing.T) {
	ctx := t.Context()
	r := testsvc.StartRedis(t)
	a := openStore(t, r, nil).Sessions(nil) // replica that signed the user in
	b := openStore(t, r, nil).Sessions(nil) // replica that served her later
	if _, err := a.Put(ctx, "sess", []byte("sealed"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Put(ctx, "kept", []byte("sealed"), time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"sess", "kept"} {
		if _, err := b.Get(ctx, k); err != nil { // b mirrors it
			t.Fatal(err)
		}
	}
	if err := a.Delete(ctx, "sess"); err != nil { // sign-out through a
		t.Fatal(err)
	}
	if err := rawClient(t, r).FlushAll(ctx).Err(); err != nil { // Redis loses its data
		t.Fatal(err)
	}
	for _, k := range []string{"sess", "kept"} {
		if rec, err := b.Get(ctx, k); errcode.CodeOf(err) != errcode.NotFound {
			t.Fatalf("after a Redis data loss, replica b serves %s from its read mirror (%q, %v); want NotFound", k, rec.Data, err)
		}
		if rec, err := a.Get(ctx, k); errcode.CodeOf(err) != errcode.NotFound {
			t.Fatalf("after a Redis data loss, replica a writes %s back (%q, %v); want NotFound", k, rec.Data, err)
		}
	}
	if n, err := rawClient(t, r).Exists(ctx, "scmkit:s:sess", "scmkit:s:kept").Result(); err != nil || n != 0 {
		t.Fatalf("%d session records are back in Redis (%v); want none", n, err)
	}
}

// TestOutageWritePushedOnlyOverWhatItReplaced: replica a loses Redis
// (Redis keeps its data; the others keep using it), rotates a session's
// token or signs a user in meanwhile, and gets Redis back. Its write is
// pushed only if Redis still holds the record it replaced: never over a
// sign-out made through another replica, nor after Redis lost the record.
func TestOutageWritePushedOnlyOverWhatItReplaced(t *testing.T) {
	r := testsvc.StartRedis(t)
	for i, tc := range []struct {
		name      string
		isNew     bool // a's write is a new session (Put of a key a never saw in Redis)
		meanwhile func(t *testing.T, b *redisstore.SessionStore)
		pushed    bool
	}{
		{name: "untouched", pushed: true},
		{name: "new, untouched", isNew: true, pushed: true},
		{name: "signed out through b", meanwhile: func(t *testing.T, b *redisstore.SessionStore) {
			if err := b.Delete(t.Context(), "sess"); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "new, signed out through b", isNew: true, meanwhile: func(t *testing.T, b *redisstore.SessionStore) {
			if err := b.Delete(t.Context(), "sess"); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "signed out through b, then Redis lost its data", meanwhile: func(t *testing.T, b *redisstore.SessionStore) {
			if err := b.Delete(t.Context(), "sess"); err != nil {
				t.Fatal(err)
			}
			if err := rawClient(t, r).FlushAll(t.Context()).Err(); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "Redis lost its data", meanwhile: func(t *testing.T, b *redisstore.SessionStore) {
			if err := rawClient(t, r).FlushAll(t.Context()).Err(); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			prefix := "case" + strconv.Itoa(i) + ":"
			p := startProxy(t, r.Addr)
			sa, err := redisstore.Open(p.URL(), &redisstore.Options{Prefix: prefix, EncryptionKey: testKey, Timeout: 3 * time.Second, RetryAfter: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sa.Close() })
			a := sa.Sessions(nil)
			b := openStore(t, r, &redisstore.Options{Prefix: prefix}).Sessions(nil)
			var v1 int64
			if !tc.isNew {
				if v1, err = a.Put(ctx, "sess", []byte("rt-1"), time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			p.Cut()
			if tc.isNew {
				_, err = a.Put(ctx, "sess", []byte("rt-2"), time.Hour)
			} else {
				_, err = a.CompareAndSwap(ctx, "sess", v1, []byte("rt-2"), time.Hour)
			}
			if err != nil {
				t.Fatalf("write with Redis cut off = %v; want it kept in the process", err)
			}
			if rec, err := a.Get(ctx, "sess"); err != nil || string(rec.Data) != "rt-2" {
				t.Fatalf("a with Redis cut off reads %q, %v; want rt-2", rec.Data, err)
			}
			if tc.meanwhile != nil {
				tc.meanwhile(t, b)
			}
			p.Restore()
			// a settles by itself (its push goroutine) or on a read: wait
			// until a and Redis agree.
			deadline := time.Now().Add(5 * time.Second)
			for {
				rec, err := a.Get(ctx, "sess")
				if tc.pushed && err == nil && string(rec.Data) == "rt-2" {
					if brec, berr := b.Get(ctx, "sess"); berr == nil && string(brec.Data) == "rt-2" {
						return
					}
				}
				if !tc.pushed && errcode.CodeOf(err) == errcode.NotFound {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("a reads %q, %v after Redis came back; want pushed=%v", rec.Data, err, tc.pushed)
				}
				time.Sleep(20 * time.Millisecond)
			}
			// Refused: Redis holds no session for anyone, even after a's
			// push goroutine had its chances.
			time.Sleep(100 * time.Millisecond)
			if rec, err := b.Get(ctx, "sess"); errcode.CodeOf(err) != errcode.NotFound {
				t.Fatalf("replica b reads %q, %v; want NotFound: a pushed its write over the sign-out or data loss", rec.Data, err)
			}
			if d, err := rawClient(t, r).HGet(ctx, prefix+"s:sess", "d").Result(); err == nil {
				t.Fatalf("Redis holds session data %q; want none", d)
			}
		})
	}
}
