// Package ldapauth signs users in against an LDAP directory or Active
// Directory with their username and password: the "simpler, uglier,
// unsafe" flow, made safe by default.
//
// An [Authenticator] is an [auth.PasswordProvider] (the [auth.Handler]
// serves it at POST <prefix>/<provider>/login). For each attempt it
//
//  1. refuses an empty password, an over-long username and control
//     characters before any request (an empty password would be an
//     unauthenticated bind, which many servers answer with success);
//  2. refuses attempts that are backing off: after Backoff.FreeAttempts
//     consecutive failures for a username (FreeAttemptsPerAddress for a
//     client address) each further attempt waits InitialDelay, doubled per
//     failure up to MaxDelay. Refused attempts never reach the directory,
//     so they cannot lock the account there. An attempt from a browser
//     the username signed in from before (the Handler's device cookie,
//     [auth.DeviceFrom]) is counted for that browser instead of the
//     username, so that a guesser slowing the username down does not lock
//     its owner out;
//  3. searches the user under the service account with the username
//     escaped for the filter (RFC 4515), and requires exactly one entry;
//  4. binds as that entry's DN with the password, on a separate pooled
//     connection;
//  5. re-reads the user's attributes and groups (one search: the entry
//     with memberOf, or a group search, optionally with Active
//     Directory's in-chain rule for nested groups). The group search is
//     paged (500 groups a page; one plain search on a directory that
//     refuses paging) and Active Directory's ranged memberOf
//     (memberOf;range=0-1499) is read to its end, so that a user in more
//     groups than the directory returns at once still gets all of them.
//     OpenLDAP's hard size limit (500 by default) bounds a paged search
//     too: give the service account size.prtotal=unlimited in its limits.
//
// That is three LDAP operations per sign-in once the pooled connections
// exist, plus one per further page of 500 groups or range of 1,500
// memberOf values. An unknown user and a wrong password give the same
// error (Unauthorized, "invalid username or password") after a similar
// time: a failed search is padded to the recent duration of a search and
// a bind.
//
// Connections use TLS by default (ldaps://, or StartTLS on ldap://) and
// verify the server certificate, against a custom CA if configured; plain
// LDAP needs insecure: true, and the Authenticator then logs a warning once.
//
// [Authenticator.Verify] re-checks a signed-in identity without its
// password (the entry still there, under the same DN, still matching the
// user filter) and re-reads its groups, in two operations: call it when a
// session is refreshed or before a sensitive action. An auth.Handler calls
// it ([Authenticator.Recheck]) on the first refresh of a session after
// its RecheckInterval (1 hour by default).
//
// There is no provider token: the sign-in's auth.Tokens are empty, so an
// LDAP session gives the credential resolver nothing to use for SCM hosts.
package ldapauth

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org/ldaporg/ldapconn"
)

// MaxUsernameLength is the longest username accepted, in bytes.
const MaxUsernameLength = 256

// maxPasswordLength bounds the password, in bytes.
const maxPasswordLength = 1024

// Options are the Authenticator's non-configuration dependencies. A nil
// *Options means the defaults.
type Options struct {
	// Logger receives the insecure-transport warning and one line per
	// ambiguous username (never a password). Nil: no logging.
	Logger *slog.Logger
	// Now is the back-off's clock; nil means time.Now.
	Now func() time.Time
	// DialContext replaces the network dialer: a proxy, a custom
	// resolver, or an in-process directory in tests. Nil means a
	// net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLS, if set, is the base TLS configuration, used instead of the one
	// built from tlsOptions (e.g. to add client certificates).
	TLS *tls.Config
	// Attempts, if set, keeps the back-off's counts of failed sign-ins,
	// per username and per client address, where every replica sees them
	// (see [AttemptStore]; redisstore.Store.LDAPAttempts). Nil keeps them
	// in this Authenticator: with N replicas a username then gets up to
	// N × backoff.freeAttempts failures before a delay. The keys name the
	// directory by its first ldapOpts.url as written: give every replica
	// the same one (replicas that reach one Active Directory domain
	// through different controllers, or spell the URL differently, count
	// apart).
	Attempts AttemptStore
}

