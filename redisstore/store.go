package redisstore

import (
	"context"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/redact"
	"github.com/scmkit/scmkit/internal/sealed"
)

// Defaults of [Options].
const (
	// DefaultPrefix starts every key the store writes.
	DefaultPrefix = "scmkit:"
	// DefaultTimeout bounds every Redis command: a slower Redis is
	// treated as down.
	DefaultTimeout = 200 * time.Millisecond
	// DefaultRetryAfter is how long the store stops asking a Redis that
	// failed before it tries again; it doubles on every further failure
	// up to MaxRetryAfter.
	DefaultRetryAfter = 500 * time.Millisecond
	// MaxRetryAfter caps the pause after repeated failures.
	MaxRetryAfter = 15 * time.Second
)

// Options tunes a [Store]. A nil *Options gives the defaults, without an
// encryption key.
type Options struct {
	// Prefix starts every key; default DefaultPrefix. Give each
	// deployment sharing one Redis its own.
	Prefix string
	// EncryptionKey is the AES-256 key (32 bytes) that seals secret
	// values (installation and OAuth tokens, cached file contents) with
	// AES-GCM before they reach Redis. With one, every value the store
	// writes is sealed, and a value read unsealed is refused (a miss,
	// logged to Logger): only a holder of the key can put values in the
	// caches. Sealing binds a value to its Redis key, not to a version:
	// whoever can write to Redis can still put back an older value it
	// copied (an older session record over a sign-out's tombstone, say),
	// so Redis must be writable by the portal's replicas only.
	// Without one, the store refuses secret values, so they are cached
	// per process only. Sessions are sealed by auth before they reach the
	// store.
	EncryptionKey []byte
	// PreviousEncryptionKeys are keys used before EncryptionKey, newest
	// first (backend.cache.previousEncryptionKeys): they only open values,
	// never seal them, so that the key can be rotated without making
	// every cached value unreadable at once. A value opened under one is
	// used as it is and stays sealed under it in Redis until it is written
	// again, under EncryptionKey: a cached token when it is next fetched
	// (installation tokens at the latest when they expire, within an
	// hour), a cached file or page when it is next put or its TTL ends.
	// Once a key is dropped from the list, the values still sealed under
	// it are misses, fetched again from the provider. At most 4, each 32
	// bytes, none equal to EncryptionKey or listed twice, and only with
	// an EncryptionKey; otherwise [New] fails with InvalidArgument.
	// Printing or logging Options never shows a key.
	//
	// To rotate across replicas without any replica meeting a value it
	// cannot open: first deploy everywhere the new key as a previous one
	// (EncryptionKey: old, PreviousEncryptionKeys: [new]), then swap them,
	// then drop the old key once the cache TTLs have passed.
	PreviousEncryptionKeys [][]byte
	// Timeout bounds each Redis command; default DefaultTimeout. It is
	// applied through the command's context: a client given to [New]
	// should have ContextTimeoutEnabled set (clients from [Open] do).
	Timeout time.Duration
	// RetryAfter is the first pause after a failure; default
	// DefaultRetryAfter.
	RetryAfter time.Duration
	// Logger, if set, receives one Warn record when Redis becomes
	// unreachable and one Info record when it is back, a Warn record
	// when Redis refuses a command while up (OOM, READONLY, ...: the
	// first of each kind, then at most one a minute of that kind), and a
	// Warn record for every unsealed value refused (see EncryptionKey);
	// nil means silent.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// String describes the options without any key: each key shows as
// [redacted].
func (o Options) String() string {
	prev := make([]string, len(o.PreviousEncryptionKeys))
	for i, k := range o.PreviousEncryptionKeys {
		prev[i] = strconv.Quote(redact.Of(string(k)))
	}
	return fmt.Sprintf("redisstore.Options{Prefix: %q, EncryptionKey: %q, PreviousEncryptionKeys: [%s], Timeout: %v}",
		o.Prefix, redact.Of(string(o.EncryptionKey)), strings.Join(prev, ", "), o.Timeout)
}

// GoString is String: the options without any key.
func (o Options) GoString() string { return o.String() }

// Format prints String under every verb, so that no verb shows a key.
func (o Options) Format(f fmt.State, verb rune) { redact.Format(f, verb, o.String(), o.GoString()) }

// LogValue describes the options in log/slog output without any key.
func (o Options) LogValue() slog.Value { return slog.StringValue(o.String()) }

// MarshalJSON gives String as a JSON string: the options without any key.
func (o Options) MarshalJSON() ([]byte, error) { return json.Marshal(o.String()) }

// Store is the Redis-backed shared state of a fleet of replicas: it
// implements credentials.SharedStore (app credential caches), and gives
// an auth.SessionStore ([Store.Sessions]), a scm.FileCache
// ([Store.Files]) and a rate-limit budget ([Store.Budget]). It is safe for
// concurrent use.
//
// A nil *Store ([FromConfig]'s answer without Redis) is safe to use: its
// methods, and those of what its accessors return, fail with Unavailable
// ("no Redis store") and never panic; Close does nothing. Options fields
// of scmkit that take a store treat a nil *Store as no store.
//
// Every operation is bounded by Options.Timeout. When Redis does not
// answer (down, slow, a reset connection) or answers every command with an
// error (LOADING, BUSY, MASTERDOWN, a wrong password, protected mode), the
// operation fails with an Unavailable *errcode.Error, the store logs once,
// and for a short, growing pause every operation fails at once without
// asking Redis, so that callers (which then work without the store) do not
// wait on a dead server; the first success logs once that Redis is back.
//
// A command that Redis refuses while it serves others fails alone and
// pauses nothing: its error says "Redis refused", with Redis's reason and
// what to do about it, and wraps Redis's reply (redis.IsOOMError and the
// like tell it; for the replies that Redis before 7 wraps in a script's
// error, redis.HasErrorPrefix does). Refusals that a later try may get
// past are Unavailable: OOM (memory full), READONLY (a primary demoted by
// a failover: reads go on being answered), MISCONF (a failing disk),
// NOREPLICAS; the others have their own code: PermissionDenied for NOPERM
// (the ACL), Unknown for the rest (WRONGTYPE: something else writes under
// the prefix).
//
// # Memory
//
// Run the store on a Redis whose maxmemory-policy is noeviction (Redis's
// default): then a full Redis refuses writes (OOM, see above) and keeps
// every key. Under an eviction policy, Redis would drop what is not a
// cache: sessions and sign-out tombstones, leases, fencing tokens,
// webhook delivery ids, LDAP attempt counts, issuer keys, rate-limit
// budgets. A volatile-* policy does not spare them: they have TTLs, as
// cache entries have (all but the sessions' version counter, and
// sessions or credentials stored without a TTL).
//
// The file and page caches ([Store.Files], [Store.Pages]; 24 and 2 hours
// by default) take the most memory. To keep them from filling the Redis
// that holds the rest, give them a Store of their own ([Open], with its
// own Prefix) on another Redis server, one that may evict (maxmemory with
// allkeys-lru); a database number of the same server does not do it, as
// maxmemory counts the whole server.
type Store struct {
	rdb     redis.UniversalClient
	own     bool // close rdb in Close
	prefix  string
	ring    *sealed.Ring // nil without an encryption key
	timeout time.Duration
	now     func() time.Time
	h       health

	closeOnce sync.Once
	closeErr  error
	bgCtx     context.Context    // background pushes' context, cancelled by Close
	stopBg    context.CancelFunc // cancels bgCtx
	bgMu      sync.Mutex         // guards closing and bg.Add
	closing   bool               // Close has begun: no new background work
	bg        sync.WaitGroup     // background pushes, which Close waits for
}

// New returns a Store over rdb (a *redis.Client, *redis.FailoverClient for
// Sentinel, or any redis.UniversalClient). Keys in Lua scripts are not
// hash-tagged, so Redis Cluster is not supported. It fails with
// InvalidArgument if the encryption key is not 32 bytes.
func New(rdb redis.UniversalClient, opts *Options) (*Store, error) {
	const op = "redisstore.New"
	var o Options
	if opts != nil {
		o = *opts
	}
	if rdb == nil {
		return nil, errcode.New(errcode.InvalidArgument, op, "a Redis client is required")
	}
	s := &Store{rdb: rdb, prefix: o.Prefix, timeout: o.Timeout, now: o.Now}
	s.bgCtx, s.stopBg = context.WithCancel(context.Background())
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = DefaultRetryAfter
	}
	s.h = health{log: o.Logger, first: o.RetryAfter, now: s.now}
	ring, err := newRing(o.EncryptionKey, o.PreviousEncryptionKeys)
	if err != nil {
		return nil, errcode.New(errcode.InvalidArgument, op, err.Error())
	}
	s.ring = ring
	return s, nil
}

