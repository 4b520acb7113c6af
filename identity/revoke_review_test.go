package identity

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// swapStore is a KeyStore whose backing store can be replaced, as Redis
// flushed, restarted without persistence, or failed over to a replica
// that had not received the last writes.
type swapStore struct {
	mu    sync.Mutex
	inner KeyStore
}

func (s *swapStore) get() KeyStore { s.mu.Lock(); defer s.mu.Unlock(); return s.inner }
func (s *swapStore) flush(now func() time.Time) {
	s.mu.Lock()
	s.inner = &MemoryKeyStore{now: now}
	s.mu.Unlock()
}
func (s *swapStore) AddKey(ctx context.Context, k StoredKey) error { return s.get().AddKey(ctx, k) }
func (s *swapStore) ListKeys(ctx context.Context) ([]StoredKey, error) {
	return s.get().ListKeys(ctx)
}
func (s *swapStore) RemoveKeys(ctx context.Context, kids []string) error {
	return s.get().RemoveKeys(ctx, kids)
}
func (s *swapStore) RevokeKeys(ctx context.Context, kids []string, until time.Time) error {
	return s.get().RevokeKeys(ctx, kids, until)
}

// Regression (review of the revocation): a store that loses a revocation
// (flushed, or failed over to a replica that had not received it) before
// the key's replica reads it let that replica write the key back and sign
// with it for good. Now a replica that knows of the revocation writes it
// back at its next read of the store (within a minute with
// StartRepublishing), and the key's replica stops at its next write.
func TestRevocationSurvivesStoreLoss(t *testing.T) {
	c := newClock()
	st := &swapStore{inner: &MemoryKeyStore{now: c.Now}}
	a := replica(t, c, st, time.Hour, "")
	b := replica(t, c, st, time.Hour, "")
	ka := headerKid(t, issueAs(t, a, "user:default/alice"))
	if err := b.Revoke(t.Context(), ka); err != nil {
		t.Fatal(err)
	}
	// a is idle (no token, no JWKS answer, no republishing); the store
	// then loses its data, and a writes its key back at its next token.
	c.Advance(20 * time.Minute)
	st.flush(c.Now)
	issueAs(t, a, "user:default/alice")
	if err := b.Republish(t.Context()); err != nil { // b knows of the revocation
		t.Fatal(err)
	}
	newcomer := replica(t, c, st, time.Hour, "")
	if got := jwksKids(t, newcomer); slices.Contains(got, ka) {
		t.Errorf("a replica started after the loss serves the revoked key: %v", got)
	}
	keys, _ := st.ListKeys(t.Context())
	if !slices.ContainsFunc(keys, func(k StoredKey) bool { return k.Key.Kid == ka && k.Revoked }) {
		t.Errorf("the revocation was not written back: %+v", keys)
	}
	c.Advance(time.Minute)
	if k := headerKid(t, issueAs(t, a, "user:default/alice")); k == ka {
		t.Errorf("a minute after the revocation was written back, a still signs with the revoked key")
	}
}

// Regression (review of the revocation): a Verifier whose JWKS hung made
// the first verification after JWKSMaxAge, and every one arriving during
// the fetch, wait for the whole fetch (10 s), although it held the
// token's key. Now the first waits 250 ms at most, the others not at all.
func TestAgedRefetchDoesNotBlock(t *testing.T) {
	c := newClock()
	is := replica(t, c, NewMemoryKeyStore(), time.Hour, "")
	tok := issueAs(t, is, "user:default/alice")
	var hang atomic.Bool
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hang.Load() {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		is.JWKSHandler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer close(release)
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL, Now: c.Now, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	hang.Store(true)
	c.Advance(10 * time.Minute)
	var wg sync.WaitGroup
	var slow atomic.Int64
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			if _, err := v.Verify(t.Context(), tok); err != nil {
				t.Error(err)
			}
			if time.Since(start) > time.Second {
				slow.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := slow.Load(); n > 0 {
		t.Errorf("%d of 20 verifications of a token whose key the verifier holds took more than 1 s while the JWKS hangs", n)
	}
}

// Regression (review of the revocation): a key revoked between its
// publication and its becoming the signing key (its kid is public from
// the publication on) became the signing key all the same. Now the Issuer
// makes another.
func TestRevokeDuringKeyCreation(t *testing.T) {
	c := newClock()
	hs := &hookStore{KeyStore: &MemoryKeyStore{now: c.Now}}
	a := replica(t, c, hs, time.Hour, "")
	var revoked string
	hs.afterAdd = func(k StoredKey) {
		hs.afterAdd = nil
		revoked = k.Key.Kid
		if err := a.Revoke(context.Background(), k.Key.Kid); err != nil {
			t.Error(err)
		}
	}
	if k := headerKid(t, issueAs(t, a, "user:default/alice")); k == revoked {
		t.Errorf("the Issue during which its new key was revoked signs with it")
	}
	c.Advance(time.Second)
	if k := headerKid(t, issueAs(t, a, "user:default/bob")); k == revoked {
		t.Errorf("the next Issue signs with the revoked key %s", k)
	}
	if got := jwksKids(t, a); slices.Contains(got, revoked) || len(got) != 1 {
		t.Errorf("JWKS = %v; want one key, not the revoked %s", got, revoked)
	}
}

type hookStore struct {
	KeyStore
	afterAdd func(StoredKey)
}

func (h *hookStore) AddKey(ctx context.Context, k StoredKey) error {
	err := h.KeyStore.AddKey(ctx, k)
	if err == nil && h.afterAdd != nil {
		h.afterAdd(k)
	}
	return err
}