// Authenticator checks usernames and passwords against one directory. It
// is safe for concurrent use. Close it to close its connections. The
// zero Authenticator is not usable; make one with [New].
type Authenticator struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	search   *ldapconn.Pool // bound as the service account
	binds    *ldapconn.Pool // used for user binds only
	byUser   *gate
	byDevice *gate // a username tried from a browser it signed in from ([auth.Device])
	byAddr   *gate
	warnOnce sync.Once
	insecure bool

	mu      sync.Mutex
	samples [16]time.Duration // recent search+bind durations (connecting excluded), a ring
	nSample int
}

// Result is a successful sign-in: who, and their groups.
type Result struct {
	// Identity has Provider "ldap", Issuer the server URL, Subject and DN
	// the entry's DN, Login the username attribute's value as stored,
	// Email and DisplayName.
	Identity auth.Identity
	// Groups are the DNs of the user's groups (direct, or nested too with
	// groups.inChain), as the directory wrote them.
	Groups []string
	// GroupNames are the groups' names (groups.nameAttribute, or the first
	// RDN value of each memberOf DN), in the order of Groups.
	GroupNames []string
}

// New checks cfg and returns an Authenticator; it opens no connection.
func New(cfg Config, opts *Options) (*Authenticator, error) {
	const op = "ldapauth.New"
	if opts == nil {
		opts = &Options{}
	}
	c, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	a := &c.LDAPAuthenticationOptions
	tc := opts.TLS
	if tc == nil {
		if tc, err = a.LDAPOpts.TLSOptions.tlsConfig(); err != nil {
			return nil, errcode.Wrap(errcode.InvalidArgument, op, err)
		}
	}
	skip := a.LDAPOpts.TLSOptions.RejectUnauthorized != nil && !*a.LDAPOpts.TLSOptions.RejectUnauthorized
	base := ldapconn.Options{
		URL:         a.LDAPOpts.URL.first(),
		StartTLS:    a.StartTLS,
		Insecure:    c.Insecure,
		SkipVerify:  skip,
		TLS:         tc,
		MaxConns:    c.MaxConnections,
		Timeout:     time.Duration(a.LDAPOpts.Timeout) * time.Millisecond,
		DialTimeout: time.Duration(a.LDAPOpts.ConnectTimeout) * time.Millisecond,
		DialContext: opts.DialContext,
		Now:         opts.Now,
	}
	withService := base
	withService.BindDN, withService.BindPassword = a.AdminDN, a.AdminPassword
	sp, err := ldapconn.New(withService)
	if err != nil {
		return nil, err
	}
	bp, err := ldapconn.New(base)
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	b := c.Backoff
	delay, maxDelay := time.Duration(b.InitialDelay), time.Duration(b.MaxDelay)
	// A sign-in is three operations, each bounded by the timeout, and
	// up to two dials (more pages of groups come after the password's
	// verdict): twice that, an attempt's replica has died.
	opTimeout, dialTimeout := cmp.Or(base.Timeout, 30*time.Second), cmp.Or(base.DialTimeout, 5*time.Second)
	inFlight := 2 * (3*opTimeout + 2*dialTimeout)
	au := &Authenticator{
		cfg: c, log: opts.Logger, now: now, search: sp, binds: bp,
		byUser:   newGate(opts.Attempts, sp.URL()+"\x00user\x00", BackoffPolicy{Free: b.FreeAttempts, Base: delay, Max: maxDelay, InFlight: inFlight}, opts.Logger),
		byDevice: newGate(opts.Attempts, sp.URL()+"\x00device\x00", BackoffPolicy{Free: b.FreeAttempts, Base: delay, Max: maxDelay, InFlight: inFlight}, opts.Logger),
		byAddr:   newGate(opts.Attempts, sp.URL()+"\x00addr\x00", BackoffPolicy{Free: b.FreeAttemptsPerAddress, Base: delay, Max: maxDelay, InFlight: inFlight}, opts.Logger),
		insecure: sp.PlainText() || skip,
	}
	au.warnInsecure()
	return au, nil
}

func (a *Authenticator) warnInsecure() {
	if !a.insecure {
		return
	}
	a.warnOnce.Do(func() {
		if a.log != nil {
			a.log.Warn("ldapauth: insecure is set: passwords may cross the network in clear or to an unverified server",
				slog.String("url", a.search.URL()))
		}
	})
}