// newRing checks the encryption keys and returns their ring, nil without
// a key. Its errors name the Options field and the config key at fault,
// never a key byte.
func newRing(current []byte, previous [][]byte) (*sealed.Ring, error) {
	if len(current) == 0 {
		if len(previous) > 0 {
			return nil, errors.New("backend.cache.previousEncryptionKeys (Options.PreviousEncryptionKeys) needs a current " +
				"backend.cache.encryptionKey: previous keys only open values, they never seal")
		}
		return nil, nil
	}
	if len(current) != 32 {
		return nil, fmt.Errorf("the encryption key (backend.cache.encryptionKey) must be 32 bytes (AES-256), got %d", len(current))
	}
	if len(previous) > sealed.MaxPrevious {
		return nil, fmt.Errorf("backend.cache.previousEncryptionKeys (Options.PreviousEncryptionKeys) lists %d keys, at most %d are kept: "+
			"drop the oldest (values still sealed under it become misses)", len(previous), sealed.MaxPrevious)
	}
	cur, err := sealed.NewAESGCM(current)
	if err != nil {
		return nil, err
	}
	old := make([]cipher.AEAD, len(previous))
	for i, p := range previous {
		path := fmt.Sprintf("backend.cache.previousEncryptionKeys[%d] (Options.PreviousEncryptionKeys[%d])", i, i)
		switch {
		case len(p) != 32:
			return nil, fmt.Errorf("%s must be 32 bytes (AES-256), as the encryption key, got %d", path, len(p))
		case subtle.ConstantTimeCompare(p, current) == 1:
			return nil, errors.New(path + " is the encryption key itself: list only the keys used before the current one")
		case slices.ContainsFunc(previous[:i], func(q []byte) bool { return subtle.ConstantTimeCompare(p, q) == 1 }):
			return nil, errors.New(path + " is listed twice: list each previous key once")
		}
		if old[i], err = sealed.NewAESGCM(p); err != nil {
			return nil, err
		}
	}
	return sealed.NewRing(cur, old...), nil
}

