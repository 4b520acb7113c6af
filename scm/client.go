package scm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/internal/typednil"
	"github.com/scmkit/scmkit/scm/driver"
)

// Resolver picks the credential for a request. *credentials.Resolver
// implements it; tests may supply their own.
type Resolver interface {
	Resolve(ctx context.Context, req credentials.Request) (*credentials.Credential, error)
}

// Default limits, used for zero fields of [Limits].
const (
	DefaultMaxFileBytes = 32 << 20  // 32 MiB per file
	DefaultMaxTreeFiles = 10_000    // files per tree
	DefaultMaxTreeBytes = 256 << 20 // 256 MiB per tree, all files together
)

// Limits caps what one operation may read. Zero fields mean the defaults
// (DefaultMaxFileBytes, DefaultMaxTreeFiles, DefaultMaxTreeBytes).
type Limits struct {
	// MaxFileBytes caps a file read by ReadFile.
	MaxFileBytes int64
	// MaxTreeFiles caps the number of files of a tree read by ReadTree
	// (and by Search's fallback).
	MaxTreeFiles int
	// MaxTreeBytes caps the total size of a tree's files.
	MaxTreeBytes int64
}

// RetryOptions is the HTTP retry and rate-limit policy of every request.
// Zero fields mean the defaults given below.
type RetryOptions struct {
	// MaxRetries is the number of retries after the first attempt: 0
	// means 3, a negative value disables retries.
	MaxRetries int
	// MinWait and MaxWait bound the exponential backoff used when the
	// server names no wait; 0 means 500ms and 10s.
	MinWait, MaxWait time.Duration
	// MaxRateLimitWait caps a wait the server asks for (Retry-After,
	// X-RateLimit-Reset, RateLimit-Reset); a longer one is not slept: the
	// operation fails at once with RateLimited and RetryAt. 0 means 60s.
	MaxRateLimitWait time.Duration
}

// Options configure a [Client]. A nil *Options means the defaults, with no
// drivers: every operation on an integration host then fails with
// Unimplemented.
type Options struct {
	// Drivers maps each integration kind to the Opener of its adapter,
	// e.g. {integrations.GitHub: githubscm.Opener(nil)}, or adapters.All(nil)
	// for the four providers. Integrations of kinds missing here are
	// refused with Unimplemented.
	Drivers map[integrations.Kind]driver.Opener
	// Transport sends every HTTP request, below the retry policy and the
	// credential transport; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Retry is the retry and rate-limit policy.
	Retry RetryOptions
	// Limits are the default size limits of reads.
	Limits Limits
	// Logger receives debug records of operations and retries; nil means
	// silent. Records never hold a secret.
	Logger *slog.Logger
	// FileCache keeps files read by ReadFile so that re-reads are
	// conditional (see [FileCache]). nil means a [MemoryFileCache] of the
	// client's own with the default bounds (DefaultMemoryFileBytes); set
	// a shared one (redisstore's Store.Files) for several replicas, or
	// NoCache{} for none.
	FileCache FileCache
	// PageCache keeps repository listing pages so that a refresh of an
	// unchanged owner is answered 304 where the provider allows it (see
	// [PageCache]). nil means a [MemoryPageCache] of the client's own
	// with the default bounds (DefaultMemoryPageBytes); set a shared one
	// (redisstore's Store.Pages) for several replicas, or NoCache{} for
	// none.
	PageCache PageCache
	// RateBudget, if set, records every credential's rate limit from the
	// providers' answers and, with RateShare > 0, keeps the clients
	// sharing it under that share of each limit (see [RateBudget]).
	RateBudget RateBudget
	RateShare  float64
	// Audit, if set, receives one [AuditEvent] per operation: who acted
	// (the user, the credential), where, and the outcome. nil means none.
	Audit AuditFunc
}

