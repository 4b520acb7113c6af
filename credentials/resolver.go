package credentials

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/redact"
	"github.com/scmkit/scmkit/internal/typednil"
)

// Policy restricts, per call, which credentials [Resolver.Resolve] may
// pick. Combine flags with |; the zero value allows everything.
type Policy uint8

const (
	// RequireUser accepts only the signed-in user's token: a write that
	// must be attributed to the user, as Backstage's
	// scaffolder.requireScmUserCredentials does.
	RequireUser Policy = 1 << iota
	// NoUser never uses the user's token, even if one was passed: a
	// background job acting as the service.
	NoUser
	// NoAnonymous fails rather than going anonymous.
	NoAnonymous
)

// String lists the flags, e.g. "RequireUser|NoAnonymous".
func (p Policy) String() string {
	if p == 0 {
		return "0"
	}
	var parts []string
	for _, f := range []struct {
		p Policy
		s string
	}{{RequireUser, "RequireUser"}, {NoUser, "NoUser"}, {NoAnonymous, "NoAnonymous"}} {
		if p&f.p != 0 {
			parts = append(parts, f.s)
		}
	}
	return strings.Join(parts, "|")
}

// Request says what a credential is for.
type Request struct {
	// Host is the host of the call: an integration's web host
	// ("github.com", "git.example.com:8443"), API host ("api.github.com")
	// or raw host. If empty, it is taken from URL.
	Host string
	// URL, if set, is the URL being called. It supplies Host when Host is
	// empty, and is what backend.reading.allow is checked against for a
	// host with no integration. Owner and Repo are never taken from it.
	// When both are set, URL's host must belong to Host's integration
	// (or both to none): Resolve fails with InvalidArgument otherwise.
	URL string
	// Owner is the GitHub organisation or user, GitLab namespace path,
	// Bitbucket Cloud workspace or Bitbucket Server project key; "" for a
	// call about the host itself. On a GitHub host with apps, an empty
	// Owner resolves to the first app's JWT, which GitHub accepts on its
	// /app endpoints only: set Owner for anything about an owner's
	// repositories. An Owner with an empty, "." or ".." segment, a
	// backslash or a control character is refused with InvalidArgument.
	Owner string
	// Repo is the repository name, or "".
	Repo string
	// Write is true when the call changes something (pushes, opens a pull
	// request). Writes never go anonymous and never use an app's
	// publicAccess token.
	Write bool
	// User is the signed-in user's credential for this host, if the caller
	// acts for a user: see [UserSource] and [FromOAuth2]. It is passed per
	// call, never through a context value, and is only ever returned for
	// Host's integration. Leave it nil for a request made without the
	// user's token: a User that fails, or yields no credential or an empty
	// token, fails the request (Unauthorized) rather than falling back to
	// the app's or the integration's credentials.
	User Source
	// Policy restricts the choice for this call.
	Policy Policy
}

