package redisstore_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/redisstore"
)

// An empty required key of backend.cache names the unset variables it
// used, never a value; a store left empty by one is refused.
func TestFromConfigNamesUnsetVariables(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(testKey)
	env := map[string]string{"SCMKIT_CACHE_KEY": key, "REDIS_HOST": "cache-7.prod.example"}
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"password unset", "backend:\n  cache:\n    store: redis\n    connection: redis://:${REDIS_PASSWORD}@${REDIS_HOST}:6379/0\n    encryptionKey: ${SCMKIT_CACHE_KEY}\n",
			[]string{"backend.cache.connection: required with store: redis", "(it is empty: the environment does not set REDIS_PASSWORD)"}},
		{"key unset", "backend:\n  cache:\n    store: redis\n    connection: redis://127.0.0.1:1\n    encryptionKey: ${CACHE_KEY_TYPO}\n",
			[]string{"backend.cache.encryptionKey: required", "the environment does not set CACHE_KEY_TYPO"}},
		{"store unset", "backend:\n  cache:\n    store: ${CACHE_STORE}\n    connection: redis://127.0.0.1:1\n",
			[]string{"backend.cache.store", "the environment does not set CACHE_STORE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.LoadBytes(t.Context(), &config.Options{Lookup: func(n string) (string, bool) { v, ok := env[n]; return v, ok }}, []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			s, err := redisstore.FromConfig(cfg, nil)
			if s != nil || errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Fatalf("FromConfig = %v, %v; want InvalidArgument", s, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if msg := fmt.Sprintf("%v %+v", err, err); strings.Contains(msg, key) || strings.Contains(msg, "cache-7.prod.example") {
				t.Errorf("error shows a value: %s", msg)
			}
		})
	}

	// A decoder without UnsetVariables gets the old messages.
	_, err := redisstore.FromConfig(plainDecoder{}, nil)
	if errcode.CodeOf(err) != errcode.InvalidArgument || strings.Contains(err.Error(), "does not set") {
		t.Fatalf("plain decoder: %v", err)
	}
}

// plainDecoder decodes a backend.cache block with store: redis and
// nothing else, and has no UnsetVariables method.
type plainDecoder struct{}

func (plainDecoder) Decode(path string, out any) error {
	out.(*redisstore.Config).Store = "redis"
	return nil
}
