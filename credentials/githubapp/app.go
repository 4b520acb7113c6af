package githubapp

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scmkit/scmkit/credentials/internal/tokencache"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/internal/redact"
	"github.com/scmkit/scmkit/internal/typednil"
	"github.com/scmkit/scmkit/internal/warnlimit"
)

// Defaults for [Options].
const (
	// DefaultMargin is how long before an installation token expires it is
	// renewed. GitHub's installation tokens live one hour.
	DefaultMargin = 5 * time.Minute
	// DefaultInstallationTTL is how long an owner's installation is
	// remembered.
	DefaultInstallationTTL = time.Hour
	// DefaultNotInstalledTTL is how long "not installed for this owner" is
	// remembered.
	DefaultNotInstalledTTL = time.Minute
	// DefaultRepositoriesTTL is how long the repository list of a
	// selected-repositories installation is kept.
	DefaultRepositoriesTTL = 10 * time.Minute
	// DefaultRepositoriesRefresh is the least time between two listings of
	// one installation's repositories caused by a repository missing from
	// the list.
	DefaultRepositoriesRefresh = time.Minute
	// DefaultAttemptTimeout bounds one attempt of a request to GitHub.
	DefaultAttemptTimeout = 20 * time.Second
)

const (
	jwtLifetime = 9 * time.Minute  // GitHub allows at most 10
	jwtBackdate = 60 * time.Second // issued-at, for clock skew
	// freshTokenLag is how long after its mint (by this machine's clock)
	// an installation token is tried again when refused: GitHub's servers
	// may not know it for a few seconds (octokit waits 5 s).
	freshTokenLag = 5 * time.Second
	jwtMargin     = 2 * time.Minute // re-sign when less than this is left
	maxRepoPages  = 100             // 10,000 repositories
	apiVersion    = "2022-11-28"
	mediaType     = "application/vnd.github+json"
	provider      = "github"
	selected      = "selected"
)

// Options tunes an [App]. A nil *Options gives the defaults.
type Options struct {
	// HTTPClient sends the requests to GitHub's API; nil means a client
	// with http.DefaultTransport. It must not attach credentials itself
	// (do not give it a credentials.Transport). The App uses a copy that
	// never follows redirects, whatever its CheckRedirect says, so that
	// the JWT and installation tokens go to the API base URL only.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Margin is how long before its expiry an installation token is
	// renewed; default DefaultMargin.
	Margin time.Duration
	// ConfigPath names the app's config entry in Source strings and
	// errors, e.g. "integrations.github[0].apps[1]"; default
	// "github app <id>".
	ConfigPath string
	// Host is the integration's web host, for errors; default the host of
	// the API base URL.
	Host string
	// InstallationTTL, NotInstalledTTL, RepositoriesTTL and
	// RepositoriesRefresh: see the package documentation; zero means the
	// Default* value.
	InstallationTTL, NotInstalledTTL     time.Duration
	RepositoriesTTL, RepositoriesRefresh time.Duration
	// Permissions, if set, narrows every installation token to these
	// permissions, e.g. {"contents": "read", "metadata": "read"}. GitHub
	// answers 422 if the installation does not grant one of them.
	Permissions map[string]string
	// UserAgent is sent with every request; default "scmkit".
	UserAgent string
	// MaxRetries, MinWait, MaxWait and MaxRateLimitWait tune the
	// retries of installation lookups, token mints and repository
	// listings, with the same names and meaning as everywhere in scmkit:
	// MaxRetries retries after the first attempt (0: 3; negative: none);
	// an exponential backoff from MinWait to MaxWait (0: 500ms and 10s)
	// when GitHub names no time; a wait GitHub asks for (Retry-After,
	// X-RateLimit-Reset, one minute for a secondary rate limit) is slept
	// when it is at most MaxRateLimitWait (0: 60s), and otherwise
	// returned at once as RateLimited with RetryAt; until then (5
	// minutes at most), the App's calls authenticated as the app
	// (installation lookups and listings, mints) fail the same way
	// without asking GitHub, whose limit is the app's.
	MaxRetries       int
	MinWait, MaxWait time.Duration
	MaxRateLimitWait time.Duration
	// AttemptTimeout bounds each attempt, so that an endpoint that hangs
	// is tried again while the caller's context allows; 0 means
	// DefaultAttemptTimeout.
	AttemptTimeout time.Duration
	// Shared, if set, shares installations and installation tokens with
	// the other replicas of the service through a store (see
	// [SharedStore]): for a cold owner, one replica looks the
	// installation up and one mints the token, whatever the number of
	// replicas, and one renews it. Tokens are stored as secrets
	// (encrypted at rest). Nil, or a nil pointer (a *redisstore.Store
	// from FromConfig without Redis), keeps everything in this process.
	Shared SharedStore
	// SharedLease bounds how long one replica may hold the right to
	// look up or mint before another takes over; default 10s.
	SharedLease time.Duration
	// Logger, if set, receives a Warn record when the App works around a
	// failure of the Shared store (it then asks GitHub itself) and when
	// a call to GitHub's API fails as Unavailable or RateLimited once the
	// retry policy is done with it; and the retry policy's own records
	// (Debug per retry, Info per rate-limit wait or refusal). nil means
	// silent. No record holds a token, the JWT or the private key.
	Logger *slog.Logger
}

