package identity

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// StoredKey is a public key published by an [Issuer]: its JWK (kid,
// curve, coordinates, alg), when it was made, and until when it is
// published. It holds no secret; the private key never leaves the Issuer
// that made it.
type StoredKey struct {
	Key     JWK       `json:"key"`
	Created time.Time `json:"created"`
	// Expires is when the key stops being published: Created plus 3 ×
	// the token lifetime of the Issuer that made it, so that replicas
	// with other lifetimes keep it as long as its tokens live. Zero (a
	// key stored without it) means Created plus 3 × the reading Issuer's
	// lifetime.
	Expires time.Time `json:"expires,omitzero"`
}

// KeyStore is where the Issuers of a fleet publish their public keys,
// Backstage's auth.keyStore: each replica signs with a private key of its
// own, kept in its memory, and publishes the public half here before the
// first token it signs is handed out; the JWKS of every replica lists
// every key in the store, so a verifier reading any replica's JWKS URL
// accepts the tokens of all of them. Keys are removed by the Issuers
// once they expire (StoredKey.Expires).
//
// Removing a key from the store does not revoke it while the replica that
// made it runs: that replica writes it back, as after a store that lost
// its data. Restart the replicas that may hold it first, then remove it,
// then restart them again (see [Issuer]).
//
// The store decides who can verify tokens: a key planted in it is served
// as the issuer's, and lets whoever holds its private half forge tokens.
// Keep it writable by the portal's replicas only.
//
// [NewMemoryKeyStore] is the one-process store, the default;
// redisstore's Store.IssuerKeys shares keys through Redis.
type KeyStore interface {
	// AddKey publishes k, replacing any key with the same kid. It is
	// called once per key, before the key signs anything; an error means
	// the key may not be visible to other replicas, so the Issuer does
	// not use it. It is safe for concurrent use, and returns an
	// *errcode.Error (Unavailable when the store cannot be reached) or
	// the context's error.
	AddKey(ctx context.Context, k StoredKey) error
	// ListKeys returns every published key, expired or not, in any
	// order; entries that do not parse or cannot be trusted are left out.
	// It is safe for concurrent use, and returns an *errcode.Error
	// (Unavailable when the store cannot be reached) or the context's
	// error.
	ListKeys(ctx context.Context) ([]StoredKey, error)
	// RemoveKeys removes the keys with the given kids; unknown kids are
	// ignored, and no kids is a no-op. It is safe for concurrent use,
	// and returns an *errcode.Error (Unavailable when the store cannot be
	// reached) or the context's error.
	RemoveKeys(ctx context.Context, kids []string) error
}

// MemoryKeyStore is a [KeyStore] in process memory: the keys of the
// Issuers of one process. It is the default of IssuerOptions.KeyStore.
// It is safe for concurrent use; its methods fail only when the context
// is done.
type MemoryKeyStore struct {
	mu   sync.Mutex
	keys []StoredKey // in the order added
}

var _ KeyStore = (*MemoryKeyStore)(nil)

// NewMemoryKeyStore returns an empty MemoryKeyStore.
func NewMemoryKeyStore() *MemoryKeyStore { return &MemoryKeyStore{} }

// AddKey stores k, replacing the key with the same kid if there is one.
func (m *MemoryKeyStore) AddKey(ctx context.Context, k StoredKey) error {
	if err := errcode.FromContext(ctx, "identity.MemoryKeyStore.AddKey"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = slices.DeleteFunc(m.keys, func(s StoredKey) bool { return s.Key.Kid == k.Key.Kid })
	m.keys = append(m.keys, k)
	return nil
}

// ListKeys returns a copy of the stored keys, in the order they were
// added.
func (m *MemoryKeyStore) ListKeys(ctx context.Context) ([]StoredKey, error) {
	if err := errcode.FromContext(ctx, "identity.MemoryKeyStore.ListKeys"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.keys), nil
}

// RemoveKeys removes the keys with the given kids.
func (m *MemoryKeyStore) RemoveKeys(ctx context.Context, kids []string) error {
	if err := errcode.FromContext(ctx, "identity.MemoryKeyStore.RemoveKeys"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = slices.DeleteFunc(m.keys, func(s StoredKey) bool { return slices.Contains(kids, s.Key.Kid) })
	return nil
}
