package ldapauth

import (
	"context"
	"crypto/rand"
	"log/slog"
	"time"
)

// AttemptStore keeps the back-off's counts of sign-in attempts, so that
// the replicas of a service share them: with one store, a username gets
// Backoff.FreeAttempts failures across the whole fleet before its next
// attempt is delayed, not FreeAttempts on every replica. Set it as
// [Options.Attempts]; redisstore.Store.LDAPAttempts is one in Redis. With
// none, each Authenticator keeps the counts in its process.
//
// Keys are opaque strings naming the directory and a username (folded as
// the directory compares it) or a client address; a store that writes
// them somewhere should hash them. Times come from the Authenticator's
// clock, so the replicas' clocks should agree to within the delays.
//
// An AttemptStore must be safe for concurrent use, and each method's
// effect on one key atomic: guesses sent to several replicas at once are
// counted as from one.
type AttemptStore interface {
	// Begin records attempt (an id unique to this attempt, chosen by the
	// caller) under key at now, unless key is backing off under p: then
	// ok is false and retryAt says when to try again. A recorded attempt
	// counts as a failure until Fail or Finish, so that guesses sent
	// together cannot slip past the limit. A key that reaches p.Free
	// failures this way (attempts in flight) waits p.Base; once it has
	// p.Free failures, the first attempt after a delay is let through
	// alone: every other one is refused until its outcome. A Begin that
	// fails must leave attempt unrecorded, or take it back itself (its
	// answer may be lost after the store applied it): the caller calls
	// neither Fail nor Finish for it.
	Begin(ctx context.Context, key, attempt string, now time.Time, p BackoffPolicy) (retryAt time.Time, ok bool, err error)
	// Fail records that attempt, begun under key, failed: past p.Free
	// failures, key's next attempt waits p.Base, doubled for every
	// further failure, up to p.Max.
	Fail(ctx context.Context, key, attempt string, now time.Time, p BackoffPolicy) error
	// Finish ends attempt, begun under key, without a failure: with
	// reset, key starts afresh (a successful sign-in); without, the
	// attempt is taken back (the directory could not be reached, so the
	// user is not to blame).
	Finish(ctx context.Context, key, attempt string, reset bool) error
}

// BackoffPolicy is how one kind of key (usernames, client addresses)
// backs off: Free consecutive failures are free; then each attempt waits
// Base, doubled for every further failure, up to Max. A key with no
// attempt for 2 × Max, and no delay pending, starts afresh.
type BackoffPolicy struct {
	Free      int
	Base, Max time.Duration
	// InFlight is the longest a sign-in attempt can run: one still in
	// flight for longer (its replica died before Fail or Finish) no
	// longer counts. 0 means 10 minutes.
	InFlight time.Duration
}

// gate applies one back-off policy to one kind of key (usernames or client
// addresses), in the process or through an AttemptStore.
type gate struct {
	local *limiter     // without a store
	store AttemptStore // with one
	scope string       // the directory and the kind of key, before each key
	p     BackoffPolicy
	log   *slog.Logger
}

func newGate(store AttemptStore, scope string, p BackoffPolicy, log *slog.Logger) *gate {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &gate{store: store, scope: scope, p: p, log: log}
	if store == nil {
		g.local = newLimiter(p.Free, p.Base, p.Max)
	}
	return g
}

// begin records an attempt for key, unless it is backing off, and
// returns its id. A store that fails refuses the attempt (Unavailable): a
// sign-in never runs without the back-off.
func (g *gate) begin(ctx context.Context, key string, now time.Time) (attempt string, retryAt time.Time, ok bool, err error) {
	if g.local != nil {
		at, ok := g.local.begin(key, now)
		return "", at, ok, nil
	}
	attempt = rand.Text()
	at, ok, err := g.store.Begin(ctx, g.scope+key, attempt, now, g.p)
	return attempt, at, ok, err
}

// fail turns attempt, begun for key, into a failure. A store that fails
// leaves the attempt counted as a failure, as begun.
func (g *gate) fail(ctx context.Context, key, attempt string, now time.Time) {
	if g.local != nil {
		g.local.fail(key, now)
		return
	}
	if err := g.store.Fail(context.WithoutCancel(ctx), g.scope+key, attempt, now, g.p); err != nil {
		g.log.WarnContext(ctx, "ldapauth: recording a failed sign-in in the attempt store failed; it stays counted as an attempt", "err", err)
	}
}

// finish ends attempt, begun for key, without a failure: reset clears
// key, otherwise the attempt is taken back. A store that fails leaves the
// attempt counted as a failure.
func (g *gate) finish(ctx context.Context, key, attempt string, reset bool) {
	if g.local != nil {
		g.local.succeed(key, reset)
		return
	}
	if err := g.store.Finish(context.WithoutCancel(ctx), g.scope+key, attempt, reset); err != nil {
		g.log.WarnContext(ctx, "ldapauth: ending a sign-in attempt in the attempt store failed; it stays counted as a failure", "err", err)
	}
}