// SharedStore is a store shared by the replicas of a service. It is the
// same interface as credentials.SharedStore (which documents it), repeated
// here because credentials imports this package; the package redisstore
// implements it.
type SharedStore interface {
	Load(ctx context.Context, key string) (value []byte, ok bool, err error)
	Lease(ctx context.Context, key string, ttl time.Duration) (fence int64, err error)
	Save(ctx context.Context, key string, value []byte, ttl time.Duration, fence int64, secret bool) (bool, error)
	Release(ctx context.Context, key string, fence int64) error
	Delete(ctx context.Context, key string) error
}

// Installation is a GitHub App's installation on one account.
type Installation struct {
	ID      int64
	AppID   int64
	Account string // the login of the organisation or user, as GitHub spells it
	// AccountType is "Organization" or "User".
	AccountType string
	// RepositorySelection is "all" or "selected".
	RepositorySelection string
	Permissions         map[string]string
	Suspended           bool
}

// Token is an installation access token or an app JWT. Its String,
// GoString, Format, LogValue and MarshalJSON never show the token.
type Token struct {
	// Token is the secret: an installation token ("ghs_…") or a JWT.
	Token     string
	ExpiresAt time.Time
	AppID     int64
	// InstallationID is 0 for an app JWT.
	InstallationID int64
	// Source says where the token came from, e.g.
	// "integrations.github[0].apps[1] installation 42" or
	// "integrations.github[0].apps[1] jwt".
	Source string
	// RepositorySelection is "all" or "selected" ("" for a JWT).
	RepositorySelection string
	Permissions         map[string]string

	minted time.Time // when this process received it; zero from a shared store
}

