// Package redisstore shares scmkit's state between the replicas of a
// developer-portal backend through Redis (github.com/redis/go-redis/v9):
// app credentials (GitHub App installations and installation tokens,
// Bitbucket Cloud OAuth consumer tokens), sign-in sessions, the ETag and
// content cache of ReadFile, and rate-limit budgets. It lives in its own
// package so that an embedder who does not use Redis never imports it; a
// single process needs none of it: every one of these stores has an
// in-memory default (for ReadFile and repository listings,
// scm.MemoryFileCache and scm.MemoryPageCache), except the rate-limit
// budget, which is off unless scm.Options.RateBudget is set.
//
// # What it guarantees
//
//   - One fetch per fact for the whole fleet: on a miss, one replica takes
//     a short lease on the key (Redis SET NX PX with a fencing token taken
//     from Redis's clock), fetches, and writes the value before releasing
//     the lease; the others wait for that value. A replica that dies
//     holding the lease delays the others by at most the lease's TTL
//     (10s by default), after which one of them takes the lease over.
//   - Fenced writes: a value is written only under a fencing token at least
//     as new as the one that wrote what is there, so a replica that comes
//     back late cannot overwrite a newer token.
//   - Secrets encrypted at rest: installation tokens, OAuth tokens and
//     cached file contents are sealed with AES-256-GCM under the key from
//     backend.cache.encryptionKey, bound to their Redis key. Sessions
//     arrive sealed by auth.
//   - Caches never need Redis for a right answer: when it is down at
//     start, goes down, is slow (every command is bounded, 200ms by
//     default) or is flushed, callers of the credential, file, page and
//     budget stores fetch from the provider as they would without it
//     (more requests, same answers). The store logs once (only with a
//     Logger) and stops asking Redis for a growing pause, and sharing
//     resumes by itself when Redis is back. A command that Redis refuses
//     while up (OOM when its memory is full, READONLY from a primary
//     demoted by a failover) fails alone, saying why, and pauses nothing:
//     reads go on. [Store] says which maxmemory-policy the store needs.
//     The stores of state that is not a cache say below what they do
//     without Redis.
//
// # Wiring
//
// [FromConfig] reads the backend.cache block; [Store] then plugs into
// credentials.ResolverOptions.Shared, auth's Options.Store (through
// [Store.Sessions]) and scm.Options (FileCache through [Store.Files],
// PageCache through [Store.Pages], RateBudget through [Store.Budget]),
// and webhook.Options.Deliveries through [Store.Deliveries], so that a
// redelivered event is handled once across the replicas.
// FromConfig returns a nil *Store (and no error) when backend.cache is
// absent or says store: memory, so check for nil before wiring it.
//
// Give every replica's identity.Issuer the same key store,
// IssuerOptions.KeyStore = [Store.IssuerKeys], so that any replica's JWKS
// lists every replica's public keys and verifies every replica's tokens
// (and, when the tokens carry no ent, IssuerOptions.UserInfo =
// [Store.UserInfo], so that any replica's user info endpoint serves the
// ownership refs of a token another replica issued), and every replica's LDAP authenticator the same attempt counts,
// ldapauth.Options.Attempts = [Store.LDAPAttempts], so that a username
// gets backoff.freeAttempts failed sign-ins across the fleet before a
// delay, not that many on each replica.
//
// # Without Redis
//
// The stores of state that is not a cache do this while Redis is down:
// sessions are served from, and written to, a mirror in each replica,
// pushed to Redis when it is back ([Store.Sessions]); the issuer keys
// fail, and the Issuer signs with its previous key for a while, then
// issues nothing ([Store.IssuerKeys]); webhook deliveries fail, and the
// receiver answers the provider an error, so that it redelivers later
// ([Store.Deliveries]); the LDAP attempt counts fail, and the sign-in is
// refused as Unavailable rather than run without the back-off
// ([Store.LDAPAttempts]).
package redisstore
