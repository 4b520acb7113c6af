package auth

import (
	"context"
	"time"
)

// Record is what a [SessionStore] keeps under a key: an opaque value and
// the version the store gave it. auth seals Data (AES-GCM under a key
// derived from the session secret, bound to the record's key) before it
// reaches the store, so a store, its replicas and its backups only ever
// see ciphertext: no access token, refresh token or profile.
type Record struct {
	// Data is the sealed value; the store keeps it byte for byte.
	Data []byte
	// Version is assigned by the store on every successful write, and
	// never reused for the same key, not even after a Delete or an
	// expiry: it increases strictly. Callers leave it zero when writing.
	Version int64
}

// Lease is a cluster-wide lock on a name, held until Expires, identified by
// its fencing token. Acquiring the same name again yields a strictly greater
// Fence, so a write conditioned on an old lease's Fence is refused even
// after that lease expired and another was granted.
type Lease struct {
	// Name is the locked name.
	Name string
	// Fence is the lease's fencing token, strictly increasing per name.
	Fence int64
	// Expires is when the store frees the lease even if it is not
	// released.
	Expires time.Time
}

// SessionStore keeps sealed session records with a time to live, for one
// process ([MemoryStore]) or a cluster of replicas (a Redis store). Every
// method must be safe for concurrent use, honour ctx, and give the same
// guarantees whether the callers share a process or not:
//
//   - Get returns the record most recently written under key, or an error
//     with code NotFound ([errcode.NotFound]) when there is none or its TTL
//     has passed.
//   - Put writes unconditionally and returns the new version.
//   - CompareAndSwap writes only if the key's current version is version,
//     atomically; it returns the new version, or an error with code
//     Conflict when the current version differs (or NotFound when the key
//     is gone). auth uses it to write a session only over the state it read.
//   - Delete removes key; deleting a missing key is not an error.
//   - Acquire takes the lease on name for ttl if nobody holds it, and
//     returns it with a fencing token greater than any given before for
//     name; when someone else holds it, it returns the error with code
//     Conflict at once (it does not wait). auth takes a lease per session
//     before refreshing its provider token, so that across all replicas
//     exactly one refreshes: the others wait, then read the new tokens.
//   - Release frees the lease if it is still the one held (same Fence);
//     releasing a lease that expired or was replaced is not an error.
//   - PutFenced writes like Put, but only while lease is still the
//     current, unexpired lease of its name: otherwise it writes nothing and
//     returns an error with code Conflict. The check and the write are one
//     atomic step. auth stores a rotated refresh token this way, so that a
//     replica whose lease ran out cannot overwrite a newer token.
//
// A ttl <= 0 means the record does not expire.
type SessionStore interface {
	Get(ctx context.Context, key string) (Record, error)
	Put(ctx context.Context, key string, data []byte, ttl time.Duration) (version int64, err error)
	CompareAndSwap(ctx context.Context, key string, version int64, data []byte, ttl time.Duration) (newVersion int64, err error)
	Delete(ctx context.Context, key string) error
	Acquire(ctx context.Context, name string, ttl time.Duration) (Lease, error)
	Release(ctx context.Context, lease Lease) error
	PutFenced(ctx context.Context, lease Lease, key string, data []byte, ttl time.Duration) (version int64, err error)
}