// App is one GitHub App on one GitHub host. It is safe for concurrent use;
// create one per app and reuse it, since its caches are what make repeated
// calls free. The zero App is not usable; make one with [New].
type App struct {
	id      int64
	idStr   string
	key     *rsa.PrivateKey
	allowed map[string]struct{} // lower-cased; nil: every owner
	public  bool

	apiBase string // no trailing slash
	apiURL  *url.URL
	host    string
	path    string // config path for messages and Source strings
	label   string // "app 123 (integrations.github[0].apps[1])"
	client  *http.Client
	log     *slog.Logger // nil: silent
	warns   warnlimit.Limiter
	rlMu    sync.Mutex
	rlUntil time.Time // GitHub rate-limits the app's JWT calls until then

	userAgent string
	now       func() time.Time
	perms     []byte // JSON body for token requests, or nil

	installTTL, notInstalledTTL time.Duration
	reposTTL, reposRefresh      time.Duration

	jwt    *tokencache.Cache[struct{}, *Token]
	owners *tokencache.Cache[string, *Installation] // key: lower-cased owner
	tokens *tokencache.Cache[int64, *Token]         // key: installation id
	repos  *tokencache.Cache[int64, *repoSet]       // key: installation id
	first  *tokencache.Cache[struct{}, *Installation]
	// roster answers several cold owners with one listing of the
	// installations; proofs remembers repositories that GET
	// /repos/{owner}/{repo}/installation showed a selected-repositories
	// installation to cover (key: "id/repo"); pages keeps listed pages
	// and their ETags for conditional re-listing.
	roster *tokencache.Cache[struct{}, *roster]
	proofs *tokencache.Cache[string, struct{}]
	pages  pageCache

	// mintTimeout bounds a mint, which runs to its end even when the
	// caller that started it gives up (see installationToken).
	mintTimeout time.Duration

	// coldMu guards the bookkeeping of cold owner lookups (see
	// coldStart): how many run, when the last started, and until when
	// the app is known to have too many installations to list for them.
	coldMu        sync.Mutex
	coldN         int
	lastCold      time.Time
	lastColdOwner string
	largeUntil    time.Time

	// kinds remembers, per lower-cased owner, which owner endpoint found
	// its installation ("users" or "orgs"), so that looking the owner up
	// again costs one request. It only grows with owners the app is
	// installed for.
	kindsMu sync.Mutex
	kinds   map[string]string
}

type repoSet struct {
	names   map[string]struct{} // lower-cased
	fetched time.Time
	partial bool // the listing named a next page on another host, not read
}