// Client reads from and writes to the source-control hosts of a registry
// of integrations, routing each URL to the driver of its integration. It is
// safe for concurrent use; build one with [NewClient] and derive cheap
// per-user views with [Client.ForUser]. The zero Client is not usable.
type Client struct {
	s      *shared
	users  UserCredentials // normalised host → the user's credential
	policy UserOptions
}

// shared is the state common to a client and its per-user views.
type shared struct {
	reg     *integrations.Registry
	res     Resolver
	drivers map[string]driver.Driver // by integration host
	// unusable holds, by host, why an integration without a driver
	// cannot be used (it has no apiBaseUrl).
	unusable map[string]error
	base     http.RoundTripper
	retry    RetryOptions
	limits   Limits
	log      *slog.Logger
	files    FileCache
	pages    PageCache
	budget   RateBudget
	share    float64
	audit    AuditFunc
	kinds    *listKinds
	now      func() time.Time // the clock of the file cache's entries
}

// NewClient returns a client for the integrations of reg (nil means the
// public hosts only), resolving credentials with res. A nil res sends no
// credential at all (every request is anonymous). It opens one driver per
// integration whose kind has an Opener in opts.Drivers, and fails if an
// Opener fails. Integrations that cannot be used are not opened: a
// disabled one (integrations.Integration.Disabled) and one with neither an
// API nor a raw base URL; calls through them fail with InvalidArgument
// naming the config path. (A GitHub Enterprise entry with rawBaseUrl only
// is opened: its driver reads files from the raw host and refuses the
// rest, saying to set apiBaseUrl.)
//
// NewClient does not refuse an opts without Drivers: such a client still
// reads anonymously from the hosts of backend.reading.allow, which need
// no driver. Every call on an integration host then fails with
// Unimplemented; for the four providers, pass adapters.All(nil) (package
// github.com/scmkit/scmkit/scm/adapters) as Options.Drivers.
func NewClient(reg *integrations.Registry, res Resolver, opts *Options) (*Client, error) {
	const op = "scm.NewClient"
	var o Options
	if opts != nil {
		o = *opts
	}
	if reg == nil {
		// Built once, so that the implicit public-host entries are not
		// made afresh on every lookup, as the zero Registry makes them.
		var err error
		if reg, err = integrations.NewRegistry(integrations.Config{}); err != nil {
			return nil, &errcode.Error{Code: errcode.CodeOf(err), Op: op, Msg: "building the default registry", Err: err}
		}
	}
	if r, ok := res.(*credentials.Resolver); ok && r == nil {
		res = nil
	}
	s := &shared{reg: reg, res: res, drivers: map[string]driver.Driver{}, base: o.Transport, retry: o.Retry, log: o.Logger, files: defaultFileCache(o.FileCache), pages: defaultPageCache(o.PageCache), budget: o.RateBudget, share: o.RateShare, audit: o.Audit,
		kinds: &listKinds{now: time.Now}, now: time.Now}
	if s.base == nil {
		s.base = http.DefaultTransport
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.limits = o.Limits
	if s.limits.MaxFileBytes <= 0 {
		s.limits.MaxFileBytes = DefaultMaxFileBytes
	}
	if s.limits.MaxTreeFiles <= 0 {
		s.limits.MaxTreeFiles = DefaultMaxTreeFiles
	}
	if s.limits.MaxTreeBytes <= 0 {
		s.limits.MaxTreeBytes = DefaultMaxTreeBytes
	}
	for _, in := range reg.List() {
		open, ok := o.Drivers[in.Kind]
		if !ok || open == nil {
			continue
		}
		if in.Disabled != nil {
			continue // Parse refuses its URLs with in.Disabled
		}
		if in.APIBaseURL == "" && in.RawBaseURL == "" {
			if s.unusable == nil {
				s.unusable = map[string]error{}
			}
			s.unusable[in.Host] = &errcode.Error{Code: errcode.InvalidArgument, Op: op, Provider: string(in.Kind), Host: in.Host,
				Msg: in.ConfigPath + " has no apiBaseUrl: set it to use this integration (for GitHub Enterprise Server usually https://" + in.Host + "/api/v3)"}
			continue
		}
		d, err := open(in)
		if err != nil {
			return nil, &errcode.Error{Code: errcode.CodeOf(err), Op: op, Provider: string(in.Kind), Host: in.Host,
				Msg: "opening the driver of " + in.ConfigPath, Err: err}
		}
		if d == nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Provider: string(in.Kind), Host: in.Host,
				Msg: "the Opener of " + string(in.Kind) + " returned a nil driver"}
		}
		s.drivers[in.Host] = d
	}
	return &Client{s: s}, nil
}

