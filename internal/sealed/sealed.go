// Package sealed is scmkit's one layout of a value encrypted with an AEAD
// (AES-GCM) and bound to associated data (its key, its purpose): a fresh
// random nonce followed by the ciphertext. The auth handler seals its
// state and session records with it, redisstore the secrets it shares.
package sealed

import (
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