// Open connects to the Redis at rawURL (redis://[user:password@]host:port/db
// or rediss:// for TLS) and returns a Store over it, which Close closes.
// Connecting is lazy: a Redis that is down at start makes the first
// operations fail (and the callers work without it) until it comes up.
//
// go-redis reports failed dials on its own package-level logger (standard
// error by default), not on Options.Logger; silence or redirect it with
// redis.SetLogger if that matters to you. The store's pause after a
// failure bounds those lines to one per pause.
func Open(rawURL string, opts *Options) (*Store, error) {
	const op = "redisstore.Open"
	ro, err := redis.ParseURL(rawURL)
	if err != nil {
		// Not wrapped: url.Parse's errors repeat the URL, password
		// included.
		return nil, errcode.New(errcode.InvalidArgument, op, "not a usable redis:// or rediss:// URL (host, port and database number)")
	}
	timeout := DefaultTimeout
	if opts != nil && opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout, ro.PoolTimeout = timeout, timeout, timeout, timeout
	ro.ContextTimeoutEnabled = true
	ro.MaxRetries = -1   // a failed command is not retried: the caller works without Redis instead
	ro.DialerRetries = 1 // nor is a failed dial
	ro.DisableIdentity = true
	rdb := redis.NewClient(ro)
	s, err := New(rdb, opts)
	if err != nil {
		rdb.Close() //nolint:errcheck // it never connected; closing stops its goroutines
		return nil, err
	}
	s.own = true
	return s, nil
}

// Close stops the store's background work (pushing sessions written while
// Redis was down: a push under way is cancelled) and waits for it to end,
// then closes the Redis client if the store opened it. Sessions written
// while Redis was down and not pushed yet are lost (logged with a
// Logger): close the store once Redis has them, at shutdown. After Close,
// session writes fail with Unavailable. It may be called more than once;
// later calls return what the first returned.
func (s *Store) Close() error {
	if s == nil {
		return nil
	}
	s.closeOnce.Do(func() {
		s.bgMu.Lock()
		s.closing = true
		s.bgMu.Unlock()
		s.stopBg()
		s.bg.Wait()
		if s.own {
			s.closeErr = s.rdb.Close()
		}
	})
	return s.closeErr
}

// closedNow reports whether Close has begun.
func (s *Store) closedNow() bool { return s.bgCtx.Err() != nil }