// New returns the App described by cfg, calling the REST API at apiBaseURL
// ("https://api.github.com", "https://ghe.example.com/api/v3"). It fails
// with InvalidArgument if the private key does not parse or the app id or
// base URL is missing. The key may use literal "\n" sequences for
// newlines, as in Backstage's config.
func New(apiBaseURL string, cfg integrations.GitHubAppConfig, opts *Options) (*App, error) {
	const op = "githubapp.New"
	var o Options
	if opts != nil {
		o = *opts
	}
	defaultPath := o.ConfigPath == ""
	if defaultPath {
		o.ConfigPath = "github app " + strconv.FormatInt(cfg.AppID, 10)
	}
	if cfg.AppID <= 0 {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "%s.appId: must be a positive number, got %d", o.ConfigPath, cfg.AppID)
	}
	base := strings.TrimRight(apiBaseURL, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "%s: the API base URL %q is not an http(s) URL; set apiBaseUrl on the GitHub integration", o.ConfigPath, apiBaseURL)
	}
	pem := cfg.PrivateKey.Reveal()
	if strings.Contains(pem, `\n`) {
		pem = strings.ReplaceAll(pem, `\n`, "\n")
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(pem))
	if err != nil {
		// The parser's errors name the problem, never the key's bytes.
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Provider: provider, Host: o.Host,
			Msg: o.ConfigPath + ".privateKey: not a PEM-encoded RSA private key; paste the .pem file GitHub generated for app " +
				strconv.FormatInt(cfg.AppID, 10) + ", including its BEGIN and END lines",
			Err: err}
	}
	if o.Host == "" {
		o.Host = integrations.NormalizeHost(u.Host)
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
	// A copy that hands 3xx answers back instead of following them: Go's
	// client keeps Authorization on a redirect to the same host name (any
	// port or scheme) or a subdomain, and GitHub's app endpoints never
	// redirect a correct request.
	client := *o.HTTPClient
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	// Error answers are capped and scrubbed of the JWT or installation
	// token the request carried, whatever GitHub (or a proxy) echoes;
	// above that, scmkit's one retry and rate-limit policy.
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = DefaultAttemptTimeout
	}
	client.Transport = httpx.NewTransport(&httpx.Options{
		Base:       httpx.Sanitize(client.Transport, nil),
		MaxRetries: o.MaxRetries, MinWait: o.MinWait, MaxWait: o.MaxWait,
		MaxRateLimitWait: o.MaxRateLimitWait, AttemptTimeout: o.AttemptTimeout, Now: o.Now,
		Logger: o.Logger,
	})
	if o.UserAgent == "" {
		o.UserAgent = "scmkit"
	}
	a := &App{
		id: cfg.AppID, idStr: strconv.FormatInt(cfg.AppID, 10), key: key, public: cfg.PublicAccess,
		apiBase: base, apiURL: u, host: o.Host, path: o.ConfigPath, client: &client, userAgent: o.UserAgent, log: o.Logger,
		now:             o.Now,
		installTTL:      orDefault(o.InstallationTTL, DefaultInstallationTTL),
		notInstalledTTL: orDefault(o.NotInstalledTTL, DefaultNotInstalledTTL),
		reposTTL:        orDefault(o.RepositoriesTTL, DefaultRepositoriesTTL),
		reposRefresh:    orDefault(o.RepositoriesRefresh, DefaultRepositoriesRefresh),
		mintTimeout:     mintTimeout(&o),
	}
	a.label = "app " + a.idStr + " (" + a.path + ")"
	if defaultPath {
		a.label = "app " + a.idStr
	}
	if len(cfg.AllowedInstallationOwners) > 0 {
		a.allowed = make(map[string]struct{}, len(cfg.AllowedInstallationOwners))
		for _, ow := range cfg.AllowedInstallationOwners {
			a.allowed[strings.ToLower(strings.TrimSpace(ow))] = struct{}{}
		}
	}
	if len(o.Permissions) > 0 {
		a.perms, _ = jsonMarshal(map[string]any{"permissions": o.Permissions})
	}
	idKey := func(id int64) string { return strconv.FormatInt(id, 10) }
	one := func(struct{}) string { return "" }
	a.jwt = tokencache.New[struct{}, *Token]("githubapp.JWT", o.Now, jwtMargin, one)
	a.owners = tokencache.New[string, *Installation]("githubapp.Installation", o.Now, 0, func(s string) string { return s })
	a.tokens = tokencache.New[int64, *Token]("githubapp.Token", o.Now, o.Margin, idKey)
	a.repos = tokencache.New[int64, *repoSet]("githubapp.Token", o.Now, 0, idKey)
	a.first = tokencache.New[struct{}, *Installation]("githubapp.PublicToken", o.Now, 0, one)
	a.roster = tokencache.New[struct{}, *roster]("githubapp.Installation", o.Now, 0, one)
	a.proofs = tokencache.New[string, struct{}]("githubapp.Token", o.Now, 0, func(s string) string { return s })
	// A mint runs to its end (bounded by mintTimeout) whoever waits for
	// it: once the POST is out, GitHub has issued a token, and minting
	// again because the caller that started it gave up would cost a
	// second one. Its result, failure included, goes to every caller
	// still waiting.
	a.tokens.Detached, a.tokens.Timeout = true, a.mintTimeout
	a.owners.Abandoned = func(ctx context.Context, owner string) error {
		return a.abandoned(ctx, "githubapp.Installation", "GitHub did not answer the installation lookup of "+a.label+" for "+owner)
	}
	a.tokens.Abandoned = func(ctx context.Context, id int64) error {
		return a.abandoned(ctx, "githubapp.Token", "GitHub did not mint a token for installation "+strconv.FormatInt(id, 10)+" of "+a.label)
	}
	a.repos.Abandoned = func(ctx context.Context, id int64) error {
		return a.abandoned(ctx, "githubapp.Token", "GitHub did not list the repositories of installation "+strconv.FormatInt(id, 10))
	}
	a.first.Abandoned = func(ctx context.Context, _ struct{}) error {
		return a.abandoned(ctx, "githubapp.PublicToken", "GitHub did not list the installations of "+a.label)
	}
	a.roster.Abandoned = func(ctx context.Context, _ struct{}) error {
		return a.abandoned(ctx, "githubapp.Installation", "GitHub did not list the installations of "+a.label)
	}
	if !typednil.Is(o.Shared) { // a nil *redisstore.Store is no store
		a.share(o.Shared, o.SharedLease)
	}
	return a, nil
}

