package redisstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/internal/sealed"
	"github.com/scmkit/scmkit/scm"
)

// The fuzz targets of this file read records as another replica (older,
// or hostile) may have left them in Redis, without Redis: what a store
// decodes either is what a store encodes, or is refused; nothing panics.

// fuzzNow is the clock of the record fuzz targets.
var fuzzNow = time.UnixMilli(1796612400000)

// fuzzStore is a store with the test encryption key and no server.
func fuzzStore(t testing.TB) *Store {
	t.Helper()
	c := nopClient()
	t.Cleanup(func() { c.Close() })
	s, err := New(c, &Options{EncryptionKey: bytes.Repeat([]byte{7}, 32), Now: func() time.Time { return fuzzNow }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fixedSeal seals plain for key as the store does, with the test key but
// a nonce of zeros, so that the seeds (testdata/fuzz) are the same in
// every run: a sealed value a fuzzer could only have by copying it.
func fixedSeal(key string, plain []byte) []byte {
	a, err := sealed.NewAESGCM(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		panic(err)
	}
	nonce := make([]byte, a.NonceSize())
	return append([]byte{sealedMark}, a.Seal(nonce, nonce, plain, []byte(key))...)
}

// luaRevoked is the scripts' revoked(v, now) (revokedLua) in Go: whether
// Lua reads v as a revocation that has not ended at now (ms).
func luaRevoked(v string, now int64) bool {
	digits, rest, ok := strings.Cut(v, "|")
	if !ok || rest != revokedMark || digits == "" || len(digits) > maxMillisDigits || strings.Trim(digits, "0123456789") != "" {
		return false
	}
	n, err := strconv.ParseFloat(digits, 64) // Lua's tonumber: a double
	return err == nil && n > float64(now)
}

func TestMaxMillisDigitsLua(t *testing.T) {
	if maxMillisDigitsLua != strconv.Itoa(maxMillisDigits) {
		t.Fatalf("maxMillisDigitsLua %s, maxMillisDigits %d", maxMillisDigitsLua, maxMillisDigits)
	}
}

// fuzzIssuerKey is the key of the issuer key seeds.
var fuzzIssuerKey = identity.StoredKey{Key: identity.JWK{Kty: "EC", Crv: "P-256", Kid: "k1", Alg: "ES256", Use: "sig",
	X: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", Y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
	Created: fuzzNow.Add(-time.Hour), Expires: fuzzNow.Add(47 * time.Hour)}

// FuzzIssuerKeyValue reads fuzzed values of an issuer key's field
// (ListKeys' decodeKey). Nothing panics; Go and the scripts agree on
// which values are revocations that have not ended (else Go lists a kid
// revoked that AddKey overwrites, or drops one that RemoveKeys keeps,
// trying again at every listing); a key listed is the unchanged sealed
// value of a key AddKey wrote (a truncated or altered one never is), under
// its own kid with its own expiry in clear (which is not sealed), and
// encodes to a value that decodes to it again.
func FuzzIssuerKeyValue(f *testing.F) {
	s := fuzzStore(f)
	ks := s.IssuerKeys()
	plain, _ := json.Marshal(issuerKey{Key: fuzzIssuerKey.Key, Created: fuzzIssuerKey.Created, Expires: fuzzIssuerKey.Expires})
	good := strconv.FormatInt(fuzzIssuerKey.Expires.UnixMilli(), 10) + "|" + string(fixedSeal(ks.binding("k1"), plain))
	if k, verdict := ks.decodeKey("fuzz", "k1", good, sealedMark, fuzzNow); verdict != keyListed || !sameStoredKey(k, fuzzIssuerKey) {
		f.Fatalf("the seed key reads as %+v, %d", k, verdict)
	}
	// The seeds are testdata/fuzz/FuzzIssuerKeyValue: this good value,
	// truncated, altered, unsealed, and revocations well and badly
	// formed.
	f.Fuzz(func(t *testing.T, kid, v string) {
		k, verdict := ks.decodeKey("fuzz", kid, v, sealedMark, fuzzNow)
		lua := luaRevoked(v, fuzzNow.UnixMilli())
		if (verdict == keyListed && k.Revoked) != lua {
			t.Fatalf("%q: Go lists it revoked: %v, Lua reads a revocation: %v", v, verdict == keyListed && k.Revoked, lua)
		}
		if verdict != keyListed || k.Revoked {
			return
		}
		if k.Key.Kid != kid || kid != "k1" || v != good {
			t.Fatalf("%q listed under %q as %+v: only the seed's sealed value may be", v, kid, k)
		}
		again, err := ks.encodeKey("fuzz", k)
		if err != nil {
			t.Fatal(err)
		}
		k2, verdict2 := ks.decodeKey("fuzz", kid, string(again), sealedMark, fuzzNow)
		if verdict2 != keyListed || !sameStoredKey(k, k2) {
			t.Fatalf("%+v encodes to %q, which decodes to %+v (%d)", k, again, k2, verdict2)
		}
	})
}

func sameStoredKey(a, b identity.StoredKey) bool {
	return a.Key == b.Key && a.Created.Equal(b.Created) && a.Expires.Equal(b.Expires) && a.Revoked == b.Revoked
}

// FuzzIssuerKeyRoundTrip: any key AddKey writes (encodeKey) ListKeys reads
// back (decodeKey) the same, unless it has expired.
func FuzzIssuerKeyRoundTrip(f *testing.F) {
	s := fuzzStore(f)
	ks := s.IssuerKeys()
	// The seeds are testdata/fuzz/FuzzIssuerKeyRoundTrip.
	f.Fuzz(func(t *testing.T, kty, crv, x, y, kid, alg, use string, created, expires int64) {
		in := identity.StoredKey{Key: identity.JWK{Kty: kty, Crv: crv, X: x, Y: y, Kid: kid, Alg: alg, Use: use}}
		if created != 0 {
			in.Created = time.UnixMilli(created)
		}
		if expires != 0 {
			in.Expires = time.UnixMilli(expires)
		}
		v, err := ks.encodeKey("fuzz", in)
		if err != nil {
			if errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Fatalf("%+v: %v", in, err)
			}
			return // AddKey refuses it
		}
		out, verdict := ks.decodeKey("fuzz", kid, string(v), sealedMark, fuzzNow)
		exp := in.Expires
		if exp.IsZero() {
			exp = in.Created.Add(3 * identity.MaxLifetime)
		}
		if !fuzzNow.Before(exp) {
			if verdict != keyDropped {
				t.Fatalf("an expired key (%v) is not dropped: %d", exp, verdict)
			}
			return
		}
		if verdict != keyListed || !sameStoredKey(in, out) {
			t.Fatalf("%+v written as %q read back as %+v (%d)", in, v, out, verdict)
		}
	})
}

// FuzzSessionRecord reads fuzzed session hashes (HMGET v d g). Nothing
// panics; a record is read only with a version the scripts could have
// written (so that CompareAndSwap, which compares it as a string, can
// swap it) and never from a tombstone; every version the scripts write is
// read back as itself.
func FuzzSessionRecord(f *testing.F) {
	// The seeds are testdata/fuzz/FuzzSessionRecord: records, tombstones,
	// versions the scripts do not write. present says which fields are
	// there: bit 0 v, bit 1 d, bit 2 g.
	f.Fuzz(func(t *testing.T, v, d, g string, present uint8) {
		field := func(i uint, s string) any {
			if present&(1<<i) == 0 {
				return nil
			}
			return s
		}
		vals := []any{field(0, v), field(1, d), field(2, g)}
		ver, data, ok := parseRec(vals)
		if ok {
			if vals[2] != nil || vals[0] == nil || vals[1] == nil {
				t.Fatalf("read %v as a record", vals)
			}
			if fmt.Sprintf("%.0f", float64(ver)) != v && strconv.FormatInt(ver, 10) != v {
				t.Fatalf("version %q read as %d, which the scripts write otherwise", v, ver)
			}
			if ver <= 0 || string(data) != d {
				t.Fatalf("%v read as %d, %q", vals, ver, data)
			}
		}
		// What the scripts write (string.format('%.0f', v)) reads back.
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 && n <= 1<<53 {
			written := fmt.Sprintf("%.0f", float64(n))
			if ver2, data2, ok := parseRec([]any{written, d, nil}); !ok || ver2 != n || string(data2) != d {
				t.Fatalf("the record {v: %s, d: %q} reads as %d, %q, %v", written, d, ver2, data2, ok)
			}
		}
	})
}

// FuzzCachedRecord reads fuzzed values of the file and page caches.
// Nothing panics; a value is taken only as the unchanged sealed value a
// cache wrote (a truncated or altered one is a miss); what a cache puts,
// it reads back the same.
func FuzzCachedRecord(f *testing.F) {
	s := fuzzStore(f)
	files := s.Files(time.Hour)
	pages := s.Pages(time.Hour)
	fileKey, pageKey := s.key("file", "k"), s.key("page", "k")
	fileVal := func(f *scm.CachedFile) []byte {
		plain, _ := json.Marshal(f)
		return fixedSeal(fileKey, plain)
	}
	pageVal := func(p *scm.CachedPage) []byte {
		plain, _ := json.Marshal(p)
		return fixedSeal(pageKey, plain)
	}
	goodFile := fileVal(&scm.CachedFile{ETag: `"abc"`, BlobID: "blob", CommitID: "commit", Content: []byte("content")})
	goodPage := pageVal(&scm.CachedPage{ETag: `"abc"`, Header: http.Header{"Link": {`<https://api.github.com/x?page=2>; rel="next"`}}, Body: []byte("[]")})
	// The seeds are testdata/fuzz/FuzzCachedRecord: these good values,
	// truncated, altered, unsealed, under another key; entries not UTF-8.
	f.Fuzz(func(t *testing.T, etag, blob, commit string, content []byte, hname, hval string, raw []byte) {
		// Put, then get: the same entry, or put refuses it.
		inF := &scm.CachedFile{ETag: etag, BlobID: blob, CommitID: commit, Content: content}
		if v, err := files.c.encode(fileKey, inF); err == nil {
			gotF, ok := files.c.decode(fileKey, v)
			if !ok || !sameFile(inF, gotF) {
				t.Fatalf("file %+v read back as %+v, %v", inF, gotF, ok)
			}
		} else if errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Fatalf("file %+v: %v", inF, err)
		}
		inP := &scm.CachedPage{ETag: etag, Body: content}
		if hname != "" {
			inP.Header = http.Header{hname: {hval}}
		}
		if v, err := pages.c.encode(pageKey, inP); err == nil {
			gotP, ok := pages.c.decode(pageKey, v)
			if !ok || !samePage(inP, gotP) {
				t.Fatalf("page %+v read back as %+v, %v", inP, gotP, ok)
			}
		} else if errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Fatalf("page %+v: %v", inP, err)
		}
		// A fuzzed value is a miss unless it is a sealed value of the
		// cache's own, unchanged: the fuzzer cannot seal.
		if _, ok := files.c.decode(fileKey, bytes.Clone(raw)); ok && !bytes.Equal(raw, goodFile) {
			t.Fatalf("a fuzzed file value %q was taken", raw)
		}
		if _, ok := pages.c.decode(pageKey, bytes.Clone(raw)); ok && !bytes.Equal(raw, goodPage) {
			t.Fatalf("a fuzzed page value %q was taken", raw)
		}
	})
}

// sameFile and samePage compare entries as JSON keeps them: a nil
// content is an empty one.
func sameFile(a, b *scm.CachedFile) bool {
	return a.ETag == b.ETag && a.BlobID == b.BlobID && a.CommitID == b.CommitID && bytes.Equal(a.Content, b.Content)
}

func samePage(a, b *scm.CachedPage) bool {
	return a.ETag == b.ETag && bytes.Equal(a.Body, b.Body) && (len(a.Header) == 0 && len(b.Header) == 0 || reflect.DeepEqual(a.Header, b.Header))
}