// ResolverOptions tunes a [Resolver]. A nil *ResolverOptions gives the
// defaults.
type ResolverOptions struct {
	// HTTPClient sends the requests of GitHub Apps (installation lookups,
	// token mints) and of OAuth consumers (client-credentials grants). nil
	// means a client with http.DefaultTransport. It must not be a client
	// whose transport is a credentials.Transport. Those requests never
	// follow a redirect, whatever its CheckRedirect says: a 3xx answer is
	// an Unavailable error.
	HTTPClient *http.Client
	// Now is the clock of every cache; nil means time.Now.
	Now func() time.Time
	// Margin is how long before expiry cached app credentials are renewed;
	// default DefaultMargin.
	Margin time.Duration
	// RequireUserForWrites makes every Request with Write set behave as if
	// it had the RequireUser policy.
	RequireUserForWrites bool
	// NoAnonymous makes every Request behave as if it had the NoAnonymous
	// policy.
	NoAnonymous bool
	// AllowAnonymous reports whether rawURL, on a host that has no
	// integration, may be read anonymously. nil means the registry's
	// backend.reading.allow (integrations.Registry.AllowsAnonymous).
	AllowAnonymous func(rawURL string) bool
	// MaxRetries, MinWait, MaxWait and MaxRateLimitWait tune the retries
	// of token endpoints (GitHub App installation lookups and token
	// mints, OAuth client-credentials grants), with the same names and
	// meaning as everywhere in scmkit: MaxRetries retries after the first
	// attempt (0: 3; negative: none); an exponential backoff from MinWait
	// to MaxWait (0: 500ms and 10s) when the server names no time; a wait
	// the server asks for is slept when it is at most MaxRateLimitWait
	// (0: 60s), and otherwise returned at once as RateLimited with
	// RetryAt. AttemptTimeout bounds each attempt (0: 20s).
	MaxRetries       int
	MinWait, MaxWait time.Duration
	MaxRateLimitWait time.Duration
	AttemptTimeout   time.Duration
	// Shared, if set, shares app credentials (GitHub App installations
	// and installation tokens, Bitbucket Cloud OAuth consumer tokens)
	// with the other replicas of the service (see [SharedStore]); nil,
	// or a nil pointer (a *redisstore.Store from FromConfig without
	// Redis), shares nothing. SharedLease bounds how long one replica may hold the right to fetch
	// one; default 10s.
	Shared      SharedStore
	SharedLease time.Duration
	// Logger, if set, receives a Warn record when the Resolver's caches
	// work around a failure of the Shared store (they then ask the
	// provider themselves) and when a token endpoint (a GitHub App's
	// installation lookup or mint, a Bitbucket Cloud OAuth consumer's
	// grant) fails as Unavailable or RateLimited once the retry policy is
	// done with it; and the retry policy's own records (Debug per retry,
	// Info per rate-limit wait or refusal). The Resolver passes it to the
	// GitHub Apps it makes. nil means silent. No record holds a secret.
	Logger *slog.Logger
}

// Resolver picks the credential for each call. It is a pure function of
// its configuration, the Request and its caches: the same inputs give the
// same credential, and only app credentials cause requests (to mint them).
// A Resolver is safe for concurrent use; make one per registry with
// [NewResolver] and share it. The zero Resolver is not usable: it resolves
// nothing, failing with InvalidArgument.
type Resolver struct {
	hosts          map[string]*hostState // web, API and raw hosts
	allowAnonymous func(string) bool
	requireUserW   bool
	noAnonymous    bool
	now            func() time.Time
}

// hostState is everything Resolve needs for one integration, computed once
// so that the hot path neither formats nor allocates.
type hostState struct {
	in       *integrations.Integration
	provider string

	apps         []*githubapp.App
	appNames     []appNames    // parallel to apps, for the trace
	consumer     *CachedSource // Bitbucket Cloud OAuth consumer
	consumerWhat string        // "integrations.bitbucketCloud[0] (OAuth consumer)"

	scoped       map[string]*Credential // lower-cased owner -> credential
	scopedList   []scopedEntry          // the same entries in config order, for the trace
	scopedGroups bool                   // GitLab: a parent group's credential covers subgroups
	token        *Credential            // the host-wide token, or nil
	tokenWhat    string                 // where it would be configured, for errors
	tokenWhy     string                 // why there is none, for errors
	anonymous    *Credential
}

// NewResolver returns a Resolver for the integrations of reg (nil: the
// public hosts only). It fails with InvalidArgument if a GitHub App's
// private key or app id is unusable, naming every such entry.
func NewResolver(reg *integrations.Registry, opts *ResolverOptions) (*Resolver, error) {
	return newResolver(reg.List(), reg.AllowsAnonymous, opts)
}

