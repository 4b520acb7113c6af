package redisstore_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// TestIssuerKeysJWKSEndpointReusesListing: the JWKS endpoint is public and
// unauthenticated (/api/auth/.well-known/jwks.json), and every GET read
// the key store: one HGETALL on the fleet's shared Redis per anonymous
// request. A flood of JWKS GETs was a flood on the Redis that holds every
// replica's sessions (and, once it slowed past Options.Timeout, tripped
// the store's circuit breaker for sessions, leases and webhook dedupe
// too). The listing is now reused for a second. (Regression test of an
// operations review.)
func TestIssuerKeysJWKSEndpointReusesListing(t *testing.T) {
	r := testsvc.StartRedis(t)
	clk := newClock()
	st, n := countedStore(t, r, "opsjwks:")
	a := replicaIssuer(t, st, clk, 0)
	issue(t, a)
	srv := httptest.NewServer(a.JWKSHandler())
	defer srv.Close()
	if resp, err := http.Get(srv.URL); err != nil { // warm
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	n.Store(0)
	const gets = 200
	for range gets {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	t.Logf("%d anonymous JWKS GETs within one second: %d Redis round trips", gets, n.Load())
	if n.Load() > 5 {
		t.Errorf("%d anonymous JWKS GETs cost %d Redis round trips; want a bounded number (the keys did not change)", gets, n.Load())
	}
}

// replicaIssuerRealClock is one replica's Issuer on st, on the real clock.
func replicaIssuerRealClock(t testing.TB, st *redisstore.Store) *identity.Issuer {
	t.Helper()
	is, err := identity.NewIssuer(&identity.IssuerOptions{Issuer: portalIssuer, KeyStore: st.IssuerKeys()})
	if err != nil {
		t.Fatal(err)
	}
	return is
}

// BenchmarkIssuerKeysJWKS200: one op is 200 JWKS GETs, 10 at a time,
// against a replica on the real clock, with three replicas' keys in Redis.
// Budget: one HGETALL per second whatever the number of requests (before
// the listing was reused: 200 redis-requests/op).
func BenchmarkIssuerKeysJWKS200(b *testing.B) {
	r := testsvc.StartRedis(b)
	for range 2 {
		st, _ := countedStore(b, r, "bj200:")
		issue(b, replicaIssuerRealClock(b, st))
	}
	st, n := countedStore(b, r, "bj200:")
	is := replicaIssuerRealClock(b, st)
	issue(b, is)
	srv := httptest.NewServer(is.JWKSHandler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 10}}
	defer client.CloseIdleConnections()
	const gets, parallel = 200, 10
	before := n.Load()
	b.ReportAllocs()
	for b.Loop() {
		errs := make(chan error, parallel)
		for range parallel {
			go func() {
				for range gets / parallel {
					resp, err := client.Get(srv.URL)
					if err != nil {
						errs <- err
						return
					}
					var set identity.JWKS
					err = json.NewDecoder(resp.Body).Decode(&set)
					resp.Body.Close()
					if err != nil || resp.StatusCode != http.StatusOK || len(set.Keys) != 3 {
						errs <- fmt.Errorf("JWKS answer %d, %d keys, %v", resp.StatusCode, len(set.Keys), err)
						return
					}
				}
				errs <- nil
			}()
		}
		for range parallel {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n.Load()-before)/float64(b.N), "redis-requests/op")
}

// TestIssuerKeysJWKSListsOwnNewKeyAtOnce: the reused listing never hides
// the replica's own new key: a JWKS answer right after its first Issue
// lists it, without reading Redis again, and without writing it again.
func TestIssuerKeysJWKSListsOwnNewKeyAtOnce(t *testing.T) {
	r := testsvc.StartRedis(t)
	clk := newClock()
	st, n := countedStore(t, r, "ownnew:")
	a := replicaIssuer(t, st, clk, 0)
	if got := jwksKids(t, a); len(got) != 0 { // reads Redis: no key yet
		t.Fatalf("JWKS before the first Issue = %v", got)
	}
	kid := tokenKid(t, issue(t, a)) // one HSET
	before := n.Load()
	if got := jwksKids(t, a); len(got) != 1 || got[0] != kid {
		t.Errorf("JWKS right after the first Issue = %v; want its key %s", got, kid)
	}
	if d := n.Load() - before; d != 0 {
		t.Errorf("the JWKS answer within the second cost %d round trips; want 0", d)
	}
}
