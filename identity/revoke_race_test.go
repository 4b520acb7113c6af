package identity

import (
	"sync"
	"testing"
	"time"
)

// Three replicas issue, answer JWKS and republish while another revokes
// every key it sees (a stress test for -race); afterwards no replica
// serves or signs with a revoked key.
func TestRevokeRaceStress(t *testing.T) {
	c := newClock()
	st := newCountingStore()
	st.KeyStore = &MemoryKeyStore{now: c.Now}
	reps := []*Issuer{replica(t, c, st, time.Hour, ""), replica(t, c, st, time.Hour, ""), replica(t, c, st, time.Hour, "")}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for _, is := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = is.Issue(t.Context(), IssueRequest{Subject: "user:default/a"})
				_, _ = is.JWKS(t.Context())
				_ = is.Republish(t.Context())
			}
		}()
	}
	var mu sync.Mutex
	revoked := map[string]bool{}
	// Until 20 keys are revoked (the replicas' goroutines may start late
	// under -race), 2,000 rounds at most.
	for i := 0; i < 2000 && len(revoked) < 20; i++ {
		time.Sleep(time.Millisecond)
		set, _ := reps[0].JWKS(t.Context())
		for _, k := range set.Keys {
			if reps[1].Revoke(t.Context(), k.Kid) == nil {
				mu.Lock()
				revoked[k.Kid] = true
				mu.Unlock()
			}
		}
		c.Advance(time.Second)
	}
	close(stop)
	wg.Wait()
	c.Advance(time.Minute) // every replica reads the store and writes its key again
	for i, is := range reps {
		if err := is.Republish(t.Context()); err != nil {
			t.Fatal(err)
		}
		set, err := is.JWKS(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range set.Keys {
			if revoked[k.Kid] {
				t.Errorf("replica %d serves the revoked key %s", i, k.Kid)
			}
		}
		if k := headerKid(t, issueAs(t, is, "user:default/a")); revoked[k] {
			t.Errorf("replica %d signs with the revoked key %s", i, k)
		}
	}
	if len(revoked) == 0 {
		t.Error("nothing was revoked: the test tested nothing")
	}
}
