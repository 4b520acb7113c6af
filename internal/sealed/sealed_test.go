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

func aeadOf(t *testing.T, b byte) cipher.AEAD {
	t.Helper()
	a, err := sealed.NewAESGCM(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestRingRotation: after a rotation (old key listed as previous) a value
// sealed under the old key opens and is reported stale; values are sealed
// under the new key only; once the old key is dropped, its values no
// longer open. Open and OpenString agree on every case.
func TestRingRotation(t *testing.T) {
	oldKey, newKey, other := aeadOf(t, 1), aeadOf(t, 2), aeadOf(t, 3)
	before := sealed.NewRing(oldKey)
	during := sealed.NewRing(newKey, other, oldKey)
	after := sealed.NewRing(newKey)
	ad := []byte("session:1")
	fromOld := before.Append(nil, []byte("ghr_old"), ad)
	fromNew := during.Append(nil, []byte("ghr_new"), ad)
	if _, err := sealed.Open(newKey, fromNew, ad); err != nil {
		t.Fatalf("a value sealed by the rotated ring does not open under its current key: %v", err)
	}
	if _, err := sealed.Open(oldKey, fromNew, ad); err == nil {
		t.Fatal("a value sealed by the rotated ring opens under a previous key: it was not sealed under the current one")
	}
	tampered := bytes.Clone(fromOld)
	tampered[len(tampered)-1] ^= 1
	for _, tc := range []struct {
		name      string
		ring      *sealed.Ring
		box       []byte
		ad        []byte
		want      string // "" = does not open
		wantStale bool
	}{
		{"old value, old ring", before, fromOld, ad, "ghr_old", false},
		{"old value, rotated ring", during, fromOld, ad, "ghr_old", true},
		{"new value, rotated ring", during, fromNew, ad, "ghr_new", false},
		{"old value, old key dropped", after, fromOld, ad, "", false},
		{"new value, old ring", before, fromNew, ad, "", false},
		{"old value, another ad", during, fromOld, []byte("session:2"), "", false},
		{"tampered", during, tampered, ad, "", false},
		{"too short", during, fromOld[:10], ad, "", false},
	} {
		for name, open := range map[string]func() ([]byte, bool, error){
			"Open":        func() ([]byte, bool, error) { return tc.ring.Open(tc.box, tc.ad) },
			"OpenInPlace": func() ([]byte, bool, error) { return tc.ring.OpenInPlace(bytes.Clone(tc.box), tc.ad) },
		} {
			plain, stale, err := open()
			switch {
			case tc.want == "" && err == nil:
				t.Errorf("%s: %s = %q; want an error", tc.name, name, plain)
			case tc.want != "" && (err != nil || string(plain) != tc.want || stale != tc.wantStale):
				t.Errorf("%s: %s = %q, stale %v, %v; want %q, stale %v", tc.name, name, plain, stale, err, tc.want, tc.wantStale)
			case err != nil && bytes.Contains([]byte(err.Error()), []byte("ghr_")):
				t.Errorf("%s: the error shows the value: %v", tc.name, err)
			}
		}
	}
}

func TestNewRingBounds(t *testing.T) {
	keys := make([]cipher.AEAD, sealed.MaxPrevious+1)
	for i := range keys {
		keys[i] = aeadOf(t, byte(i+1))
	}
	sealed.NewRing(aeadOf(t, 9), keys[:sealed.MaxPrevious]...) // at the bound: fine
	for name, f := range map[string]func(){
		"too many previous keys": func() { sealed.NewRing(aeadOf(t, 9), keys...) },
		"no current key":         func() { sealed.NewRing(nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: NewRing did not panic", name)
				}
			}()
			f()
		}()
	}
	if _, err := sealed.NewAESGCM([]byte("short")); err == nil || bytes.Contains([]byte(err.Error()), []byte("short")) {
		t.Errorf("NewAESGCM(5 bytes) = %v; want an error that does not show the key", err)
	}
}

// TestRingOpenInPlaceWithoutPreviousAllocatesNothing: a Ring without
// previous keys opens in place as sealed.OpenInPlace does, allocating
// nothing (the file cache's hit path).
func TestRingOpenInPlaceWithoutPreviousAllocatesNothing(t *testing.T) {
	r := sealed.NewRing(aeadOf(t, 1))
	box := r.Append(nil, bytes.Repeat([]byte("x"), 4096), []byte("k"))
	buf, ad := make([]byte, len(box)), []byte("k")
	allocs := testing.AllocsPerRun(100, func() {
		copy(buf, box)
		if _, _, err := r.OpenInPlace(buf, ad); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("OpenInPlace allocates %v times per value; want 0", allocs)
	}
}