// Info describes the provider: type "ldap", no integration host (LDAP
// issues no token for an SCM host), the server URL as issuer.
func (a *Authenticator) Info() auth.ProviderInfo {
	return auth.ProviderInfo{Type: "ldap", Issuer: a.search.URL()}
}

// Stats returns the LDAP operations sent so far, and the connections open
// now, over both pools.
func (a *Authenticator) Stats() ldapconn.Stats {
	s, b := a.search.Stats(), a.binds.Stats()
	return ldapconn.Stats{Dials: s.Dials + b.Dials, Searches: s.Searches + b.Searches, Binds: s.Binds + b.Binds, StartTLS: s.StartTLS + b.StartTLS,
		Open: s.Open + b.Open}
}

// Close closes the idle connections; a sign-in under way closes its
// connections when it ends, and sign-ins after Close open and close their
// own. The Authenticator starts no goroutine of its own (each open
// connection has go-ldap's reader). Close may be called more than once; it
// returns nil.
func (a *Authenticator) Close() error {
	a.search.Close()
	return a.binds.Close()
}

type ctxKey struct{}

// ContextWithClientAddr returns ctx carrying the client's address, which
// [Authenticator.Authenticate] uses for the per-address back-off.
func ContextWithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, ctxKey{}, addr)
}

// ClientAddr wraps h (typically the auth.Handler) so that every request's
// context carries its client address (the host part of r.RemoteAddr), for
// the per-address back-off. Behind a reverse proxy, put the real client
// address in r.RemoteAddr first (only from a proxy you trust).
func ClientAddr(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		h.ServeHTTP(w, r.WithContext(ContextWithClientAddr(r.Context(), host)))
	})
}

// Authenticate implements [auth.PasswordProvider]: the client address,
// if any, comes from the context (see [ClientAddr]), as does the browser's
// [auth.Device], if the Handler found one. The SignIn's Tokens
// are empty: a directory issues no provider token.
func (a *Authenticator) Authenticate(ctx context.Context, username, password string) (*auth.SignIn, error) {
	addr, _ := ctx.Value(ctxKey{}).(string)
	r, err := a.AuthenticateFrom(ctx, username, password, addr)
	if err != nil {
		return nil, err
	}
	return &auth.SignIn{Identity: r.Identity}, nil
}

// errInvalid is the one answer for an unknown user, several matches and a
// wrong password.
func errInvalid(host string) error {
	return &errcode.Error{Code: errcode.Unauthorized, Op: "ldapauth.Authenticate", Provider: "ldap", Host: host, Msg: "invalid username or password"}
}