// goBackground runs f in a goroutine that Close cancels (through ctx) and
// waits for; after Close has begun it runs nothing and returns false.
func (s *Store) goBackground(f func(ctx context.Context)) bool {
	s.bgMu.Lock()
	defer s.bgMu.Unlock()
	if s.closing {
		return false
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		f(s.bgCtx)
	}()
	return true
}

// Client returns the underlying Redis client.
func (s *Store) Client() redis.UniversalClient {
	if s == nil {
		return nil
	}
	return s.rdb
}

// String describes the store without any secret.
func (s *Store) String() string {
	if s == nil {
		return "redisstore.Store(nil)"
	}
	return "redisstore.Store(" + s.prefix + ")"
}

// LogValue describes the store without any secret.
func (s *Store) LogValue() slog.Value { return slog.StringValue(s.String()) }

// GoString describes the store without any secret.
func (s *Store) GoString() string {
	if s == nil {
		return "(*redisstore.Store)(nil)"
	}
	return "&redisstore.Store{Prefix: " + strconv.Quote(s.prefix) + "}"
}

// Format prints String for every verb (GoString for %#v), so that no verb
// shows the encryption key or the connection's password.
func (s *Store) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.String(), s.GoString()) }

// clock returns the store's time, time.Now for a nil Store.
func (s *Store) clock() time.Time {
	if s == nil {
		return time.Now()
	}
	return s.now()
}

func (s *Store) key(parts ...string) string {
	if s == nil {
		return "" // do refuses every command of a nil Store
	}
	return s.prefix + strings.Join(parts, ":")
}

// do runs f against Redis with the store's timeout, unless Redis is known
// to be down; it classifies (see failure) and records failures.
func (s *Store) do(ctx context.Context, op string, f func(ctx context.Context) error) error {
	if s == nil {
		return errcode.New(errcode.Unavailable, op, "no Redis store")
	}
	if err := errcode.FromContext(ctx, op); err != nil {
		return err
	}
	if !s.h.ready() {
		return errcode.New(errcode.Unavailable, op, "Redis is unavailable; retrying shortly")
	}
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err := f(cctx)
	switch {
	case err == nil || errors.Is(err, redis.Nil):
		s.h.ok()
		return err
	case ctx.Err() != nil:
		return errcode.FromContext(ctx, op) // the caller gave up; not Redis's fault
	}
	e, down := failure(op, err)
	if down {
		s.h.fail(err)
	} else {
		// Redis answered: it is up, and the other commands (reads,
		// above all) go on being asked.
		s.h.ok()
		s.h.refused(e)
	}
	return e
}

