package redisstore_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/internal/testsvc/testlog"
	"github.com/scmkit/scmkit/redisstore"
)

// Values ListKeys cannot use do not stay for ever: one not in the store's
// format (planted) is removed at the first read, and one that does not
// open (sealed under an encryption key since dropped) when the expiry
// written in clear before it passes. Before, they were never removed (the
// hash's TTL is renewed by every AddKey) and logged on every JWKS read.
func TestIssuerKeysUnusableValuesRemoved(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	clk := newClock()
	logs := &testlog.Buffer{}
	st := openStore(t, r, &redisstore.Options{Prefix: "rv:", Logger: logs.Logger(), Now: clk.Now})
	is := replicaIssuer(t, st, clk, time.Hour)
	issue(t, is)
	if err := raw.HSet(t.Context(), "rv:issuerkeys", "stale", "Pgarbage").Err(); err != nil {
		t.Fatal(err)
	}
	// A key sealed under another encryption key, expiring in 3 hours.
	other := openStore(t, r, &redisstore.Options{Prefix: "rv:", EncryptionKey: bytes.Repeat([]byte{9}, 32), Now: clk.Now})
	if err := other.IssuerKeys().AddKey(t.Context(), identity.StoredKey{Key: identity.JWK{Kty: "EC", Kid: "dropped-key"},
		Created: clk.Now(), Expires: clk.Now().Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	jwksKids(t, is)
	if ok, _ := raw.HExists(t.Context(), "rv:issuerkeys", "stale").Result(); ok {
		t.Error("a value not in the store's format is still in the hash after a read")
	}
	if ok, _ := raw.HExists(t.Context(), "rv:issuerkeys", "dropped-key").Result(); !ok {
		t.Error("an unexpired value sealed under another key was removed")
	}
	for range 10 { // 10 hours of rotation, JWKS read each hour
		clk.Advance(time.Hour)
		issue(t, is)
		jwksKids(t, is)
	}
	if ok, _ := raw.HExists(t.Context(), "rv:issuerkeys", "dropped-key").Result(); ok {
		t.Errorf("a value sealed under another key is still in the hash after its expiry; logged %d times", logs.Count("refused"))
	}
}