// AuthenticateFrom checks username and password for a client at
// clientAddr ("" if unknown) and returns who signed in with their groups.
// An [auth.Device] in ctx ([auth.ContextWithDevice]) for the same username
// (folded as the directory folds it) has its own back-off count, in place
// of the username's.
// Errors are *errcode.Error: InvalidArgument for input refused before any
// request, RateLimited (with RetryAt) while backing off, Unauthorized
// "invalid username or password" for an unknown user, an ambiguous
// username or a wrong password alike, Unavailable or DeadlineExceeded when
// the directory does not answer, Canceled when ctx ends. A password bind
// already sent runs to its answer although ctx ends (bounded by
// ldapOpts.timeout), so that the back-off counts every password the
// directory saw.
func (a *Authenticator) AuthenticateFrom(ctx context.Context, username, password, clientAddr string) (*Result, error) {
	const op = "ldapauth.Authenticate"
	host := a.search.Host()
	if err := checkInput(username, password); err != nil {
		err.Op, err.Provider, err.Host = op, "ldap", host
		return nil, err
	}
	now := a.now()
	userKey := usernameKey(username)
	clientAddr = addrKey(clientAddr)
	// From a browser this username signed in from before, the attempt is
	// counted for that browser alone: a guesser slowing the username
	// down does not slow down its owner, whose own failures back off
	// that browser as they would the username.
	byUser := a.byUser
	if d, ok := auth.DeviceFrom(ctx); ok && usernameKey(d.Username) == userKey {
		byUser, userKey = a.byDevice, userKey+"\x00"+d.ID
	}
	storeDown := func(err error) error {
		return &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: "ldap", Host: host,
			Msg: "the sign-in attempt store cannot be read, and no sign-in runs without the back-off; try again later", Err: err}
	}
	// The address first: a client its address's back-off refuses never
	// touches the username's state (its "one attempt alone" delay).
	var addrAttempt string
	if clientAddr != "" {
		var at time.Time
		var ok bool
		var err error
		addrAttempt, at, ok, err = a.byAddr.begin(ctx, clientAddr, now)
		if err != nil {
			return nil, storeDown(err)
		}
		if !ok {
			return nil, &errcode.Error{Code: errcode.RateLimited, Op: op, Provider: "ldap", Host: host, RetryAt: at, Msg: "too many failed sign-ins from this address; try again later"}
		}
	}
	userAttempt, at, ok, err := byUser.begin(ctx, userKey, now)
	if (err != nil || !ok) && clientAddr != "" {
		a.byAddr.finish(ctx, clientAddr, addrAttempt, false)
	}
	if err != nil {
		return nil, storeDown(err)
	}
	if !ok {
		return nil, &errcode.Error{Code: errcode.RateLimited, Op: op, Provider: "ldap", Host: host, RetryAt: at, Msg: "too many failed sign-ins for this username; try again later"}
	}
	res, blame, err := a.authenticate(ctx, username, password)
	switch {
	case err == nil:
		byUser.finish(ctx, userKey, userAttempt, true)
		if clientAddr != "" {
			a.byAddr.finish(ctx, clientAddr, addrAttempt, false)
		}
	case blame:
		byUser.fail(ctx, userKey, userAttempt, a.now())
		if clientAddr != "" {
			a.byAddr.fail(ctx, clientAddr, addrAttempt, a.now())
		}
	default:
		byUser.finish(ctx, userKey, userAttempt, false)
		if clientAddr != "" {
			a.byAddr.finish(ctx, clientAddr, addrAttempt, false)
		}
	}
	return res, err
}

// usernameKey is the back-off key of a username: the directory matches
// usernames as RFC 4518 prepares them for caseIgnoreMatch (OpenLDAP and
// Active Directory alike): compatibility-normalised (NFKC: the fullwidth
// "ｂｏｂ" finds "bob"), case-folded, with format characters and
// variation selectors mapped to nothing ("b\u00adob") and runs of spaces
// as one ("john  smith" finds "john smith"). The key folds all of these,
// or each spelling would get its own free attempts. Folding more than a
// given directory does only makes spellings share one back-off.
func usernameKey(username string) string {
	s := norm.NFKC.String(username)
	s = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Variation_Selector, r) || r == '\u034f' || r == '\u1806' || r == '\ufffc' {
			return -1
		}
		return r
	}, s)
	// Lower-cased after folding too: x/text folds the two cases of some
	// scripts (Cherokee) onto each other, not onto one.
	s = norm.NFKC.String(strings.ToLower(cases.Fold().String(s)))
	return strings.Join(strings.Fields(s), " ")
}

// addrKey is the back-off key of a client address: an IPv4 address as it
// is, an IPv6 address by its /64 prefix (one host usually owns the whole
// /64), anything else as given.
func addrKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// checkInput refuses what must never reach the directory.
func checkInput(username, password string) *errcode.Error {
	switch {
	case username == "":
		return &errcode.Error{Code: errcode.InvalidArgument, Msg: "a username is required"}
	case password == "":
		return &errcode.Error{Code: errcode.InvalidArgument, Msg: "empty password refused (it would be an unauthenticated bind)"}
	case len(username) > MaxUsernameLength:
		return &errcode.Error{Code: errcode.InvalidArgument, Msg: fmt.Sprintf("username longer than %d bytes", MaxUsernameLength)}
	case len(password) > maxPasswordLength:
		return &errcode.Error{Code: errcode.InvalidArgument, Msg: fmt.Sprintf("password longer than %d bytes", maxPasswordLength)}
	case !utf8.ValidString(username):
		return &errcode.Error{Code: errcode.InvalidArgument, Msg: "username is not valid UTF-8"}
	case strings.IndexFunc(username, unicode.IsControl) >= 0:
		return &errcode.Error{Code: errcode.InvalidArgument, Msg: "username contains control characters"}
	case strings.TrimSpace(username) != username:
		return &errcode.Error{Code: errcode.InvalidArgument, Msg: "username has leading or trailing spaces"}
	}
	return nil
}