// share makes the owner and token caches share their values through st.
// The keys name the host and app, so that apps and hosts never mix.
func (a *App) share(st SharedStore, lease time.Duration) {
	prefix := "githubapp:" + a.host + ":" + a.idStr + ":"
	failed := func(what string) func(context.Context, string, error) {
		return func(ctx context.Context, op string, err error) {
			if a.log != nil {
				a.log.WarnContext(ctx, "githubapp: the shared store failed; asking GitHub without it",
					"app", a.label, "host", a.host, "value", what, "store", op, "error", err.Error())
			}
		}
	}
	a.owners.Share(&tokencache.Sharing[string, *Installation]{
		Store: st, Lease: lease, Failed: failed("installation"),
		Key:    func(owner string) string { return prefix + "installation:" + owner },
		Encode: func(inst *Installation) ([]byte, error) { return json.Marshal(inst) },
		Decode: func(b []byte) (*Installation, error) {
			var inst Installation
			if err := json.Unmarshal(b, &inst); err != nil || inst.ID <= 0 {
				return nil, errors.New("not an installation")
			}
			switch inst.AccountType {
			case "User":
				a.setKind(inst.Account, kindUser)
			case "Organization":
				a.setKind(inst.Account, kindOrg)
			}
			return &inst, nil
		},
	})
	a.tokens.Share(&tokencache.Sharing[int64, *Token]{
		Store: st, Lease: lease, Secret: true, Failed: failed("installation token"),
		Key: func(id int64) string { return prefix + "token:" + strconv.FormatInt(id, 10) },
		Encode: func(t *Token) ([]byte, error) {
			return json.Marshal(storedToken{t.Token, t.ExpiresAt, t.AppID, t.InstallationID, t.Source, t.RepositorySelection, t.Permissions})
		},
		Decode: func(b []byte) (*Token, error) {
			var s storedToken
			if err := json.Unmarshal(b, &s); err != nil || s.Token == "" || s.AppID != a.id {
				return nil, errors.New("not a token of this app")
			}
			return &Token{Token: s.Token, ExpiresAt: s.ExpiresAt, AppID: s.AppID, InstallationID: s.InstallationID,
				Source: s.Source, RepositorySelection: s.RepositorySelection, Permissions: s.Permissions}, nil
		},
	})
}

// storedToken is a Token as a SharedStore holds it: with the secret, which
// Token's own MarshalJSON redacts.
type storedToken struct {
	Token               string            `json:"token"`
	ExpiresAt           time.Time         `json:"expires_at"`
	AppID               int64             `json:"app_id"`
	InstallationID      int64             `json:"installation_id"`
	Source              string            `json:"source"`
	RepositorySelection string            `json:"repository_selection,omitempty"`
	Permissions         map[string]string `json:"permissions,omitempty"`
}

func (a *App) abandoned(ctx context.Context, op, msg string) error {
	code := errcode.Canceled
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		code = errcode.DeadlineExceeded
	}
	return &errcode.Error{Code: code, Op: op, Provider: provider, Host: a.host, Msg: msg + " before the caller's context ended", Err: ctx.Err()}
}

