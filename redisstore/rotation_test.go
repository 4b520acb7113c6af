package redisstore_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/redact/redacttest"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
	"github.com/scmkit/scmkit/scm"
)

// Keys of a rotation: the key used before, the new one, and one never
// configured.
var (
	oldKey   = bytes.Repeat([]byte{1}, 32)
	newKey   = bytes.Repeat([]byte{2}, 32)
	otherKey = bytes.Repeat([]byte{3}, 32)
)

// TestRotatedEncryptionKeyKeepsCachedValues: after backend.cache's
// encryption key is rotated with the old one listed in
// previousEncryptionKeys, values cached under the old key are still hits
// (a shared token, a cached file); a value saved again is sealed under the
// new key; once the old key is dropped, what is still sealed under it is
// a miss, and so it is for a store that never listed it.
func TestRotatedEncryptionKeyKeepsCachedValues(t *testing.T) {
	r := testsvc.StartRedis(t)
	ctx := t.Context()
	const tokKey, fileKey = "githubapp:github.com:1:token:42", "file:a"
	before := openStore(t, r, &redisstore.Options{EncryptionKey: oldKey})
	f, _ := before.Lease(ctx, tokKey, time.Minute)
	if _, err := before.Save(ctx, tokKey, []byte("ghs_old"), time.Hour, f, true); err != nil {
		t.Fatal(err)
	}
	if err := before.Files(time.Hour).PutFile(ctx, fileKey, &scm.CachedFile{ETag: `"1"`, Content: []byte("old file")}); err != nil {
		t.Fatal(err)
	}

	during := openStore(t, r, &redisstore.Options{EncryptionKey: newKey, PreviousEncryptionKeys: [][]byte{otherKey, oldKey}})
	if v, ok, err := during.Load(ctx, tokKey); !ok || err != nil || string(v) != "ghs_old" {
		t.Fatalf("after the rotation, Load of a token of the old key = %q, %v, %v; want a hit", v, ok, err)
	}
	if cf, ok, err := during.Files(time.Hour).GetFile(ctx, fileKey); !ok || err != nil || string(cf.Content) != "old file" {
		t.Fatalf("after the rotation, GetFile of a file of the old key = %v, %v; want a hit", ok, err)
	}
	// The token is fetched again and saved: sealed under the new key.
	f, _ = during.Lease(ctx, tokKey, time.Minute)
	if _, err := during.Save(ctx, tokKey, []byte("ghs_new"), time.Hour, f, true); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := before.Load(ctx, tokKey); ok {
		t.Fatalf("a value saved after the rotation opens under the old key alone (%q): it was not sealed under the new one", v)
	}

	after := openStore(t, r, &redisstore.Options{EncryptionKey: newKey})
	if v, ok, err := after.Load(ctx, tokKey); !ok || err != nil || string(v) != "ghs_new" {
		t.Fatalf("after the old key was dropped, Load of the re-sealed token = %q, %v, %v; want a hit", v, ok, err)
	}
	if _, ok, err := after.Files(time.Hour).GetFile(ctx, fileKey); ok || err != nil {
		t.Fatalf("after the old key was dropped, GetFile of a file still under it = %v, %v; want a miss", ok, err)
	}
	if _, ok, err := during.Files(time.Hour).GetFile(ctx, fileKey); !ok || err != nil {
		t.Fatalf("GetFile through the rotated store = %v, %v; want still a hit", ok, err)
	}
}

// TestRotatedEncryptionKeyFromConfig: backend.cache.previousEncryptionKeys
// is read by FromConfig: a store built from it opens what the old key
// sealed.
func TestRotatedEncryptionKeyFromConfig(t *testing.T) {
	r := testsvc.StartRedis(t)
	ctx := t.Context()
	before := openStore(t, r, &redisstore.Options{EncryptionKey: oldKey})
	f, _ := before.Lease(ctx, "k", time.Minute)
	if _, err := before.Save(ctx, "k", []byte("ghs_old"), time.Hour, f, true); err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	for _, tc := range []struct {
		name     string
		previous string
		hit      bool
	}{
		{"old key listed", "    previousEncryptionKeys:\n      - " + b64(otherKey) + "\n      - " + b64(oldKey) + "\n", true},
		{"old key not listed", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := redisstore.FromConfig(loadConfig(t, "backend:\n  cache:\n    store: redis\n    connection: "+r.URL(0)+
				"\n    encryptionKey: "+b64(newKey)+"\n    timeout: 3s\n"+tc.previous), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if v, ok, err := s.Load(ctx, "k"); ok != tc.hit || err != nil || (ok && string(v) != "ghs_old") {
				t.Fatalf("Load = %q, %v, %v; want hit %v", v, ok, err, tc.hit)
			}
		})
	}
}

