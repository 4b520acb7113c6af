package auth_test

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
)

// opStore counts every call to its SessionStore.
type opStore struct {
	*auth.MemoryStore
	calls atomic.Int64
}

func (s *opStore) Get(ctx context.Context, key string) (auth.Record, error) {
	s.calls.Add(1)
	return s.MemoryStore.Get(ctx, key)
}

func (s *opStore) Put(ctx context.Context, key string, data []byte, ttl time.Duration) (int64, error) {
	s.calls.Add(1)
	return s.MemoryStore.Put(ctx, key, data, ttl)
}

func (s *opStore) CompareAndSwap(ctx context.Context, key string, version int64, data []byte, ttl time.Duration) (int64, error) {
	s.calls.Add(1)
	return s.MemoryStore.CompareAndSwap(ctx, key, version, data, ttl)
}

func (s *opStore) Delete(ctx context.Context, key string) error {
	s.calls.Add(1)
	return s.MemoryStore.Delete(ctx, key)
}

func (s *opStore) Acquire(ctx context.Context, name string, ttl time.Duration) (auth.Lease, error) {
	s.calls.Add(1)
	return s.MemoryStore.Acquire(ctx, name, ttl)
}

func (s *opStore) Release(ctx context.Context, l auth.Lease) error {
	s.calls.Add(1)
	return s.MemoryStore.Release(ctx, l)
}

func (s *opStore) PutFenced(ctx context.Context, l auth.Lease, key string, data []byte, ttl time.Duration) (int64, error) {
	s.calls.Add(1)
	return s.MemoryStore.PutFenced(ctx, l, key, data, ttl)
}

// TestStartFloodKeepsNothing pins what an unauthenticated flood of
// /start costs: /start is public, so each request must cost no store
// call (no write, no Redis round trip), leave no state on the server
// (the state is sealed into the URL, the PKCE verifier and nonces into
// the browser's flow cookie), and the OIDC provider is asked for its
// discovery document once for all of them, not once per request. A
// flood therefore cannot grow the server's memory, evict another user's
// pending sign-in (there is no shared table of them) or reach the
// provider. A real sign-in started before the flood still completes.
func TestStartFloodKeepsNothing(t *testing.T) {
	store := &opStore{MemoryStore: auth.NewMemoryStore(nil)}
	p := newPortal(t, auth.Options{Store: store})
	op := startOP(t, p, "oidc", authtest.OPOptions{ProfileInIDToken: true})
	registerOIDC(t, p, op)

	// A user's sign-in, started before the flood.
	user := noFollow()
	authURL := start(t, user, p, "oidc", "")
	startCalls := store.calls.Load()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 400
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 8 {
		wg.Go(func() {
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			for range n / 8 {
				resp, err := c.Get(p.srv.URL + "/api/auth/oidc/start?env=development")
				if err != nil || resp.StatusCode != http.StatusFound {
					failed.Add(1)
					if resp != nil {
						resp.Body.Close()
					}
					continue
				}
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if f := failed.Load(); f != 0 {
		t.Fatalf("%d of %d /start requests failed", f, n)
	}
	if c := store.calls.Load(); c != 0 || startCalls != 0 {
		t.Errorf("/start called the session store %d times for %d requests, want 0", c, n+1)
	}
	if d := op.Requests()["/.well-known/openid-configuration"]; d != 1 {
		t.Errorf("the provider's discovery document was fetched %d times for %d starts, want 1", d, n+1)
	}
	for path, k := range op.Requests() {
		if path != "/.well-known/openid-configuration" {
			t.Errorf("/start sent %d requests to the provider's %s", k, path)
		}
	}
	// Nothing per request is kept: the live heap does not grow with n
	// (400 kept states of even 1 KiB each would be 400 KiB).
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 256<<10 {
		t.Errorf("the live heap grew by %d bytes over %d starts", grew, n)
	}
	// The user's sign-in, started before the flood, completes.
	cb := authorizeB(t, authURL, p)
	resp, err := user.Get(cb.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the sign-in started before the flood: %d, want 200", resp.StatusCode)
	}
}
