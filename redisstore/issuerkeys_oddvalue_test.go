package redisstore_test

import (
	"slices"
	"testing"
	"time"

	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// Regression (second review): a value Lua read as a live revocation and Go
// as malformed ("1e20|R", planted by someone who can write to Redis) was
// refused by AddKey, never listed as revoked, and never removed. Now Lua
// reads only digits, as Go does.
func TestOddRevocationValue(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	clk := newClock()
	st := openStore(t, r, &redisstore.Options{Prefix: "oddrv:", Now: clk.Now})
	ctx := t.Context()
	if err := raw.HSet(ctx, "oddrv:issuerkeys", "k1", "1e20|R").Err(); err != nil {
		t.Fatal(err)
	}
	keys, err := st.IssuerKeys().ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	listed := slices.ContainsFunc(keys, func(k identity.StoredKey) bool { return k.Key.Kid == "k1" })
	still, _ := raw.HExists(ctx, "oddrv:issuerkeys", "k1").Result()
	k := identity.StoredKey{Key: identity.JWK{Kid: "k1", Kty: "EC"}, Created: clk.Now(), Expires: clk.Now().Add(time.Hour)}
	addErr := st.IssuerKeys().AddKey(ctx, k)
	if listed || still || addErr != nil {
		t.Errorf("\"1e20|R\": listed %v, still in Redis after the listing %v, AddKey = %v; want it dropped as malformed and the kid free", listed, still, addErr)
	}
}
