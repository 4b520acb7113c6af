package sealed_test

import (
	"bytes"
	"crypto/cipher"
	"testing"

	"github.com/scmkit/scmkit/internal/sealed"
)

// FuzzRingOpen: a sealed value comes back from the store (a cookie, a
// Redis value) as untrusted bytes. Whatever they are, a Ring opens them
// only when they are exactly what one of its keys sealed for that ad:
//
//   - a value sealed by any key of the ring opens to its plaintext, stale
//     exactly when a previous key sealed it, with Open and OpenInPlace;
//   - the same value with one bit flipped, cut short, or opened for
//     another ad does not open;
//   - arbitrary bytes do not open, and Open leaves them unchanged.
func FuzzRingOpen(f *testing.F) {
	keys := make([][]byte, 3)
	for i := range keys {
		keys[i] = bytes.Repeat([]byte{byte(i + 1)}, 32)
	}
	f.Add([]byte("ghr_refresh"), []byte("session:1"), uint8(0), uint16(0), []byte(nil))
	f.Add([]byte(""), []byte(""), uint8(2), uint16(40), []byte("x"))
	f.Add([]byte("state"), []byte("flow:github"), uint8(1), uint16(7), bytes.Repeat([]byte{0}, 28))
	f.Fuzz(func(t *testing.T, plain, ad []byte, which uint8, flip uint16, raw []byte) {
		var a [3]cipher.AEAD
		for i, k := range keys {
			var err error
			if a[i], err = sealed.NewAESGCM(k); err != nil {
				t.Fatal(err)
			}
		}
		a0, a1, a2 := a[0], a[1], a[2]
		ring := sealed.NewRing(a0, a1)
		sealers := []*sealed.Ring{ring, sealed.NewRing(a1), sealed.NewRing(a2)}
		k := int(which) % len(sealers)
		box := sealers[k].Append(nil, plain, ad)

		got, stale, err := ring.Open(box, ad)
		switch {
		case k == 2: // a key the ring does not hold
			if err == nil {
				t.Fatalf("a value sealed under a foreign key opened to %q", got)
			}
		case err != nil:
			t.Fatalf("Open of a value sealed by key %d: %v", k, err)
		case !bytes.Equal(got, plain) || stale != (k == 1):
			t.Fatalf("Open = %q, stale %v; want %q, stale %v", got, stale, plain, k == 1)
		default:
			got, stale, err := ring.OpenInPlace(bytes.Clone(box), ad)
			if err != nil || !bytes.Equal(got, plain) || stale != (k == 1) {
				t.Fatalf("OpenInPlace = %q, %v, %v; want %q", got, stale, err, plain)
			}
		}

		// One bit flipped anywhere: nonce, ciphertext or tag.
		bad := bytes.Clone(box)
		bit := int(flip) % (8 * len(bad))
		bad[bit/8] ^= 1 << (bit % 8)
		if got, _, err := ring.Open(bad, ad); err == nil {
			t.Fatalf("a value with bit %d flipped opened to %q", bit, got)
		}
		if got, _, err := ring.OpenInPlace(bytes.Clone(bad), ad); err == nil {
			t.Fatalf("OpenInPlace: a value with bit %d flipped opened to %q", bit, got)
		}
		// Cut short by at least one byte.
		if got, _, err := ring.Open(box[:int(flip)%len(box)], ad); err == nil {
			t.Fatalf("a value cut to %d of %d bytes opened to %q", int(flip)%len(box), len(box), got)
		}
		// Another purpose.
		if got, _, err := ring.Open(box, append(bytes.Clone(ad), 'x')); err == nil {
			t.Fatalf("a value sealed for %q opened for another ad: %q", ad, got)
		}

		// Arbitrary bytes, never sealed by a key of the ring (a random
		// tag matches with probability 2^-128).
		if bytes.Equal(raw, box) {
			return
		}
		before := bytes.Clone(raw)
		if got, _, err := ring.Open(raw, ad); err == nil {
			t.Fatalf("arbitrary bytes %x opened to %q", raw, got)
		}
		if !bytes.Equal(raw, before) {
			t.Fatalf("Open changed the value it refused: %x -> %x", before, raw)
		}
		if got, _, err := ring.OpenInPlace(raw, ad); err == nil {
			t.Fatalf("OpenInPlace: arbitrary bytes %x opened to %q", before, got)
		}
	})
}