// failure turns err from a Redis command into the store's error, and
// reports whether it means that Redis cannot serve the store at all, so
// that the circuit breaker pauses every command: no answer (a network
// error, a timeout, a refused or reset connection, a full pool, a closed
// client, a broken reply), or an answer that every command gets (LOADING,
// BUSY, MASTERDOWN, CLUSTERDOWN, TRYAGAIN, maxclients, a refused or
// unexpected password, DENIED by protected mode). Any other error reply is
// a refusal of that one command: it fails alone, and says why and what to
// do. Refusals that a later try may get past (a full memory, a demoted
// primary, a failing disk) are Unavailable, so that callers work without
// the store, and SessionStore keeps the write in its mirror to push later
// (not a deletion: see SessionStore.Delete); the others (a key of another
// type, a command the ACL forbids) have their own code. A command's reply
// that Redis before 7 wraps in a script's error ("ERR Error running script
// (call to f_...): ...: -OOM ...") is classified as that reply.
//
// The text never holds the connection URL: network errors name the
// address only, and reply errors are Redis's own words.
func failure(op string, err error) (e *errcode.Error, down bool) {
	var reply redis.Error
	if !errors.As(err, &reply) {
		return &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "Redis did not answer", Err: cleanErr(err)}, true
	}
	if inner, ok := inScript(reply); ok {
		// Classified as the reply that the script's command got; the
		// error keeps Redis's whole text.
		e, down := failure(op, inner)
		if e.Err == error(inner) {
			e.Err = &scriptError{msg: reply.Error(), inner: inner}
		}
		return e, down
	}
	refusal := func(code errcode.Code, what string) *errcode.Error {
		return &errcode.Error{Code: code, Op: op, Msg: "Redis refused: " + what, Err: reply} // Redis's words: no URL, no password
	}
	switch {
	// Every command gets these: pause, as for a server that is down.
	case redis.IsLoadingError(reply):
		return refusal(errcode.Unavailable, "LOADING, it is loading its data set; retrying shortly"), true
	case redis.HasErrorPrefix(reply, "BUSY "):
		return refusal(errcode.Unavailable, "BUSY, a script or module command is blocking it; retrying shortly"), true
	case redis.IsMasterDownError(reply):
		return refusal(errcode.Unavailable, "MASTERDOWN, the replica lost its primary and does not serve stale data: "+
			"connect to the primary, or through Sentinel"), true
	case redis.IsClusterDownError(reply), redis.IsTryAgainError(reply):
		return refusal(errcode.Unavailable, "CLUSTERDOWN or TRYAGAIN, the cluster cannot serve the keys now "+
			"(the store does not support Redis Cluster)"), true
	case redis.IsMaxClientsError(reply):
		return refusal(errcode.Unavailable, "max number of clients reached: raise its maxclients, or lower the replicas' pool sizes"), true
	case redis.IsAuthError(reply), redis.HasErrorPrefix(reply, "invalid password"): // the latter: Redis before 6
		return refusal(errcode.Unavailable, "NOAUTH or WRONGPASS, the connection URL's user name or password is wrong or missing: "+
			"check backend.cache.connection"), true
	case redis.HasErrorPrefix(reply, "AUTH <password> called without any password configured"),
		redis.HasErrorPrefix(reply, "Client sent AUTH, but no password is set"): // Redis 6 (a client that does not use HELLO), Redis 5
		return refusal(errcode.Unavailable, "AUTH, the connection URL has a password but Redis has none configured: "+
			"drop it from backend.cache.connection, or give Redis one (requirepass, or an ACL user)"), true
	case redis.HasErrorPrefix(reply, "DENIED "):
		return refusal(errcode.Unavailable, "DENIED, it runs in protected mode (no password, and the connection is not from loopback): "+
			"give Redis a password (requirepass, or an ACL user) and put it in backend.cache.connection"), true

	// The command alone fails; others (reads) go on.
	case redis.IsOOMError(reply):
		return refusal(errcode.Unavailable, "OOM, its memory is full (maxmemory) and its maxmemory-policy evicts nothing: "+
			"raise maxmemory, or give the file and page caches their own Store on another Redis server "+
			"(with an allkeys-lru maxmemory-policy there); the store's own keys need noeviction, see Store"), false
	case redis.IsReadOnlyError(reply):
		return refusal(errcode.Unavailable, "READONLY, the node is a replica (a primary demoted by a failover?) and takes no writes: "+
			"connect to the current primary, or through Sentinel; reads go on"), false
	case redis.HasErrorPrefix(reply, "MISCONF "):
		return refusal(errcode.Unavailable, "MISCONF, it takes no writes while it cannot save its snapshot to disk: fix its disk or persistence"), false
	case redis.IsNoReplicasError(reply):
		return refusal(errcode.Unavailable, "NOREPLICAS, fewer replicas than min-replicas-to-write answer it"), false
	case redis.IsPermissionError(reply):
		return refusal(errcode.PermissionDenied, "NOPERM, the connection's ACL user may not run this command on this key: "+
			"allow it the store's keys (its prefix) and commands, scripts (EVALSHA, EVAL) included"), false
	case redis.HasErrorPrefix(reply, "WRONGTYPE "):
		return refusal(errcode.Unknown, "WRONGTYPE, a key under the store's prefix holds another kind of value: "+
			"something else writes under this prefix; give each user of the Redis its own"), false
	}
	return refusal(errcode.Unknown, "an error reply to the command"), false
}

// inScript returns the reply that a command got inside a script, as
// Redis before 7 wraps it: "ERR Error running script (call to f_<sha>):
// @user_script:6: @user_script: 6: -OOM command not allowed ...". Redis 7
// passes the command's reply on as it is, with where it happened at the
// end ("OOM command not allowed ... script: <sha>, on @user_script:6."),
// which the prefix tests of failure already match.
func inScript(reply redis.Error) (innerReply, bool) {
	msg, ok := strings.CutPrefix(reply.Error(), "ERR Error running script")
	if !ok {
		return "", false
	}
	_, inner, ok := strings.Cut(msg, ": -")
	if inner = strings.TrimSpace(inner); !ok || inner == "" {
		return "", false
	}
	return innerReply(inner), true
}

