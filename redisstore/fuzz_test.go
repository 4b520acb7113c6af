package redisstore

import (
	"bytes"
	"testing"
)

// FuzzDecode: whatever Redis holds (another program's value, a tampered
// one), reading it never panics, and a sealed value opens only unchanged.
func FuzzDecode(f *testing.F) {
	s, err := New(nopClient(), &Options{EncryptionKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		f.Fatal(err)
	}
	// A fixed nonce, so that every fuzzing process builds the same value.
	nonce := make([]byte, s.aead.NonceSize())
	sealed := append([]byte{sealedMark}, s.aead.Seal(nonce, nonce, []byte("secret"), []byte("k"))...)
	if v, ok := s.decode("k", string(sealed)); !ok || string(v) != "secret" {
		f.Fatalf("the seed does not open: %q, %v", v, ok)
	}
	f.Add(string(sealed))
	f.Add("Pplain")
	f.Add("")
	f.Add("E")
	f.Fuzz(func(t *testing.T, raw string) {
		v, ok := s.decode("k", raw)
		if ok && len(raw) > 0 && raw[0] == sealedMark && raw != string(sealed) && string(v) == "secret" {
			t.Fatalf("a changed sealed value opened")
		}
	})
}