// UserOptions are the credential policy of a view made by
// [Client.ForUser]. The zero value lets every operation fall back from the
// user's credential to the integration's app or configured credentials,
// and, for reads, to anonymous access where the resolver allows it.
type UserOptions struct {
	// RequireUserForWrites makes writes (OpenPullRequest) use the user's
	// credential only: when the user has none for the host they fail
	// with Unauthorized instead of acting as an app or a configured
	// token, as Backstage's scaffolder.requireScmUserCredentials does.
	RequireUserForWrites bool
	// RequireUser makes every operation use the user's credential only.
	RequireUser bool
	// NoAnonymous makes operations fail rather than go anonymous.
	NoAnonymous bool
	// User is the entity ref of the user the view acts for
	// ("user:default/alice"), and UserDisplay how she signed in ("github
	// alice"). They change no credential: they name the user in every
	// [AuditEvent] of the view, also when a call falls back to the portal's
	// own credential.
	//
	// Naming a User does not make a call hers. Without a credential of
	// hers for the host (ForUser(nil, ...); a backend plugin reached with
	// a Backstage user or obo token, which carries no session cookie; a
	// sign-in through an identity provider that is not the SCM host), a
	// view with only User set reads with the portal's app or token, and
	// so with the portal's access, not hers: it shows repositories she
	// cannot see. Only the audit event says so ("service (...) on behalf
	// of user:default/alice"). Set RequireUser when the call must be made
	// with her own access (it then fails with Unauthorized), and fall back
	// only where your own authorization has decided she may see what the
	// portal's credential reads.
	User, UserDisplay string
}

// UserCredentials are a signed-in user's credentials, one per integration
// host, keyed by the host as configured ("github.com",
// "git.example.com:8443"; compared case-insensitively, default ports
// ignored). A user who signed in with GitHub has a token for GitHub only:
// keying by host is what keeps that token from ever being offered to
// another host.
type UserCredentials map[string]credentials.Source

// String names the hosts, never the credentials: "scm.UserCredentials[github.com]".
func (u UserCredentials) String() string {
	return "scm.UserCredentials[" + strings.Join(slices.Sorted(maps.Keys(u)), ", ") + "]"
}

// Format prints String for every verb, so that no verb reaches into a
// source that does not redact itself.
func (u UserCredentials) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		io.WriteString(f, strconv.Quote(u.String()))
		return
	}
	io.WriteString(f, u.String())
}

// LogValue names the hosts in log/slog output.
func (u UserCredentials) LogValue() slog.Value { return slog.StringValue(u.String()) }

// MarshalJSON writes the hosts only.
func (u UserCredentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(slices.Sorted(maps.Keys(u)))
}

// ForUser returns a view of c that acts for a signed-in user: for a call
// to a host in users, the user's credential is tried before any other (see
// credentials.Resolver for the order), and a user credential that fails
// (refused, expired without renewal, or a source that yields no token)
// fails the call: it never falls back to the portal's own credentials for
// her. Calls to hosts not in users (all of them when users is empty) use
// the integration's own credentials, with the portal's access, subject to
// opts: opts.User only names her in the audit trail, and
// opts.RequireUser is what makes such a call fail instead. The view shares c's
// drivers, credential caches and connections, and is cheap to make, e.g.
// once per request of the embedding application. opts may be nil. An empty
// users gives a view without user credential, with opts' policy. A host
// whose source is nil (a session lookup that lost it, a typed nil pointer)
// is hers with no credential: its calls fail Unauthorized, they do not
// fall back to the portal's credentials.
func (c *Client) ForUser(users UserCredentials, opts *UserOptions) *Client {
	v := &Client{s: c.s}
	if len(users) > 0 {
		v.users = make(UserCredentials, len(users))
		for host, src := range users {
			host = integrations.NormalizeHost(host)
			if typednil.Is(src) {
				src = noUserSource(host)
			}
			v.users[host] = src
		}
	}
	if opts != nil {
		v.policy = *opts
	}
	return v
}