// TestBadPreviousEncryptionKeysRefused: previous keys that are not AES-256
// keys, the current key itself, a key listed twice, more than 4 keys, or
// previous keys without a current one are refused with InvalidArgument
// naming the option and config path; no error shows a key.
func TestBadPreviousEncryptionKeysRefused(t *testing.T) {
	k := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	for _, tc := range []struct {
		name     string
		current  []byte
		previous [][]byte
		want     string
	}{
		{"short", newKey, [][]byte{oldKey, bytes.Repeat([]byte{1}, 16)}, "backend.cache.previousEncryptionKeys[1]"},
		{"empty", newKey, [][]byte{nil}, "backend.cache.previousEncryptionKeys[0]"},
		{"the current key", newKey, [][]byte{newKey}, "backend.cache.previousEncryptionKeys[0]"},
		{"listed twice", newKey, [][]byte{oldKey, otherKey, oldKey}, "backend.cache.previousEncryptionKeys[2]"},
		{"more than 4", newKey, [][]byte{k(11), k(12), k(13), k(14), k(15)}, "at most 4"},
		{"no current key", nil, [][]byte{oldKey}, "backend.cache.encryptionKey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := redisstore.New(unusedClient(t), &redisstore.Options{EncryptionKey: tc.current, PreviousEncryptionKeys: tc.previous})
			var e *errcode.Error
			if s != nil || !errors.As(err, &e) || e.Code != errcode.InvalidArgument || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), "PreviousEncryptionKeys") {
				t.Fatalf("New = %v, %v; want InvalidArgument naming %s and the option", s, err, tc.want)
			}
			for _, key := range append(tc.previous, tc.current) {
				if len(key) >= 4 && (strings.Contains(err.Error(), string(key[:4])) || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(key))) {
					t.Errorf("the error shows a key: %v", err)
				}
			}
		})
	}
	if _, err := redisstore.New(unusedClient(t), &redisstore.Options{EncryptionKey: newKey, PreviousEncryptionKeys: [][]byte{k(11), k(12), k(13), k(14)}}); err != nil {
		t.Fatalf("4 previous keys: %v", err)
	}

	key := base64.StdEncoding.EncodeToString(newKey)
	for _, tc := range []struct{ name, previous, want string }{
		{"not base64", "[not-base64!]", "backend.cache.previousEncryptionKeys[0]"},
		{"short", "[" + base64.StdEncoding.EncodeToString(oldKey) + ", c2hvcnQ=]", "backend.cache.previousEncryptionKeys[1]"},
		{"the current key", "[" + key + "]", "backend.cache.previousEncryptionKeys[0]"},
	} {
		t.Run("config "+tc.name, func(t *testing.T) {
			s, err := redisstore.FromConfig(loadConfig(t, "backend:\n  cache:\n    store: redis\n    connection: redis://127.0.0.1:1\n    encryptionKey: "+key+
				"\n    previousEncryptionKeys: "+tc.previous+"\n"), nil)
			if s != nil {
				s.Close()
			}
			if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("FromConfig = %v; want InvalidArgument naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(oldKey)) {
				t.Errorf("the error shows a key: %v", err)
			}
		})
	}
}

