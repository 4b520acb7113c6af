package org

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/schedfloor"
)

// Defaults of RunOptions.
const (
	DefaultPollInterval = 10 * time.Second
	DefaultMinBackoff   = 30 * time.Second
	DefaultMaxBackoff   = 15 * time.Minute
)

// MinFrequency is the shortest Schedule.Frequency (and
// RunOptions.MinBackoff) [Run] and [Schedule.UnmarshalJSON] accept. Each
// read of an organisation costs its provider's rate limit (a page of
// requests for a large one); Backstage sets no floor, but its scheduler
// looks for due global tasks every 5 seconds, so that a shorter frequency
// there runs no more often than that.
const MinFrequency = schedfloor.MinFrequency

// Source is one org reader that [Run] reads on its schedule.
type Source struct {
	// Name identifies the source in the log and, in a fleet, names its
	// lease and shared snapshot: unique within a Run, the same on every
	// replica, e.g. "githubOrg:production".
	Name string
	// Reader reads the organisation.
	Reader Reader
	// Schedule says when: a provider Config's Schedule, as decoded (nil
	// when the provider block has no schedule key, which Run refuses with
	// an error saying so). Frequency (at least [MinFrequency]) and Timeout
	// are required; Manual is refused.
	Schedule *Schedule
}

// RunOptions configures [Run]. Sources and Publish are required.
type RunOptions struct {
	// Sources are read each on its own schedule, and merged with [Merge]
	// in this order: list the provider you trust most first.
	Sources []Source
	// Publish receives the merged snapshot: once every source has been
	// read once, and again each time a source's read (this replica's or,
	// in a fleet, another's) gives a new snapshot. A source whose read
	// fails stays in the merge with its last good snapshot, and is read
	// again with backoff. Nothing is published before every source has a
	// snapshot: a merge without the source trusted most would hand its
	// entity names to the next one. Calls come one at a time, from Run's
	// goroutines; an error is logged, and the next snapshot published as
	// usual. To serve it: identity.LiveCatalog.Swap and
	// rbac.Live.SetMembership.
	Publish func(ctx context.Context, s *Snapshot) error
	// Shared, when set, makes the replicas of a fleet read each source
	// once per period between them (redisstore's Store.OrgSnapshots is
	// one). nil: this process reads every source itself. A source whose
	// Schedule.Scope is "local" is read by every replica all the same.
	// While Shared fails (Redis down), each replica reads on its own
	// schedule, as without it.
	Shared Shared
	// PollInterval bounds how long a replica takes to pick up a snapshot
	// another replica read, and to take over a read whose replica died
	// (after its claim, Schedule.Timeout plus a margin, ends); default
	// DefaultPollInterval. Each replica asks Shared at least once per
	// PollInterval (or per frequency, when shorter), whatever Shared says
	// of the next read's time: one Redis round trip, not a provider
	// request.
	PollInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait before reading again after
	// a failed read, doubling from MinBackoff (default 30s, at least
	// [MinFrequency]) to MaxBackoff (default 15 minutes), and never longer
	// than the frequency unless that is shorter than MinBackoff. A
	// rate-limited read is not retried before the time it was told to
	// retry at, up to the longer of MaxBackoff and the frequency.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives failed reads and publications; nil is silent.
	Logger *slog.Logger
}

// Shared is where the replicas of a fleet share their reads of a source:
// a claim that one replica holds while it reads, the time the next read
// is due, and the newest snapshot, encoded. Implementations keep one
// clock for the fleet (never a replica's), give each snapshot stored a
// version greater than every one before it (Run takes a snapshot only
// when its version is greater than the one it holds), and must make a
// snapshot that someone else wrote fail to decode.
//
// The scheduling state (when the next read is due, the claim) need not be
// protected from tampering, but must not be able to stop the fleet: a
// next read further away than Claim's maxDue is due now, and a claim that
// lasts longer than the lease asked for (or has no end) has lapsed.
type Shared interface {
	// Claim reports the shared state of source name and, when its read
	// is due and no replica holds the claim, gives this replica the claim
	// for lease. have is the version of the snapshot the caller last saw
	// (0: none); the snapshot is returned when the version stored differs.
	// maxDue is the furthest away the caller ever sets the next read: one
	// recorded further away was not set by Run, and the read is due now.
	Claim(ctx context.Context, name string, have int64, lease, maxDue time.Duration) (Claim, error)
	// Done ends the claim c: it stores snapshot (nil when the read
	// failed) as a new version, records failures (consecutive failed
	// reads) and that the next read is due next from now, and frees the
	// claim. It returns the version stored, and a Conflict error, storing
	// nothing, when the claim was lost (it lapsed, whether or not another
	// replica took it since).
	Done(ctx context.Context, c Claim, snapshot []byte, next time.Duration, failures int) (version int64, err error)
}