// noUserSource stands for a user's source for host that was nil: every
// call for her there fails Unauthorized.
func noUserSource(host string) credentials.Source {
	return credentials.SourceFunc(func(context.Context) (*credentials.Credential, error) {
		return nil, errcode.New(errcode.Unauthorized, "scm.ForUser", "the signed-in user's credential source for "+host+" is nil: she has no credential there (was her session's source lost?)")
	})
}

// credRequest is the credentials request of one call.
func (c *Client) credRequest(in *integrations.Integration, loc integrations.Location, write bool) credentials.Request {
	req := credentials.Request{Host: in.Host, Owner: loc.Owner, Repo: loc.Repo, Write: write, User: c.users[in.Host]}
	if c.policy.RequireUser || (write && c.policy.RequireUserForWrites) {
		req.Policy |= credentials.RequireUser
	}
	if c.policy.NoAnonymous {
		req.Policy |= credentials.NoAnonymous
	}
	return req
}

// otherHostsOnly adds to err, a failed resolution of req, that the
// signed-in user has credentials for other hosts only, when she has some
// and none for req's host: a user token required here otherwise reads as
// "none passed", as if she had none (a session signed in through another
// instance than the integration's, say).
func (c *Client) otherHostsOnly(in *integrations.Integration, req credentials.Request, err error) error {
	e, ok := err.(*errcode.Error)
	if !ok || req.User != nil || len(c.users) == 0 {
		return err
	}
	switch e.Code {
	case errcode.Unauthorized, errcode.PermissionDenied, errcode.NotFound:
	default:
		return err
	}
	n := *e
	n.Msg = joinMsg(n.Msg, "the signed-in user has credentials for "+strings.Join(slices.Sorted(maps.Keys(c.users)), ", ")+
		" only, none for "+in.Host+" (is her sign-in through another instance than this integration's?)")
	return &n
}

// As returns the driver serving host (an integration's web host) as
// target, which must be a non-nil pointer to an interface or a driver's
// concrete pointer type, so that adapter-specific methods are reachable.
// It reports whether it succeeded.
func (c *Client) As(host string, target any) bool {
	in, ok := c.s.reg.ByHost(host)
	if !ok {
		return false
	}
	d, ok := c.s.drivers[in.Host]
	if !ok {
		return false
	}
	return asTarget(d, target)
}

// call is what an operation needs to reach one integration.
type call struct {
	op  string
	loc integrations.Location
	in  *integrations.Integration
	d   driver.Driver
	hc  *http.Client
	// anonymous is true when the credential resolved up front is none
	// (no resolver, no credential, or an anonymous one).
	anonymous bool
	// secrets are the credential values the call's requests sent: its
	// answers are scrubbed of them, and so is any error it returns.
	secrets *httpx.Secrets
	// kindKey is what a listing of loc.Owner by this call's credential
	// is remembered under (see listKinds).
	kindKey string
	// who is what answers remembered for this call's credential only
	// are keyed by (see credKey); "" remembers none.
	who string
}