// unusedClient is a client New can take; nothing is sent through it.
func unusedClient(t *testing.T) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// TestOptionsNeverShowKeys: no fmt verb, JSON or slog record of Options
// or Config shows the encryption key or a previous one.
func TestOptionsNeverShowKeys(t *testing.T) {
	o := redisstore.Options{Prefix: "portal:", EncryptionKey: newKey, PreviousEncryptionKeys: [][]byte{oldKey, otherKey}}
	hidden := []string{"\x01\x01\x01\x01", "\x02\x02\x02\x02", "\x03\x03\x03\x03",
		base64.StdEncoding.EncodeToString(oldKey), base64.StdEncoding.EncodeToString(newKey)}
	redacttest.Hidden(t, "Options", o, hidden...)
	redacttest.Hidden(t, "*Options", &o, hidden...)
	// %d would print the key bytes as numbers, which Hidden does not look
	// for.
	for _, verb := range []string{"%d", "%+d", "%v", "%x"} {
		if out := fmt.Sprintf(verb, o); strings.Contains(out, "1 1 1 1") || strings.Contains(out, "2 2 2 2") {
			t.Errorf("%s shows a key's bytes: %s", verb, out)
		}
	}
	if s := o.String(); !strings.Contains(s, "portal:") || strings.Count(s, "[redacted]") != 3 {
		t.Errorf("String = %q; want the prefix and three redacted keys", s)
	}

	var c redisstore.Config
	if err := loadConfig(t, "backend:\n  cache:\n    store: redis\n    encryptionKey: "+base64.StdEncoding.EncodeToString(newKey)+
		"\n    previousEncryptionKeys: ["+base64.StdEncoding.EncodeToString(oldKey)+"]\n").Decode("backend.cache", &c); err != nil {
		t.Fatal(err)
	}
	if len(c.PreviousEncryptionKeys) != 1 {
		t.Fatalf("previousEncryptionKeys not decoded: %d", len(c.PreviousEncryptionKeys))
	}
	redacttest.Hidden(t, "Config", c, hidden...)
}

// TestRotatedSessionSecretOverRedis: auth's rotation of
// auth.session.secret over Redis's session store: a session sealed under
// the old secret keeps working after the rotation, is sealed again under
// the new one (a compare-and-swap in Redis) and, with its cookie signed
// again at /refresh, outlives the old secret's removal.
func TestRotatedSessionSecretOverRedis(t *testing.T) {
	r := testsvc.StartRedis(t)
	clk := newClock()
	p := &authtest.Provider{ProviderInfo: auth.ProviderInfo{Type: "github", Host: "github.com"},
		AccessPrefix: "ghu_", RefreshPrefix: "ghr_", Lifetime: 8 * time.Hour, Now: clk.Now}
	var cur atomic.Pointer[http.Handler]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*cur.Load()).ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	deploy := func(secret string, previous ...string) {
		o := auth.Options{BaseURL: srv.URL + "/api/auth", Secret: integrations.NewSecret(secret), Environment: "development",
			Store: openStore(t, r, &redisstore.Options{Now: clk.Now}).Sessions(nil), Now: clk.Now}
		for _, s := range previous {
			o.PreviousSecrets = append(o.PreviousSecrets, integrations.NewSecret(s))
		}
		h, err := auth.New(&o)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Register("github", "development", p); err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/api/auth/", h)
		mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
			if _, err := h.Session(r); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
			}
		})
		var hh http.Handler = mux
		cur.Store(&hh)
	}
	get := func(c *http.Client, path string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	const oldSecret, newSecret = "old-session-secret-0123456789abcdef", "new-session-secret-fedcba9876543210"
	deploy(oldSecret)
	jar, _ := cookiejar.New(nil)
	alice := &http.Client{Jar: jar}
	if code := get(alice, "/api/auth/github/start?env=development&flow=redirect&redirectUrl=/me"); code != http.StatusOK {
		t.Fatalf("sign-in: %d", code)
	}
	deploy(newSecret, oldSecret)
	if code := get(alice, "/me"); code != http.StatusOK {
		t.Fatalf("after the rotation: %d; want the session to work", code)
	}
	if code := get(alice, "/api/auth/github/refresh?env=development"); code != http.StatusOK {
		t.Fatalf("refresh after the rotation: %d", code)
	}
	deploy(newSecret)
	if code := get(alice, "/me"); code != http.StatusOK {
		t.Fatalf("after the old secret was dropped: %d; want the re-sealed session to work", code)
	}
	deploy(oldSecret)
	if code := get(alice, "/me"); code != http.StatusUnauthorized {
		t.Fatalf("the old secret alone: %d; want 401 (the record and cookie are under the new secret)", code)
	}
}
