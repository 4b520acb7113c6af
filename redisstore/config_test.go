package redisstore_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

func loadConfig(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.LoadBytes(t.Context(), nil, []byte(yaml))
	if err != nil {
		t.Fatalf("config.LoadBytes: %v", err)
	}
	return cfg
}

func TestFromConfigErrors(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(testKey)
	tests := []struct {
		name, yaml string
		code       errcode.Code // OK: no error and no store
		mention    string
	}{
		{"absent", "app:\n  title: x\n", errcode.OK, ""},
		{"memory", "backend:\n  cache:\n    store: memory\n", errcode.OK, ""},
		{"unknown store", "backend:\n  cache:\n    store: memcache\n", errcode.InvalidArgument, "backend.cache.store"},
		{"no connection", "backend:\n  cache:\n    store: redis\n    encryptionKey: " + key + "\n", errcode.InvalidArgument, "backend.cache.connection"},
		{"no key", "backend:\n  cache:\n    store: redis\n    connection: redis://127.0.0.1:1\n", errcode.InvalidArgument, "encryptionKey"},
		{"short key", "backend:\n  cache:\n    store: redis\n    connection: redis://127.0.0.1:1\n    encryptionKey: c2hvcnQ=\n", errcode.InvalidArgument, "32 random bytes"},
		{"not redis", "backend:\n  cache:\n    store: redis\n    connection: http://user:hunter2@x\n    encryptionKey: " + key + "\n", errcode.InvalidArgument, "redis://"},
		{"bad url", "backend:\n  cache:\n    store: redis\n    connection: redis://user:hunter2@host:notaport\n    encryptionKey: " + key + "\n", errcode.InvalidArgument, "backend.cache.connection"},
		{"bad timeout", "backend:\n  cache:\n    store: redis\n    connection: redis://127.0.0.1:1\n    encryptionKey: " + key + "\n    timeout: soon\n", errcode.InvalidArgument, "backend.cache.timeout"},
		{"wrong type", "backend:\n  cache:\n    store: [redis]\n", errcode.InvalidArgument, "backend.cache.store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := redisstore.FromConfig(loadConfig(t, tt.yaml), nil)
			if s != nil {
				defer s.Close()
			}
			if got := errcode.CodeOf(err); got != tt.code {
				t.Fatalf("FromConfig = %v, %v; want code %v", s, err, tt.code)
			}
			if tt.code == errcode.OK {
				if s != nil {
					t.Fatalf("FromConfig = %v; want no store (in-memory default)", s)
				}
				return
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.mention) {
				t.Errorf("error %q does not mention %q", msg, tt.mention)
			}
			if strings.Contains(msg, "hunter2") || strings.Contains(msg, key) {
				t.Errorf("error %q shows a secret", msg)
			}
		})
	}
}

func TestFromConfigOpensRedis(t *testing.T) {
	r := testsvc.StartRedis(t)
	key := base64.StdEncoding.EncodeToString(testKey)
	for _, tt := range []struct{ name, extra, prefix string }{
		{"prefix", "    prefix: \"portal:\"\n", "portal:"},
		{"backstage namespace", "    redis:\n      client:\n        namespace: portal\n        keyPrefixSeparator: \"/\"\n", "portal/"},
		{"default", "", "scmkit:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			yaml := "backend:\n  cache:\n    store: redis\n    connection: " + r.URL(0) + "\n    encryptionKey: " + key + "\n    timeout: 1s\n" + tt.extra
			s, err := redisstore.FromConfig(loadConfig(t, yaml), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if f, err := s.Lease(t.Context(), "cfg-"+tt.name, time.Minute); err != nil || f == 0 {
				t.Fatalf("Lease = %d, %v", f, err)
			}
			n, err := rawClient(t, r).Exists(t.Context(), tt.prefix+"l:cfg-"+tt.name).Result()
			if err != nil || n != 1 {
				t.Fatalf("no lease key under prefix %q: %d, %v", tt.prefix, n, err)
			}
		})
	}
}