// begin routes t, the call's URL looked up once, to its integration and
// driver, resolves the credential once to fail fast, and builds the
// per-call HTTP client. wantRepo says the URL must name a repository.
func (c *Client) begin(ctx context.Context, op string, t *target, write, wantRepo bool) (*call, error) {
	if err := errcode.FromContext(ctx, op); err != nil {
		return nil, err
	}
	in := t.Integration
	if in == nil {
		return nil, c.refuse(op, t)
	}
	if t.err != nil {
		return nil, c.fill(op, in, t.err, errcode.InvalidArgument)
	}
	loc := t.Location
	if loc.Ref == integrations.DefaultBranchRef {
		// HEAD, which every provider's web UI reads as the default
		// branch (and Registry.FileURL writes for it): the drivers
		// read the default branch as for a URL without a ref.
		loc.Ref = ""
	}
	if loc.Owner == "" || (wantRepo && loc.Repo == "") {
		what := "an owner"
		if wantRepo {
			what = "a repository"
		}
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Provider: string(in.Kind), Host: in.Host,
			Msg: fmt.Sprintf("URL %s does not name %s", t.redacted(), what)}
	}
	return c.connect(ctx, op, in, loc, write)
}

// connect finishes begin for a parsed location.
func (c *Client) connect(ctx context.Context, op string, in *integrations.Integration, loc integrations.Location, write bool) (*call, error) {
	d, ok := c.s.drivers[in.Host]
	if err := c.s.unusable[in.Host]; !ok && err != nil {
		return nil, c.fill(op, in, err, errcode.InvalidArgument)
	}
	if !ok {
		return nil, &errcode.Error{Code: errcode.Unimplemented, Op: op, Provider: string(in.Kind), Host: in.Host,
			Msg: fmt.Sprintf("no driver for %s integrations: add its adapter's Opener to scm.Options.Drivers", in.Kind)}
	}
	cl := &call{op: op, loc: loc, in: in, d: d, anonymous: true, secrets: &httpx.Secrets{}}
	req := c.credRequest(in, loc, write)
	// Below the credentials: the one place where the answers' headers and
	// error bodies are capped and scrubbed of every credential value sent.
	rt := c.pageLayer(in, c.validatorLayer(in, httpx.Sanitize(c.s.base, cl.secrets)))
	budgetKey := ""
	if c.s.res != nil {
		cred, err := c.s.res.Resolve(ctx, req)
		if err != nil {
			return nil, c.otherHostsOnly(in, req, c.wrap(ctx, cl, err))
		}
		cl.anonymous = cred == nil || cred.Kind == credentials.KindAnonymous || cred.Token == ""
		auditCall(ctx, in, loc, cred)
		cl.kindKey = listKindKey(in.Host, loc.Owner, cred)
		cl.who = credKey(cred)
		if cred != nil {
			budgetKey = in.Host + " " + cred.Source
			cl.secrets.Add(cred.Token)
			c.s.log.DebugContext(ctx, "scm: credential resolved", "op", op, "host", in.Host, "owner", loc.Owner,
				"kind", string(cred.Kind), "source", cred.Source)
		}
		if r, ok := c.s.res.(*credentials.Resolver); ok {
			rt = &credentials.Transport{Base: rt, Resolver: r, Request: req}
		} else if cred != nil && cred.Token != "" {
			// A resolver of the embedder's own picked the credential up
			// front: the same transport attaches it, under the same rule.
			rt = &credentials.Transport{Base: rt, Credential: cred, Registry: c.s.reg, Request: req}
		}
	}
	if c.s.res == nil {
		auditCall(ctx, in, loc, nil)
		cl.kindKey = listKindKey(in.Host, loc.Owner, nil)
		cl.who = credKey(nil)
	}
	cl.hc = c.httpClientFor(in, rt)
	c.spend(cl, budgetKey)
	if t, ok := cl.hc.Transport.(*httpx.Transport); ok && in.Kind == integrations.GitHub && !cl.anonymous {
		t.SetRateLimits(httpx.GitHubLimits) // a budget per resource; 304s are free
		t.SetAPIBase(in.APIBaseURL)         // searches are the base's /search/..., not a file path holding one
	}
	return cl, nil
}

