package redisstore_test

import (
	"testing"
	"time"

	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/internal/testsvc/testlog"
	"github.com/scmkit/scmkit/redisstore"
	"github.com/scmkit/scmkit/scm"
)

// TestUnsealedValuesRefused: a store with an encryption key seals every
// value it writes, so a value marked plain ('P') was planted by someone
// who can write to Redis without the key (a catalog-info.yaml naming
// another owner, a token of the planter's choosing). Every reader refuses
// it as a miss and logs it; it is never served.
func TestUnsealedValuesRefused(t *testing.T) {
	ctx := t.Context()
	r := testsvc.StartRedis(t)
	raw := rawClient(t, r)
	logs := &testlog.Buffer{}
	st := openStore(t, r, &redisstore.Options{Prefix: "rv:", Logger: logs.Logger()})
	// base64 of a catalog-info.yaml naming "mallory" as the owner.
	const content = "a2luZDogQ29tcG9uZW50Cm1ldGFkYXRhOiB7bmFtZTogeH0Kc3BlYzoge293bmVyOiBtYWxsb3J5fQo="
	for _, tc := range []struct {
		name  string
		plant func() error
		read  func() (served bool, err error)
	}{
		{"FileCache", func() error {
			return raw.Set(ctx, "rv:file:github.com/acme/svc/catalog-info.yaml", `P{"etag":"\"x\"","content":"`+content+`"}`, 0).Err()
		}, func() (bool, error) {
			_, ok, err := st.Files(time.Hour).GetFile(ctx, "github.com/acme/svc/catalog-info.yaml")
			return ok, err
		}},
		{"PageCache", func() error {
			return raw.Set(ctx, "rv:page:github.com/orgs/acme/repos", `P{"etag":"\"x\"","body":"W10="}`, 0).Err()
		}, func() (bool, error) {
			_, ok, err := st.Pages(time.Hour).GetPage(ctx, "github.com/orgs/acme/repos")
			return ok, err
		}},
		{"Load", func() error {
			return raw.HSet(ctx, "rv:c:githubapp:github.com:1:token:7", "f", "1", "v", `P{"v":"eyJ0b2tlbiI6Imdoc19wbGFudGVkIn0="}`).Err()
		}, func() (bool, error) {
			_, ok, err := st.Load(ctx, "githubapp:github.com:1:token:7")
			return ok, err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.plant(); err != nil {
				t.Fatal(err)
			}
			before := logs.Count("refused an unsealed value")
			served, err := tc.read()
			if err != nil || served {
				t.Fatalf("an unsealed value planted in Redis: served %v, %v; want a miss", served, err)
			}
			if logs.Count("refused an unsealed value") != before+1 {
				t.Fatalf("the refusal was not logged once:\n%s", logs)
			}
		})
	}

	// What the store writes itself, secret or not, is sealed and reads back.
	f, err := st.Lease(ctx, "installation", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := st.Save(ctx, "installation", []byte(`{"id":1}`), time.Minute, f, false); err != nil || !ok {
		t.Fatalf("Save = %v, %v", ok, err)
	}
	if v, err := raw.HGet(ctx, "rv:c:installation", "v").Result(); err != nil || v == "" || v[0] != 'E' {
		t.Fatalf("a non-secret value is stored as %q, %v; want it sealed ('E')", v, err)
	}
	if v, ok, err := st.Load(ctx, "installation"); err != nil || !ok || string(v) != `{"id":1}` {
		t.Fatalf("Load of the store's own value = %q, %v, %v", v, ok, err)
	}
	fc := st.Files(time.Hour)
	if err := fc.PutFile(ctx, "k", &scm.CachedFile{ETag: `"e"`, Content: []byte("kind: Component\n")}); err != nil {
		t.Fatal(err)
	}
	if cf, ok, err := fc.GetFile(ctx, "k"); err != nil || !ok || string(cf.Content) != "kind: Component\n" {
		t.Fatalf("GetFile of the cache's own entry = %v, %v, %v", cf, ok, err)
	}

	// Without a key, nothing can be sealed: plain values are shared
	// (never secrets, which Save refuses).
	nokey := openStore(t, r, &redisstore.Options{Prefix: "nokey:", EncryptionKey: []byte{}})
	f, err = nokey.Lease(ctx, "plain", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := nokey.Save(ctx, "plain", []byte("42"), time.Minute, f, false); err != nil || !ok {
		t.Fatalf("Save without a key = %v, %v", ok, err)
	}
	if v, ok, err := nokey.Load(ctx, "plain"); err != nil || !ok || string(v) != "42" {
		t.Fatalf("Load without a key = %q, %v, %v", v, ok, err)
	}
}