// authenticate runs the three operations. blame reports whether a failure
// is the user's (counts toward the back-off).
func (a *Authenticator) authenticate(ctx context.Context, username, password string) (_ *Result, blame bool, _ error) {
	host := a.search.Host()
	o := a.cfg.LDAPAuthenticationOptions
	// Before the password is checked, the search reads no attribute
	// ("1.1"): an attempt with a wrong password (a spray) must cost the
	// directory as little as possible, and memberOf alone may be 1,500
	// values, and more ranges. The entry is read once the bind succeeds;
	// that costs a signed-in user one operation more (sign-ins are rare).
	attrs := []string{"1.1"}
	groupSearch := a.cfg.Groups != nil && a.cfg.Groups.SearchBase != ""
	if groupSearch {
		attrs = a.userAttrs(false)
	}
	// 1. Find the entry, under the service account.
	sc, err := a.search.Get(ctx)
	if err != nil {
		return nil, false, err
	}
	searchStart := time.Now()
	res, err := sc.Search(ctx, a.userSearch(username, attrs))
	searchDur := time.Since(searchStart)
	sc.Release()
	// The search asks for two entries at most: a size limit means the
	// username matches several. A time or admin limit is the directory
	// giving up (overloaded), not the user's doing.
	several := ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded)
	if err != nil && !several {
		return nil, false, err
	}
	if several || len(res.Entries) != 1 {
		if (several || len(res.Entries) > 1) && a.log != nil {
			a.log.Warn("ldapauth: a username matches several directory entries; sign-in refused", slog.String("usernameAttribute", o.UsernameAttribute))
		}
		a.pad(ctx, searchDur)
		return nil, true, errInvalid(host)
	}
	entry := res.Entries[0]
	dn := entry.DN
	// 2. Bind as the entry, on a connection of the bind pool.
	bc, err := a.binds.Get(ctx)
	if err != nil {
		return nil, false, err
	}
	if err := errcode.FromContext(ctx, "ldapauth.Authenticate"); err != nil {
		bc.Release()
		return nil, false, err // given up before the password was sent
	}
	bindStart := time.Now()
	// The bind runs to its answer even when the caller gives up (bounded
	// by ldapOpts.timeout): the directory counts a wrong password towards
	// its lockout whether or not anyone waits, so the back-off must learn
	// the verdict, or a client that cancels each request once its bind is
	// sent would guess without limit and lock the account.
	err = bc.Bind(context.WithoutCancel(ctx), dn, password)
	bc.Release()
	if err != nil {
		if errcode.CodeOf(err) == errcode.Unauthorized {
			a.observeBind(searchDur + time.Since(bindStart))
			return nil, true, errInvalid(host)
		}
		return nil, false, err
	}
	a.observeBind(searchDur + time.Since(bindStart))
	// 3. Re-read attributes and groups.
	out, err := a.readUser(ctx, dn, entry, username)
	if err != nil {
		return nil, errcode.CodeOf(err) == errcode.Unauthorized, err
	}
	return out, false, nil
}