// httpClientFor is httpClient with the integration's own retry policy,
// when it has one (integrations.gitlab[].retry: maxRetries, where 0
// disables retries for that host as in Backstage, and retryStatusCodes).
func (c *Client) httpClientFor(in *integrations.Integration, rt http.RoundTripper) *http.Client {
	r := c.s.retry
	var codes []int
	if in.GitLab != nil && in.GitLab.Retry != nil {
		r.MaxRetries = in.GitLab.Retry.MaxRetries
		if r.MaxRetries == 0 {
			r.MaxRetries = -1
		}
		codes = in.GitLab.Retry.RetryStatusCodes
	}
	return c.retryClient(rt, r, codes)
}

// httpClient wraps rt in the retry policy.
func (c *Client) httpClient(rt http.RoundTripper) *http.Client {
	return c.retryClient(rt, c.s.retry, nil)
}

// retryClient wraps rt in the retry policy r, retrying only the statuses
// in codes when it is not empty.
func (c *Client) retryClient(rt http.RoundTripper, r RetryOptions, codes []int) *http.Client {
	return httpx.NewClient(&httpx.Options{Base: rt, MaxRetries: r.MaxRetries, MinWait: r.MinWait, MaxWait: r.MaxWait,
		MaxRateLimitWait: r.MaxRateLimitWait, Logger: c.s.logger(), RetryStatusCodes: codes})
}

// logger returns the configured logger for httpx, or nil when silent.
func (s *shared) logger() *slog.Logger {
	if s.log.Handler() == slog.DiscardHandler {
		return nil
	}
	return s.log
}

// repo returns the driver.Repo of a call.
func (cl *call) repo() driver.Repo { return driver.Repo{Owner: cl.loc.Owner, Name: cl.loc.Repo} }

// wrap turns an error met during a call into the one *errcode.Error the
// caller sees, never wrapping twice: an *errcode.Error anywhere in err's
// chain (from httpx, credentials, archive or the driver) is copied with
// the call's Op, Provider and Host; any other error is classified by the
// driver's ErrorInfo and wrapped.
func (c *Client) wrap(ctx context.Context, cl *call, err error) error {
	if err == nil {
		return nil
	}
	var e *errcode.Error
	if ce := (*errcode.Error)(nil); errors.As(err, &ce) {
		cp := *ce
		e = &cp
		if e.Op != "" && e.Op != cl.op {
			e.Msg = joinMsg(e.Op, e.Msg)
		}
	} else {
		e = &errcode.Error{Code: errcode.Unknown, Err: err}
		if cl.d != nil {
			info := cl.d.ErrorInfo(err)
			e.Code, e.Status, e.RetryAt = info.Code, info.Status, info.RetryAt
		}
		if e.Code == errcode.OK {
			e.Code = errcode.Unknown
		}
	}
	e.Op = cl.op
	if cl.in != nil {
		e.Provider, e.Host = string(cl.in.Kind), cl.in.Host
	}
	if hint := refHint(cl, e); hint != "" {
		e.Msg = joinMsg(e.Msg, hint)
	}
	// The answers were scrubbed already; this also covers what an error
	// built from anything else (a driver's own message, a redirect's
	// URL) may quote.
	return cl.secrets.ScrubError(c.ctxOverride(ctx, e))
}

// refWords finds a provider's words for a ref it does not know; urlLike
// finds the URLs and paths an error quotes.
var (
	refWords = regexp.MustCompile(`(?i)(^|[^\w.-])(ref|commit|branch|revision)([^\w.-]|$)`)
	urlLike  = regexp.MustCompile(`(?i)(https?://|/)\S*`)
)