// newResolver builds a Resolver for a list of integrations, in registry
// order; allow is the registry's anonymous-reading check, if it has one.
func newResolver(list []*integrations.Integration, allow func(string) bool, opts *ResolverOptions) (*Resolver, error) {
	var o ResolverOptions
	if opts != nil {
		o = *opts
	}
	if typednil.Is(o.Shared) {
		o.Shared = nil // a nil *redisstore.Store: no Redis
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Margin <= 0 {
		o.Margin = DefaultMargin
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.AllowAnonymous == nil {
		o.AllowAnonymous = allow
	}
	r := &Resolver{
		hosts:          make(map[string]*hostState),
		allowAnonymous: o.AllowAnonymous,
		requireUserW:   o.RequireUserForWrites,
		noAnonymous:    o.NoAnonymous,
		now:            o.Now,
	}
	var errs []error
	states := make([]*hostState, 0, len(list))
	for _, in := range list {
		h, err := newHostState(in, &o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		states = append(states, h)
		if _, dup := r.hosts[in.Host]; !dup {
			r.hosts[in.Host] = h
		}
	}
	// API and raw hosts second, so that a web host always wins.
	for _, h := range states {
		for _, base := range []string{h.in.BaseURL, h.in.APIBaseURL, h.in.RawBaseURL} {
			u, err := url.Parse(base)
			if err != nil || u.Host == "" {
				continue
			}
			host := integrations.NormalizeHost(u.Host)
			if _, dup := r.hosts[host]; !dup {
				r.hosts[host] = h
			}
		}
	}
	if len(errs) > 0 {
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: "credentials.NewResolver",
			Msg: "unusable credentials in the configuration", Err: errors.Join(errs...)}
	}
	return r, nil
}

func newHostState(in *integrations.Integration, o *ResolverOptions) (*hostState, error) {
	h := &hostState{in: in, provider: string(in.Kind), scopedGroups: in.Kind == integrations.GitLab}
	h.anonymous = &Credential{Kind: KindAnonymous, Source: "anonymous (no credential for " + in.Host + ")"}
	switch in.Kind {
	case integrations.GitHub:
		var errs []error
		apps := in.GitHub.Apps
		if in.APIBaseURL == "" {
			// A disabled entry, or one with rawBaseUrl only: there is no
			// API to mint installation tokens with, and its calls fail
			// before any credential is needed.
			apps = nil
		}
		for i, cfg := range apps {
			app, err := githubapp.New(in.APIBaseURL, cfg, &githubapp.Options{
				HTTPClient: o.HTTPClient, Now: o.Now, Margin: o.Margin, Host: in.Host,
				ConfigPath: in.ConfigPath + ".apps[" + strconv.Itoa(i) + "]",
				MaxRetries: o.MaxRetries, MinWait: o.MinWait, MaxWait: o.MaxWait,
				MaxRateLimitWait: o.MaxRateLimitWait, AttemptTimeout: o.AttemptTimeout,
				Shared: o.Shared, SharedLease: o.SharedLease, Logger: o.Logger,
			})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			h.apps = append(h.apps, app)
			h.appNames = append(h.appNames, newAppNames(app))
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
	case integrations.BitbucketCloud:
		if c := in.BitbucketCloud; c.ClientID != "" && !c.ClientSecret.IsZero() {
			h.consumer = newClientCredentials(in, tokenClient(o), o.Now, o.Margin, o.Logger)
			if o.Shared != nil {
				h.consumer.share(o.Shared, "bitbucketCloud:"+in.Host+":oauth:"+c.ClientID, o.SharedLease)
				h.consumer.logStoreFailures(o.Logger, in.ConfigPath+" (OAuth consumer)")
			}
			h.consumerWhat = in.ConfigPath + " (OAuth consumer)"
		}
	}
	// The host-wide token, and where it is (or would be) configured.
	user, tok := in.Token()
	h.tokenWhat, h.tokenWhy = in.ConfigPath+".token", "not configured"
	if strings.ContainsRune(in.ConfigPath, ' ') { // an implicit default entry
		h.tokenWhat, h.tokenWhy = "integrations."+string(in.Kind), "no entry for "+in.Host+", so no token"
	}
	if !tok.IsZero() {
		path := in.ConfigPath + ".token"
		switch {
		case in.Kind == integrations.BitbucketCloud && user != "" && in.BitbucketCloud.Token.IsZero():
			path = in.ConfigPath + ".appPassword"
		case in.Kind == integrations.BitbucketServer && in.BitbucketServer.Token.IsZero():
			path = in.ConfigPath + ".password"
		}
		h.token = &Credential{Kind: KindToken, Token: tok.Reveal(), Username: user, Source: path}
	}
	// Owner-scoped credentials, by lower-cased owner. Where one owner is
	// listed twice, the first entry wins, as in Integration.CredentialFor.
	for i, sc := range in.Scoped() {
		c := scopedCredential(in.Kind, sc)
		if c == nil {
			continue
		}
		c.Source = in.ConfigPath + ".credentials[" + strconv.Itoa(i) + "]"
		entry := scopedEntry{cred: c}
		for _, owner := range sc.Owners {
			key := strings.ToLower(strings.Trim(owner, "/"))
			if key == "" {
				continue
			}
			entry.owners = append(entry.owners, key)
			if h.scoped == nil {
				h.scoped = make(map[string]*Credential)
			}
			if _, dup := h.scoped[key]; !dup {
				h.scoped[key] = c
			}
		}
		if len(entry.owners) > 0 {
			h.scopedList = append(h.scopedList, entry)
		}
	}
	return h, nil
}

// scopedCredential turns a credentials[] entry into a Credential, with the
// same rules as the entry's own token: GitHub and GitLab tokens are
// Bearer; Bitbucket Cloud is Basic with a username, Bearer without; on
// Bitbucket Server a token is Bearer and wins over username and password.
func scopedCredential(kind integrations.Kind, sc integrations.ScopedCredential) *Credential {
	c := &Credential{Kind: KindToken}
	switch {
	case kind == integrations.BitbucketCloud && !sc.Token.IsZero():
		c.Token, c.Username = sc.Token.Reveal(), sc.Username
	case kind == integrations.BitbucketServer && sc.Token.IsZero() && sc.Username != "":
		c.Token, c.Username = sc.Password.Reveal(), sc.Username
	default:
		c.Token = sc.Token.Reveal()
	}
	if c.Token == "" {
		return nil
	}
	return c
}

// scopedFor returns the owner-scoped credential for owner: an exact match
// (case-insensitive), else on GitLab the one of the nearest parent group.
// It does not allocate for a lower-case owner.
func (h *hostState) scopedFor(owner string) *Credential {
	if h.scoped == nil {
		return nil
	}
	key := lowerASCII(strings.Trim(owner, "/"))
	for key != "" {
		if c, ok := h.scoped[key]; ok {
			return c
		}
		i := strings.LastIndexByte(key, '/')
		if !h.scopedGroups || i < 0 {
			return nil
		}
		key = key[:i]
	}
	return nil
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// state returns the integration for a host as it appears in a request URL,
// or nil.
func (r *Resolver) state(host string) *hostState {
	if h, ok := r.hosts[host]; ok {
		return h
	}
	return r.hosts[integrations.NormalizeHost(host)]
}

// sendable returns the integration that owns the host of a request URL,
// if a credential may be sent there: over https, or over http to a host
// that the configuration itself gives an http:// URL (a test server, an
// internal instance). A redirect from https to http on an integration's
// host therefore goes out without credentials.
func (r *Resolver) sendable(scheme, host string) *hostState {
	h := r.state(host)
	if h == nil || scheme == "https" {
		return h
	}
	if scheme == "http" && h.in.PlainHTTP(host) {
		return h
	}
	return nil
}

// Owns reports whether host (as in a request URL: a web, API or raw host)
// belongs to an integration, i.e. whether a credential may be sent to it.
func (r *Resolver) Owns(host string) bool { return r.state(host) != nil }

// Resolve returns the credential to use for req, trying in this order and
// returning the first that applies:
//
//  1. the signed-in user's token, when req.User is set (unless NoUser);
//     it is the user's token for req.Host, so a req whose URL is on
//     another integration than its Host fails with InvalidArgument before
//     anything is tried; a token past its Expiry (on the resolver's clock)
//     is never returned, and a source that returns no credential or an
//     empty token is not "no user": Resolve fails with Unauthorized
//     instead of acting under another identity;
//  2. app credentials: on GitHub, each configured app in config order
//     (its installation token for req.Owner, or its JWT when req.Owner is
//     empty); on Bitbucket Cloud, the OAuth consumer;
//  3. the credential scoped to req.Owner, then the host's own token;
//  4. on GitHub, for reads, a token of an app with publicAccess;
//  5. anonymous, for reads, unless NoAnonymous.
//
// RequireUser stops after step 1. An app that is not installed for the
// owner, or whose allowedInstallationOwners excludes it, is skipped. Any
// other app failure (a suspended installation, a repository outside a
// selected-repositories installation, GitHub rejecting the app's JWT,
// GitHub unreachable) is returned as the error, after the remaining apps
// have been tried, instead of falling back to the token: a fallback would
// hide the fault and act under a different identity (Backstage does the
// same). A user source that fails is also returned, not fallen back from.
//
// When nothing applies, the error (Unauthorized, or the failing app's
// code) lists every candidate and why it was skipped. A host that no
// integration owns gets an anonymous credential if AllowAnonymous allows
// req.URL, and a PermissionDenied error otherwise.
//
// A cached app credential costs no request and one allocation.
// [Resolver.Explain] resolves the same way and also says why.
func (r *Resolver) Resolve(ctx context.Context, req Request) (*Credential, error) {
	return r.resolve(ctx, req, nil)
}

// resolve is Resolve, and with a non-nil tr Explain: the one code path of
// both. Every candidate goes through tried, whose methods record it for
// the error and, only when tr is not nil, for the trace.
func (r *Resolver) resolve(ctx context.Context, req Request, tr *trace) (*Credential, error) {
	if err := errcode.FromContext(ctx, opResolve); err != nil {
		return nil, err
	}
	if r.hosts == nil {
		// NewResolver knows the public hosts at least: this Resolver
		// was not made by it, and an answer about the host would mislead.
		return nil, errcode.New(errcode.InvalidArgument, opResolve, "credentials.Resolver not built with NewResolver (the zero Resolver is not usable)")
	}
	host := req.Host
	if host == "" {
		u, err := url.Parse(req.URL)
		if err != nil || u.Host == "" {
			return nil, errcode.Newf(errcode.InvalidArgument, opResolve, "the request names no host (Host %q, URL %q)", req.Host, redact.URL(req.URL))
		}
		host = u.Host
	}
	h := r.state(host)
	if req.Host != "" && req.URL != "" {
		// The credential is for Host's integration (the user's token
		// among them): never for a URL on another one.
		if u, err := url.Parse(req.URL); err == nil && u.Host != "" && r.state(u.Host) != h {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: opResolve, Host: integrations.NormalizeHost(host),
				Msg: "the request's URL is on host " + integrations.NormalizeHost(u.Host) + ", which is not a host of the integration for " +
					integrations.NormalizeHost(host) + "; a credential for one integration is never used on another, so resolve for the URL's own host"}
		}
	}
	if h == nil {
		return r.unknownHost(req, host, tr)
	}
	if bad := ownerProblem(req.Owner); bad != "" {
		// Matched against scoped credentials as a path ("acme/../evil"
		// would match acme's), so it must be one.
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: opResolve, Provider: h.provider, Host: h.in.Host,
			Msg: "owner " + strconv.Quote(req.Owner) + " " + bad}
	}
	policy := req.Policy
	if r.noAnonymous {
		policy |= NoAnonymous
	}
	if req.Write && r.requireUserW {
		policy |= RequireUser
	}
	if policy&RequireUser != 0 && policy&NoUser != 0 {
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: opResolve, Provider: h.provider, Host: h.in.Host,
			Msg: "the policy both requires and forbids the user's token (RequireUser|NoUser)"}
	}
	tried := attempts{trace: tr}

	// 1. The signed-in user's token.
	switch {
	case policy&NoUser != 0:
		tried.skip("user token", "not used (NoUser policy)")
	case req.User == nil:
		tried.skip("user token", "none passed")
	default:
		c, err := req.User.Credential(ctx)
		if err != nil {
			tried.failed("user token", "", err, false)
			return nil, h.userError(err)
		}
		if c != nil && c.Token != "" {
			if !c.Expiry.IsZero() && !r.now().Before(c.Expiry) {
				// Never handed out: the server would refuse it, and
				// another credential would act under another identity.
				err := &errcode.Error{Code: errcode.Unauthorized, Op: opResolve, Provider: h.provider, Host: h.in.Host,
					Msg: "the signed-in user's token expired at " + c.Expiry.UTC().Format(time.RFC3339) +
						" and its source did not renew it; the user must sign in again"}
				tried.failed("user token", "", err, false)
				return nil, h.userError(err)
			}
			tried.chose("user token", "passed in the request")
			return c, nil
		}
		// A source passed for the user that yields no token is a fault
		// of that source (a session that lost its token, a SourceFunc
		// answering nil for "not signed in"), not a request without a
		// user: falling back would act, a write too, under the app's or
		// the integration's identity instead of hers. Pass no User for
		// a request made without her.
		err = &errcode.Error{Code: errcode.Unauthorized, Op: opResolve, Provider: h.provider, Host: h.in.Host,
			Msg: "the user's credential source returned no token (pass no User for a request made without the user)"}
		tried.failed("user token", "", err, false)
		return nil, h.userError(err)
	}
	if policy&RequireUser != 0 {
		return nil, h.fail(req, policy, &tried, errcode.Unauthorized, nil, "a user token is required (RequireUser policy)")
	}

	// 2. App credentials.
	var appErr error
	for i, app := range h.apps {
		name := &h.appNames[i]
		if req.Owner == "" {
			tok, err := app.JWT(ctx)
			if err != nil {
				tried.failed(name.what, name.label, err, false)
				appErr = cmpOr(appErr, err)
				continue
			}
			tried.choseApp(name.what, tok, "")
			return appCredential(tok), nil
		}
		tok, err := app.Token(ctx, req.Owner, req.Repo)
		if err != nil {
			fallback := githubapp.Fallback(err)
			tried.failed(name.what, name.label, err, fallback)
			if !fallback {
				appErr = cmpOr(appErr, err)
			}
			continue
		}
		tried.choseApp(name.what, tok, req.Owner)
		return appCredential(tok), nil
	}
	if h.consumer != nil {
		c, err := h.consumer.Credential(ctx)
		if err != nil {
			tried.failed(h.consumerWhat, "", err, false)
			appErr = cmpOr(appErr, err)
		} else {
			tried.chose(h.consumerWhat, "the OAuth consumer's client-credentials token")
			return c, nil
		}
	}
	if appErr != nil {
		// The caller gave up: there is nothing to list.
		if code := errcode.CodeOf(appErr); code == errcode.Canceled || code == errcode.DeadlineExceeded {
			return nil, appErr
		}
		if err := errcode.FromContext(ctx, opResolve); err != nil {
			return nil, err
		}
		tried.scopedNotTried(h, "not tried after the app error")
		if h.token != nil {
			tried.notTried(h.token.Source, "not tried after the app error")
		} else {
			tried.skip(h.tokenWhat, h.tokenWhy)
		}
		return nil, h.fail(req, policy, &tried, errcode.CodeOf(appErr), appErr,
			"an app credential failed, and scmkit does not fall back to other credentials after an app error")
	}

	// 3. The owner's scoped credential, then the host's token.
	if c := h.scopedFor(req.Owner); c != nil {
		tried.scopedChosen(h, req.Owner, c)
		return c, nil
	}
	tried.scopedSkipped(h, req.Owner)
	if h.token != nil {
		tried.chose(h.token.Source, "the integration's own token")
		return h.token, nil
	}
	tried.skip(h.tokenWhat, h.tokenWhy)

	// 4. An app's publicAccess token, for reads. As in step 2, only "no
	// installation to use" moves on.
	if !req.Write {
		for i, app := range h.apps {
			if !app.PublicAccess() {
				continue
			}
			name := &h.appNames[i]
			tok, err := app.PublicToken(ctx)
			if err != nil {
				fallback := githubapp.Fallback(err)
				tried.failed(name.public, name.label, err, fallback)
				if !fallback {
					if cerr := errcode.FromContext(ctx, opResolve); cerr != nil {
						return nil, cerr
					}
					return nil, h.fail(req, policy, &tried, errcode.CodeOf(err), err,
						"an app's publicAccess token failed, and scmkit does not fall back to other credentials after an app error")
				}
				continue
			}
			tried.choseApp(name.public, tok, "")
			c := appCredential(tok)
			c.Source += " (publicAccess)"
			return c, nil
		}
	}

	// 5. Anonymous, for reads.
	switch {
	case req.Write:
		tried.skip("anonymous", "not for writes")
	case policy&NoAnonymous != 0:
		tried.skip("anonymous", "not allowed (NoAnonymous policy)")
	default:
		tried.chose("anonymous", "a read, and no credential applies")
		return h.anonymous, nil
	}
	return nil, h.fail(req, policy, &tried, errcode.Unauthorized, nil, "")
}

const opResolve = "credentials.Resolve"

// ownerProblem says why owner (leading and trailing '/' aside) cannot
// name an organisation, group path, workspace or project, or "" if it can.
func ownerProblem(owner string) string {
	owner = strings.Trim(owner, "/")
	if owner == "" {
		return ""
	}
	for i := 0; i < len(owner); i++ {
		if c := owner[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "contains a control character or backslash"
		}
	}
	for seg := range strings.SplitSeq(owner, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "has an empty, \".\" or \"..\" path segment"
		}
	}
	return ""
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func appCredential(t *githubapp.Token) *Credential {
	return &Credential{Kind: KindApp, Token: t.Token, Expiry: t.ExpiresAt, Source: t.Source}
}

// unknownHost handles a host that no integration owns.
func (r *Resolver) unknownHost(req Request, host string, tr *trace) (*Credential, error) {
	raw := req.URL
	if raw == "" {
		raw = "https://" + host + "/"
	}
	if !req.Write && req.Policy&NoAnonymous == 0 && !r.noAnonymous && r.allowAnonymous != nil && r.allowAnonymous(raw) {
		if tr != nil {
			tr.add("anonymous", Chosen, "no integration is configured for host "+integrations.NormalizeHost(host)+", and backend.reading.allow allows the URL")
		}
		return &Credential{Kind: KindAnonymous, Source: "anonymous (backend.reading.allow)"}, nil
	}
	why := "it is not in backend.reading.allow"
	switch {
	case req.Write:
		why = "writes need an integration"
	case req.Policy&NoAnonymous != 0 || r.noAnonymous:
		why = "anonymous reading is off (NoAnonymous)"
	}
	if tr != nil {
		tr.add("anonymous", Skipped, "no integration is configured for host "+integrations.NormalizeHost(host)+" and "+why)
	}
	return nil, &errcode.Error{Code: errcode.PermissionDenied, Op: opResolve, Host: integrations.NormalizeHost(host),
		Msg: "no integration is configured for host " + integrations.NormalizeHost(host) + " and " + why +
			"; add an entry for it under integrations (github, gitlab, bitbucketCloud or bitbucketServer), or allow anonymous reading with backend.reading.allow"}
}

func (h *hostState) userError(err error) error {
	e := &errcode.Error{Code: errcode.CodeOf(err), Op: opResolve, Provider: h.provider, Host: h.in.Host,
		Msg: "the signed-in user's token could not be used", Err: err}
	if e.Code == errcode.Unknown {
		e.Code = errcode.Unauthorized
	}
	return e
}

// attempts records the candidates Resolve skipped, for its error. It lives
// on Resolve's stack and holds only precomputed strings and errors, so the
// success path formats nothing. Its methods in explain.go also feed trace,
// which is nil unless Explain asked for it.
type attempts struct {
	n     int
	fix   [8]attempt
	more  []attempt
	trace *trace
}

type attempt struct {
	what, why string
	err       error
}

func (t *attempts) add(what, why string, err error) {
	if t.n < len(t.fix) {
		t.fix[t.n] = attempt{what, why, err}
		t.n++
		return
	}
	t.more = append(t.more, attempt{what, why, err})
}

// fail builds the error that lists every candidate.
func (h *hostState) fail(req Request, policy Policy, tried *attempts, code errcode.Code, cause error, lead string) error {
	var b strings.Builder
	b.WriteString("no usable credential")
	if req.Owner != "" {
		b.WriteString(" for owner " + req.Owner)
		if req.Repo != "" {
			b.WriteString(", repository " + req.Repo)
		}
	}
	if req.Write {
		b.WriteString(" (write)")
	}
	if lead != "" {
		b.WriteString(": " + lead)
	}
	b.WriteString("; tried: ")
	all := append(tried.fix[:tried.n:tried.n], tried.more...)
	for i, a := range all {
		if i > 0 {
			b.WriteString("; ")
		}
		if a.err != nil {
			b.WriteString(errMsg(a.err))
			continue
		}
		b.WriteString(a.what + ": " + a.why)
	}
	if policy != 0 {
		b.WriteString(" (policy " + policy.String() + ")")
	}
	e := &errcode.Error{Code: code, Op: opResolve, Provider: h.provider, Host: h.in.Host, Msg: b.String()}
	if cause != nil {
		// The cause's message is in the list already; keep what it wraps
		// (githubapp.ErrSuspended, a network error) for errors.Is and
		// errors.As, and its status and retry time.
		e.Err = cause
		var ce *errcode.Error
		if errors.As(cause, &ce) {
			e.Err, e.Status, e.RetryAt = ce.Err, ce.Status, ce.RetryAt
		}
	}
	return e
}

// Invalidate tells the resolver that cred, returned by Resolve for req, was
// rejected (HTTP 401), so that the next Resolve does not return it again:
// a user credential is dropped from req.User if that is an [Invalidator];
// an app credential from the app or OAuth consumer cache that holds it.
// Configured tokens cannot be renewed and are left alone. It reports
// whether anything was dropped.
func (r *Resolver) Invalidate(req Request, cred *Credential) bool {
	if cred == nil {
		return false
	}
	switch cred.Kind {
	case KindUser:
		if inv, ok := req.User.(Invalidator); ok {
			return inv.Invalidate(cred)
		}
	case KindApp:
		host := req.Host
		if host == "" {
			if u, err := url.Parse(req.URL); err == nil {
				host = u.Host
			}
		}
		h := r.state(host)
		if h == nil {
			return false
		}
		dropped := false
		for _, app := range h.apps {
			dropped = app.Invalidate(cred.Token) || dropped
		}
		if h.consumer != nil {
			dropped = h.consumer.Invalidate(cred) || dropped
		}
		return dropped
	}
	return false
}

// String describes the resolver without any secret.
func (r *Resolver) String() string {
	return "credentials.Resolver(" + strconv.Itoa(len(r.hosts)) + " hosts)"
}

// Format prints String for every verb, so no verb shows a secret.
func (r *Resolver) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, r.String(), "&"+r.String())
}

// LogValue describes the resolver without any secret.
func (r *Resolver) LogValue() slog.Value { return slog.StringValue(r.String()) }

// String describes the request; a user source is shown by its own String,
// which for this package's sources never includes a secret.
func (req Request) String() string {
	var b strings.Builder
	b.WriteString("credentials.Request{")
	host := req.Host
	if host == "" {
		host = redact.URL(req.URL)
	}
	b.WriteString("Host: " + host)
	if req.Owner != "" {
		b.WriteString(", Owner: " + req.Owner)
	}
	if req.Repo != "" {
		b.WriteString(", Repo: " + req.Repo)
	}
	if req.Write {
		b.WriteString(", Write")
	}
	if req.User != nil {
		b.WriteString(", User: set")
	}
	if req.Policy != 0 {
		b.WriteString(", Policy: " + req.Policy.String())
	}
	b.WriteString("}")
	return b.String()
}

// Format prints String for every verb, so that no verb reaches into User.
func (req Request) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, req.String(), req.String())
}

// LogValue shows the request without the user source.
func (req Request) LogValue() slog.Value { return slog.StringValue(req.String()) }
