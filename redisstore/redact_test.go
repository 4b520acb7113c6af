package redisstore_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"testing"

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
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("store", "s", s)
	outs := []string{buf.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		outs = append(outs, fmt.Sprintf(verb, s))
	}
	b64 := base64.StdEncoding.EncodeToString(testKey)
	for _, out := range outs {
		if strings.Contains(out, "hunter2") || strings.Contains(out, b64) || strings.Contains(out, "\x07\x07\x07\x07") || strings.Contains(out, "07070707") {
			t.Errorf("output shows a secret: %q", out)
		}
	}
}
