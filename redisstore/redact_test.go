package redisstore_test

import (
	"encoding/base64"
	"testing"

	"github.com/scmkit/scmkit/internal/redact/redacttest"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
)

// TestStoreNeverShowsSecrets: no fmt verb or slog record of a Store shows
// the encryption key or the connection's password.
func TestStoreNeverShowsSecrets(t *testing.T) {
	r := testsvc.StartRedis(t)
	s, err := redisstore.Open("redis://default:hunter2@"+r.Addr+"/0", &redisstore.Options{EncryptionKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The key is 32 bytes of 7: any four of them in a row, as they are or
	// hex-encoded, would be a piece of it.
	redacttest.Hidden(t, "*Store", s, "hunter2", base64.StdEncoding.EncodeToString(testKey), "\x07\x07\x07\x07")
}
