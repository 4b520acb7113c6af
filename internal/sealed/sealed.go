// Package sealed is scmkit's one layout of a value encrypted with an AEAD
// (AES-GCM) and bound to associated data (its key, its purpose): a fresh
// random nonce followed by the ciphertext. The auth handler seals its
// state and session records with it, redisstore the secrets it shares.
//
// A [Ring] holds the keys of a rotation: the current key seals, previous
// keys only open, so that a key can change without making every value
// sealed before unreadable at once.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"slices"
)

// Append seals plain with a, bound to ad, and appends the nonce and the
// ciphertext to dst. Opening it needs the same ad: a value copied to
// another key or purpose does not open.
func Append(dst []byte, a cipher.AEAD, plain, ad []byte) []byte {
	n := len(dst)
	dst = slices.Grow(dst, a.NonceSize()+len(plain)+a.Overhead())
	dst = dst[:n+a.NonceSize()]
	rand.Read(dst[n:]) // never fails (crypto/rand, Go 1.24 and later)
	return a.Seal(dst, dst[n:], plain, ad)
}

// Open opens a value sealed by Append with the same ad into new memory.
// A value that is too short, was changed, or was sealed for another ad
// fails.
func Open(a cipher.AEAD, box, ad []byte) ([]byte, error) { return open(a, box, ad, false) }

// OpenInPlace is Open decrypting over box's own memory, for a caller
// that owns box and needs it no more.
func OpenInPlace(a cipher.AEAD, box, ad []byte) ([]byte, error) { return open(a, box, ad, true) }

func open(a cipher.AEAD, box, ad []byte, inPlace bool) ([]byte, error) {
	ns := a.NonceSize()
	if len(box) < ns+a.Overhead() {
		return nil, errors.New("sealed value too short")
	}
	nonce, ciphertext := box[:ns], box[ns:]
	var dst []byte
	if inPlace {
		dst = ciphertext[:0]
	}
	return a.Open(dst, nonce, ciphertext, ad)
}

// MaxPrevious is the most previous keys a [Ring] holds: each one a value
// fails to open under costs one more AEAD open, so the list of keys kept
// for rotation stays short.
const MaxPrevious = 4

// Ring is a current key, which seals and opens, and previous keys, which
// only open: what a key rotation needs. Values sealed before the rotation
// keep opening while their key is listed as previous, and every value
// sealed is sealed under the current key, so that rewriting a value moves
// it to the current key. Opening tries the current key first: a value of
// the current key costs what it costs without previous keys.
//
// A Ring is safe for concurrent use.
type Ring struct {
	current  cipher.AEAD
	previous []cipher.AEAD
}

// NewRing returns a Ring sealing with current and opening with current,
// then each of previous in order. Callers validate the keys and bound
// previous to MaxPrevious, naming their own configuration; NewRing
// panics beyond it, or without a current key.
func NewRing(current cipher.AEAD, previous ...cipher.AEAD) *Ring {
	if current == nil || len(previous) > MaxPrevious {
		panic("sealed.NewRing: no current key, or more than MaxPrevious previous keys")
	}
	return &Ring{current: current, previous: slices.Clip(slices.Clone(previous))}
}

// Append is [Append] under the current key.
func (r *Ring) Append(dst, plain, ad []byte) []byte { return Append(dst, r.current, plain, ad) }

// errNoKey is the error of a value none of a Ring's keys opens: it names
// no key and no value.
var errNoKey = errors.New("sealed value does not open under the current key or any previous key")

// Open opens a value sealed by Append (or by a Ring) under the current
// key or one of the previous keys, into new memory. stale reports that a
// previous key opened it: the caller should seal it again (under the
// current key) when it next writes it.
func (r *Ring) Open(box, ad []byte) (plain []byte, stale bool, err error) {
	if plain, err = Open(r.current, box, ad); err == nil {
		return plain, false, nil
	}
	for _, a := range r.previous {
		if plain, err = Open(a, box, ad); err == nil {
			return plain, true, nil
		}
	}
	return nil, false, errNoKey
}

// OpenInPlace is Open decrypting over box's own memory, for a caller that
// owns box and needs it no more. Without previous keys it allocates
// nothing. With previous keys, box is first copied once (a key that fails
// clears the memory it decrypted over, as AES-GCM does, and the next key
// needs the value again), so a value of the current key costs one
// allocation during a rotation.
func (r *Ring) OpenInPlace(box, ad []byte) (plain []byte, stale bool, err error) {
	if len(r.previous) == 0 {
		if plain, err = openInPlace(r.current, box, ad); err != nil {
			return nil, false, errNoKey
		}
		return plain, false, nil
	}
	buf := slices.Clone(box)
	if plain, err = openInPlace(r.current, buf, ad); err == nil {
		return plain, false, nil
	}
	for _, a := range r.previous {
		copy(buf, box)
		if plain, err = openInPlace(a, buf, ad); err == nil {
			return plain, true, nil
		}
	}
	return nil, false, errNoKey
}

func openInPlace(a cipher.AEAD, box, ad []byte) ([]byte, error) { return open(a, box, ad, true) }

// NewAESGCM returns AES-GCM under key, which must be 16, 24 or 32 bytes
// (AES-128, -192, -256). Its error names no key byte.
func NewAESGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, errors.New("an AES key must be 16, 24 or 32 bytes")
	}
	return cipher.NewGCM(b)
}