// mintTimeout bounds a mint by the time its attempts and the waits between
// them may take (with httpx's defaults), so that the bound never cuts short a mint
// the caller's own deadline would have let finish.
func mintTimeout(o *Options) time.Duration {
	retries := o.MaxRetries
	switch {
	case retries == 0:
		retries = httpx.DefaultMaxRetries
	case retries < 0:
		retries = 0
	}
	wait := max(orDefault(o.MaxWait, httpx.DefaultMaxWait), orDefault(o.MaxRateLimitWait, httpx.DefaultMaxRateLimitWait))
	return time.Duration(retries+1)*o.AttemptTimeout + time.Duration(retries)*wait
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// ID returns the app's id.
func (a *App) ID() int64 { return a.id }

// PublicAccess reports whether the app's config sets publicAccess.
func (a *App) PublicAccess() bool { return a.public }

// ConfigPath returns the config path the app was created with.
func (a *App) ConfigPath() string { return a.path }

// Allows reports whether allowedInstallationOwners lets the app mint tokens
// for owner (compared case-insensitively). Every owner is allowed when the
// list is empty.
func (a *App) Allows(owner string) bool {
	if a.allowed == nil {
		return true
	}
	_, ok := a.allowed[lowerASCII(owner)]
	return ok
}

// JWT returns the app's JSON Web Token, for GitHub's /app endpoints. It is
// signed locally (no request) and reused until two minutes before it
// expires.
func (a *App) JWT(ctx context.Context) (*Token, error) {
	if t, err, ok := a.jwt.Peek(struct{}{}); ok {
		return t, err
	}
	return a.jwt.Get(ctx, struct{}{}, a.signJWT)
}

func (a *App) signJWT(context.Context) (*Token, time.Time, error) {
	now := a.now()
	exp := now.Add(jwtLifetime)
	claims := jwt.RegisteredClaims{
		Issuer:    a.idStr,
		IssuedAt:  jwt.NewNumericDate(now.Add(-jwtBackdate)),
		ExpiresAt: jwt.NewNumericDate(exp),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(a.key)
	if err != nil {
		return nil, time.Time{}, &errcode.Error{Code: errcode.InvalidArgument, Op: "githubapp.JWT", Provider: provider, Host: a.host,
			Msg: "cannot sign a JWT for " + a.label + " with its private key", Err: err}
	}
	exp = claims.ExpiresAt.Time // truncated to the second, as sent
	return &Token{Token: s, ExpiresAt: exp, AppID: a.id, Source: a.path + " jwt"}, exp, nil
}

// Installation returns the app's installation for owner (an organisation
// or user login, compared case-insensitively), from the cache or with one
// or two requests (see the package documentation).
func (a *App) Installation(ctx context.Context, owner string) (*Installation, error) {
	return a.installation(ctx, owner, "")
}

// installation is Installation, looked up through repo (if not empty) when
// the owner is not cached.
func (a *App) installation(ctx context.Context, owner, repo string) (*Installation, error) {
	key := lowerASCII(owner)
	if inst, err, ok := a.owners.Peek(key); ok {
		return inst, err
	}
	// Neither check is cached: an owner name can come from any URL, and the
	// cache must not grow with names that will never be looked up.
	if !validLogin(owner) {
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: "githubapp.Installation", Provider: provider, Host: a.host,
			Msg: strconv.Quote(owner) + " is not a GitHub organisation or user name"}
	}
	if !a.Allows(owner) {
		return nil, a.notAllowed(owner)
	}
	return a.owners.Get(ctx, key, func(ctx context.Context) (*Installation, time.Time, error) {
		return a.lookup(ctx, owner, repo)
	})
}

// Token returns an installation token for owner. If repo is not empty and
// the installation is limited to selected repositories, Token also checks
// that repo is one of them. A cached, fresh token costs no request and no
// allocation.
func (a *App) Token(ctx context.Context, owner, repo string) (*Token, error) {
	// The fast path: both cached and fresh, one clock read.
	now := a.now()
	if inst, err, ok := a.owners.PeekAt(lowerASCII(owner), now); ok && err == nil && !inst.Suspended {
		if tok, err, ok := a.tokens.PeekAt(inst.ID, now); ok && err == nil && (repo == "" || tok.RepositorySelection != selected) {
			return tok, nil
		}
	}
	return a.token(ctx, owner, repo)
}

func (a *App) token(ctx context.Context, owner, repo string) (*Token, error) {
	inst, err := a.installation(ctx, owner, repo)
	if err != nil {
		return nil, err
	}
	tok, err := a.installationToken(ctx, inst)
	if err != nil && errors.Is(err, errInstallationGone) {
		// The installation was removed, perhaps re-created, since we
		// looked it up: look again, once, and not in a listing made
		// before.
		a.owners.Delete(lowerASCII(owner))
		a.roster.Delete(struct{}{})
		if inst, err = a.installation(ctx, owner, repo); err != nil {
			return nil, err
		}
		tok, err = a.installationToken(ctx, inst)
	}
	if err != nil {
		return nil, err
	}
	if repo != "" && tok.RepositorySelection == selected {
		err := a.checkRepository(ctx, inst, tok, repo)
		if errcode.CodeOf(err) == errcode.Unauthorized && !tok.minted.IsZero() && a.now().Sub(tok.minted) < freshTokenLag {
			// A token minted moments ago may not be known to every GitHub
			// server yet (octokit waits 5 s for it): try it once more
			// after a second before taking it for revoked.
			t := time.NewTimer(time.Second)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, errcode.FromContext(ctx, "githubapp.Token")
			}
			err = a.checkRepository(ctx, inst, tok, repo)
		}
		if errcode.CodeOf(err) == errcode.Unauthorized {
			// GitHub rejected the cached token itself (revoked, or the
			// installation changed): drop it and mint a new one, once,
			// rather than failing until it would have expired.
			a.Invalidate(tok.Token)
			if tok, err = a.installationToken(ctx, inst); err != nil {
				return nil, err
			}
			if tok.RepositorySelection == selected {
				err = a.checkRepository(ctx, inst, tok, repo)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return tok, nil
}

// PublicToken returns a token of the app's first active installation (of
// an owner that allowedInstallationOwners allows, when it is set), for
// reading public repositories of owners the app is not installed for
// (Backstage's publicAccess). It fails with InvalidArgument if the app's
// config does not set publicAccess. Finding the installation costs one
// request (GET /app/installations), cached like an owner's.
func (a *App) PublicToken(ctx context.Context) (*Token, error) {
	if !a.public {
		return nil, errcode.New(errcode.InvalidArgument, "githubapp.PublicToken", a.label+" does not set publicAccess")
	}
	inst, err, ok := a.first.Peek(struct{}{})
	if !ok {
		inst, err = a.first.Get(ctx, struct{}{}, a.firstInstallation)
	}
	if err != nil {
		return nil, err
	}
	tok, err := a.installationToken(ctx, inst)
	if err != nil && errors.Is(err, errInstallationGone) {
		a.first.Delete(struct{}{})
		return nil, err
	}
	return tok, err
}

// Invalidate drops every cached token (installation token or JWT) whose
// value is token, so that the next call mints a new one. Call it when
// GitHub answers 401 to a request made with that token. It reports whether
// anything was dropped.
func (a *App) Invalidate(token string) bool {
	n := a.tokens.DeleteFunc(func(_ int64, t *Token) bool { return t.Token == token })
	n += a.jwt.DeleteFunc(func(_ struct{}, t *Token) bool { return t.Token == token })
	return n > 0
}

func (a *App) installationToken(ctx context.Context, inst *Installation) (*Token, error) {
	if inst.Suspended {
		return nil, a.suspended(inst.ID, inst.Account, 0)
	}
	if t, err, ok := a.tokens.Peek(inst.ID); ok {
		return t, err
	}
	return a.tokens.Get(ctx, inst.ID, func(ctx context.Context) (*Token, time.Time, error) {
		// ctx is without the caller's cancellation and ends after
		// mintTimeout (the cache is Detached, with that Timeout).
		tok, exp, err := a.mint(ctx, inst)
		if err != nil && ctx.Err() != nil {
			return nil, time.Time{}, &errcode.Error{Code: errcode.Unavailable, Op: "githubapp.Token", Provider: provider, Host: a.host,
				Msg: "GitHub did not mint a token for installation " + strconv.FormatInt(inst.ID, 10) + " of " + a.label + " within " + a.mintTimeout.String(),
				Err: err}
		}
		return tok, exp, err
	})
}

func (a *App) checkRepository(ctx context.Context, inst *Installation, tok *Token, repo string) error {
	key := lowerASCII(repo)
	if a.proven(inst.ID, key) {
		// The installation lookup named this repository: no listing.
		return nil
	}
	list := func(ctx context.Context) (*repoSet, time.Time, error) {
		set, err := a.listRepositories(ctx, inst.ID, tok)
		if err != nil {
			return nil, time.Time{}, err
		}
		return set, set.fetched.Add(a.reposTTL), nil
	}
	set, err, ok := a.repos.Peek(inst.ID)
	if !ok {
		set, err = a.repos.Get(ctx, inst.ID, list)
	}
	if err != nil {
		return err
	}
	if _, ok := set.names[key]; ok {
		return nil
	}
	if a.now().Sub(set.fetched) >= a.reposRefresh {
		// The repository may have been added to the selection since.
		a.repos.Delete(inst.ID)
		if set, err = a.repos.Get(ctx, inst.ID, list); err != nil {
			return err
		}
		if _, ok := set.names[key]; ok {
			return nil
		}
	}
	if set.partial {
		return &errcode.Error{Code: errcode.Unavailable, Op: "githubapp.Token", Provider: provider, Host: a.host,
			Msg: "GitHub's listing of the repositories of " + a.label + "'s installation for " + inst.Account +
				" names a next page that is not on " + a.host + ", which was not read; " + repo + " is not on the pages read"}
	}
	return &errcode.Error{Code: errcode.PermissionDenied, Op: "githubapp.Token", Provider: provider, Host: a.host,
		Msg: a.label + " is installed for " + inst.Account + " on selected repositories only (installation " +
			strconv.FormatInt(inst.ID, 10) + "), and " + repo + " is not one of them; add it in the installation's settings",
		Err: ErrRepositoryNotSelected}
}

// Fallback reports whether err means only that this app does not cover the
// owner (not installed for it, or excluded by allowedInstallationOwners),
// so that another credential may be tried. Any other error is a real
// failure of a credential that should have worked.
func Fallback(err error) bool {
	return errors.Is(err, ErrNotInstalled) || errors.Is(err, ErrOwnerNotAllowed)
}

// lowerASCII lower-cases s, without allocating when it already is.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// validLogin reports whether s can be a GitHub login (letters, digits,
// '-', '_', '.'), so that it is safe in an API path.
func validLogin(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// String describes the app without its key.
func (a *App) String() string { return "githubapp.App(" + a.label + ")" }

// GoString describes the app without its key.
func (a *App) GoString() string {
	return "&githubapp.App{ID: " + a.idStr + ", ConfigPath: " + strconv.Quote(a.path) + "}"
}

// Format prints String for every verb, and GoString for %#v.
func (a *App) Format(f fmt.State, verb rune) { redact.Format(f, verb, a.String(), a.GoString()) }

// LogValue describes the app without its key.
func (a *App) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("id", a.id), slog.String("config", a.path))
}

func (t Token) kind() string {
	if t.InstallationID == 0 {
		return "github app jwt"
	}
	return "github installation token"
}

// String describes the token without showing it.
func (t Token) String() string {
	s := t.kind() + " from " + t.Source
	if !t.ExpiresAt.IsZero() {
		s += ", expires " + t.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return s
}

// GoString describes the token without showing it.
func (t Token) GoString() string {
	return fmt.Sprintf("githubapp.Token{Token: %q, ExpiresAt: %q, AppID: %d, InstallationID: %d, Source: %q, RepositorySelection: %q}",
		redact.Of(t.Token), t.ExpiresAt.UTC().Format(time.RFC3339), t.AppID, t.InstallationID, t.Source, t.RepositorySelection)
}

// Format prints String for every verb, and GoString for %#v.
func (t Token) Format(f fmt.State, verb rune) { redact.Format(f, verb, t.String(), t.GoString()) }

// LogValue shows the token's metadata, never the token.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("token", redact.Of(t.Token)),
		slog.Time("expires_at", t.ExpiresAt),
		slog.Int64("app_id", t.AppID),
		slog.Int64("installation_id", t.InstallationID),
		slog.String("source", t.Source),
	)
}

// MarshalJSON writes the token's metadata, with the token redacted.
func (t Token) MarshalJSON() ([]byte, error) {
	return jsonMarshal(struct {
		Token               string            `json:"token,omitempty"`
		ExpiresAt           time.Time         `json:"expires_at"`
		AppID               int64             `json:"app_id"`
		InstallationID      int64             `json:"installation_id,omitempty"`
		Source              string            `json:"source"`
		RepositorySelection string            `json:"repository_selection,omitempty"`
		Permissions         map[string]string `json:"permissions,omitempty"`
	}{redact.Of(t.Token), t.ExpiresAt, t.AppID, t.InstallationID, t.Source, t.RepositorySelection, t.Permissions})
}