// readUser reads the groups of the entry dn (found by a search that
// returned entry) and, without a group search, its attributes again; one
// search under the service account.
func (a *Authenticator) readUser(ctx context.Context, dn string, entry *ldap.Entry, username string) (*Result, error) {
	host := a.search.Host()
	o := a.cfg.LDAPAuthenticationOptions
	sc, err := a.search.Get(ctx)
	if err != nil {
		return nil, err
	}
	defer sc.Release()
	out := &Result{}
	if g := a.cfg.Groups; g != nil && g.SearchBase != "" {
		rule := ""
		if g.InChain {
			rule = ":" + inChainOID + ":"
		}
		gf := "(" + g.MemberAttribute + rule + "=" + ldap.EscapeFilter(dn) + ")"
		if g.Filter != "" {
			gf = "(&" + gf + g.Filter + ")"
		}
		// Paged, so that a user in more groups than the directory returns
		// per search (AD's MaxPageSize, slapd's sizelimit) still signs in
		// with all of them; one page, so one operation, for most users.
		req := ldap.NewSearchRequest(g.SearchBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, gf, []string{g.NameAttribute}, nil)
		err := sc.SearchPages(ctx, req, groupPageSize, func(gr *ldap.SearchResult) error {
			for _, e := range gr.Entries {
				out.Groups = append(out.Groups, e.DN)
				out.GroupNames = append(out.GroupNames, e.GetEqualFoldAttributeValue(g.NameAttribute))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	} else {
		ur, err := sc.Search(ctx, ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false, "(objectClass=*)", a.userAttrs(true), nil))
		if err != nil {
			if errcode.CodeOf(err) == errcode.NotFound {
				return nil, errInvalid(host)
			}
			return nil, err
		}
		if len(ur.Entries) != 1 {
			return nil, errInvalid(host)
		}
		entry = ur.Entries[0]
		// Active Directory returns memberOf;range=0-1499 for a user in
		// more groups than its MaxValRange: read the rest, or the user
		// would sign in without most of their groups.
		if err := sc.CompleteRange(ctx, entry, "memberOf"); err != nil {
			return nil, err
		}
		for _, g := range entry.GetEqualFoldAttributeValues("memberOf") {
			out.Groups = append(out.Groups, g)
			out.GroupNames = append(out.GroupNames, firstRDNValue(g))
		}
	}
	display := entry.GetEqualFoldAttributeValue(a.cfg.DisplayNameAttribute)
	if display == "" {
		display = entry.GetEqualFoldAttributeValue("cn")
	}
	login := entry.GetEqualFoldAttributeValue(o.UsernameAttribute)
	if login == "" {
		login = username
	}
	out.Identity = auth.Identity{
		Provider:    "ldap",
		Issuer:      a.search.URL(),
		Subject:     dn,
		Login:       login,
		Email:       entry.GetEqualFoldAttributeValue(a.cfg.EmailAttribute),
		DisplayName: display,
		DN:          dn,
	}
	return out, nil
}

// Verify re-checks a signed-in user against the directory, without a
// password, as a session refresh should: the identity's login must still
// match exactly one entry under the user filter, with the same DN
// (compared parsed, case-insensitively); its attributes and groups are
// read again. Two LDAP operations (more for a user in many groups: one
// more a page of 500 groups, or a range of 1,500 memberOf values). A user
// the directory no longer knows (deleted, renamed, moved, filtered out as
// disabled) is Unauthorized.
func (a *Authenticator) Verify(ctx context.Context, id auth.Identity) (*Result, error) {
	const op = "ldapauth.Verify"
	host := a.search.Host()
	if id.Login == "" || id.DN == "" || checkInput(id.Login, "x") != nil {
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Provider: "ldap", Host: host, Msg: "not an LDAP identity"}
	}
	sc, err := a.search.Get(ctx)
	if err != nil {
		return nil, err
	}
	res, err := sc.Search(ctx, a.userSearch(id.Login, a.userAttrs(false)))
	sc.Release()
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return nil, err // the directory failed (a time or admin limit among them), not the user
	}
	// Two entries, or more (the search asks for 2 at most: the size
	// limit), mean the login is no longer the user's alone.
	if err != nil || len(res.Entries) != 1 || !sameDN(res.Entries[0].DN, id.DN) {
		return nil, &errcode.Error{Code: errcode.Unauthorized, Op: op, Provider: "ldap", Host: host, Msg: "the directory no longer knows this user"}
	}
	return a.readUser(ctx, res.Entries[0].DN, res.Entries[0], id.Login)
}