// innerReply is the reply a command got inside a script (see inScript).
type innerReply string

func (r innerReply) Error() string { return string(r) }
func (innerReply) RedisError()     {}

// scriptError is a script's error reply whose command's reply Redis
// wrapped (see inScript): it reads as Redis's whole text and unwraps to
// the command's reply, so that redis.HasErrorPrefix tells it (go-redis's
// IsOOMError and the like know only the replies go-redis parsed itself).
type scriptError struct {
	msg   string
	inner innerReply
}

func (e *scriptError) Error() string { return e.msg }
func (e *scriptError) Unwrap() error { return e.inner }

// refusedAlone reports whether err is Redis refusing one command while it
// serves the others (see failure): then other replicas go on reading what
// Redis holds.
func refusedAlone(err error) bool {
	var reply redis.Error
	if !errors.As(err, &reply) {
		return false
	}
	_, down := failure("", reply)
	return !down
}

// cleanErr keeps network errors as they are (they name the address,
// never the password) and reduces the others to their text.
func cleanErr(err error) error {
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return errors.New(err.Error())
}

// health is the circuit breaker: after a failure, Redis is not asked for
// a pause that doubles with every further failure.
type health struct {
	log   *slog.Logger
	first time.Duration
	now   func() time.Time

	mu     sync.Mutex
	down   bool
	until  time.Time
	pause  time.Duration
	logged map[string]time.Time // by kind of refusal (its Msg): when it was last logged
}

func (h *health) ready() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.down || !h.now().Before(h.until)
}

func (h *health) ok() {
	h.mu.Lock()
	was := h.down
	h.down, h.pause = false, 0
	h.mu.Unlock()
	if was && h.log != nil {
		h.log.Info("redisstore: Redis is reachable again; sharing state through it")
	}
}

// refusalLogEvery is how often a Logger hears again of refusals of one
// kind (OOM, READONLY, ...) while Redis keeps answering them.
const refusalLogEvery = time.Minute

// refused logs e, a command Redis refused while up, as a Warn record:
// the first refusal of its kind and then at most one every
// refusalLogEvery, so that a full Redis does not log every cache write.
func (h *health) refused(e *errcode.Error) {
	if h.log == nil {
		return
	}
	kind := e.Msg // one per kind of refusal: a few fixed texts
	now := h.now()
	h.mu.Lock()
	last, seen := h.logged[kind]
	logIt := !seen || now.Sub(last) >= refusalLogEvery
	if logIt {
		if h.logged == nil {
			h.logged = map[string]time.Time{}
		}
		h.logged[kind] = now
	}
	h.mu.Unlock()
	if logIt {
		h.log.Warn("redisstore: "+e.Msg, slog.String("op", e.Op), slog.String("error", e.Err.Error()))
	}
}

func (h *health) fail(err error) {
	h.mu.Lock()
	was := h.down
	if h.pause == 0 {
		h.pause = h.first
	} else {
		h.pause = min(h.pause*2, MaxRetryAfter)
	}
	h.down, h.until = true, h.now().Add(h.pause)
	h.mu.Unlock()
	if !was && h.log != nil {
		h.log.Warn("redisstore: Redis is unreachable; working without it (more requests to providers) until it is back",
			slog.String("error", cleanErr(err).Error()))
	}
}

// seal encrypts plain for key with AES-GCM under the current encryption
// key, binding it to key, so that a value copied to another key does not
// open.
func (s *Store) seal(op, key string, plain []byte) ([]byte, error) {
	if s.ring == nil {
		return nil, errcode.New(errcode.InvalidArgument, op, "no encryption key (backend.cache.encryptionKey): secret values are not shared")
	}
	return s.ring.Append([]byte{sealedMark}, plain, []byte(key)), nil
}

// open decrypts a sealed value of key, under the current encryption key
// or a previous one; ok is false when it does not open (an unknown key,
// tampering, or a value that was not sealed). It decrypts over value's
// memory: value is the caller's own copy.
func (s *Store) open(key string, value []byte) ([]byte, bool) {
	if s.ring == nil || len(value) < 1 || value[0] != sealedMark {
		return nil, false
	}
	plain, _, err := s.ring.OpenInPlace(value[1:], []byte(key))
	return plain, err == nil
}

// Value marks: the first byte of every stored value says how to read it.
const (
	sealedMark = 'E'
	plainMark  = 'P'
)

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