// Claim is a source's shared state as [Shared.Claim] found it.
type Claim struct {
	// Name is the source's name, as given to Claim.
	Name string
	// Token is non-zero when this replica holds the claim: it reads now,
	// and ends the claim with Done.
	Token int64
	// Version is the version of the newest snapshot stored (0: none), and
	// Snapshot that snapshot when Version differs from the caller's.
	Version  int64
	Snapshot []byte
	// Due is the time until the next read is due (at most maxDue); 0 when
	// it is due now.
	Due time.Duration
	// Held is the time left on another replica's claim (at most the
	// lease); 0 when none.
	Held time.Duration
	// Failures counts the consecutive failed reads recorded.
	Failures int
}

// leaseMargin is how much longer than Schedule.Timeout a claim lasts, for
// storing the snapshot after the read.
const leaseMargin = 15 * time.Second

// Run reads opts.Sources on their schedules and hands each merged snapshot
// to opts.Publish, until ctx is cancelled. Each source is first read after
// its Schedule.InitialDelay, then Schedule.Frequency after the start of
// each read, plus up to a tenth of the frequency (at most a minute) at
// random, so that the sources and replicas that start together do not
// stay in step. Each read
// is bounded by Schedule.Timeout. With opts.Shared, one replica reads a
// source per period, and the others take its snapshot from Shared (within
// PollInterval of its storing) without asking the provider. Snapshots
// from Shared are ordered by the version Shared gives them, never by a
// replica's clock. A replica that cannot open the fleet's newest snapshot
// of a source (sealed under an encryption key it lacks, during a key
// rotation, say) reads that source itself on its own schedule, at once
// when it holds nothing of it, logging at Error, until a snapshot it can
// open is stored. A replica that sees no snapshot stored for longer than
// the fleet's reads can take (twice the longest wait, plus the timeout),
// whatever Shared says of the next read and of the claim, reads alone
// once per such time: Shared's scheduling state can delay reads, but not
// stop them.
//
// Run returns an InvalidArgument *errcode.Error for invalid options before
// reading anything, and nil when ctx is cancelled, once every goroutine it
// started has ended.
func Run(ctx context.Context, opts RunOptions) error {
	const op = "org.Run"
	if opts.Publish == nil {
		return errcode.New(errcode.InvalidArgument, op, "RunOptions.Publish is required")
	}
	if len(opts.Sources) == 0 {
		return errcode.New(errcode.InvalidArgument, op, "RunOptions.Sources is empty")
	}
	floor := schedfloor.Of(ctx)
	seen := map[string]bool{}
	for i, s := range opts.Sources {
		switch {
		case s.Name == "":
			return errcode.Newf(errcode.InvalidArgument, op, "Sources[%d]: Name is required", i)
		case seen[s.Name]:
			return errcode.Newf(errcode.InvalidArgument, op, "Sources[%d]: name %q is used twice", i, s.Name)
		case s.Reader == nil:
			return errcode.Newf(errcode.InvalidArgument, op, "source %q: Reader is required", s.Name)
		case s.Schedule == nil:
			return errcode.Newf(errcode.InvalidArgument, op, "source %q has no schedule (its provider block has no schedule key): "+
				"give one, e.g. schedule: {frequency: {minutes: 30}, timeout: {minutes: 3}}", s.Name)
		case s.Schedule.Manual:
			return errcode.Newf(errcode.InvalidArgument, op, "source %q: schedule.frequency is {trigger: manual}, which Run has no trigger for: give an interval", s.Name)
		case s.Schedule.Frequency <= 0 || s.Schedule.Timeout <= 0:
			return errcode.Newf(errcode.InvalidArgument, op, "source %q: schedule.frequency and schedule.timeout must be positive", s.Name)
		case s.Schedule.Frequency < floor:
			return errcode.Newf(errcode.InvalidArgument, op, "source %q: schedule.frequency %v is shorter than %v: each read costs the provider's rate limit", s.Name, s.Schedule.Frequency, floor)
		}
		seen[s.Name] = true
	}
	if opts.MinBackoff > 0 && opts.MinBackoff < floor {
		return errcode.Newf(errcode.InvalidArgument, op, "RunOptions.MinBackoff %v is shorter than %v", opts.MinBackoff, floor)
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	r := &runner{opts: opts, latest: make([]*Snapshot, len(opts.Sources))}
	var wg sync.WaitGroup
	for i := range opts.Sources {
		wg.Go(func() { r.source(ctx, i) })
	}
	wg.Wait()
	return nil
}

type runner struct {
	opts RunOptions

	mu     sync.Mutex  // guards latest and serialises Publish
	latest []*Snapshot // each source's last good snapshot, by index
}

// sourceState is one source's loop state, owned by its goroutine.
type sourceState struct {
	i        int
	src      Source
	sch      Schedule  // *src.Schedule
	seen     int64     // the version Shared last reported (not sent again)
	newest   int64     // the greatest version taken or stored: older ones are refused
	foreign  bool      // the fleet's newest snapshot does not open here: read alone
	heldAt   time.Time // when this replica got the snapshot it holds
	progress time.Time // when this replica last read, took or stored a snapshot
	next     time.Time // when this replica reads, when it reads alone
	failures int       // consecutive failed reads, when it reads alone
	degraded bool      // Shared failed last time (logged once)
}

// envelope is a snapshot as shared (sealed whole by Shared).
type envelope struct {
	Source   string   `json:"source,omitempty"`
	Users    []User   `json:"users"`
	Groups   []Group  `json:"groups"`
	Warnings []string `json:"warnings,omitempty"`
}

func (r *runner) source(ctx context.Context, i int) {
	st := &sourceState{i: i, src: r.opts.Sources[i], sch: *r.opts.Sources[i].Schedule}
	sch := st.sch
	shared := r.opts.Shared
	if sch.Scope == ScopeLocal {
		shared = nil
	}
	if !sleep(ctx, jitter(sch.InitialDelay)) {
		return
	}
	st.next = time.Now()
	st.progress = st.next
	for {
		var wait time.Duration
		if shared != nil {
			var ok bool
			wait, ok = r.fleetStep(ctx, st, shared)
			if !ok {
				wait = r.aloneStep(ctx, st, r.poll(st))
			}
		} else {
			wait = r.aloneStep(ctx, st, 0)
		}
		if !sleep(ctx, max(wait, time.Millisecond)) {
			return
		}
	}
}

// aloneStep reads when this replica's own schedule says so; poll, when
// positive, caps the wait (to ask Shared again).
func (r *runner) aloneStep(ctx context.Context, st *sourceState, poll time.Duration) time.Duration {
	now := time.Now()
	if now.Before(st.next) {
		return capWait(st.next.Sub(now), poll)
	}
	snap, err := r.read(ctx, st)
	if ctx.Err() != nil {
		return 0
	}
	if err != nil {
		st.failures++
		st.next = time.Now().Add(r.backoff(st, st.failures, err))
	} else {
		st.failures = 0
		st.next = now.Add(jitter(st.sch.Frequency))
		st.heldAt = now
		r.publish(ctx, st.i, snap)
	}
	st.progress = time.Now()
	return capWait(time.Until(st.next), poll)
}

// fleetStep asks Shared, takes a snapshot another replica stored, and
// reads when this replica holds the claim. ok is false when Shared
// failed: the caller then reads alone.
func (r *runner) fleetStep(ctx context.Context, st *sourceState, shared Shared) (wait time.Duration, ok bool) {
	sch := st.sch
	maxDue := r.maxDue(st)
	c, err := shared.Claim(ctx, st.src.Name, st.seen, sch.Timeout+leaseMargin, maxDue)
	if err != nil {
		if ctx.Err() == nil && !st.degraded {
			r.log(ctx, slog.LevelWarn, "org.Run: the fleet's shared state is unavailable; reading alone until it is back", st, slog.Any("error", err))
		}
		st.degraded = true
		return 0, false
	}
	if st.degraded {
		r.log(ctx, slog.LevelInfo, "org.Run: the fleet's shared state is back", st)
		st.degraded = false
	}
	if c.Version != st.seen {
		st.seen = c.Version // not sent again
		if c.Version > st.newest {
			if r.take(ctx, st, c) {
				st.newest, st.foreign = c.Version, false
			} else if !st.foreign {
				r.goForeign(ctx, st, c.Version)
			}
		}
		// An older version (put back by hand, say) is refused: the
		// replica holds a newer one.
	}
	poll := r.poll(st)
	if c.Token == 0 {
		if st.foreign {
			return r.aloneStep(ctx, st, poll), true
		}
		if stall := 2*maxDue + sch.Timeout; time.Since(st.progress) > stall {
			// However Shared's scheduling state was set, no replica stored
			// a snapshot in the time the fleet's reads take at most: read
			// alone, once per stall, storing nothing.
			r.log(ctx, slog.LevelWarn, "org.Run: the fleet stored no snapshot of this source for longer than its reads take; reading it alone", st,
				slog.Duration("since", time.Since(st.progress)))
			r.readAlone(ctx, st)
			return poll, true
		}
		// When the fleet would read next, should Shared fail.
		due := min(max(c.Due, 0), maxDue)
		st.next = time.Now().Add(due)
		if c.Held > 0 {
			return min(poll, c.Held+10*time.Millisecond), true
		}
		// Not at once, all together: the first to ask reads.
		return min(poll, due+10*time.Millisecond+rand.N(min(r.opts.PollInterval, 100*time.Millisecond)+1)), true
	}
	start := time.Now()
	snap, rerr := r.read(ctx, st)
	if ctx.Err() != nil {
		return 0, true // the claim lapses by itself
	}
	var body []byte
	var next time.Duration
	failures := 0
	if rerr != nil {
		failures = c.Failures + 1
		next = r.backoff(st, failures, rerr)
	} else {
		next = max(jitter(sch.Frequency)-time.Since(start), 0)
		body, err = json.Marshal(envelope{Source: snap.Source, Users: snap.Users, Groups: snap.Groups, Warnings: snap.Warnings})
		if err != nil {
			r.log(ctx, slog.LevelError, "org.Run: the snapshot cannot be encoded", st, slog.Any("error", err))
			body = nil
		}
	}
	st.progress = time.Now()
	v, derr := shared.Done(ctx, c, body, next, failures)
	if rerr == nil {
		if derr == nil && body != nil {
			st.seen, st.newest, st.foreign = v, max(st.newest, v), false
		} else if derr != nil && ctx.Err() == nil {
			r.log(ctx, slog.LevelWarn, "org.Run: the snapshot read was not shared", st, slog.Any("error", derr))
		}
		st.heldAt = start
		r.publish(ctx, st.i, snap)
	}
	st.next = time.Now().Add(next)
	if st.foreign {
		// Nothing of this replica's was stored: its own schedule stands.
		st.failures = failures
	}
	return min(next, poll), true
}

// goForeign makes the source read alone while the fleet's newest snapshot
// does not open here: at once when this replica holds nothing of it
// (serving nothing fails every sign-in and permission check closed), else
// a frequency after it got what it holds.
func (r *runner) goForeign(ctx context.Context, st *sourceState, version int64) {
	st.foreign = true
	r.mu.Lock()
	holds := r.latest[st.i] != nil
	r.mu.Unlock()
	st.failures = 0
	if holds {
		st.next = st.heldAt.Add(jitter(st.sch.Frequency))
	} else {
		st.next = time.Now()
	}
	r.log(ctx, slog.LevelError, "org.Run: the fleet's newest snapshot does not open on this replica (another encryption key?); "+
		"it reads the source itself until one that opens is stored", st, slog.Int64("version", version), slog.Bool("holds_snapshot", holds))
}

// take decodes a snapshot another replica stored, and publishes it; false
// when there is none this replica can open, decode and trust.
func (r *runner) take(ctx context.Context, st *sourceState, c Claim) bool {
	if c.Snapshot == nil {
		return false // Shared could not open it (and said so)
	}
	var e envelope
	if err := json.Unmarshal(c.Snapshot, &e); err != nil {
		r.log(ctx, slog.LevelError, "org.Run: the shared snapshot does not decode; left out", st, slog.Int64("version", c.Version), slog.Any("error", err))
		return false
	}
	s := &Snapshot{Source: e.Source, Users: e.Users, Groups: e.Groups, Warnings: e.Warnings}
	if s.Source == "" {
		s.Source = st.src.Name
	}
	s.Sort()
	if err := s.Validate(); err != nil {
		r.log(ctx, slog.LevelError, "org.Run: the shared snapshot is not valid; left out", st, slog.Int64("version", c.Version), slog.Any("error", err))
		return false
	}
	st.heldAt, st.progress = time.Now(), time.Now()
	r.publish(ctx, st.i, s)
	return true
}

// readAlone reads the source once and publishes what it read, storing
// nothing in Shared.
func (r *runner) readAlone(ctx context.Context, st *sourceState) {
	snap, err := r.read(ctx, st)
	st.progress = time.Now()
	if err == nil {
		st.heldAt = st.progress
		r.publish(ctx, st.i, snap)
	}
}

// poll is the longest a fleet replica waits before asking Shared again.
func (r *runner) poll(st *sourceState) time.Duration {
	return min(r.opts.PollInterval, st.sch.Frequency)
}

// longest is the longest wait Run sets before a source's next read: the
// frequency, a backoff, or a provider's retry time, before jitter.
func (r *runner) longest(st *sourceState) time.Duration {
	return max(st.sch.Frequency, r.opts.MaxBackoff)
}

// maxDue is the furthest away Run ever sets a source's next read (the
// longest wait plus its jitter, and a second for the time Done takes):
// one further away in Shared was not set by Run.
func (r *runner) maxDue(st *sourceState) time.Duration {
	l := r.longest(st)
	return l + min(l/10, time.Minute) + time.Second
}

// read reads the source once, bounded by its timeout.
func (r *runner) read(ctx context.Context, st *sourceState) (*Snapshot, error) {
	rctx, cancel := context.WithTimeout(ctx, st.sch.Timeout)
	defer cancel()
	start := time.Now()
	snap, err := st.src.Reader.Read(rctx)
	if err == nil && snap == nil {
		err = errcode.New(errcode.Unknown, "org.Run", "the reader returned no snapshot and no error")
	}
	if err != nil {
		if ctx.Err() == nil {
			r.log(ctx, slog.LevelWarn, "org.Run: read failed; the last good snapshot stays", st, slog.Any("error", err), slog.Duration("took", time.Since(start)))
		}
		return nil, err
	}
	r.log(ctx, slog.LevelDebug, "org.Run: read", st, slog.Int("users", len(snap.Users)), slog.Int("groups", len(snap.Groups)), slog.Duration("took", time.Since(start)))
	return snap, nil
}

// publish records source i's snapshot and, once every source has one,
// publishes their merge.
func (r *runner) publish(ctx context.Context, i int, s *Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latest[i] = s
	for _, l := range r.latest {
		if l == nil {
			return
		}
	}
	m := r.latest[0]
	if len(r.latest) > 1 {
		m = Merge(r.latest...)
	}
	if err := r.opts.Publish(ctx, m); err != nil && ctx.Err() == nil {
		r.log(ctx, slog.LevelError, "org.Run: publishing the snapshot failed", &sourceState{src: r.opts.Sources[i]}, slog.Any("error", err))
	}
}

// backoff is the wait after the failures-th failed read in a row.
func (r *runner) backoff(st *sourceState, failures int, err error) time.Duration {
	d := r.opts.MinBackoff
	for n := 1; n < failures && d < r.opts.MaxBackoff; n++ {
		d *= 2
	}
	d = min(d, r.opts.MaxBackoff, max(st.sch.Frequency, r.opts.MinBackoff))
	if at, ok := errcode.RetryAt(err); ok {
		d = max(d, min(time.Until(at), r.longest(st)))
	}
	return jitter(d)
}

func (r *runner) log(ctx context.Context, level slog.Level, msg string, st *sourceState, attrs ...slog.Attr) {
	if r.opts.Logger == nil {
		return
	}
	r.opts.Logger.LogAttrs(ctx, level, msg, append([]slog.Attr{slog.String("source", st.src.Name)}, attrs...)...)
}

// jitter returns d plus up to a tenth of it, at most a minute, at random
// (up to 100ms for d = 0).
func jitter(d time.Duration) time.Duration {
	j := min(d/10, time.Minute)
	if d == 0 {
		j = 100 * time.Millisecond
	}
	return d + rand.N(j+1)
}

func capWait(d, poll time.Duration) time.Duration {
	if poll > 0 {
		return min(d, poll)
	}
	return d
}

// sleep waits d, and reports false when ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