// refHint explains a ref the provider does not know when the URL may
// have meant another: a web URL's first segment after blob or tree is
// taken as the ref, so a branch "feature/x" needs ?at=feature/x
// (integrations.Registry.Parse). Only for a NotFound that names a ref,
// commit, branch or revision, of a call whose ref has no "/" and whose
// path goes on after it.
func refHint(cl *call, e *errcode.Error) string {
	if e.Code != errcode.NotFound || cl.loc.Ref == "" || strings.Contains(cl.loc.Ref, "/") || cl.loc.Path == "" ||
		cl.in == nil || cl.in.Kind == integrations.BitbucketServer {
		return ""
	}
	// The provider's words, not the request line or the names it may
	// quote (acme/prefect-flows, docs/reference.md, a host ref.example.com).
	text := urlLike.ReplaceAllString(e.Error(), " ")
	for _, name := range []string{cl.loc.Path, cl.loc.Repo, cl.loc.Owner, cl.in.Host} {
		if name != "" {
			text = strings.ReplaceAll(text, name, " ")
		}
	}
	if !refWords.MatchString(text) {
		return ""
	}
	return "the URL's ref was read as " + strconv.Quote(cl.loc.Ref) + "; if the branch's name has a '/' in it, add ?at=<branch> to the URL"
}

// ctxOverride reports a failure that happened because ctx ended as
// Canceled or DeadlineExceeded, whatever the driver made of it.
func (c *Client) ctxOverride(ctx context.Context, e *errcode.Error) error {
	if ctx.Err() == nil || e.Code == errcode.Canceled || e.Code == errcode.DeadlineExceeded {
		return e
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		e.Code = errcode.DeadlineExceeded
	} else {
		e.Code = errcode.Canceled
	}
	e.Status, e.RetryAt = 0, time.Time{}
	return e
}

// fill gives an error from a non-driver step (URL parsing) the call's
// identity; errors that are not *errcode.Error get code def.
func (c *Client) fill(op string, in *integrations.Integration, err error, def errcode.Code) error {
	var ce *errcode.Error
	if errors.As(err, &ce) && ce == err {
		e := *ce
		e.Op = op
		if e.Provider == "" {
			e.Provider = string(in.Kind)
		}
		if e.Host == "" {
			e.Host = in.Host
		}
		return &e
	}
	code := errcode.CodeOf(err)
	if code == errcode.Unknown {
		code = def
	}
	return &errcode.Error{Code: code, Op: op, Provider: string(in.Kind), Host: in.Host, Err: err}
}

// String describes the client without any secret: the hosts of its
// drivers and, for a per-user view, the hosts it holds a user credential
// for, e.g. "scm.Client(2 drivers; user credentials for github.com)".
func (c *Client) String() string {
	if c == nil || c.s == nil {
		return "scm.Client(nil)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "scm.Client(%d drivers", len(c.s.drivers))
	if len(c.users) > 0 {
		b.WriteString("; user credentials for ")
		b.WriteString(strings.Join(slices.Sorted(maps.Keys(c.users)), ", "))
	}
	b.WriteString(")")
	return b.String()
}

// GoString is String: a client has no Go syntax worth printing, and its
// fields hold the user's credential sources.
func (c *Client) GoString() string { return "&" + c.String() }

// Format prints String for every verb (GoString for %#v), so that no verb
// reaches into the user's credentials: fmt does not call the Format
// methods of values held in unexported fields, and for %s or %x would print
// a user source's fields, its refresh token included.
func (c *Client) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, c.GoString())
	case verb == 'q':
		io.WriteString(f, strconv.Quote(c.String()))
	default:
		io.WriteString(f, c.String())
	}
}

// LogValue describes the client in log/slog output without any secret.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON writes the client's description as a JSON string, never its
// credentials.
func (c *Client) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// asTarget assigns v to *target when target is a non-nil pointer to a
// type v is assignable to.
func asTarget(v, target any) bool {
	tv := reflect.ValueOf(target)
	if !tv.IsValid() || tv.Kind() != reflect.Pointer || tv.IsNil() {
		return false
	}
	e := tv.Elem()
	vv := reflect.ValueOf(v)
	if !vv.IsValid() || !vv.Type().AssignableTo(e.Type()) {
		return false
	}
	e.Set(vv)
	return true
}
