package sealed_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"testing"

	"github.com/scmkit/scmkit/internal/sealed"
)

func newAEAD(t *testing.T) cipher.AEAD {
	t.Helper()
	block, err := aes.NewCipher(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRoundTrip(t *testing.T) {
	a := newAEAD(t)
	box := sealed.Append([]byte{'E'}, a, []byte("ghr_refresh"), []byte("session:1"))
	if box[0] != 'E' || len(box) != 1+a.NonceSize()+len("ghr_refresh")+a.Overhead() {
		t.Fatalf("Append kept no prefix or has the wrong length: %d bytes", len(box))
	}
	if bytes.Contains(box, []byte("ghr_refresh")) {
		t.Fatal("the sealed value holds the plain text")
	}
	again := sealed.Append(nil, a, []byte("ghr_refresh"), []byte("session:1"))
	if bytes.Equal(box[1:], again) {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}
	plain, err := sealed.Open(a, box[1:], []byte("session:1"))
	if err != nil || string(plain) != "ghr_refresh" {
		t.Fatalf("Open = %q, %v", plain, err)
	}
	inPlace := bytes.Clone(box[1:])
	if plain, err := sealed.OpenInPlace(a, inPlace, []byte("session:1")); err != nil || string(plain) != "ghr_refresh" {
		t.Errorf("Open in place = %q, %v", plain, err)
	}
}

func TestOpenRefuses(t *testing.T) {
	a := newAEAD(t)
	box := sealed.Append(nil, a, []byte("secret"), []byte("k1"))
	tampered := bytes.Clone(box)
	tampered[len(tampered)-1] ^= 1
	for name, tc := range map[string]struct {
		box []byte
		ad  string
	}{
		"another key": {box, "k2"},
		"tampered":    {tampered, "k1"},
		"too short":   {box[:a.NonceSize()+a.Overhead()-1], "k1"},
		"empty":       {nil, "k1"},
	} {
		if plain, err := sealed.Open(a, tc.box, []byte(tc.ad)); err == nil {
			t.Errorf("%s: Open = %q; want an error", name, plain)
		}
	}
}
