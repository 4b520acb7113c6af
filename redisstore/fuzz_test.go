package redisstore

import (
	"bytes"
	"testing"

	"github.com/scmkit/scmkit/internal/sealed"
)

// FuzzDecode: whatever Redis holds (another program's value, a tampered
// one), reading it never panics, a sealed value opens only unchanged, and
// where a sealed value is expected nothing else is accepted.
func FuzzDecode(f *testing.F) {
	c := nopClient()
	f.Cleanup(func() { c.Close() })
	s, err := New(c, &Options{EncryptionKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		f.Fatal(err)
	}
	// A fixed nonce, so that every fuzzing process builds the same value.
	a, err := sealed.NewAESGCM(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		f.Fatal(err)
	}
	nonce := make([]byte, a.NonceSize())
	box := append([]byte{sealedMark}, a.Seal(nonce, nonce, []byte("secret"), []byte("k"))...)
	if v, ok := s.decodeBytes("fuzz", "k", bytes.Clone(box), sealedMark); !ok || string(v) != "secret" {
		f.Fatalf("the seed does not open: %q, %v", v, ok)
	}
	f.Add(string(box))
	f.Add("Pplain")
	f.Add("")
	f.Add("E")
	f.Fuzz(func(t *testing.T, raw string) {
		v, ok := s.decodeBytes("fuzz", "k", []byte(raw), sealedMark)
		if ok && raw[0] != sealedMark {
			t.Fatalf("an unsealed value %q was accepted where a sealed one is expected", raw)
		}
		if ok && raw != string(box) && string(v) == "secret" {
			t.Fatalf("a changed sealed value opened")
		}
	})
}
