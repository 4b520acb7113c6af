package redisstore_test

import (
	"crypto/rand"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/internal/sealed"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
	"github.com/scmkit/scmkit/scm"
)

// Regression (FuzzIssuerKeyValue): revocations whose end Go and the
// scripts read differently. "+<ms>|R" Go read as a revocation (strconv
// takes a sign) and listed the kid revoked, while the scripts let AddKey
// overwrite it and RemoveKeys remove it; a 20-digit end the scripts read
// as a revocation and Go as malformed: never listed as revoked, its
// removal tried at every listing and refused. Now both read 1 to 18
// digits only: neither is a revocation, both are removed.
func TestIssuerKeyMalformedRevocationEnd(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	clk := newClock()
	st := openStore(t, r, &redisstore.Options{Prefix: "badend:", Now: clk.Now})
	ctx := t.Context()
	for _, v := range []string{
		"+" + itoa(clk.Now().Add(time.Hour).UnixMilli()) + "|R",
		"99999999999999999999|R",
		" " + itoa(clk.Now().Add(time.Hour).UnixMilli()) + "|R",
	} {
		if err := raw.HSet(ctx, "badend:issuerkeys", "k1", v).Err(); err != nil {
			t.Fatal(err)
		}
		keys, err := st.IssuerKeys().ListKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		revoked := slices.ContainsFunc(keys, func(k identity.StoredKey) bool { return k.Key.Kid == "k1" && k.Revoked })
		still, _ := raw.HExists(ctx, "badend:issuerkeys", "k1").Result()
		k := identity.StoredKey{Key: identity.JWK{Kid: "k1", Kty: "EC"}, Created: clk.Now(), Expires: clk.Now().Add(time.Hour)}
		addErr := st.IssuerKeys().AddKey(ctx, k)
		if revoked || still || addErr != nil {
			t.Errorf("%q: listed revoked %v, still in Redis after the listing %v, AddKey = %v; want it dropped as malformed and the kid free",
				v, revoked, still, addErr)
		}
		raw.HDel(ctx, "badend:issuerkeys", "k1")
	}
	// A well-formed revocation stays one, in Go and in Lua.
	if err := raw.HSet(ctx, "badend:issuerkeys", "k2", itoa(clk.Now().Add(time.Hour).UnixMilli())+"|R").Err(); err != nil {
		t.Fatal(err)
	}
	keys, _ := st.IssuerKeys().ListKeys(ctx)
	if !slices.ContainsFunc(keys, func(k identity.StoredKey) bool { return k.Key.Kid == "k2" && k.Revoked }) {
		t.Errorf("a revocation is not listed: %+v", keys)
	}
	if err := st.IssuerKeys().AddKey(ctx, identity.StoredKey{Key: identity.JWK{Kid: "k2", Kty: "EC"}, Created: clk.Now()}); errcode.CodeOf(err) != errcode.Conflict {
		t.Errorf("AddKey of a revoked kid = %v, want Conflict", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Regression (FuzzIssuerKeyRoundTrip, FuzzCachedRecord): a string that is
// not valid UTF-8 was written as JSON, which replaces its bytes with
// U+FFFD: the key or entry read back was not the one written (an ETag that
// never matches again; a key whose kid is not its field's, refused at
// every listing). Now AddKey, PutFile and PutPage refuse it
// (InvalidArgument) and write nothing.
func TestRecordsNotUTF8(t *testing.T) {
	r := testsvc.StartRedis(t)
	clk := newClock()
	st := openStore(t, r, &redisstore.Options{Prefix: "utf8:", Now: clk.Now})
	ctx := t.Context()
	for _, k := range []identity.StoredKey{
		{Key: identity.JWK{Kid: "k1", Kty: "EC", X: "\xff"}, Created: clk.Now()},
		{Key: identity.JWK{Kid: "k\xff", Kty: "EC"}, Created: clk.Now()},
	} {
		err := st.IssuerKeys().AddKey(ctx, k)
		keys, _ := st.IssuerKeys().ListKeys(ctx)
		if errcode.CodeOf(err) != errcode.InvalidArgument || len(keys) != 0 {
			t.Errorf("AddKey(%+v) = %v, then listed %+v; want InvalidArgument and nothing written", k.Key, err, keys)
		}
	}
	files := st.Files(time.Hour)
	err := files.PutFile(ctx, "f", &scm.CachedFile{ETag: "W/\"\xff\"", Content: []byte("x")})
	got, ok, _ := files.GetFile(ctx, "f")
	if errcode.CodeOf(err) != errcode.InvalidArgument || ok {
		t.Errorf("PutFile with an ETag not UTF-8 = %v, then GetFile = %+v, %v; want InvalidArgument and a miss", err, got, ok)
	}
	pages := st.Pages(time.Hour)
	err = pages.PutPage(ctx, "p", &scm.CachedPage{ETag: `"e"`, Header: http.Header{"Link": {"<https://x/\xff>; rel=\"next\""}}, Body: []byte("[]")})
	gotP, ok, _ := pages.GetPage(ctx, "p")
	if errcode.CodeOf(err) != errcode.InvalidArgument || ok {
		t.Errorf("PutPage with a Link not UTF-8 = %v, then GetPage = %+v, %v; want InvalidArgument and a miss", err, gotP, ok)
	}
	// UTF-8 entries read back the same.
	if err := files.PutFile(ctx, "g", &scm.CachedFile{ETag: `W/"é"`, Content: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := files.GetFile(ctx, "g"); err != nil || !ok || got.ETag != `W/"é"` {
		t.Errorf("GetFile = %+v, %v, %v", got, ok, err)
	}
}

// Regression (FuzzSessionRecord): a session record was read from what the
// scripts never write and do not read as a record: a version with a sign
// or leading zeros ("+5", "05"; CompareAndSwap compares the version as a
// string, so it could never swap it), or a tombstone (g) with data. Now
// both read as no session, as the scripts read them.
func TestSessionRecordMalformed(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	st := openStore(t, r, &redisstore.Options{Prefix: "recv:"})
	ss := st.Sessions(nil)
	ctx := t.Context()
	for _, fields := range [][]any{
		{"v", "+1796612400000001", "d", "data"},
		{"v", "01796612400000001", "d", "data"},
		{"v", "1796612400000001", "d", "data", "g", "1"},
	} {
		raw.Del(ctx, "recv:s:sess")
		if err := raw.HSet(ctx, "recv:s:sess", fields...).Err(); err != nil {
			t.Fatal(err)
		}
		if rec, err := ss.Get(ctx, "sess"); errcode.CodeOf(err) != errcode.NotFound {
			t.Errorf("%v: Get = %+v, %v; want NotFound", fields, rec, err)
		}
	}
	// What Put writes reads back, and swaps.
	v, err := ss.Put(ctx, "ok", []byte("data"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := ss.Get(ctx, "ok"); err != nil || rec.Version != v || string(rec.Data) != "data" {
		t.Fatalf("Get = %+v, %v", rec, err)
	}
	if _, err := ss.CompareAndSwap(ctx, "ok", v, []byte("new"), time.Hour); err != nil {
		t.Errorf("CompareAndSwap = %v", err)
	}
}

// Regression (FuzzCachedRecord): a sealed cache entry without its content
// (as another version of the store, naming it otherwise, would write it)
// was served: a file on 304 as empty, a page as an empty listing. Now it
// is a miss; an empty file or page put is still read back.
func TestCachedEntryWithoutContent(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	st := openStore(t, r, &redisstore.Options{Prefix: "nocontent:"})
	ctx := t.Context()
	a, err := sealed.NewAESGCM(testKey)
	if err != nil {
		t.Fatal(err)
	}
	seal := func(key, plain string) []byte {
		nonce := make([]byte, a.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			t.Fatal(err)
		}
		return append([]byte{'E'}, a.Seal(nonce, nonce, []byte(plain), []byte(key))...)
	}
	if err := raw.Set(ctx, "nocontent:file:f", seal("nocontent:file:f", `{"etag":"\"abc\"","data":"eA=="}`), time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if err := raw.Set(ctx, "nocontent:page:p", seal("nocontent:page:p", `{"etag":"\"abc\"","header":{"Link":["<https://x?page=2>; rel=\"next\""]}}`), time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if f, ok, err := st.Files(time.Hour).GetFile(ctx, "f"); ok || err != nil {
		t.Errorf("GetFile of an entry without content = %+v, %v, %v; want a miss", f, ok, err)
	}
	if p, ok, err := st.Pages(time.Hour).GetPage(ctx, "p"); ok || err != nil {
		t.Errorf("GetPage of an entry without a body = %+v, %v, %v; want a miss", p, ok, err)
	}
	if err := st.Files(time.Hour).PutFile(ctx, "empty", &scm.CachedFile{ETag: `"e"`}); err != nil {
		t.Fatal(err)
	}
	if f, ok, err := st.Files(time.Hour).GetFile(ctx, "empty"); !ok || err != nil || f.ETag != `"e"` || len(f.Content) != 0 {
		t.Errorf("GetFile of an empty file = %+v, %v, %v", f, ok, err)
	}
	if err := st.Pages(time.Hour).PutPage(ctx, "empty", &scm.CachedPage{ETag: `"e"`}); err != nil {
		t.Fatal(err)
	}
	if p, ok, err := st.Pages(time.Hour).GetPage(ctx, "empty"); !ok || err != nil || p.ETag != `"e"` {
		t.Errorf("GetPage of an empty page = %+v, %v, %v", p, ok, err)
	}
}

// Regression (FuzzIssuerKeyValue, seed e6bf3eae134eb989): the expiry
// written in clear before a sealed issuer key is not sealed; a value
// whose expiry was changed (here to years later) was listed all the same,
// and kept in Redis until that expiry. Now a key whose expiry in clear is
// not its own is refused and removed.
func TestIssuerKeyChangedExpiry(t *testing.T) {
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	clk := newClock()
	st := openStore(t, r, &redisstore.Options{Prefix: "chexp:", Now: clk.Now})
	ctx := t.Context()
	k := identity.StoredKey{Key: identity.JWK{Kid: "k1", Kty: "EC"}, Created: clk.Now(), Expires: clk.Now().Add(time.Hour)}
	if err := st.IssuerKeys().AddKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if keys, err := st.IssuerKeys().ListKeys(ctx); err != nil || len(keys) != 1 {
		t.Fatalf("ListKeys = %+v, %v", keys, err)
	}
	v, err := raw.HGet(ctx, "chexp:issuerkeys", "k1").Result()
	if err != nil {
		t.Fatal(err)
	}
	_, sealedKey, _ := strings.Cut(v, "|")
	later := itoa(clk.Now().Add(10*365*24*time.Hour).UnixMilli()) + "|" + sealedKey
	if err := raw.HSet(ctx, "chexp:issuerkeys", "k1", later).Err(); err != nil {
		t.Fatal(err)
	}
	keys, err := st.IssuerKeys().ListKeys(ctx)
	still, _ := raw.HExists(ctx, "chexp:issuerkeys", "k1").Result()
	if err != nil || len(keys) != 0 || still {
		t.Errorf("a key whose expiry in clear was changed: listed %+v (%v), still in Redis %v; want refused and removed", keys, err, still)
	}
}
