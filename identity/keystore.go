package identity

import (
	"context"
	"maps"
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
	// Revoked marks a kid revoked with [KeyStore.RevokeKeys]: ListKeys
	// lists it so that every replica stops serving and signing with
	// it. Such an entry has only Key.Kid, and Expires, the end of the
	// revocation.
	Revoked bool `json:"revoked,omitzero"`
}

// RevocationPeriod is how long a kid stays revoked in a [KeyStore]: 3 ×
// [MaxLifetime], the longest any key is published, so that a revoked key
// expires before its revocation does.
const RevocationPeriod = 3 * MaxLifetime

// KeyStore is where the Issuers of a fleet publish their public keys,
// Backstage's auth.keyStore: each replica signs with a private key of its
// own, kept in its memory, and publishes the public half here before the
// first token it signs is handed out; the JWKS of every replica lists
// every key in the store, so a verifier reading any replica's JWKS URL
// accepts the tokens of all of them. Keys are removed by the Issuers
// once they expire (StoredKey.Expires).
//
// Removing a key from the store (RemoveKeys) does not revoke it while the
// replica that made it runs: that replica writes it back, as after a store
// that lost its data. RevokeKeys does: the store refuses the kid from then
// on and tells every replica so (see [Issuer.Revoke]).
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
	// RemoveKeys removes the keys with the given kids, never a revocation
	// (RevokeKeys) that has not ended; unknown kids are ignored, and no
	// kids is a no-op. It is safe for concurrent use,
	// and returns an *errcode.Error (Unavailable when the store cannot be
	// reached) or the context's error.
	RemoveKeys(ctx context.Context, kids []string) error
	// RevokeKeys removes the keys with the given kids and refuses them
	// until the time until (zero means [RevocationPeriod] from now; it is
	// never more than that, and a time already past revokes nothing;
	// revoking a kid again sets its end again): meanwhile AddKey of a
	// revoked kid fails with Conflict, and ListKeys lists each revoked
	// kid as a StoredKey with Revoked set and Expires its end. Revoking a kid the store does not hold (yet, or
	// any more) revokes it all the same; no kids is a no-op. It is safe
	// for concurrent use, atomic with AddKey (a key added concurrently
	// is revoked or refused, never published after the revocation), and
	// returns an *errcode.Error (Unavailable when the store cannot be
	// reached) or the context's error.
	RevokeKeys(ctx context.Context, kids []string, until time.Time) error
}

// revocationEnd is the end of a revocation asked to last until until (see
// KeyStore.RevokeKeys), at now; ok is false when it has already ended.
func revocationEnd(until, now time.Time) (end time.Time, ok bool) {
	limit := now.Add(RevocationPeriod)
	if until.IsZero() || until.After(limit) {
		return limit, true
	}
	return until, until.After(now)
}

// MemoryKeyStore is a [KeyStore] in process memory: the keys of the
// Issuers of one process. It is the default of IssuerOptions.KeyStore.
// It is safe for concurrent use; its methods fail only when the context
// is done.
type MemoryKeyStore struct {
	mu      sync.Mutex
	keys    []StoredKey          // in the order added
	revoked map[string]time.Time // kid → end of its revocation
	now     func() time.Time     // time.Now; tests set it
}

var _ KeyStore = (*MemoryKeyStore)(nil)

// NewMemoryKeyStore returns an empty MemoryKeyStore.
func NewMemoryKeyStore() *MemoryKeyStore { return &MemoryKeyStore{} }

// AddKey stores k, replacing the key with the same kid if there is one.
// A revoked kid is Conflict; k with Revoked set is InvalidArgument.
func (m *MemoryKeyStore) AddKey(ctx context.Context, k StoredKey) error {
	const op = "identity.MemoryKeyStore.AddKey"
	if err := errcode.FromContext(ctx, op); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if k.Revoked {
		return errcode.New(errcode.InvalidArgument, op, "a revocation is not a key to add; use RevokeKeys")
	}
	if m.isRevoked(k.Key.Kid) {
		return errcode.New(errcode.Conflict, op, "the key was revoked")
	}
	m.keys = slices.DeleteFunc(m.keys, func(s StoredKey) bool { return s.Key.Kid == k.Key.Kid })
	m.keys = append(m.keys, k)
	return nil
}

// ListKeys returns a copy of the stored keys, in the order they were
// added, then the revoked kids, in kid order.
func (m *MemoryKeyStore) ListKeys(ctx context.Context) ([]StoredKey, error) {
	if err := errcode.FromContext(ctx, "identity.MemoryKeyStore.ListKeys"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.keys)
	for _, kid := range slices.Sorted(maps.Keys(m.revoked)) {
		if m.isRevoked(kid) {
			out = append(out, StoredKey{Key: JWK{Kid: kid}, Expires: m.revoked[kid], Revoked: true})
		}
	}
	return out, nil
}

// isRevoked reports whether kid is revoked, and forgets revocations that
// have ended. m.mu must be held.
func (m *MemoryKeyStore) isRevoked(kid string) bool {
	end, ok := m.revoked[kid]
	if ok && !m.clock().Before(end) {
		delete(m.revoked, kid)
		return false
	}
	return ok
}

func (m *MemoryKeyStore) clock() time.Time {
	if m.now != nil {
		return m.now()
	}
	return time.Now()
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

// RevokeKeys removes the keys with the given kids and refuses them until
// until (see [KeyStore]).
func (m *MemoryKeyStore) RevokeKeys(ctx context.Context, kids []string, until time.Time) error {
	if err := errcode.FromContext(ctx, "identity.MemoryKeyStore.RevokeKeys"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	end, ok := revocationEnd(until, m.clock())
	if len(kids) == 0 || !ok {
		return nil
	}
	m.keys = slices.DeleteFunc(m.keys, func(s StoredKey) bool { return slices.Contains(kids, s.Key.Kid) })
	if m.revoked == nil {
		m.revoked = map[string]time.Time{}
	}
	for _, kid := range kids {
		m.revoked[kid] = end
	}
	// Revocations that ended are forgotten here too, so that a store
	// that is revoked into but never listed stays bounded.
	maps.DeleteFunc(m.revoked, func(_ string, e time.Time) bool { return !m.clock().Before(e) })
	return nil
}