// Recheck implements [auth.Rechecker] with [Authenticator.Verify]: the
// auth.Handler calls it when it refreshes a session older than its
// RecheckInterval, so that a user deleted, moved, renamed or filtered out
// (disabled) in the directory loses the session (Unauthorized), with the
// identity's e-mail and display name read again. Two LDAP operations. A
// directory that cannot be reached is Unavailable (or DeadlineExceeded):
// the Handler keeps the session for its RecheckGrace and tries again.
//
// Only the user's own answers end a session: an entry gone, moved,
// shared or filtered out (Verify's Unauthorized), or an identity that is
// not LDAP's. Every other failure (the service account's bind refused, a
// pool or connection failure, a time or admin limit) is the directory
// failing, reported as Unavailable (or the context's code), so that a
// service password changed in the directory before the configuration
// does not sign everyone out.
func (a *Authenticator) Recheck(ctx context.Context, id auth.Identity, _ auth.Tokens) (*auth.SignIn, error) {
	const op = "ldapauth.Recheck"
	r, err := a.Verify(ctx, id)
	var e *errcode.Error
	switch {
	case err == nil:
		return &auth.SignIn{Identity: r.Identity}, nil
	case errors.As(err, &e) && e.Op == "ldapauth.Verify":
		return nil, err // the user's own answer
	case errcode.CodeOf(err) == errcode.Canceled || errcode.CodeOf(err) == errcode.DeadlineExceeded:
		return nil, err
	}
	return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: "ldap", Host: a.search.Host(),
		Msg: "the directory could not re-check the user", Err: err}
}

// userSearch is the search for a username's entry: the username escaped
// for the filter, at most two entries (to tell one from several).
func (a *Authenticator) userSearch(username string, attrs []string) *ldap.SearchRequest {
	o := a.cfg.LDAPAuthenticationOptions
	filter := "(" + o.UsernameAttribute + "=" + ldap.EscapeFilter(username) + ")"
	if a.cfg.UserFilter != "" {
		filter = "(&" + filter + a.cfg.UserFilter + ")"
	}
	return ldap.NewSearchRequest(o.UserSearchBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, 0, false, filter, attrs, nil)
}

// sameDN compares two DNs parsed, case-insensitively.
func sameDN(a, b string) bool {
	pa, err1 := ldap.ParseDN(a)
	pb, err2 := ldap.ParseDN(b)
	return err1 == nil && err2 == nil && pa.EqualFold(pb)
}

// inChainOID is LDAP_MATCHING_RULE_IN_CHAIN (Active Directory).
const inChainOID = "1.2.840.113556.1.4.1941"

// groupPageSize is the page size of the group search: within AD's
// MaxPageSize (1,000) and slapd's default sizelimit (500).
const groupPageSize = 500

func (a *Authenticator) userAttrs(memberOf bool) []string {
	at := []string{a.cfg.LDAPAuthenticationOptions.UsernameAttribute, a.cfg.EmailAttribute, a.cfg.DisplayNameAttribute, "cn"}
	if memberOf {
		at = append(at, "memberOf")
	}
	return at
}

// observeBind records an attempt's search and bind durations, without the
// time spent taking (or dialling) connections.
func (a *Authenticator) observeBind(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.samples[a.nSample%len(a.samples)] = d
	a.nSample++
}

// typicalBind returns the median of the recent samples, 0 without any.
func (a *Authenticator) typicalBind() time.Duration {
	a.mu.Lock()
	n := min(a.nSample, len(a.samples))
	s := slices.Clone(a.samples[:n])
	a.mu.Unlock()
	if n == 0 {
		return 0
	}
	slices.Sort(s)
	return s[n/2]
}

// pad waits, after a search that found no single user, until the attempt
// has lasted as long as attempts that reached a bind do (search and bind;
// twice the search before any bind was seen), so that "unknown user" and
// "wrong password" take similar times: a search that finds nothing is
// also answered faster than one that returns an entry.
func (a *Authenticator) pad(ctx context.Context, elapsed time.Duration) {
	total := a.typicalBind()
	if total == 0 {
		total = 2 * elapsed
	}
	d := total - elapsed
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// firstRDNValue returns the value of a DN's first RDN ("devs" for
// "cn=devs,ou=groups,dc=example,dc=org"), or the DN when it does not parse.
func firstRDNValue(dn string) string {
	p, err := ldap.ParseDN(dn)
	if err != nil || len(p.RDNs) == 0 || len(p.RDNs[0].Attributes) == 0 {
		return dn
	}
	return p.RDNs[0].Attributes[0].Value
}

var (
	_ auth.PasswordProvider = (*Authenticator)(nil)
	_ auth.Rechecker        = (*Authenticator)(nil)
)
